package dev.nqlflink.udfs;

import org.apache.flink.metrics.Counter;
import org.apache.flink.table.api.dataview.ListView;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
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
 * <p>Two functions share this class: {@link TenantWindows}, called on the table's rows and
 * ticks, and {@link InventoryWindows}, called on them and on the inventory's versions (in the
 * same table: Flink 2.3 cannot read back a view of a function with two table arguments,
 * FLINK-39882), which it keeps and looks each record's device up in (no temporal join before
 * it). Called from generated SQL, partitioned by tenant (see {@code views/table_windows.sql.j2}):
 *
 * <pre>
 * nql_windows(input => TABLE rows PARTITION BY tenant, on_time => DESCRIPTOR(ts), spec => '...', uid => '...')
 * input columns: ts (rowtime), nql_tick BOOLEAN, nql_clock BOOLEAN (a clock row of the tenant's
 *                partition: nql_split, nql_tw, nql_sw only; PartitionClock), nql_split INT, nql_tw TIMESTAMP(3),
 *                nql_sw TIMESTAMP(3) (with late= in the spec's table segment, the function keeps the clocks
 *                itself: no nql_clock nor nql_tw, but nql_line BYTES, the record's line for its
 *                'reject' row), nql_group ARRAY&lt;STRING&gt; (the group of a shape: the element
 *                its spec's grp names, else element i for shape i; NULL: the row counts for the
 *                population only; the array NULL on ticks), nql_keep ARRAY&lt;BOOLEAN&gt; (read only if a
 *                shape's spec names an element, keep=: the row counts in that shape only where it
 *                is TRUE), nql_device STRING,
 *                nql_unknown BOOLEAN (TRUE: no inventory version for the device; NULL = FALSE; not
 *                read by InventoryWindows, which looks the device up),
 *                nql_n ARRAY&lt;DOUBLE&gt;, nql_s ARRAY&lt;STRING&gt; (the inputs, shared by the shapes)
 *                nql_config ROW&lt;monitor STRING, the fields of {@link Configs#TYPE}&gt; (not NULL: a config
 *                row, the monitor's config in force from ts on; {@link Configs}; an input without the
 *                column gives no evaluation a config)
 *                InventoryWindows only: nql_inventory BOOLEAN (TRUE: an inventory version, taking
 *                effect at ts, of device nql_device, its nql_group and nql_keep computed from its
 *                attributes: the elements a shape names by grp=iN and ikeep)
 * output: tenant | nql_kind ('eval' | 'late' | 'unknown' | 'reject'), nql_shape, group_json, window_start,
 *                  window_end, nv ARRAY&lt;DOUBLE&gt;, sv ARRAY&lt;STRING&gt;, population BIGINT, late_ts,
 *                  reject_reason, nql_line, nql_config, nql_trig, nql_rec | rowtime
 * </pre>
 *
 * An 'eval' row is one window of one group of one shape (only groups with rows in the window),
 * emitted with rowtime = window end - 1 ms, in window order per tenant and shape, with its
 * monitor's config in force at that time ({@code nql_config}, NULL if none: the row is not
 * judged), and, when the spec judges its pipeline ({@link Shapes.Judge}) and it has a config,
 * the monitor's trigger and recover conditions over its outputs and the config's parameters
 * ({@code nql_trig}, {@code nql_rec}: TRUE, FALSE or NULL; NULL too where the job's judged view
 * judges it); its population
 * (shapes with pop=1) is the distinct devices of all the tenant's rows in the window, whatever
 * their groups. A 'late' row is a record of a shape (its group for it not NULL) that came after
 * the shape's window holding it was evaluated, one per such shape; the metric
 * {@code nqlLateRecords} counts the records late for at least one shape they count in (a group,
 * or the population), once each, so that nothing is dropped silently. An 'unknown' row
 * (nql_shape, group_json NULL; sv = [device], late_ts = the record's time) is emitted for each
 * record with nql_unknown, late or not, for the SQL to dead-letter: this function aggregates the
 * record wherever its groups are not NULL (the SQL nulls them for the shapes that need the
 * inventory). A 'reject' row (late=: the function keeps the clocks) is a record it rejects, with
 * its reason ({@link TenantClock#admit}: 'late', 'lag_exceeded'), its line when the row brought
 * it ({@link LateHint}; sv = [device], late_ts = its time otherwise), for the SQL to dead-letter:
 * no shape reads it, it moves its partition's clock only.
 *
 * <p>State, per tenant: the clock, the earliest slice end the open records wait for and the
 * newest evaluated window of any shape ({@code state}, read and written whole per call, so
 * small), the spec it was written under and the tenant ({@code meta}, read once per tenant and
 * function instance), and the shapes' windows ({@link ShapeState}: each record appended once,
 * folded per shape and complete slice when a window is due; a window reads its slices' entries),
 * and its monitors' config versions ({@code configs}, monitor -> {@link Configs}).
 * Every entry of a slice is removed once no window of its shape needs it. No TTL on this state
 * ({@code ttl = "0 ms"}): the slices are evicted here, and a TTL'd heap MapState's incremental
 * cleanup copies whole per-tenant maps on every access.
 *
 * <p>Upgrades: the uid is the table's, stable when monitors come and go; the state is keyed by
 * shape id, so an added shape starts empty and the others continue. When a tenant's stored spec
 * differs from the call's, the entries of the shapes it no longer has (or has with another
 * definition under the same id) are dropped, once; a timer of a shape the spec no longer has
 * is ignored. Another layout of this state is another {@code state=} in the windows' uid
 * (translator/flink/codegen.py {@code WINDOWS_STATE}): an upgrade starts the windows empty
 * instead of misreading it.
 */
public abstract class WindowsFunction extends ProcessTableFunction<Row> {
    /** {@link Regroup}'s rows: the windows' of one monitor (no shape). */
    static final String OUTPUT = "ROW<nql_kind STRING, group_json STRING, window_start TIMESTAMP(3), "
            + "window_end TIMESTAMP(3), nv ARRAY<DOUBLE>, sv ARRAY<STRING>, population BIGINT, late_ts TIMESTAMP(3)>";
    /** The rows of the windows: each names its shape, monitor and pipeline (NULL on 'unknown'). */
    static final String SHAPES_OUTPUT = "ROW<nql_kind STRING, nql_shape STRING, nql_monitor STRING, nql_pipeline STRING, group_json STRING, "
            + "window_start TIMESTAMP(3), window_end TIMESTAMP(3), nv ARRAY<DOUBLE>, sv ARRAY<STRING>, "
            + "population BIGINT, late_ts TIMESTAMP(3), reject_reason STRING, nql_line BYTES, nql_config "
            + Configs.TYPE + ", nql_trig BOOLEAN, nql_rec BOOLEAN>";
    private static final long serialVersionUID = 1L;
    /** Window timers: FIRE + shape id + "|" + window end. */
    private static final String FIRE = "f";
    private static final String END = "end";
    /** The timer at which the tenant's first waiting clock row applies (TenantClock.later). */
    private static final String CLOCK = "clock";
    /** {@code meta} keys: the spec the tenant's state was written under, and the tenant. */
    private static final String SPEC = "spec";
    private static final String TENANT = "tenant";
    /** The input column of a config row ({@link Configs}; NULL on every other row). */
    private static final String CONFIG = "nql_config";

    /**
     * The call's spec, as last seen by eval (parsed: {@link #shapes}): a literal, the same for
     * every tenant. onTimer gets no arguments; it uses this one (else, before the first record
     * since a restore, the spec stored with the tenant's state).
     */
    private transient String current;
    private transient Shapes shapes;
    private transient Counter late;
    /** Tenants whose state this instance found (or made) under {@link #current}: no upgrade to check. */
    private transient Set<String> upToDate;
    /** Whether the input has the config column (an input without it: every evaluation without a config). */
    private transient Boolean configured;
    /** The tenants' shapes' last evaluated windows: a cache, rebuilt from the state when missing. */
    private transient RunningWindow.Cache running;

    @Override
    public void open(FunctionContext context) throws Exception {
        late = context.getMetricGroup().counter("nqlLateRecords");
        running = new RunningWindow.Cache();
    }

    protected Shapes shapes(String text) {
        if (!text.equals(current)) {
            shapes = Shapes.parse(text);
            current = text;
            upToDate = new HashSet<>();
        }
        return shapes;
    }

    /**
     * The inventory versions of the call's tenant ({@link InventoryWindows}; null: the rows carry
     * {@code nql_unknown} instead, {@link TenantWindows}).
     */
    interface Inventory {
        /** The device's version in force at {@code ts} (the newest not after it); null: none. */
        Versions.Version at(String device, long ts) throws Exception;
    }

    /** One row of the table (a record, a clock row or a tick) of the call's tenant. */
    protected void onRow(Context ctx, Row state, MapView<String, String> meta, ListView<byte[]> open,
                         MapView<String, byte[]> slices, MapView<Long, Boolean> buckets, MapView<String, Long> fired,
                         MapView<String, byte[]> configs, Row in, String specText, Inventory inventory)
            throws Exception {
        Shapes spec = shapes(specText);
        String tenant = in.getFieldAs("tenant");
        if (configured == null) {
            Set<String> names = in.getFieldNames(true);
            configured = names != null && names.contains(CONFIG);
        }
        Row config = configured ? in.getFieldAs(CONFIG) : null;
        if (config != null) {
            keep(spec, tenant, configs, config, ctx.timeContext(Long.class));
            return;
        }
        ShapeState windows = new ShapeState(open, slices, buckets, fired, running, tenant);
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        if (checkSpec(tenant, meta, specText, spec, clock, windows, configs) && meta.get(TENANT) == null) {
            meta.put(TENANT, tenant);   // for the rows its timers emit
        }
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long ts = time.time();
        if (Boolean.TRUE.equals(in.getField("nql_tick"))) {
            clock.tick(ts);
        } else if (spec.lateness >= 0) {
            // the function keeps the clocks (no join before it: records in arrival order)
            // its table's watermark when read (not this operator's: the inventory's and the ticks'
            // hold that back, and a partition is active while it keeps up with the table's)
            Integer split = in.getFieldAs("nql_split");
            String reason = clock.admit(split == null ? 0 : split, ts, spec.lateness, spec.lag,
                                        millisOrNull(in.getField("nql_sw")));
            if (reason != null) {
                collect(Row.of("reject", null, null, null, null, null, null, null,
                               new String[] {in.getFieldAs("nql_device")}, null, toTimestamp(ts), reason,
                               in.getField("nql_line"), null, null, null));
            } else {
                record(spec, windows, state, time, ts, tenant, in, inventory);
            }
        } else if (Boolean.TRUE.equals(in.getField("nql_clock"))) {
            // a clock row (PartitionClock): applied once the watermark has come (TenantClock.later)
            Integer split = in.getFieldAs("nql_split");
            Long readAt = millisOrNull(in.getField("nql_sw"));
            clock.later(split == null ? 0 : split, millis(in.getField("nql_tw")), readAt == null ? Long.MIN_VALUE : readAt);
        } else {
            Integer split = in.getFieldAs("nql_split");
            clock.observe(split == null ? 0 : split, millis(in.getField("nql_tw")), millisOrNull(in.getField("nql_sw")));
            record(spec, windows, state, time, ts, tenant, in, inventory);
        }
        rearm(spec, clock, time);
        // most records leave the clock as it was (same partition clock, same progress)
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    /**
     * A config row: kept as its monitor's version from the row's time if a shape serves the
     * monitor for the tenant, less the versions no window the tenant may still evaluate can read.
     */
    private static void keep(Shapes spec, String tenant, MapView<String, byte[]> configs, Row config,
                             TimeContext<Long> time) throws Exception {
        String monitor = (String) config.getField(0);
        if (monitor == null || !spec.serves(tenant, monitor)) {
            return;
        }
        List<Configs.Config> versions = Configs.read(configs.get(monitor));
        Configs.Config version = Configs.Config.of(time.time(), config);
        configs.put(monitor, Configs.write(Versions.add(versions, version, oldest(spec, time.currentWatermark()))));
    }

    /**
     * The time no record the tenant may still bring, nor any waiting in its windows, is older
     * than: the watermark less the lag bound and the longest window (MIN: no watermark yet).
     */
    static long oldest(Shapes spec, Long watermark) {
        return watermark == null || watermark < Long.MIN_VALUE + spec.lag + spec.span ? Long.MIN_VALUE
                : watermark - spec.lag - spec.span;
    }

    /**
     * One record (not a tick): its 'unknown' rows, its 'late' rows for the shapes it comes too
     * late for, then written once ({@link ShapeState}) with what it is for each other shape.
     */
    private void record(Shapes spec, ShapeState windows, Row state, TimeContext<Long> time, long ts, String tenant,
                        Row in, Inventory inventory) throws Exception {
        String device = in.getFieldAs("nql_device");
        // With the inventory here, the device's version as of ts is final once the watermark
        // (the inventory's too) has passed ts: looked up now if so, else when the record is
        // first folded (a window holding it is due, so the watermark has passed it).
        boolean lookup = inventory != null && spec.readsInventory(tenant);
        Long watermark = time.currentWatermark();
        boolean waits = lookup && (watermark == null || ts > watermark);
        Versions.Version version = lookup && !waits ? inventory.at(device, ts) : null;
        if (lookup ? !waits && version == null : Boolean.TRUE.equals(in.getField("nql_unknown"))) {
            unknown(spec, tenant, device, ts);
        }
        String[] groups = in.getFieldAs("nql_group");
        Boolean[] keeps = spec.keeps ? in.getFieldAs("nql_keep") : null;
        // no shape has evaluated a window at or after ts: late for none (no per-shape lookup)
        long newest = orMin(state.getFieldAs("fired"));
        int[] member = new int[spec.all.size()];
        Arrays.fill(member, ShapeState.NOTHING);
        List<String> values = new ArrayList<>(2);
        boolean any = false;
        boolean isLate = false;
        long due = Long.MAX_VALUE;   // the first slice end at which the record is folded
        for (Shapes.Shape shape : spec.list) {
            boolean pending = waits && shape.spec.inventory && shape.keptByRow(keeps);
            if (pending) {
                // not late (its watermark is behind ts, so are the shape's evaluated windows):
                // its group comes with the version, at the first fold
                String own = shape.spec.inventoryGroup ? null : shape.rowGroup(groups);
                member[shape.index] = own == null ? ShapeState.PENDING : ShapeState.PENDING - 1 - indexOf(values, own);
                any = true;
                due = Math.min(due, shape.spec.sliceEnd(ts));
                continue;
            }
            String group = waits && shape.spec.inventory ? null
                    : lookup && shape.spec.inventory ? shape.group(groups, keeps, version) : shape.group(groups, keeps);
            if (group == null) {
                continue;
            }
            if (ts <= newest && ts <= windows.fired(shape.id)) {
                isLate = true;
                for (String[] m : shape.monitorsOf(tenant)) {
                    collect(Row.of("late", shape.id, m[0], m[1], group, null, null, null, null, null, toTimestamp(ts),
                                   null, null, null, null, null));
                }
                continue;
            }
            member[shape.index] = indexOf(values, group);
            any = true;
            due = Math.min(due, shape.spec.sliceEnd(ts));
        }
        // the population of each window (Shapes#populations): every record with a device, unless
        // its window has evaluated one holding it
        for (Shapes.Shape population : spec.populations) {
            if (device == null) {
                break;
            }
            if (ts <= newest && ts <= windows.fired(population.id)) {
                isLate = true;
                continue;
            }
            member[population.index] = ShapeState.POPULATION_ONLY;
            any = true;
            due = Math.min(due, population.spec.sliceEnd(ts));
        }
        if (isLate && late != null) {
            late.inc();
        }
        if (waits && !any) {
            // counted nowhere, but its 'unknown' rows are still due at its first fold
            any = true;
            for (Shapes.Shape shape : spec.list) {
                due = Math.min(due, shape.spec.sliceEnd(ts));
            }
        }
        if (!any) {
            return;
        }
        long bucket = Math.floorDiv(ts, spec.grain);
        if (!windows.buckets.contains(bucket)) {
            // the bucket's first record: the timers of the windows holding it, of every shape (a
            // window with nothing of a shape is not evaluated for it)
            windows.buckets.put(bucket, Boolean.TRUE);
            for (Shapes.Shape shape : spec.list) {
                long slice = shape.spec.sliceEnd(ts);
                long fired = newest < slice - 1 ? Long.MIN_VALUE : windows.fired(shape.id);
                for (long end = slice; end <= slice + shape.spec.size - shape.spec.slide; end += shape.spec.slide) {
                    if (end - 1 > fired) {
                        time.registerOnTime(timer(shape.id, end), end - 1);
                    }
                }
            }
        }
        windows.open.add(new ShapeState.Open(ts, due, device, in.getFieldAs("nql_n"), in.getFieldAs("nql_s"), member,
                                             values, waits).write());
        if (due < orMax(state.getFieldAs("due"))) {
            state.setField("due", due);
        }
    }

    /** The index of {@code value} in {@code values}, appended if it is not there. */
    private static int indexOf(List<String> values, String value) {
        int at = values.indexOf(value);
        if (at < 0) {
            at = values.size();
            values.add(value);
        }
        return at;
    }

    /**
     * The 'unknown' rows of a record whose device has no inventory version as of its time: once
     * per monitor of the tenant that needs the inventory (shapes with inv=1), whatever the
     * record's lateness: it is about the inventory, not the windows.
     */
    private void unknown(Shapes spec, String tenant, String device, long ts) {
        for (Shapes.Shape shape : spec.list) {
            if (shape.spec.inventory) {
                for (String[] m : shape.monitorsOf(tenant)) {
                    collect(Row.of("unknown", shape.id, m[0], m[1], null, null, null, null, new String[] {device}, null,
                                   toTimestamp(ts), null, null, null, null, null));
                }
            }
        }
    }

    /**
     * A record that waited for its device's version ({@link ShapeState#PENDING}), at its first
     * fold: each waiting shape's group from the version (none: the population only, and its
     * 'unknown' rows now).
     */
    private ShapeState.Resolver resolver(Shapes spec, String tenant, Inventory inventory) {
        if (inventory == null) {
            return null;
        }
        return r -> {
            Versions.Version version = inventory.at(r.device, r.ts);
            if (version == null) {
                unknown(spec, tenant, r.device, r.ts);
            }
            for (Shapes.Shape shape : spec.list) {
                int m = shape.index < r.member.length ? r.member[shape.index] : ShapeState.NOTHING;
                if (m > ShapeState.PENDING) {
                    continue;
                }
                String group = shape.resolved(m == ShapeState.PENDING ? null : r.groups.get(ShapeState.PENDING - 1 - m),
                                              version);
                r.member[shape.index] = group != null ? indexOf(r.groups, group) : ShapeState.NOTHING;
            }
            r.pending = false;
        };
    }

    /** Windows whose timer came too early for this tenant and that its clock now reaches: due again. */
    private static void rearm(Shapes spec, TenantClock clock, TimeContext<Long> time) {
        long now = clock.now(spec.idle, spec.lag, time.currentWatermark());
        while (!clock.pending.isEmpty() && clock.pending.firstKey() - 1 <= now) {
            Map.Entry<Long, TreeSet<String>> due = clock.pending.pollFirstEntry();
            for (String shape : due.getValue()) {
                time.registerOnTime(timer(shape, due.getKey()), due.getKey() - 1);
            }
        }
        Long next = clock.nextApplied();
        if (next != null) {
            time.registerOnTime(CLOCK, next);
        }
    }

    private static long orMin(Long t) {
        return t == null ? Long.MIN_VALUE : t;
    }

    private static long orMax(Long t) {
        return t == null ? Long.MAX_VALUE : t;
    }

    private static String timer(String shape, long end) {
        return FIRE + shape + "|" + end;
    }

    /** A timer of the call's tenant: a window due, the clock, or the end of a bounded input. */
    protected void onTimers(OnTimerContext ctx, Row state, MapView<String, String> meta, ListView<byte[]> open,
                            MapView<String, byte[]> slices, MapView<Long, Boolean> buckets, MapView<String, Long> fired,
                            MapView<String, byte[]> configs, Inventory inventory) throws Exception {
        // before the first record since a restore, the spec the tenant's state was written under
        String text = current != null ? current : meta.get(SPEC);
        if (text == null) {
            return;
        }
        Shapes spec = current != null ? shapes : Shapes.parse(text);
        String tenant = meta.get(TENANT);
        ShapeState windows = new ShapeState(open, slices, buckets, fired, running, tenant);
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = TenantClock.read(stored);
        checkSpec(tenant, meta, text, spec, clock, windows, configs);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String timer = ctx.currentTimer();
        if (CLOCK.equals(timer)) {
            rearm(spec, clock, time);
        } else if (END.equals(timer)) {
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
                onWindow(spec, shape, Long.parseLong(timer.substring(bar + 1)), clock, windows, state, time, tenant,
                         configs, inventory);
            }
        }
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
        }
    }

    /** The timer of the shape's window ending at {@code end}: evaluate it, or wait. */
    private void onWindow(Shapes spec, Shapes.Shape shape, long end, TenantClock clock, ShapeState windows, Row state,
                          TimeContext<Long> time, String tenant, MapView<String, byte[]> configs, Inventory inventory)
            throws Exception {
        Long watermark = time.currentWatermark();
        boolean endOfInput = watermark != null && watermark == Long.MAX_VALUE;
        if (end - 1 <= windows.fired(shape.id)) {
            clock.removePending(shape.id, end);
        } else if (!clock.waitsBefore(shape.id, end)
                && (endOfInput || end - 1 <= clock.now(spec.idle, spec.lag, watermark))) {
            fire(spec, shape, end, clock, windows, state, time, tenant, configs, inventory);
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
    private void fire(Shapes spec, Shapes.Shape first, long end, TenantClock clock, ShapeState windows, Row state,
                      TimeContext<Long> time, String tenant, MapView<String, byte[]> configs, Inventory inventory)
            throws Exception {
        // the tenant is complete up to here: its open records join the slices that end by then
        if (orMax(state.getFieldAs("due")) <= end) {
            long due = windows.fold(spec, end, resolver(spec, tenant, inventory));
            state.setField("due", due == Long.MAX_VALUE ? null : due);
            windows.forgetBuckets(Math.floorDiv(end - spec.span, spec.grain) - 1);
        }
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
        LocalDateTime to = toTimestamp(end);
        // each monitor's config as of the windows' time (end - 1), read once for all its rows
        Map<String, Row> config = new HashMap<>();
        for (ShapeState.Window w : due.values()) {
            LocalDateTime from = toTimestamp(w.start);
            Long devices = w.shape.population == null ? null : windows.population(w.shape.population, end);
            String[][] monitors = w.shape.monitorsOf(tenant);
            Row[] configOf = new Row[monitors.length];
            List<Map<String, Double>> params = new ArrayList<>(monitors.length);
            Shapes.Judge[] judges = new Shapes.Judge[monitors.length];
            for (int i = 0; i < monitors.length; i++) {
                String monitor = monitors[i][0];
                if (monitor != null && !config.containsKey(monitor)) {
                    Configs.Config c = Versions.at(Configs.read(configs.get(monitor)), end - 1);
                    config.put(monitor, c == null ? null : c.row());
                }
                configOf[i] = monitor == null ? null : config.get(monitor);
                // judged here only with a config (without one the row is not judged at all)
                judges[i] = configOf[i] == null ? null : spec.judges.get(monitors[i][1]);
                params.add(judges[i] == null ? null : configOf[i].getFieldAs(Configs.PARAMS));
            }
            for (Map.Entry<String, Partial> g : w.merged.groups.entrySet()) {
                Partial p = g.getValue();
                Double[] numbers = p.numbers();
                String[] strings = p.strings();
                for (int i = 0; i < monitors.length; i++) {
                    String[] m = monitors[i];
                    Shapes.Judge judge = judges[i];
                    collect(Row.of("eval", w.shape.id, m[0], m[1], g.getKey(), from, to, numbers, strings, devices,
                                   null, null, null, configOf[i],
                                   judge == null ? null : judge.trigger.eval(numbers, params.get(i)),
                                   judge == null ? null : judge.recover.eval(numbers, params.get(i))));
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
            windows.evict(w);
        }
        state.setField("fired", Math.max(orMin(state.getFieldAs("fired")), end - 1));
    }

    /**
     * Brings the tenant's state to the call's spec ({@link #upgrade}) unless this instance has
     * already done so since it started; returns whether it checked now.
     */
    private boolean checkSpec(String tenant, MapView<String, String> meta, String text, Shapes spec, TenantClock clock,
                              ShapeState windows, MapView<String, byte[]> configs) throws Exception {
        if (current != null && upToDate.contains(tenant)) {
            return false;
        }
        upgrade(tenant, meta, text, spec, clock, windows, configs);
        if (current != null) {
            upToDate.add(tenant);
        }
        return true;
    }

    /**
     * A spec other than the one the tenant's state was written under: drops the entries of the
     * shapes it no longer has (or has with another definition), and the configs of the monitors
     * it no longer serves for the tenant, once per tenant and change.
     */
    private static void upgrade(String tenant, MapView<String, String> meta, String text, Shapes spec,
                                TenantClock clock, ShapeState windows, MapView<String, byte[]> configs)
            throws Exception {
        String stored = meta.get(SPEC);
        if (text.equals(stored)) {
            return;
        }
        if (stored != null) {
            Map<String, String> before = Shapes.texts(stored);
            Set<String> gone = new HashSet<>();
            for (Map.Entry<String, String> e : before.entrySet()) {
                if (!e.getValue().equals(spec.texts.get(e.getKey()))) {
                    gone.add(e.getKey());
                }
            }
            // the population windows, indexed after the shapes: one no shape reads any more goes
            List<String> oldIds = new ArrayList<>(before.keySet());
            Set<String> populations = new HashSet<>();
            for (Shapes.Shape population : spec.populations) {
                populations.add(population.id);
            }
            for (String population : Shapes.populationTexts(before).keySet()) {
                oldIds.add(population);
                if (!populations.contains(population)) {
                    gone.add(population);
                }
            }
            windows.drop(gone, oldIds, spec);
            for (String shape : gone) {
                for (Long end : clock.pending.keySet().toArray(new Long[0])) {
                    clock.removePending(shape, end);
                }
            }
            List<String> unserved = new ArrayList<>();
            for (String monitor : tenant == null ? List.<String>of() : configs.keys()) {
                if (!spec.serves(tenant, monitor)) {
                    unserved.add(monitor);
                }
            }
            for (String monitor : unserved) {
                configs.remove(monitor);
            }
        }
        meta.put(SPEC, text);
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
