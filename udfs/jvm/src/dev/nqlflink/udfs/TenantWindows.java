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
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Sliding (HOP) windows of all the monitors reading one event table, per tenant, in the
 * tenant's own event time: one call per table, its monitors' windows grouped in shapes
 * ({@link Shapes}), so that each record is shuffled once and read by one operator whatever the
 * number of monitors (issue 15, docs/sharing.md).
 *
 * <p>Why not Flink's HOP window: its windows fire on the job's watermark, one clock for all
 * tenants of a multi-tenant topic, so a tenant whose data arrives minutes behind the others
 * had every record dropped as late, and a far-future record of one tenant made every later
 * record of every tenant late. Here each tenant has its own clock ({@link TenantClock}, shared
 * by the shapes), and a window of a tenant is evaluated once that tenant's clock and the job's
 * watermark have passed its end: a lagging tenant is evaluated when its data is complete,
 * without delaying the others (docs/flink-job-shape.md, "Event time per tenant").
 *
 * <p>Called from generated SQL, partitioned by tenant, on the table's rows and ticks (see
 * {@code views/monitor_windows.sql.j2}):
 *
 * <pre>
 * nql_windows(input => TABLE rows PARTITION BY tenant, on_time => DESCRIPTOR(ts), spec => '...', uid => '...')
 * input columns: ts (rowtime), nql_tick BOOLEAN, nql_split INT, nql_tw TIMESTAMP(3),
 *                nql_sw TIMESTAMP(3), nql_group ARRAY&lt;STRING&gt; (element i: the group of shape i,
 *                NULL when the row fails its filters; the array NULL on ticks), nql_device STRING,
 *                nql_unknown BOOLEAN (TRUE: no inventory version for the device; NULL = FALSE),
 *                nql_n ARRAY&lt;DOUBLE&gt;, nql_s ARRAY&lt;STRING&gt; (the inputs, shared by the shapes)
 * output: tenant | nql_kind ('eval' | 'late' | 'unknown'), nql_shape, group_json, window_start,
 *                  window_end, nv ARRAY&lt;DOUBLE&gt;, sv ARRAY&lt;STRING&gt;, population BIGINT, late_ts | rowtime
 * </pre>
 *
 * An 'eval' row is one window of one group of one shape (only groups with rows in the window),
 * emitted with rowtime = window end - 1 ms, in window order per tenant and shape; its population
 * (shapes with pop=1) is the distinct devices of all the tenant's rows in the window, whatever
 * their groups. A 'late' row is a record of a shape (its group for it not NULL) that came after
 * the shape's window holding it was evaluated, one per such shape; the metric
 * {@code nqlLateRecords} counts the records late for at least one shape they count in (a group,
 * or the population), once each, so that nothing is dropped silently. An 'unknown' row
 * (nql_shape, group_json NULL; sv = [device], late_ts = the record's time) is emitted for each
 * record with nql_unknown, late or not, for the SQL to dead-letter: this function aggregates the
 * record wherever its groups are not NULL (the SQL nulls them for the shapes that need the
 * inventory).
 *
 * <p>State, per tenant: the clock and the spec it was written under ({@code state}), and the
 * shapes' windows ({@link ShapeState}: fixed-size partials per shape, slice and group, one item
 * per distinct value, percentile value and device, written once; a record costs work only for
 * the shapes it counts in). A window's sets are gathered when it is evaluated, in one pass over
 * the tenant's items for every shape whose window ending at that time is due then (so the pass
 * is once per tenant and window end, not per shape). Every entry of a slice is removed once no
 * window of its shape needs it. The clock is written back only when it changed.
 * No TTL on this state ({@code ttl = "0 ms"}): the slices are evicted here, and a TTL'd heap
 * MapState's incremental cleanup copies whole per-tenant maps on every access, which would make
 * a record cost O(items) again.
 *
 * <p>Upgrades: the uid is the table's, stable when monitors come and go; the state is keyed by
 * shape id, so an added shape starts empty and the others continue. When a tenant's stored spec
 * differs from the call's, the entries of the shapes it no longer has (or has with another
 * definition under the same id) are dropped, once; a timer of a shape the spec no longer has
 * is ignored. Another layout of this state is another {@code state=} in the windows' uid
 * (translator/flink/codegen.py {@code WINDOWS_STATE}): an upgrade starts the windows empty
 * instead of misreading it.
 */
@FunctionHint(output = @DataTypeHint(TenantWindows.SHAPES_OUTPUT))
public class TenantWindows extends ProcessTableFunction<Row> {
    /** {@link Regroup}'s rows: the windows' of one monitor (no shape). */
    static final String OUTPUT = "ROW<nql_kind STRING, group_json STRING, window_start TIMESTAMP(3), "
            + "window_end TIMESTAMP(3), nv ARRAY<DOUBLE>, sv ARRAY<STRING>, population BIGINT, late_ts TIMESTAMP(3)>";
    /** The rows of the windows: each names its shape, monitor and pipeline (NULL on 'unknown'). */
    static final String SHAPES_OUTPUT = "ROW<nql_kind STRING, nql_shape STRING, nql_monitor STRING, nql_pipeline STRING, group_json STRING, "
            + "window_start TIMESTAMP(3), window_end TIMESTAMP(3), nv ARRAY<DOUBLE>, sv ARRAY<STRING>, "
            + "population BIGINT, late_ts TIMESTAMP(3)>";
    private static final long serialVersionUID = 1L;
    /** Window timers: FIRE + shape id + "|" + window end. */
    private static final String FIRE = "f";
    private static final String END = "end";

    /**
     * The call's spec, as last seen by eval (parsed: {@link #shapes}): a literal, the same for
     * every tenant. onTimer gets no arguments; it uses this one (else, before the first record
     * since a restore, the spec stored with the tenant's state).
     */
    private transient String current;
    private transient Shapes shapes;
    private transient Counter late;

    @Override
    public void open(FunctionContext context) throws Exception {
        late = context.getMetricGroup().counter("nqlLateRecords");
    }

    private Shapes shapes(String text) {
        if (!text.equals(current)) {
            shapes = Shapes.parse(text);
            current = text;
        }
        return shapes;
    }

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<clock BYTES, spec STRING, tenant STRING>")) Row state,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> parts,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, STRING>")) MapView<String, String> slices,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, DOUBLE>")) MapView<String, Double> items,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BIGINT>")) MapView<String, Long> fired,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        Shapes spec = shapes(specText);
        ShapeState windows = new ShapeState(parts, slices, items, fired);
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        upgrade(state, specText, spec, clock, windows);
        if (state.getField("tenant") == null) {
            state.setField("tenant", in.getFieldAs("tenant"));   // for the rows its timers emit
        }
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long ts = time.time();
        if (Boolean.TRUE.equals(in.getField("nql_tick"))) {
            clock.tick(ts);
        } else {
            Integer split = in.getFieldAs("nql_split");
            clock.observe(split == null ? 0 : split, millis(in.getField("nql_tw")), millisOrNull(in.getField("nql_sw")));
            record(spec, windows, time, ts, in);
        }
        // windows whose timer came too early for this tenant: due again at the next watermark
        long now = clock.now(spec.idle, spec.lag, time.currentWatermark());
        while (!clock.pending.isEmpty() && clock.pending.firstKey() - 1 <= now) {
            Map.Entry<Long, TreeSet<String>> due = clock.pending.pollFirstEntry();
            for (String shape : due.getValue()) {
                time.registerOnTime(timer(shape, due.getKey()), due.getKey() - 1);
            }
        }
        // most records leave the clock as it was (same partition clock, same progress)
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    /** One record (not a tick): its 'unknown' row, then each shape it counts in. */
    private void record(Shapes spec, ShapeState windows, TimeContext<Long> time, long ts, Row in) throws Exception {
        String device = in.getFieldAs("nql_device");
        if (Boolean.TRUE.equals(in.getField("nql_unknown"))) {
            // once per monitor of the tenant that needs the inventory (shapes with inv=1), whatever
            // the record's lateness: it is about the inventory, not the windows
            String tenant = in.getFieldAs("tenant");
            for (Shapes.Shape shape : spec.list) {
                if (shape.spec.inventory) {
                    for (String[] m : shape.monitorsOf(tenant)) {
                        collect(Row.of("unknown", shape.id, m[0], m[1], null, null, null, null, new String[] {device}, null,
                                       toTimestamp(ts)));
                    }
                }
            }
        }
        String[] groups = in.getFieldAs("nql_group");
        Double[] n = null;
        String[] s = null;
        boolean inputs = false;
        boolean isLate = false;
        for (Shapes.Shape shape : spec.list) {
            String group = groups != null && shape.index < groups.length ? groups[shape.index] : null;
            if (group == null && !(shape.spec.population && device != null)) {
                continue;
            }
            long fired = windows.fired(shape.id);
            if (ts <= fired) {
                isLate = true;
                if (group != null) {
                    for (String[] m : shape.monitorsOf(in.getFieldAs("tenant"))) {
                        collect(Row.of("late", shape.id, m[0], m[1], group, null, null, null, null, null, toTimestamp(ts)));
                    }
                }
                continue;
            }
            if (!inputs) {
                n = in.getFieldAs("nql_n");
                s = in.getFieldAs("nql_s");
                inputs = true;
            }
            if (windows.add(shape, ts, group, device, n, s)) {
                // the windows the new slice belongs to: ends slice, slice + slide, ..., slice + size - slide
                long slice = shape.spec.sliceEnd(ts);
                for (long end = slice; end <= slice + shape.spec.size - shape.spec.slide; end += shape.spec.slide) {
                    if (end - 1 > fired) {
                        time.registerOnTime(timer(shape.id, end), end - 1);
                    }
                }
            }
        }
        if (isLate && late != null) {
            late.inc();
        }
    }

    private static String timer(String shape, long end) {
        return FIRE + shape + "|" + end;
    }

    public void onTimer(
            OnTimerContext ctx,
            Row state,
            MapView<String, byte[]> parts,
            MapView<String, String> slices,
            MapView<String, Double> items,
            MapView<String, Long> fired)
            throws Exception {
        // before the first record since a restore, the spec the tenant's state was written under
        String text = current != null ? current : state.getFieldAs("spec");
        if (text == null) {
            return;
        }
        Shapes spec = current != null ? shapes : Shapes.parse(text);
        ShapeState windows = new ShapeState(parts, slices, items, fired);
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        upgrade(state, text, spec, clock, windows);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String timer = ctx.currentTimer();
        if (END.equals(timer)) {
            // a bounded input ended (watermark MAX): every window is complete; fire the ones
            // still waiting, each at its own time, in order (timers fire in time order)
            for (Map.Entry<Long, TreeSet<String>> e : clock.pending.entrySet()) {
                for (String shape : e.getValue()) {
                    time.registerOnTime(timer(shape, e.getKey()), e.getKey() - 1);
                }
            }
        } else {
            int bar = timer.lastIndexOf('|');
            Shapes.Shape shape = spec.byId.get(timer.substring(FIRE.length(), bar));
            if (shape != null) {  // else a timer of a shape the spec no longer has
                onWindow(spec, shape, Long.parseLong(timer.substring(bar + 1)), clock, windows, time,
                         state.getFieldAs("tenant"));
            }
        }
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    /** The timer of the shape's window ending at {@code end}: evaluate it, or wait. */
    private void onWindow(Shapes spec, Shapes.Shape shape, long end, TenantClock clock, ShapeState windows,
                          TimeContext<Long> time, String tenant) throws Exception {
        Long watermark = time.currentWatermark();
        boolean endOfInput = watermark != null && watermark == Long.MAX_VALUE;
        if (end - 1 <= windows.fired(shape.id)) {
            clock.removePending(shape.id, end);
        } else if (!clock.waitsBefore(shape.id, end)
                && (endOfInput || end - 1 <= clock.now(spec.idle, spec.lag, watermark))) {
            fire(spec, shape, end, clock, windows, time, tenant);
        } else {
            // not complete for this tenant yet (or an earlier window of the shape still waits):
            // fired when its clock gets there (eval re-arms it), when the watermark drags it
            // there or a partition it waits for goes idle (the wake-up timer), or at the end of
            // a bounded input
            clock.addPending(shape.id, end);
            long wake = clock.wakeUp(end - 1, spec.idle, spec.lag);
            if (watermark == null || wake > watermark) {
                time.registerOnTime(timer(shape.id, end), wake);
            }
            time.registerOnTime(END, Long.MAX_VALUE - 1);
        }
    }

    /**
     * Evaluates the window ending at {@code end} of the timer's shape and, in the same pass over
     * the tenant's items, of every other shape whose window ending there is due now: its own
     * timer at this time would find the same clock and evaluate it too (it then finds it done).
     */
    private void fire(Shapes spec, Shapes.Shape first, long end, TenantClock clock, ShapeState windows,
                      TimeContext<Long> time, String tenant) throws Exception {
        Map<String, ShapeState.Window> due = new LinkedHashMap<>();
        for (Shapes.Shape shape : spec.list) {
            // a window of the shape ends here, not evaluated yet, no earlier one waiting (checked
            // for the timer's shape), and it holds something (a timer of a shape redefined under
            // the same id may name another end, or a window with nothing: not evaluated)
            if (Math.floorMod(end, shape.spec.slide) != 0 || (shape != first
                    && (end - 1 <= windows.fired(shape.id) || clock.waitsBefore(shape.id, end)))) {
                continue;
            }
            ShapeState.Window w = windows.window(shape, end);
            if (w != null) {
                due.put(shape.id, w);
            }
        }
        clock.removePending(first.id, end);
        if (due.isEmpty()) {
            return;
        }
        windows.gatherItems(due);
        LocalDateTime to = toTimestamp(end);
        for (ShapeState.Window w : due.values()) {
            LocalDateTime from = toTimestamp(w.start);
            Long devices = w.population == null ? null : (long) w.population.size();
            String[][] monitors = w.shape.monitorsOf(tenant);
            for (Map.Entry<String, Partial> g : w.groups.entrySet()) {
                Partial p = g.getValue();
                for (String[] m : monitors) {
                    collect(Row.of("eval", w.shape.id, m[0], m[1], g.getKey(), from, to, p.numbers(), p.strings(), devices,
                                   null));
                }
            }
            String id = w.shape.id;
            windows.fired.put(id, Math.max(windows.fired(id), end - 1));
            clock.removePending(id, end);
            Long next = clock.firstPending(id);
            if (next != null) {
                // the shape's next waiting window, at its own time: a timer at or before the
                // watermark fires within this same watermark advance
                time.registerOnTime(timer(id, next), next - 1);
            }
        }
        windows.evict(due);
    }

    /**
     * A spec other than the one the tenant's state was written under: drops the entries of the
     * shapes it no longer has (or has with another definition), once per tenant and change.
     */
    private static void upgrade(Row state, String text, Shapes spec, TenantClock clock, ShapeState windows)
            throws Exception {
        String stored = state.getFieldAs("spec");
        if (text.equals(stored)) {
            return;
        }
        if (stored != null) {
            Set<String> gone = new HashSet<>();
            for (Map.Entry<String, String> e : Shapes.texts(stored).entrySet()) {
                if (!e.getValue().equals(spec.texts.get(e.getKey()))) {
                    gone.add(e.getKey());
                }
            }
            if (!gone.isEmpty()) {
                windows.drop(gone);
                for (String shape : gone) {
                    for (Long end : clock.pending.keySet().toArray(new Long[0])) {
                        clock.removePending(shape, end);
                    }
                }
            }
        }
        state.setField("spec", text);
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
