package dev.nqlflink.udfs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What one {@link TenantWindows} call computes: the windows of every monitor reading one event
 * table, grouped in shapes (one window size and slide, group keys, filters and aggregates;
 * monitors that agree on all of them share one). From the literal the code generator writes:
 *
 * <pre>lag=600000;idle=60000 | s_8f2a61c0: size=300000;slide=30000;pop=0;aggs=avg:n0 | s_77ab01ee: size=...</pre>
 *
 * Segments are separated by {@code " | "}; the first is the table's (lag and idle, see
 * {@link WindowSpec}; late: the function keeps the tenants' clocks; inv: the inventory's digest;
 * forget: how long a device's newest inventory version may be older than the oldest record still
 * acceptable before its versions are dropped, 0: never), each other one is a shape,
 * {@code <id>: <WindowSpec without lag/idle>}
 * or {@code <id> (<tenant>: <monitor>@<pipeline>, ...; ...): ...}: the monitors it serves per
 * tenant, each of its rows ('eval', 'late') is emitted once per monitor of its tenant
 * ({@code nql_monitor}, and the pipeline that judges it, {@code nql_pipeline}).
 * Shape i (0-based, spec order) reads element i of the row's group array; its aggregates' inputs
 * index the row's input arrays, shared by all the shapes. No shape at all is valid.
 * After the shapes, {@code judge <pipeline>: trig=<program>;rec=<program>[;hav=<program>];every=<ms>;evict=<ms>} segments name the
 * pipelines whose conditions the function evaluates and whose alert states it keeps ({@link Judge},
 * {@link Condition}, {@link GroupAlert}); they are
 * not part of any shape's text, so a changed condition leaves the windows' state as it is.
 *
 * <p>The population (pop=1: the distinct devices of all the tenant's rows per window) depends on
 * a shape's window only, not on its groups, filters or aggregates: it is kept once per distinct
 * window (size and slide) in a <em>population window</em> ({@link #populations}, id
 * {@code pop-<size>-<slide>}, never a shape id), which every shape of that window reads at its
 * evaluations, and the shapes' own slices hold their groups only (issue 15,
 * docs/flink-job-shape.md §7). Population windows follow the shapes in index order.
 */
final class Shapes implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String SEPARATOR = " | ";
    private static final String[][] NO_MONITOR = {{null, null}};
    private static final String[][] NONE = {};
    /** The head of a judgement segment: {@code judge <pipeline>: trig=<program>;rec=<program>[;hav=<program>];every=<ms>;evict=<ms>}. */
    private static final String JUDGE = "judge ";
    /** Shape ids never hold ':' nor '|', the separators of the state keys ({@link TenantWindows}). */
    private static final Pattern ID = Pattern.compile("[a-z0-9_]+");

    static final class Shape implements Serializable {
        private static final long serialVersionUID = 1L;
        final int index;
        final String id;
        final WindowSpec spec;
        /**
         * tenant -> the monitors of the shape, each {monitor, its pipeline} (its rows are
         * emitted once per monitor); null: not given.
         */
        final Map<String, String[][]> monitors;
        /** The population window whose device count the shape's evaluations carry (null: none, pop=0). */
        final Shape population;

        Shape(int index, String id, WindowSpec spec, Map<String, String[][]> monitors, Shape population) {
            this.index = index;
            this.id = id;
            this.spec = spec;
            this.monitors = monitors;
            this.population = population;
        }

        /**
         * The row's group for this shape: its element of the group array (the spec's grp, else
         * the shape's index), NULL unless its element of the keep array (the spec's keep) is TRUE.
         */
        String group(String[] groups, Boolean[] keeps) {
            return keptByRow(keeps) ? rowGroup(groups) : null;
        }

        /**
         * The row's group for this shape read with the device's inventory version as of the
         * record's time ({@link InventoryWindows}, shapes with inv=1): NULL without a version.
         */
        String group(String[] groups, Boolean[] keeps, Versions.Version version, GroupJson.Merges merges) {
            return keptByRow(keeps) ? resolved(spec.inventoryGroup ? null : rowGroup(groups), version, merges) : null;
        }

        /**
         * The group of a row that passed the shape's own filter (keep), once its device's version
         * is known: {@code own} (the row's group) or the version's (grp=iN), NULL without a
         * version or unless the version passes the shape's inventory filter (ikeep); the record's
         * {@code merges} merge own and the version's part.
         */
        String resolved(String own, Versions.Version version, GroupJson.Merges merges) {
            if (version == null || !kept(version.keeps, spec.inventoryKeepSlot)) {
                return null;
            }
            if (spec.inventoryPartSlot >= 0) {
                String part = spec.inventoryPartSlot < version.groups.length ? version.groups[spec.inventoryPartSlot] : null;
                return own == null || part == null ? null : merges.merge(own, part);
            }
            if (!spec.inventoryGroup) {
                return own;
            }
            return spec.groupSlot < version.groups.length ? version.groups[spec.groupSlot] : null;
        }

        /** The shape's element of the row's group array (the spec's grp, else the shape's index). */
        String rowGroup(String[] groups) {
            int slot = spec.groupSlot >= 0 ? spec.groupSlot : index;
            return groups == null || slot >= groups.length ? null : groups[slot];
        }

        /** Whether the row's element of its keep array that the spec names is TRUE (none named: yes). */
        boolean keptByRow(Boolean[] keeps) {
            return kept(keeps, spec.keepSlot);
        }

        private static boolean kept(Boolean[] keeps, int k) {
            return k < 0 || (keeps != null && k < keeps.length && Boolean.TRUE.equals(keeps[k]));
        }

        /** The monitors a row of `tenant` goes to, {monitor, pipeline}: {{null, null}} (one row) when not given. */
        String[][] monitorsOf(String tenant) {
            if (monitors == null) {
                return NO_MONITOR;
            }
            String[][] out = monitors.get(tenant);
            return out == null ? NONE : out;
        }
    }

    /**
     * A pipeline's trigger and recover conditions ({@link Condition}), which the function evaluates
     * on its evaluations, keeping each group's alert state ({@link GroupAlert}), instead of the
     * job's judged view and alert state function.
     */
    static final class Judge implements Serializable {
        private static final long serialVersionUID = 1L;
        final Condition trigger;
        final Condition recover;
        /** The pipeline's {@code having} (null: none): an evaluation where it is not TRUE is none. */
        final Condition having;
        /** The pipeline's slide: consecutive evaluations of a run are this far apart. */
        final long every;
        /**
         * How long after a group's last evaluation an ok group is evicted: the spec's
         * {@code evict}, at least {@code every} (0: never).
         */
        final long evictDelay;

        Judge(Condition trigger, Condition recover, Condition having, long every, long evictAfter) {
            this.trigger = trigger;
            this.recover = recover;
            this.having = having;
            this.every = every;
            this.evictDelay = evictAfter > 0 ? Math.max(evictAfter, every) : 0;
        }
    }

    final long lag;
    final long idle;
    /**
     * The allowed lateness when the function keeps each tenant's clock per partition itself (the
     * table segment's {@code late}: no temporal join before it reorders the records, so they come
     * in each partition's arrival order); -1: the rows bring it from {@link PartitionClock}.
     */
    final long lateness;
    /**
     * What the inventory versions' arrays hold ({@link InventoryWindows}: the table segment's
     * {@code inv}, a digest of their expressions; null: none): versions kept under another are
     * dropped, as their elements mean something else.
     */
    final String inventory;
    /**
     * {@link InventoryWindows} forgets a device whose newest version took effect this long before
     * the oldest record the tenant may still bring (the table segment's {@code forget}, the job's
     * {@code --evict-after}); 0: never.
     */
    final long forget;
    final List<Shape> list;
    /** One population window per distinct window of the shapes with pop=1, indexed after them. */
    final List<Shape> populations;
    /** The shapes, then the population windows: what a record may be folded into. */
    final List<Shape> all;
    /** id -> shape (the population windows are not in it: they have no timers). */
    final Map<String, Shape> byId;
    /** id -> the shape's own text: a shape whose text changed under the same id starts anew. */
    final Map<String, String> texts;
    /**
     * The greatest common divisor of the shapes' slides (1 with no shape): a bucket of this
     * length lies within one slice of every shape ({@link ShapeState}'s {@code buckets}).
     */
    final long grain;
    /** The longest window of the shapes (0 with no shape): older buckets are forgotten. */
    final long span;
    /** Whether a shape reads the row's keep array ({@code nql_keep}). */
    final boolean keeps;
    /** pipeline -> its conditions, for the pipelines the function judges (the spec's judge segments). */
    final Map<String, Judge> judges;

    private Shapes(long lag, long idle, long lateness, String inventory, long forget, List<Shape> list,
                   List<Shape> populations, Map<String, String> texts, Map<String, Judge> judges) {
        this.lag = lag;
        this.idle = idle;
        this.lateness = lateness;
        this.inventory = inventory;
        this.forget = forget;
        this.list = Collections.unmodifiableList(list);
        this.populations = Collections.unmodifiableList(populations);
        List<Shape> every = new ArrayList<>(list);
        every.addAll(populations);
        this.all = Collections.unmodifiableList(every);
        Map<String, Shape> byId = new HashMap<>();
        long g = 0;
        long longest = 0;
        boolean k = false;
        for (Shape s : list) {
            byId.put(s.id, s);
            g = gcd(g, s.spec.slide);
            longest = Math.max(longest, s.spec.size);
            k |= s.spec.keepSlot >= 0;
        }
        this.span = longest;
        this.keeps = k;
        this.byId = byId;
        this.texts = texts;
        this.judges = judges;
        this.grain = g == 0 ? 1 : g;
    }

    /**
     * Whether a record of {@code tenant} needs its device's inventory version: a shape serving the
     * tenant reads it (inv=1). Not kept: the windows function keeps it per tenant ({@link Tenants}).
     */
    boolean readsInventory(String tenant) {
        for (Shape s : list) {
            if (s.spec.inventory && s.monitorsOf(tenant).length > 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether a shape serves {@code monitor} of {@code tenant} (its config is kept, {@link Configs}). */
    boolean serves(String tenant, String monitor) {
        Set<String> mine = served.get(tenant);
        if (mine == null) {
            mine = new HashSet<>();
            for (Shape s : list) {
                for (String[] m : s.monitorsOf(tenant)) {
                    if (m[0] != null) {
                        mine.add(m[0]);
                    }
                }
            }
            served.put(tenant, mine);
        }
        return mine.contains(monitor);
    }

    private final Map<String, Set<String>> served = new HashMap<>();

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    static Shapes parse(String text) {
        String[] segments = text.split(Pattern.quote(SEPARATOR), -1);
        long lag = -1;
        long idle = -1;
        long lateness = -1;
        String inventory = null;
        long forget = 0;
        for (Map.Entry<String, String> e : settings(segments[0]).entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if (key.equals("lag")) {
                lag = Long.parseLong(value);
            } else if (key.equals("idle")) {
                idle = Long.parseLong(value);
            } else if (key.equals("late")) {
                lateness = Long.parseLong(value);
            } else if (key.equals("inv")) {
                inventory = value;
            } else if (key.equals("forget")) {
                forget = Long.parseLong(value);
            } else {
                throw new IllegalArgumentException("windows spec: the table's segment holds lag, idle, late, forget "
                        + "and inv only, not '" + key + "' in " + text);
            }
        }
        if (lag < 0 || idle < 0) {
            throw new IllegalArgumentException("windows spec: lag and idle needed first: " + text);
        }
        Map<String, String> texts = texts(text);
        Map<String, Map<String, String[][]>> served = served(text);
        List<String[]> heads = heads(text);
        if (texts.size() != heads.size()) {
            throw new IllegalArgumentException("windows spec: a shape id appears twice in " + text);
        }
        // the population windows first (indexed after the shapes), then the shapes reading them
        Map<String, String> populationTexts = populationTexts(texts);
        List<Shape> populations = new ArrayList<>();
        Map<String, Shape> byWindow = new HashMap<>();
        for (Map.Entry<String, String> e : populationTexts.entrySet()) {
            Shape p = new Shape(heads.size() + populations.size(), e.getKey(), WindowSpec.parseShape(e.getValue()), null,
                                null);
            populations.add(p);
            byWindow.put(e.getKey(), p);
        }
        List<Shape> list = new ArrayList<>();
        for (String[] h : heads) {
            if (!ID.matcher(h[0]).matches()) {
                throw new IllegalArgumentException("windows spec: shape id '" + h[0] + "' is not [a-z0-9_]+ in " + text);
            }
            WindowSpec spec = WindowSpec.parseShape(h[2]);
            Shape population = spec.population ? byWindow.get(populationId(spec.size, spec.slide)) : null;
            list.add(new Shape(list.size(), h[0], spec.withoutPopulation(), served.get(h[0]), population));
        }
        return new Shapes(lag, idle, lateness, inventory, forget, list, populations, texts, judges(segments, text));
    }

    /** pipeline -> its conditions, from the judge segments. */
    private static Map<String, Judge> judges(String[] segments, String text) {
        Map<String, Judge> out = new HashMap<>();
        for (int i = 1; i < segments.length; i++) {
            if (!segments[i].startsWith(JUDGE)) {
                continue;
            }
            int colon = segments[i].indexOf(':');
            Map<String, String> programs = colon < 0 ? Map.of() : settings(segments[i].substring(colon + 1));
            String trigger = programs.get("trig");
            String recover = programs.get("rec");
            String every = programs.get("every");
            String evict = programs.get("evict");
            String having = programs.get("hav");
            if (trigger == null || recover == null || every == null || evict == null
                    || programs.size() != (having == null ? 4 : 5)
                    || !every.matches("[1-9][0-9]{0,17}") || !evict.matches("0|[1-9][0-9]{0,17}")) {
                throw new IllegalArgumentException("windows spec: '" + segments[i] + "' is not "
                        + JUDGE + "<pipeline>: trig=<program>;rec=<program>[;hav=<program>];every=<ms>;evict=<ms> in " + text);
            }
            out.put(segments[i].substring(JUDGE.length(), colon).trim(),
                    new Judge(Condition.parse(trigger), Condition.parse(recover),
                              having == null ? null : Condition.parse(having), Long.parseLong(every),
                              Long.parseLong(evict)));
        }
        return out;
    }

    /** {@code key=value;key=value} -> key -> value, in order (a part without '=': the value is empty). */
    private static Map<String, String> settings(String segment) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : segment.split(";")) {
            int eq = part.indexOf('=');
            out.put(eq < 0 ? part.trim() : part.substring(0, eq).trim(), eq < 0 ? "" : part.substring(eq + 1).trim());
        }
        return out;
    }

    /** The id of the population window of this size and slide: not [a-z0-9_]+, so never a shape's. */
    static String populationId(long size, long slide) {
        return "pop-" + size + "-" + slide;
    }

    /**
     * id -> text of the population windows of these shape texts ({@link #texts}), in the order
     * their first shape comes: one per distinct size and slide among the shapes with pop=1.
     */
    static Map<String, String> populationTexts(Map<String, String> shapeTexts) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String own : shapeTexts.values()) {
            Map<String, String> shape = settings(own);
            String size = shape.get("size");
            String slide = shape.get("slide");
            if ("1".equals(shape.get("pop")) && size != null && slide != null) {
                long length = Long.parseLong(size);
                long step = Long.parseLong(slide);
                out.putIfAbsent(populationId(length, step), "size=" + length + ";slide=" + step + ";pop=1");
            }
        }
        return out;
    }

    /**
     * id -> text of each shape of a spec, in spec order, without validating them: what an older
     * spec stored in state held, to drop the state of the shapes the current one no longer has.
     * Without {@code grp}, {@code keep} and {@code ikeep}: which elements of the row's arrays a shape reads
     * moves when other shapes come and go, its state does not.
     */
    static Map<String, String> texts(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String[] h : heads(text)) {
            StringBuilder own = new StringBuilder();
            for (String part : h[2].split(";")) {
                String key = part.trim();
                if (!key.startsWith("grp=") && !key.startsWith("keep=") && !key.startsWith("ikeep=")) {
                    own.append(own.length() == 0 ? "" : ";").append(part);
                }
            }
            out.put(h[0], own.toString());
        }
        return out;
    }

    /**
     * id -> tenant -> monitors, of the shapes that list them: {@code <id> (acme: a, b; globex: a): ...}.
     * Not part of a shape's text: a monitor added to a shape leaves its state as it is.
     */
    private static Map<String, Map<String, String[][]>> served(String text) {
        Map<String, Map<String, String[][]>> out = new HashMap<>();
        for (String[] h : heads(text)) {
            if (h[1] == null) {
                continue;
            }
            Map<String, String[][]> perTenant = new HashMap<>();
            for (String entry : h[1].split(";")) {
                int colon = entry.indexOf(':');
                if (colon < 0) {
                    throw new IllegalArgumentException("windows spec: '" + entry + "' is not <tenant>: <monitors> in " + text);
                }
                List<String[]> ids = new ArrayList<>();
                for (String id : entry.substring(colon + 1).split(",")) {
                    String m = id.trim();
                    if (!m.isEmpty()) {
                        int at = m.indexOf('@');   // monitor@pipeline
                        ids.add(at < 0 ? new String[] {m, null} : new String[] {m.substring(0, at), m.substring(at + 1)});
                    }
                }
                perTenant.put(entry.substring(0, colon).trim(), ids.toArray(new String[0][]));
            }
            out.put(h[0], perTenant);
        }
        return out;
    }

    /** Per shape segment: {id, the monitors it serves (null: not given), its spec text}. */
    private static List<String[]> heads(String text) {
        List<String[]> out = new ArrayList<>();
        String[] segments = text.split(Pattern.quote(SEPARATOR), -1);
        for (int i = 1; i < segments.length; i++) {
            String segment = segments[i];
            if (segment.startsWith(JUDGE)) {
                continue;
            }
            int open = segment.indexOf('(');
            int colon = segment.indexOf(':');
            String served = null;
            int idEnd = colon;
            if (open >= 0 && (colon < 0 || open < colon)) {
                int close = segment.indexOf(')', open);
                if (close < 0) {
                    throw new IllegalArgumentException("windows spec: shape '" + segment + "' has an unclosed '(' in " + text);
                }
                served = segment.substring(open + 1, close);
                idEnd = open;
                colon = segment.indexOf(':', close);
            }
            if (colon < 0) {
                throw new IllegalArgumentException("windows spec: shape '" + segment + "' is not <id>: <spec> in " + text);
            }
            out.add(new String[] {segment.substring(0, idEnd).trim(), served, segment.substring(colon + 1).trim()});
        }
        return out;
    }
}
