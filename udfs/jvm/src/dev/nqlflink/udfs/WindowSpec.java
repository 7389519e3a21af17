package dev.nqlflink.udfs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What one shape of a {@link TenantWindows} call (see {@link Shapes}) or one {@link Regroup} call
 * computes, from the literal the code generator writes (translator/flink/codegen.py):
 *
 * <pre>size=300000;slide=30000;lag=600000;idle=60000;pop=1;aggs=avg:n0,count:n1,distinct:s0,pct:n2:0.95</pre>
 *
 * A shape has no lag nor idle (they are its table's, {@link Shapes}; {@link #parseShape}).
 *
 * <ul>
 *   <li>size, slide: the HOP window (ms; size a multiple of slide), aligned to the epoch like
 *       Flink's HOP: windows [e - size, e) with e a multiple of slide;
 *   <li>lag: the tenant lag bound (ms): a tenant's clock never stays further than this behind
 *       the table's progress;
 *   <li>idle: a Kafka partition that brought a tenant nothing while the table progressed this
 *       far no longer holds the tenant's clock back;
 *   <li>pop: 1 if the distinct devices of all the tenant's rows per window (the impact
 *       population) are wanted;
 *   <li>inv: 1 if the shape needs each record's device in the inventory: a record without
 *       (the row's {@code nql_unknown}) is dead-lettered once per monitor of the shape;
 *   <li>grp, keep (a shape's, optional): the element of the row's group array that is the
 *       shape's group (default: the shape's index), and the element of its keep array that must
 *       be TRUE for the row to count in the shape (default: none): shapes with the same group
 *       keys or the same filters read one computed element ({@link TenantWindows});
 *   <li>grp=iN, ikeep (a shape's, {@link InventoryWindows} only): the shape's group is element N
 *       of the group array of the device's inventory version as of the record's time, and
 *       element ikeep of that version's keep array must be TRUE: what a shape computes from
 *       inventory attributes is computed once per version, not per record;
 *   <li>igrp=N (a shape's, {@link InventoryWindows} only, with grp=M): a group of event fields
 *       and inventory attributes together: the row's element M holds the event keys' JSON object,
 *       the version's element N the inventory keys', and the group is both objects' members in
 *       key order ({@link GroupJson#merge}), the text Flink's JSON_OBJECT of all the keys gives;
 *   <li>aggs: one aggregate per entry, {@code kind:input[:fraction]}; input {@code nK} is element K
 *       of the row's numeric input array, {@code sK} of its string input array. NULL inputs are
 *       skipped, as SQL aggregates skip them. Results go to the numeric output array in this
 *       order, except smin/smax/slast whose results go to the string output array.
 * </ul>
 */
public final class WindowSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Kind {
        COUNT, SUM, AVG, MIN, MAX, LAST, PCT, DISTINCT, SMIN, SMAX, SLAST;

        boolean stringInput() {
            return this == DISTINCT || this == SMIN || this == SMAX || this == SLAST;
        }

        boolean stringOutput() {
            return this == SMIN || this == SMAX || this == SLAST;
        }

        /** Whether a partial keeps a sum for it (besides its count). */
        boolean summed() {
            return this == SUM || this == AVG;
        }

        /** Whether a partial keeps a number for it: the least, the greatest or the last. */
        boolean valued() {
            return this == MIN || this == MAX || this == LAST;
        }

        /** Whether a partial keeps the event time of its value (the last one). */
        boolean timed() {
            return this == LAST || this == SLAST;
        }
    }

    public static final class Agg implements Serializable {
        private static final long serialVersionUID = 1L;
        public final Kind kind;
        public final int input;
        public final double fraction;
        public final int output;

        Agg(Kind kind, int input, double fraction, int output) {
            this.kind = kind;
            this.input = input;
            this.fraction = fraction;
            this.output = output;
        }
    }

    public final long size;
    public final long slide;
    public final long lag;
    public final long idle;
    public final boolean population;
    public final boolean inventory;
    public final List<Agg> aggs;
    /** The shape's element of the row's group array (-1: the shape's index). */
    public final int groupSlot;
    /** The element of the row's keep array that must be TRUE (-1: none). */
    public final int keepSlot;
    /** Whether {@link #groupSlot} is an element of the inventory version's group array (grp=iN). */
    public final boolean inventoryGroup;
    /** The element of the inventory version's keep array that must be TRUE (-1: none). */
    public final int inventoryKeepSlot;
    /** The version's element holding the inventory keys of a mixed group (igrp; -1: none). */
    public final int inventoryPartSlot;
    public final int numericOutputs;
    public final int stringOutputs;

    private WindowSpec(long size, long slide, long lag, long idle, boolean population, boolean inventory, List<Agg> aggs,
                       int groupSlot, int keepSlot, boolean inventoryGroup, int inventoryKeepSlot, int inventoryPartSlot) {
        this.size = size;
        this.slide = slide;
        this.lag = lag;
        this.idle = idle;
        this.population = population;
        this.inventory = inventory;
        this.aggs = aggs;
        this.groupSlot = groupSlot;
        this.keepSlot = keepSlot;
        this.inventoryGroup = inventoryGroup;
        this.inventoryKeepSlot = inventoryKeepSlot;
        this.inventoryPartSlot = inventoryPartSlot;
        int n = 0;
        int s = 0;
        for (Agg a : aggs) {
            if (a.kind.stringOutput()) {
                s++;
            } else {
                n++;
            }
        }
        this.numericOutputs = n;
        this.stringOutputs = s;
    }

    /**
     * This spec with pop=0: a shape of a {@link Shapes} spec keeps its groups only, its population
     * being its window's ({@link Shapes#populations}).
     */
    WindowSpec withoutPopulation() {
        return !population ? this : new WindowSpec(size, slide, lag, idle, false, inventory, aggs, groupSlot, keepSlot,
                                                   inventoryGroup, inventoryKeepSlot, inventoryPartSlot);
    }

    public static WindowSpec parse(String text) {
        return parse(text, true);
    }

    /** One shape of a {@link Shapes} spec: lag and idle are the table's, not allowed here (0). */
    static WindowSpec parseShape(String text) {
        return parse(text, false);
    }

    private static WindowSpec parse(String text, boolean clocked) {
        long size = -1, slide = -1, lag = clocked ? -1 : 0, idle = clocked ? -1 : 0;
        boolean pop = false;
        boolean inv = false;
        int grp = -1;
        int keep = -1;
        boolean invGroup = false;
        int ikeep = -1;
        int igrp = -1;
        List<Agg> aggs = new ArrayList<>();
        for (String part : text.split(";")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("window spec: '" + part + "' is not key=value in " + text);
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            switch (key) {
                case "size": size = Long.parseLong(value); break;
                case "slide": slide = Long.parseLong(value); break;
                case "lag": lag = clocked ? Long.parseLong(value) : unexpected(key, text); break;
                case "idle": idle = clocked ? Long.parseLong(value) : unexpected(key, text); break;
                case "pop": pop = "1".equals(value); break;
                case "inv": inv = "1".equals(value); break;
                case "aggs": aggs = parseAggs(value); break;
                case "grp":
                    if (clocked) {
                        unexpected(key, text);
                    }
                    invGroup = value.startsWith("i");
                    grp = Integer.parseInt(invGroup ? value.substring(1) : value);
                    break;
                case "keep": keep = clocked ? (int) unexpected(key, text) : Integer.parseInt(value); break;
                case "ikeep": ikeep = clocked ? (int) unexpected(key, text) : Integer.parseInt(value); break;
                case "igrp": igrp = clocked ? (int) unexpected(key, text) : Integer.parseInt(value); break;
                default: throw new IllegalArgumentException("window spec: unknown key '" + key + "' in " + text);
            }
        }
        if (size <= 0 || slide <= 0 || size % slide != 0 || lag < 0 || idle < 0) {
            throw new IllegalArgumentException("window spec: size, slide, lag and idle needed (size a multiple of slide): " + text);
        }
        if ((invGroup || ikeep >= 0 || igrp >= 0) && !inv) {
            throw new IllegalArgumentException("window spec: grp=iN, igrp and ikeep read the inventory: inv=1 needed in "
                    + text);
        }
        if (igrp >= 0 && (invGroup || grp < 0)) {
            throw new IllegalArgumentException("window spec: igrp (a mixed group) needs grp=M, the event keys, in " + text);
        }
        return new WindowSpec(size, slide, lag, idle, pop, inv, aggs, grp, keep, invGroup, ikeep, igrp);
    }

    private static long unexpected(String key, String text) {
        throw new IllegalArgumentException("window spec: '" + key + "' is not allowed here, in " + text);
    }

    private static List<Agg> parseAggs(String text) {
        List<Agg> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        int numeric = 0;
        int strings = 0;
        for (String item : text.split(",")) {
            String[] f = item.split(":");
            Kind kind = Kind.valueOf(f[0].trim().toUpperCase());
            String in = f[1].trim();
            char lane = in.charAt(0);
            if ((lane == 's') != kind.stringInput() || (lane != 's' && lane != 'n')) {
                throw new IllegalArgumentException("window spec: " + kind + " cannot read input " + in);
            }
            double fraction = f.length > 2 ? Double.parseDouble(f[2]) : 0.0;
            int output = kind.stringOutput() ? strings++ : numeric++;
            out.add(new Agg(kind, Integer.parseInt(in.substring(1)), fraction, output));
        }
        return out;
    }

    /** End of the slice [end - slide, end) holding time t (ms since the epoch). */
    public long sliceEnd(long t) {
        return Math.floorDiv(t, slide) * slide + slide;
    }
}
