package dev.nqlflink.udfs;

import org.apache.flink.metrics.Counter;
import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sliding (HOP) windows of one monitor, per tenant, in the tenant's own event time.
 *
 * <p>Why not Flink's HOP window: its windows fire on the job's watermark, one clock for all
 * tenants of a multi-tenant topic, so a tenant whose data arrives minutes behind the others
 * had every record dropped as late, and a far-future record of one tenant made every later
 * record of every tenant late. Here each tenant has its own clock ({@link TenantClock}), and a
 * window of a tenant is evaluated once that tenant's clock and the job's watermark have passed
 * its end: a lagging tenant is evaluated when its data is complete, without delaying the
 * others (docs/flink-job-shape.md, "Event time per tenant").
 *
 * <p>Called from generated SQL, partitioned by tenant, on the monitor's rows and the table's
 * ticks (see {@code views/monitor_windows.sql.j2}):
 *
 * <pre>
 * nql_windows(input => TABLE rows PARTITION BY tenant, on_time => DESCRIPTOR(ts), spec => '...', uid => '...')
 * input columns: ts (rowtime), nql_tick BOOLEAN, nql_split INT, nql_tw TIMESTAMP(3),
 *                nql_sw TIMESTAMP(3), nql_group STRING (NULL: the row fails the monitor's filters),
 *                nql_device STRING, nql_n ARRAY&lt;DOUBLE&gt;, nql_s ARRAY&lt;STRING&gt;
 * output: tenant | nql_kind ('eval' | 'late'), group_json, window_start, window_end,
 *                  nv ARRAY&lt;DOUBLE&gt;, sv ARRAY&lt;STRING&gt;, population BIGINT, late_ts | rowtime
 * </pre>
 *
 * An 'eval' row is one window of one group (only groups with rows in the window), emitted with
 * rowtime = window end - 1 ms, in window order per tenant; a 'late' row is a record of the
 * monitor that came after its window was evaluated (counted in the metric
 * {@code nqlLateRecords} too), so that nothing is dropped silently.
 *
 * <p>State, per tenant, laid out so that a record costs the same whatever the sizes of the
 * distinct sets of its slice (issue 15, docs/flink-job-shape.md §7): {@code parts} holds per
 * (slice, group) the fixed-size part of the {@link Partial} (counts, sums, extremes, last values;
 * a percentile's count), read and written back per record; {@code items} holds one entry per
 * distinct value (COUNT DISTINCT), per percentile value (keyed by its rank of arrival in the
 * slice and group) and per device of the population, keyed {@link #itemKey}, written once when
 * new: a record costs a lookup per distinct aggregate instead of reading and writing its
 * slice's whole sets. A window's sets are gathered when it is evaluated, in one pass over the
 * tenant's items (once per tenant and slide; the items of the slices it evicts are dropped in
 * the same pass), and merged across slices as sets, so a value seen in several slices of a
 * window counts once. {@code slices} lists the groups of each slice. Every entry of a slice is
 * removed once no window needs it, as before. The clock is written back only when it changed.
 * No TTL on this state ({@code ttl = "0 ms"}): the slices are evicted here, and a TTL'd heap
 * MapState's incremental cleanup copies whole per-tenant maps on every access, which would make
 * a record cost O(items) again.
 * Another layout of this state is another {@code state=} in the windows' uid
 * (translator/flink/codegen.py {@code WINDOWS_STATE}): an upgrade starts the windows empty
 * instead of misreading it.
 */
@FunctionHint(output = @DataTypeHint(TenantWindows.OUTPUT))
public class TenantWindows extends ProcessTableFunction<Row> {
    /** The rows of the windows (also {@link Regroup}'s, which the same views read). */
    static final String OUTPUT = "ROW<nql_kind STRING, group_json STRING, window_start TIMESTAMP(3), "
            + "window_end TIMESTAMP(3), nv ARRAY<DOUBLE>, sv ARRAY<STRING>, population BIGINT, late_ts TIMESTAMP(3)>";
    private static final long serialVersionUID = 1L;
    /** The aggregate index of the population's items (the tenant's distinct devices). */
    private static final int POPULATION = -1;
    private static final String FIRE = "f";
    private static final String END = "end";

    private transient Map<String, WindowSpec> specs;
    private transient Counter late;

    @Override
    public void open(FunctionContext context) throws Exception {
        specs = new HashMap<>();
        late = context.getMetricGroup().counter("nqlLateRecords");
    }

    private WindowSpec spec(String text) {
        if (specs == null) {
            specs = new HashMap<>();
        }
        return specs.computeIfAbsent(text, WindowSpec::parse);
    }

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<clock BYTES, spec STRING>")) Row state,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> parts,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<BIGINT, STRING>")) MapView<Long, String> slices,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, DOUBLE>")) MapView<String, Double> items,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        WindowSpec spec = spec(specText);
        if (!specText.equals(state.getField("spec"))) {
            state.setField("spec", specText);
        }
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long ts = time.time();
        if (Boolean.TRUE.equals(in.getField("nql_tick"))) {
            clock.tick(ts);
        } else {
            Integer split = in.getFieldAs("nql_split");
            clock.observe(split == null ? 0 : split, millis(in.getField("nql_tw")), millisOrNull(in.getField("nql_sw")));
            String group = in.getFieldAs("nql_group");
            if (ts <= clock.fired) {
                if (late != null) {
                    late.inc();
                }
                if (group != null) {
                    collect(Row.of("late", group, null, null, null, null, null, toTimestamp(ts)));
                }
            } else {
                add(spec, time, clock, parts, slices, items, ts, group, in);
            }
        }
        // windows whose timer came too early for this tenant: due again at the next watermark
        long now = clock.now(spec.idle, spec.lag, time.currentWatermark());
        while (!clock.pending.isEmpty() && clock.pending.first() - 1 <= now) {
            long end = clock.pending.pollFirst();
            time.registerOnTime(FIRE + end, end - 1);
        }
        // most records leave the clock as it was (same partition clock, same progress)
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    private void add(WindowSpec spec, TimeContext<Long> time, TenantClock clock, MapView<String, byte[]> parts,
                     MapView<Long, String> slices, MapView<String, Double> items, long ts, String group, Row in)
            throws Exception {
        long slice = spec.sliceEnd(ts);
        String groups = slices.get(slice);
        boolean newSlice = groups == null;
        String listed = groups == null ? "" : groups;
        if (group != null) {
            String key = slice + "|" + group;
            byte[] old = parts.get(key);
            if (old == null) {
                listed = listed.isEmpty() ? group : listed + "\n" + group;
            }
            Partial p = Partial.readFixed(spec, old);
            Double[] n = in.getFieldAs("nql_n");
            String[] s = in.getFieldAs("nql_s");
            for (int i = 0; i < spec.aggs.size(); i++) {
                WindowSpec.Agg a = spec.aggs.get(i);
                if (a.kind == WindowSpec.Kind.DISTINCT) {
                    String v = s != null && a.input < s.length ? s[a.input] : null;
                    if (v != null) {
                        String item = itemKey(slice, i, group, v);
                        if (!items.contains(item)) {
                            items.put(item, 0.0);
                        }
                    }
                } else if (a.kind == WindowSpec.Kind.PCT) {
                    Double v = n != null && a.input < n.length ? n[a.input] : null;
                    if (v != null) {
                        // the k-th value of this percentile in this slice and group (k: its count so far)
                        items.put(itemKey(slice, i, group, Long.toString(p.count[i])), v);
                    }
                }
            }
            p.add(n, s, ts);
            parts.put(key, p.writeFixed());
        }
        String device = in.getFieldAs("nql_device");
        if (spec.population && device != null) {
            String item = itemKey(slice, POPULATION, "", device);
            if (!items.contains(item)) {
                items.put(item, 0.0);
            }
        }
        if (newSlice || !listed.equals(groups)) {
            slices.put(slice, listed);
        }
        if (newSlice) {
            // the windows this slice belongs to: ends slice, slice + slide, ..., slice + size - slide
            for (long end = slice; end <= slice + spec.size - spec.slide; end += spec.slide) {
                if (end - 1 > clock.fired) {
                    time.registerOnTime(FIRE + end, end - 1);
                }
            }
        }
    }

    /**
     * The key of one value in {@code items}: {@code slice:aggregate:length of group:group value}
     * (aggregate -1: the population, group empty). The group's length makes the key readable
     * back whatever characters the group and the value hold.
     */
    static String itemKey(long slice, int agg, String group, String value) {
        return slice + ":" + agg + ":" + group.length() + ":" + group + value;
    }

    public void onTimer(
            OnTimerContext ctx,
            Row state,
            MapView<String, byte[]> parts,
            MapView<Long, String> slices,
            MapView<String, Double> items)
            throws Exception {
        String text = state.getFieldAs("spec");
        if (text == null) {
            return;
        }
        WindowSpec spec = spec(text);
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String timer = ctx.currentTimer();
        Long watermark = time.currentWatermark();
        boolean endOfInput = watermark != null && watermark == Long.MAX_VALUE;
        if (END.equals(timer)) {
            // a bounded input ended (watermark MAX): every window is complete; fire the ones
            // still waiting, each at its own time, in order (timers fire in time order)
            for (long end : clock.pending) {
                time.registerOnTime(FIRE + end, end - 1);
            }
            return;
        }
        long end = Long.parseLong(timer.substring(FIRE.length()));
        if (end - 1 <= clock.fired) {
            clock.pending.remove(end);
        } else if (clock.pending.headSet(end).isEmpty()
                && (endOfInput || end - 1 <= clock.now(spec.idle, spec.lag, watermark))) {
            fire(spec, clock, parts, slices, items, end);
            clock.pending.remove(end);
            if (!clock.pending.isEmpty()) {
                // the next waiting window, at its own time: a timer at or before the watermark
                // fires within this same watermark advance
                long next = clock.pending.first();
                time.registerOnTime(FIRE + next, next - 1);
            }
        } else {
            // not complete for this tenant yet (or an earlier window still waits): fired when
            // its clock gets there (eval re-arms it), when the watermark drags it there or a
            // partition it waits for goes idle (the wake-up timer), or at the end of a bounded input
            clock.pending.add(end);
            long wake = clock.wakeUp(end - 1, spec.idle, spec.lag);
            if (watermark == null || wake > watermark) {
                time.registerOnTime(FIRE + end, wake);
            }
            time.registerOnTime(END, Long.MAX_VALUE - 1);
        }
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    private void fire(WindowSpec spec, TenantClock clock, MapView<String, byte[]> parts,
                      MapView<Long, String> slices, MapView<String, Double> items, long end) throws Exception {
        long start = end - spec.size;
        TreeMap<String, Partial> groups = new TreeMap<>();
        for (long slice = start + spec.slide; slice <= end; slice += spec.slide) {
            String listed = slices.get(slice);
            if (listed != null && !listed.isEmpty()) {
                for (String group : listed.split("\n", -1)) {
                    Partial p = Partial.readFixed(spec, parts.get(slice + "|" + group));
                    groups.computeIfAbsent(group, g -> new Partial(spec)).merge(p);
                }
            }
        }
        // slices no later window needs: those ending at or before end + slide - size
        long evict = end + spec.slide - spec.size;
        // the window's distinct values, percentile values and devices, and the items of the
        // slices it evicts: one pass over the tenant's items per evaluation
        Set<String> population = spec.population ? new HashSet<>() : null;
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, Double> e : items.entries()) {
            String key = e.getKey();
            int a = key.indexOf(':');
            long slice = Long.parseLong(key.substring(0, a));
            if (slice <= evict) {
                dropped.add(key);
            }
            if (slice <= start || slice > end) {
                continue;
            }
            int b = key.indexOf(':', a + 1);
            int agg = Integer.parseInt(key.substring(a + 1, b));
            int c = key.indexOf(':', b + 1);
            int value = c + 1 + Integer.parseInt(key.substring(b + 1, c));
            if (agg == POPULATION) {
                if (population != null) {
                    population.add(key.substring(value));
                }
                continue;
            }
            Partial p = groups.get(key.substring(c + 1, value));
            if (p == null) {
                continue;
            }
            if (spec.aggs.get(agg).kind == WindowSpec.Kind.DISTINCT) {
                p.sets.get(agg).add(key.substring(value));
            } else {
                p.values.get(agg).add(e.getValue());
            }
        }
        LocalDateTime from = toTimestamp(start);
        LocalDateTime to = toTimestamp(end);
        Long devices = population == null ? null : (long) population.size();
        for (Map.Entry<String, Partial> g : groups.entrySet()) {
            Partial p = g.getValue();
            collect(Row.of("eval", g.getKey(), from, to, p.numbers(), p.strings(), devices, null));
        }
        clock.fired = Math.max(clock.fired, end - 1);
        for (String key : dropped) {
            items.remove(key);
        }
        List<Long> done = new ArrayList<>();
        for (Long slice : slices.keys()) {
            if (slice <= evict) {
                done.add(slice);
            }
        }
        for (long slice : done) {
            String listed = slices.get(slice);
            if (listed != null && !listed.isEmpty()) {
                for (String group : listed.split("\n", -1)) {
                    parts.remove(slice + "|" + group);
                }
            }
            slices.remove(slice);
        }
    }

    private static long millis(Object t) {
        if (t == null) {
            return Long.MIN_VALUE;
        }
        return ((LocalDateTime) t).toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    private static Long millisOrNull(Object t) {
        return t == null ? null : millis(t);
    }

    static LocalDateTime toTimestamp(long ms) {
        return LocalDateTime.ofEpochSecond(Math.floorDiv(ms, 1000), Math.floorMod(ms, 1000) * 1_000_000, ZoneOffset.UTC);
    }
}
