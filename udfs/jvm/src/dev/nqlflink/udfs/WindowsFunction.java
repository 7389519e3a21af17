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
 * output: tenant | nql_kind ('eval' | 'alert' | 'state' | 'late' | 'unknown' | 'reject'), nql_shape,
 *                  group_json, window_start, window_end, nv ARRAY&lt;DOUBLE&gt;, sv ARRAY&lt;STRING&gt;,
 *                  population BIGINT, late_ts, reject_reason, nql_line, nql_config, nql_status,
 *                  nql_alert_id, nql_since, nql_due | rowtime
 * </pre>
 *
 * An 'eval' row is one window of one group of one shape (only groups with rows in the window),
 * emitted with rowtime = window end - 1 ms, in window order per tenant and shape, with its
 * monitor's config in force at that time ({@code nql_config}, NULL if none: the row is not
 * judged); its population
 * (shapes with pop=1) is the distinct devices of all the tenant's rows in the window, whatever
 * their groups. A monitor whose pipeline the spec judges ({@link Shapes.Judge}: its trigger,
 * recover and {@code having} conditions as programs over the outputs and the config's
 * parameters) has no 'eval' rows: the function keeps each of its groups' alert state
 * ({@link GroupAlert}, the state machine of the job's AlertStates) and emits an 'alert' row
 * per transition (the evaluation's columns, nql_status triggered | recovered, nql_alert_id,
 * nql_since) and a 'state' row per change of the group's state as AlertStates shows it
 * (window_end its time, nql_status ok | pending | triggered | recovering, nql_since, nql_due;
 * 'evicted', window_end the last evaluation's time: the group's state is dropped, see
 * {@link #evict}). A 'late' row is a record of a shape (its group for it not NULL) that came after
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
            + Configs.TYPE + ", nql_status STRING, nql_alert_id STRING, nql_since TIMESTAMP(3), nql_due TIMESTAMP(3)>";
    /** The number of columns of {@link #SHAPES_OUTPUT}. */
    private static final int WIDTH = 18;
    private static final long serialVersionUID = 1L;
    /** Window timers: FIRE + shape id + "|" + window end. */
    private static final String FIRE = "f";
    private static final String END = "end";
    /** The timer at which the tenant's first waiting clock row applies (TenantClock.later). */
    private static final String CLOCK = "clock";
    /** {@code meta} keys: the spec the tenant's state was written under, and the tenant. */
    private static final String SPEC = "spec";
    private static final String TENANT = "tenant";
    /**
     * The {@code configs} key of a monitor's alert states (the groups of the monitors judged
     * here, {@link GroupAlert#write}) before its id; the monitor's config versions are under
     * its id alone.
     */
    static final String ALERTS = "\u0001";
    /** The tenant's eviction timer, and the {@code meta} key of its time while it is set. */
    private static final String EVICT = "evict";
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
    /**
     * What this instance keeps per tenant under {@link #current}: whether its state was checked
     * against the spec, its clock decoded, the bucket whose timers were set last, whether it
     * reads the inventory, its shapes' last evaluated windows ({@link Tenants}: one lookup per
     * row, not one per thing kept; rebuilt from the state when missing).
     */
    private transient Tenants tenants;
    /** Whether the input has the config column (an input without it: every evaluation without a config). */
    private transient Boolean configured;
    /** The tenants' monitors' configs and alert states, decoded (key: tenant NUL entry). */
    private transient Decoded decoded;
    /**
     * Groups whose alert state this subtask keeps (monitors judged here): the metric
     * {@code nqlAlertGroups}; approximate as AlertStates' {@code nqlLiveGroups} is (groups
     * restored from a savepoint are not counted until evicted, groups dropped by an upgrade are).
     */
    private transient long alertGroups;
    /** The state an evaluation steps ({@link #judge}), loaded from and stored back to its group's slot. */
    private transient GroupAlert judged;
    /** Per tenant and shape (the spec's array of its monitors there), their {@link Entries}; made once per spec. */
    private transient Map<String[][], Entries> entries;

    @Override
    public void open(FunctionContext context) throws Exception {
        late = context.getMetricGroup().counter("nqlLateRecords");
        alertGroups = 0;
        context.getMetricGroup().gauge("nqlAlertGroups", (org.apache.flink.metrics.Gauge<Long>) () -> alertGroups);
        decoded = new Decoded(10_000);
        tenants = new Tenants();
        entries = new java.util.IdentityHashMap<>();
        judged = new GroupAlert();
    }

    protected Shapes shapes(String text) {
        if (!text.equals(current)) {
            shapes = Shapes.parse(text);
            current = text;
            tenants.clear();
            entries = new java.util.IdentityHashMap<>();
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
        ShapeState windows = new ShapeState(open, slices, buckets, fired, tenants.get(tenant));
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = clock(tenant, windows.kept, stored);
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
                emit("reject", null, null, null, null, null, null, null,
                     new String[] {in.getFieldAs("nql_device")}, null, toTimestamp(ts), reason, in.getField("nql_line"));
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
        keepClock(state, tenant, windows.kept, clock, stored);
    }

    /** The tenant's clock as stored, decoded once while its bytes are the same ({@link Tenants}). */
    private static TenantClock clock(String tenant, Tenants.Tenant kept, byte[] stored) {
        return tenant == null ? TenantClock.read(stored) : kept.clock(stored, TenantClock::read);
    }

    /** What this instance keeps of the tenant (not state: {@link Tenants}). */
    protected Tenants.Tenant tenant(String tenant) {
        return tenants.get(tenant);
    }

    /** The tenant's clock written back if it changed (most records leave it as it was: same
     * partition clock, same progress), and kept decoded with its new bytes. */
    private static void keepClock(Row state, String tenant, Tenants.Tenant kept, TenantClock clock, byte[] stored) {
        byte[] written = clock.write();
        if (!Arrays.equals(written, stored)) {
            state.setField("clock", written);
            if (tenant != null) {
                kept.keepClock(written, clock);
            }
        }
    }

    /**
     * A config row: kept as its monitor's version from the row's time if a shape serves the
     * monitor for the tenant, less the versions no window the tenant may still evaluate can read.
     */
    private void keep(Shapes spec, String tenant, MapView<String, byte[]> configs, Row config,
                      TimeContext<Long> time) throws Exception {
        String monitor = (String) config.getField(0);
        if (monitor == null || !spec.serves(tenant, monitor)) {
            return;
        }
        List<Configs.Config> versions = decoded(tenant, monitor, configs, Configs::read);
        Configs.Config version = Configs.Config.of(time.time(), config);
        List<Configs.Config> kept = Versions.add(versions, version, oldest(spec, time.currentWatermark()));
        store(tenant, configs, monitor, Configs.write(kept), kept);
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
        boolean lookup = inventory != null && readsInventory(spec, windows.kept, tenant);
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
        GroupJson.Merges merges = lookup && !waits ? new GroupJson.Merges() : null;
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
                    : lookup && shape.spec.inventory ? shape.group(groups, keeps, version, merges) : shape.group(groups, keeps);
            if (group == null) {
                continue;
            }
            if (ts <= newest && ts <= windows.fired(shape.id)) {
                isLate = true;
                for (String[] m : shape.monitorsOf(tenant)) {
                    emit("late", shape.id, m[0], m[1], group, null, null, null, null, null, toTimestamp(ts));
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
        // most records are in the bucket whose timers this instance set last (under this spec):
        // no state read to learn it is known
        Tenants.Tenant kept = windows.kept;
        Long set = kept.timersSet;
        if ((set == null || set != bucket) && !windows.hasBucket(bucket)) {
            // the bucket's first record: the timers of the windows holding it, of every shape (a
            // window with nothing of a shape is not evaluated for it). If this instance set the
            // previous bucket's (under this spec), only those of the windows that start here: the
            // others hold the previous bucket too, and their timers are set (or fired, or moved to
            // the tenant's clock's wake-up: onWindow); a timer is never deleted
            windows.addBucket(bucket);
            Long previous = kept.timersSet;
            kept.timersSet = bucket;
            boolean after = previous != null && previous == bucket - 1;
            for (Shapes.Shape shape : spec.list) {
                long slice = shape.spec.sliceEnd(ts);
                long fired = newest < slice - 1 ? Long.MIN_VALUE : windows.fired(shape.id);
                // the previous bucket lies in one slice of the shape (Shapes.grain): its windows end
                // up to that slice's end + size - slide
                long first = after ? Math.max(slice, shape.spec.sliceEnd(ts - spec.grain) + shape.spec.size) : slice;
                for (long end = first; end <= slice + shape.spec.size - shape.spec.slide; end += shape.spec.slide) {
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

    /** Whether a shape reading the inventory serves a monitor of the tenant, kept per tenant. */
    private static boolean readsInventory(Shapes spec, Tenants.Tenant kept, String tenant) {
        if (kept.readsInventory == null) {
            kept.readsInventory = spec.readsInventory(tenant);
        }
        return kept.readsInventory;
    }

    /** The index of {@code value} in {@code values}, appended if it is not there. */
    private static int indexOf(List<String> values, String value) {
        // mostly the very instance put before (a shape's group is another's): found without equals
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == value) {
                return i;
            }
        }
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
                    emit("unknown", shape.id, m[0], m[1], null, null, null, null, new String[] {device}, null,
                         toTimestamp(ts));
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
            GroupJson.Merges merges = new GroupJson.Merges();
            for (Shapes.Shape shape : spec.list) {
                int m = shape.index < r.member.length ? r.member[shape.index] : ShapeState.NOTHING;
                if (m > ShapeState.PENDING) {
                    continue;
                }
                String group = shape.resolved(m == ShapeState.PENDING ? null : r.groups.get(ShapeState.PENDING - 1 - m),
                                              version, merges);
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
        ShapeState windows = new ShapeState(open, slices, buckets, fired, tenants.get(tenant));
        byte[] stored = (byte[]) state.getField("clock");
        TenantClock clock = clock(tenant, windows.kept, stored);
        checkSpec(tenant, meta, text, spec, clock, windows, configs);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String timer = ctx.currentTimer();
        if (CLOCK.equals(timer)) {
            rearm(spec, clock, time);
        } else if (EVICT.equals(timer)) {
            evict(spec, tenant, clock, configs, meta, time, windows);
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
                         configs, meta, inventory);
            }
        }
        keepClock(state, tenant, windows.kept, clock, stored);
    }

    /** The timer of the shape's window ending at {@code end}: evaluate it, or wait. */
    private void onWindow(Shapes spec, Shapes.Shape shape, long end, TenantClock clock, ShapeState windows, Row state,
                          TimeContext<Long> time, String tenant, MapView<String, byte[]> configs,
                          MapView<String, String> meta, Inventory inventory)
            throws Exception {
        Long watermark = time.currentWatermark();
        boolean endOfInput = watermark != null && watermark == Long.MAX_VALUE;
        if (end - 1 <= windows.fired(shape.id)) {
            clock.removePending(shape.id, end);
        } else if (!clock.waitsBefore(shape.id, end)
                && (endOfInput || end - 1 <= clock.now(spec.idle, spec.lag, watermark))) {
            fire(spec, shape, end, clock, windows, state, time, tenant, configs, meta, inventory);
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
                      TimeContext<Long> time, String tenant, MapView<String, byte[]> configs,
                      MapView<String, String> meta, Inventory inventory)
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
        boolean evictArmed = meta.get(EVICT) != null;
        // the population windows' counts at this end, each computed when a row first carries it
        List<Devices> counts = new ArrayList<>(2);
        for (ShapeState.Window w : due.values()) {
            LocalDateTime from = toTimestamp(w.start);
            Devices devices = w.shape.population == null ? null : Devices.of(counts, windows, w.shape.population, end);
            String[][] monitors = w.shape.monitorsOf(tenant);
            Entries entries = entries(spec, tenant, monitors);
            Judging judging = entries.judging(end - 1, configs, windows);
            Row[] configOf = judging.configOf;
            Shapes.Judge[] judges = entries.judges;
            GroupAlerts[] alerts = judging.alerts;
            Bound[] bound = judging.bound;
            ShapeState.Slice merged = w.merged;
            for (int g = 0; g < merged.size(); g++) {
                String group = merged.name(g);
                Double[] numbers = merged.parts.numbers(g);
                String[] strings = merged.parts.strings(g);
                for (int i = 0; i < monitors.length; i++) {
                    String[] m = monitors[i];
                    if (judges[i] == null) {
                        emit("eval", w.shape.id, m[0], m[1], group, from, to, numbers, strings, count(devices),
                             null, null, null, configOf[i]);
                        continue;
                    }
                    if (alerts[i] != null) {
                        judge(bound[i], alerts[i], configOf[i], end, tenant, m, group, w.shape.id, from, to,
                              numbers, strings, devices);
                    }
                }
            }
            for (int i = 0; i < monitors.length; i++) {
                if (alerts[i] == null && judges[i] != null) {
                    // judged here but without a config now: its groups (if any) are not evaluated,
                    // so those that followed the shape's newest window end no longer do
                    GroupAlerts kept = entries.alerts(i, configs, windows);
                    if (!kept.isEmpty()) {
                        entries.keepAlerts(i, kept, configs, w.shape.id, end);
                    }
                }
                if (alerts[i] != null) {
                    entries.keepAlerts(i, alerts[i], configs, w.shape.id, end);
                    if (judges[i].evictDelay > 0 && !evictArmed) {
                        // the eviction timer is set once and set again when it fires (evict)
                        long at = end + judges[i].evictDelay;
                        time.registerOnTime(EVICT, at);
                        meta.put(EVICT, Long.toString(at));
                        evictArmed = true;
                    }
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
        for (Devices d : counts) {
            if (d.computed) {
                continue;
            }
            if (askedLater(spec, d.population, end, due, windows)) {
                d.get();
            } else {
                windows.passPopulation(d.population, end);
            }
        }
        state.setField("fired", Math.max(orMin(state.getFieldAs("fired")), end - 1));
    }

    /**
     * A population window's device count at one end ({@link ShapeState#population}), computed
     * when a row first carries it: a judged monitor's evaluations carry it only in their 'alert'
     * rows, so most windows of a tenant whose monitors are all judged never need it (then passed:
     * {@link ShapeState#passPopulation}).
     */
    private static final class Devices {
        final ShapeState windows;
        final Shapes.Shape population;
        final long end;
        Long count;
        boolean computed;

        Devices(ShapeState windows, Shapes.Shape population, long end) {
            this.windows = windows;
            this.population = population;
            this.end = end;
        }

        /** The population's count in {@code counts} (one per population window: a few), added if missing. */
        static Devices of(List<Devices> counts, ShapeState windows, Shapes.Shape population, long end) {
            for (Devices d : counts) {
                if (d.population == population) {
                    return d;
                }
            }
            Devices d = new Devices(windows, population, end);
            counts.add(d);
            return d;
        }

        Long get() throws Exception {
            if (!computed) {
                count = windows.population(population, end);
                computed = true;
            }
            return count;
        }
    }

    private static Long count(Devices devices) throws Exception {
        return devices == null ? null : devices.get();
    }

    /**
     * Whether a shape reading the population window may still ask for its count at {@code end}
     * after this call: it has a window ending there that was neither evaluated now nor before
     * (waiting for the tenant's clock, or holding nothing yet). Then the count is computed now,
     * while the window still holds its first slice.
     */
    private static boolean askedLater(Shapes spec, Shapes.Shape population, long end,
                                      Map<String, ShapeState.Window> due, ShapeState windows) throws Exception {
        for (Shapes.Shape shape : spec.list) {
            if (shape.population == population && !due.containsKey(shape.id)
                    && Math.floorMod(end, shape.spec.slide) == 0 && windows.fired(shape.id) < end - 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Brings the tenant's state to the call's spec ({@link #upgrade}) unless this instance has
     * already done so since it started; returns whether it checked now.
     */
    private boolean checkSpec(String tenant, MapView<String, String> meta, String text, Shapes spec, TenantClock clock,
                              ShapeState windows, MapView<String, byte[]> configs) throws Exception {
        Tenants.Tenant kept = current == null ? null : windows.kept;
        if (kept != null && kept.upToDate) {
            return false;
        }
        upgrade(tenant, meta, text, spec, clock, windows, configs);
        if (kept != null) {
            kept.upToDate = true;
        }
        return true;
    }

    /**
     * A spec other than the one the tenant's state was written under: drops the entries of the
     * shapes it no longer has (or has with another definition), and the configs of the monitors
     * it no longer serves for the tenant, once per tenant and change.
     */
    private void upgrade(String tenant, MapView<String, String> meta, String text, Shapes spec,
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
            // entries following a window end of a shape that goes are written with their times
            // as they are, before its evaluated windows go with it
            Map<String, byte[]> following = new LinkedHashMap<>();
            Iterable<Map.Entry<String, byte[]>> all = tenant == null ? List.of() : configs.entries();
            for (Map.Entry<String, byte[]> e : all) {
                if (e.getKey().startsWith(ALERTS) && gone.contains(GroupAlerts.followedShape(e.getValue()))) {
                    following.put(e.getKey(), e.getValue());
                }
            }
            for (Map.Entry<String, byte[]> e : following.entrySet()) {
                GroupAlerts groups = GroupAlerts.read(e.getValue(), endOf(windows));
                store(tenant, configs, e.getKey(), groups.write(null, GroupAlert.NONE), groups);
            }
            windows.drop(gone, oldIds, spec);
            for (String shape : gone) {
                for (Long end : clock.pending.keySet().toArray(new Long[0])) {
                    clock.removePending(shape, end);
                }
            }
            // a monitor's config versions go when the spec no longer serves it for the tenant,
            // its alert states when the spec no longer judges it here (open alerts of it then
            // never get a 'recovered' record: docs/upgrades.md)
            List<String> unserved = new ArrayList<>();
            for (String key : tenant == null ? List.<String>of() : configs.keys()) {
                boolean alerts = key.startsWith(ALERTS);
                String monitor = alerts ? key.substring(ALERTS.length()) : key;
                if (!spec.serves(tenant, monitor) || alerts && !judgedHere(spec, tenant, monitor)) {
                    unserved.add(key);
                }
            }
            for (String monitor : unserved) {
                store(tenant, configs, monitor, null, null);
            }
        }
        meta.put(SPEC, text);
    }

    /**
     * A monitor's conditions ({@link Shapes.Judge}) with their parameters bound to one config
     * version, and what its alert state reads of it: made once per version
     * ({@link Configs.Config#derived}).
     */
    private static final class Bound {
        final Shapes.Judge judge;
        final Double[] having;
        final Double[] trigger;
        final Double[] recover;
        final boolean enabled;
        /** The config's {@code for} and {@code recover for} (NULL: 0), unboxed. */
        final long forMs;
        final long recoverForMs;

        /**
         * Made once per config version; what every evaluation of the monitor reads, allocated
         * together (its parameters' values copied, {@link Condition#bind}): with many tenants a
         * window finds it out of the CPU's caches, a line or two to fetch, not one per value.
         */
        Bound(Shapes.Judge judge, Row config) {
            Map<String, Double> params = config.getFieldAs(Configs.PARAMS);
            this.judge = judge;
            having = judge.having == null ? null : judge.having.bind(params);
            trigger = judge.trigger.bind(params);
            recover = judge.recover.bind(params);
            enabled = !Boolean.FALSE.equals(config.getField(Configs.ENABLED));
            forMs = GroupAlert.orZero(config.getFieldAs(Configs.FOR_MS));
            recoverForMs = GroupAlert.orZero(config.getFieldAs(Configs.RECOVER_FOR_MS));
        }
    }

    /**
     * One evaluation of a monitor judged here (its conditions, config and group's alert state):
     * its 'alert' row if it causes a transition (with the evaluation's columns), its 'state' row
     * if the state topic should hear of it (AlertStates' rules, {@link GroupAlert}). A disabled
     * monitor's conditions count as NULL, as the job's judged view has it: no alerts, runs break.
     */
    private void judge(Bound b, GroupAlerts groups, Row config, long end, String tenant,
                       String[] m, String group, String shape, LocalDateTime from, LocalDateTime to, Double[] numbers,
                       String[] strings, Devices devices) throws Exception {
        Shapes.Judge judge = b.judge;
        if (judge.having != null && !Boolean.TRUE.equals(judge.having.eval(numbers, b.having))) {
            return;     // not an evaluation (the monitor's `having`): its group's run breaks at the next one
        }
        long forMs = b.forMs;
        long recoverForMs = b.recoverForMs;
        int slot = groups.find(group);
        if (slot < 0) {
            slot = groups.add(group);
            alertGroups++;
        }
        // the state machine reads the trigger condition of an ok group, the recover condition of
        // a triggered one (GroupAlert#step): only that one is evaluated (conditions have no effects)
        boolean ok = groups.ok(slot);
        Boolean holds = !b.enabled ? null : ok ? judge.trigger.eval(numbers, b.trigger)
                : judge.recover.eval(numbers, b.recover);
        if (!Boolean.TRUE.equals(holds) && groups.steady(slot)) {
            // most evaluations: nothing starts, and the topic shows the group as it is
            groups.evaluated(slot, end);
            return;
        }
        GroupAlert state = judged;
        groups.load(slot, state);
        Row transition = state.step(end, ok ? holds : null, ok ? null : holds, forMs, recoverForMs, judge.every,
                                    tenant, m[0], group);
        if (transition != null) {
            emit("alert", shape, m[0], m[1], group, from, to, numbers, strings, count(devices), null, null, null, config,
                 transition.getField(1), transition.getField(2), transition.getField(4), transition.getField(5));
        }
        Row shown = state.show(end, forMs, recoverForMs);
        groups.store(slot, state);
        if (shown != null) {
            emit("state", shape, m[0], m[1], group, null, to, null, null, null, null, null, null, null,
                 shown.getField(1), shown.getField(2), shown.getField(4), shown.getField(5));
        }
    }

    /**
     * The eviction timer of a tenant (on the job's watermark, at the earliest time a group of its
     * monitors judged here may be due): each ok group (no open alert) whose last evaluation is
     * {@code evict} (at least {@code every}) behind both the timer and the tenant's own progress
     * is dropped, with a tombstone ('state' row, status 'evicted', at its last evaluation). The
     * tenant's progress: its clock or, if later, the watermark less the lag bound (a record older
     * than that is rejected as {@code lag_exceeded}), and not beyond a window of the monitor's
     * shape still waiting. Past it no evaluation of the group can come within {@code evict} of its
     * last one: it would find any run broken (the gap), so evicting changes no alert, and no
     * evaluation brings the group back before its tombstone is due (inside one operator nothing is
     * in flight: AlertStates needed a confirmation timer and a second delay for pending runs).
     * Nothing is evicted at the end of a bounded input. The timer is set again for the next group
     * due, if any: a group behind the tenant's clock only, the lag bound later; one behind a
     * waiting window, when that window is evaluated (its evaluation sets the timer).
     */
    private void evict(Shapes spec, String tenant, TenantClock clock, MapView<String, byte[]> configs,
                       MapView<String, String> meta, TimeContext<Long> time, ShapeState windows) throws Exception {
        meta.remove(EVICT);
        Long watermark = time.currentWatermark();
        if (tenant == null || watermark == null || watermark == Long.MAX_VALUE) {
            return;
        }
        long now = Math.min(time.time(), Math.max(clock.now(spec.idle, spec.lag, watermark), watermark - spec.lag));
        long next = Long.MAX_VALUE;
        for (Shapes.Shape shape : spec.list) {
            Long waiting = clock.firstPending(shape.id);
            long reached = waiting == null ? now : Math.min(now, waiting - 1);
            for (String[] m : shape.monitorsOf(tenant)) {
                Shapes.Judge judge = m[0] == null ? null : spec.judges.get(m[1]);
                if (judge == null || judge.evictDelay <= 0) {
                    continue;
                }
                GroupAlerts groups = alerts(tenant, m[0], configs, windows);
                long delay = judge.evictDelay;
                boolean[] gone = null;
                for (int slot = 0; slot < groups.size(); slot++) {
                    long last = groups.last(slot);
                    long due = last + delay;
                    if (!groups.ok(slot)) {
                        continue;       // an open alert stays, as it is
                    }
                    if (due > time.time()) {
                        next = Math.min(next, due);
                    } else if (due <= reached) {
                        // the tombstone: the group's key and no value
                        emit("state", shape.id, m[0], m[1], groups.name(slot), null, toTimestamp(last), null, null,
                             null, null, null, null, null, GroupAlert.EVICTED);
                        if (gone == null) {
                            gone = new boolean[groups.size()];
                        }
                        gone[slot] = true;
                        alertGroups--;
                    } else if (waiting == null || due < waiting) {
                        // behind the tenant's clock only: the watermark less the lag bound passes it then
                        next = Math.min(next, due + spec.lag);
                    }
                    // else a window of its shape still waits: its evaluation sets the timer again
                }
                if (gone != null) {
                    groups.remove(gone);
                    keepAlerts(tenant, m[0], groups, configs, shape.id, windows.evaluatedEnd(shape.id));
                }
            }
        }
        if (next != Long.MAX_VALUE) {
            time.registerOnTime(EVICT, next);
            meta.put(EVICT, Long.toString(next));
        }
    }

    /** The groups' alert states of a monitor of the tenant. */
    private GroupAlerts alerts(String tenant, String monitor, MapView<String, byte[]> configs, ShapeState windows)
            throws Exception {
        return decoded(tenant, alertsKey(monitor), configs, alertsReader(windows));
    }

    /** Reads an alert-state entry, the window end it follows as its shape's newest evaluated one now. */
    private static java.util.function.Function<byte[], GroupAlerts> alertsReader(ShapeState windows) {
        java.util.function.ToLongFunction<String> endOf = endOf(windows);
        return bytes -> GroupAlerts.read(bytes, endOf);
    }

    /** A shape's newest evaluated window end for the tenant ({@link GroupAlert#NONE}: none). */
    private static java.util.function.ToLongFunction<String> endOf(ShapeState windows) {
        return shape -> {
            try {
                return windows.evaluatedEnd(shape);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /**
     * An entry of the tenant's {@code configs} (a monitor's config versions, or its groups' alert
     * states), decoded once ({@link Decoded}). Every write of an entry goes through {@link #store},
     * which keeps the cache with it: a kept value is taken without reading the state
     * ({@link Decoded#cached}). A NULL tenant's entries are always read.
     */
    private <T> T decoded(String tenant, String entry, MapView<String, byte[]> configs,
                          java.util.function.Function<byte[], T> read) throws Exception {
        if (tenant == null) {
            return read.apply(configs.get(entry));
        }
        return decoded(new Decoded.Key(tenant, entry), configs, read);
    }

    private <T> T decoded(Decoded.Key key, MapView<String, byte[]> configs,
                          java.util.function.Function<byte[], T> read) throws Exception {
        T kept = decoded.cached(key);
        return kept != null ? kept : decoded.get(key, configs.get(key.entry), read);
    }

    /**
     * Writes a monitor's groups' alert states back (none: the entry goes), following {@code end},
     * the newest evaluated window end of {@code shape}, the one that judges them.
     */
    private void keepAlerts(String tenant, String monitor, GroupAlerts groups,
                            MapView<String, byte[]> configs, String shape, long end) throws Exception {
        store(tenant, configs, alertsKey(monitor), alertBytes(groups, shape, end), groups);
    }

    private static byte[] alertBytes(GroupAlerts groups, String shape, long end) {
        return groups.isEmpty() ? null : groups.write(shape, end);
    }

    /** The {@code configs} key of a monitor's alert states (made once per monitor in {@link Entries}). */
    private static String alertsKey(String monitor) {
        return ALERTS + monitor;
    }

    /**
     * Writes an entry of the tenant's {@code configs} ({@code bytes} null: removes it) and keeps
     * {@code value} decoded with it: the only write of those entries, so that {@link #decoded}
     * may take a kept value without reading the state.
     */
    private void store(String tenant, MapView<String, byte[]> configs, String entry, byte[] bytes, Object value)
            throws Exception {
        if (tenant == null) {
            write(configs, entry, bytes);
        } else {
            store(new Decoded.Key(tenant, entry), configs, bytes, value, null);
        }
    }

    /**
     * {@link #store} under a tenant's key: the entry kept decoded (null: removed), not looked up
     * again if {@code held} is it ({@link Decoded#put(Object, byte[], Object, Decoded.Value)}).
     */
    private Decoded.Value store(Decoded.Key key, MapView<String, byte[]> configs, byte[] bytes, Object value,
                                Decoded.Value held) throws Exception {
        write(configs, key.entry, bytes);
        if (bytes == null) {
            decoded.remove(key);
            return null;
        }
        return decoded.put(key, bytes, value, held);
    }

    private static void write(MapView<String, byte[]> configs, String entry, byte[] bytes) throws Exception {
        if (bytes == null) {
            configs.remove(entry);
        } else {
            configs.put(entry, bytes);
        }
    }

    /**
     * What a window of a tenant's shape judges with, per monitor (by position, as
     * {@link Shapes.Shape#monitorsOf}): the row of the config version in force at the window's
     * time (null: none), and for a monitor judged here with a config its conditions bound to that
     * version and its groups' alert states (else null: not judged).
     */
    private static final class Judging {
        final Row[] configOf;
        final Bound[] bound;
        final GroupAlerts[] alerts;
        /** The state of {@link #decoded} it was made from ({@link Decoded#epoch}). */
        final long epoch;
        /** The window times it holds for: every monitor's version is in force from {@code from} until {@code to}. */
        final long from;
        final long to;

        Judging(GroupAlerts[] alerts, long epoch, long from, long to) {
            configOf = new Row[alerts.length];
            bound = new Bound[alerts.length];
            this.alerts = alerts;
            this.epoch = epoch;
            this.from = from;
            this.to = to;
        }
    }

    /**
     * The tenant's monitors of one shape ({@link Shapes.Shape#monitorsOf}, by position) as an
     * evaluation reads them: each one's {@code configs} keys made once, and its decoded config
     * versions and alert states held while they are the ones kept ({@link Decoded.Value#live}), so
     * that a window takes them without a lookup per monitor. Made once per spec, tenant and shape
     * ({@link #entries}); a NULL tenant's are always read.
     */
    private final class Entries {
        final String tenant;
        /** Per monitor its entries' keys (null: no monitor, or no tenant: read each time). */
        final Decoded.Key[] config;
        final Decoded.Key[] alerts;
        final Decoded.Value[] configKept;
        final Decoded.Value[] alertsKept;
        final String[][] monitors;
        /** Per monitor the spec's {@link Shapes.Judge} of its pipeline (null: no monitor, or not judged here). */
        final Shapes.Judge[] judges;

        Entries(Shapes spec, String tenant, String[][] monitors) {
            this.tenant = tenant;
            this.monitors = monitors;
            int n = monitors.length;
            config = new Decoded.Key[n];
            alerts = new Decoded.Key[n];
            configKept = new Decoded.Value[n];
            alertsKept = new Decoded.Value[n];
            judges = new Shapes.Judge[n];
            for (int i = 0; i < n; i++) {
                String monitor = monitors[i][0];
                judges[i] = monitor == null ? null : spec.judges.get(monitors[i][1]);
                if (tenant != null && monitor != null) {
                    config[i] = new Decoded.Key(tenant, monitor);
                    alerts[i] = new Decoded.Key(tenant, alertsKey(monitor));
                }
            }
        }

        /** The last window's {@link Judging}, if any. */
        private Judging judging;

        /**
         * What the window at time {@code t} (its end - 1) judges with: the last window's while it
         * holds (no kept entry of {@link #decoded} changed since, which a new config version, a
         * monitor's first alert states or their removal, a dropped entry all do, and {@code t} in
         * the versions' common span), so that a window of a tenant whose configs do not change
         * reads no config and no alert-state entry; else made again. A NULL tenant's is made each
         * time (its entries are read each time, not kept).
         */
        Judging judging(long t, MapView<String, byte[]> configs, ShapeState windows) throws Exception {
            Judging j = judging;
            if (j != null && tenant != null && j.epoch == decoded.epoch() && j.from <= t && t < j.to) {
                return j;
            }
            long from = Long.MIN_VALUE;
            long to = Long.MAX_VALUE;
            int n = monitors.length;
            Configs.Config[] versionOf = new Configs.Config[n];
            for (int i = 0; i < n; i++) {
                if (monitors[i][0] == null) {
                    continue;
                }
                // the monitor's config as of the window's time, and from when until when it is
                List<Configs.Config> versions = configs(i, configs);
                versionOf[i] = Versions.at(versions, t);
                to = Math.min(to, Versions.until(versions, t));
                if (versionOf[i] != null) {
                    from = Math.max(from, versionOf[i].time());
                }
            }
            // the alert states read now, so the epoch is the one after any read that kept an entry
            GroupAlerts[] alerts = readAlerts(versionOf, configs, windows);
            j = new Judging(alerts, decoded.epoch(), from, to);
            for (int i = 0; i < n; i++) {
                Configs.Config v = versionOf[i];
                j.configOf[i] = v == null ? null : v.row();
                // a monitor judged here is judged only with a config (without one, as the job's
                // judged view has it, the evaluation is not judged at all: nothing to emit); its
                // conditions' parameters bound once per version
                Shapes.Judge judge = judges[i];
                j.bound[i] = alerts[i] == null ? null : v.derived(judge, c -> new Bound(judge, c.row()));
            }
            judging = j;
            return j;
        }

        private GroupAlerts[] readAlerts(Configs.Config[] versionOf, MapView<String, byte[]> configs,
                                         ShapeState windows) throws Exception {
            GroupAlerts[] out = new GroupAlerts[versionOf.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = judges[i] != null && versionOf[i] != null ? alerts(i, configs, windows) : null;
            }
            return out;
        }

        /** Monitor i's config versions. */
        List<Configs.Config> configs(int i, MapView<String, byte[]> configs) throws Exception {
            List<Configs.Config> held = held(configKept, i);
            return held != null ? held : load(configKept, config, m -> m, i, configs, Configs::read);
        }

        /** Monitor i's groups' alert states (the reader made only when the entry is read). */
        GroupAlerts alerts(int i, MapView<String, byte[]> configs, ShapeState windows) throws Exception {
            GroupAlerts held = held(alertsKept, i);
            return held != null ? held
                    : load(alertsKept, alerts, WindowsFunction::alertsKey, i, configs, alertsReader(windows));
        }

        /**
         * Writes monitor i's groups' alert states back after the shape's window ending at
         * {@code end} (none: the entry goes), unless the entry holds them already: a group
         * evaluated in that window and the one before, with nothing else changed, follows both
         * ({@link GroupAlerts#unchanged}). Kept decoded, they are taken without reading the state.
         */
        void keepAlerts(int i, GroupAlerts groups, MapView<String, byte[]> configs, String shape, long end)
                throws Exception {
            if (alerts[i] == null) {
                WindowsFunction.this.keepAlerts(tenant, monitors[i][0], groups, configs, shape, end);
            } else if (!groups.unchanged(shape, end)) {
                alertsKept[i] = store(alerts[i], configs, alertBytes(groups, shape, end), groups, alertsKept[i]);
            }
        }

        /** Monitor i's entry decoded as held in {@code kept[i]} while live (null: not held). */
        @SuppressWarnings("unchecked")
        private <T> T held(Decoded.Value[] kept, int i) {
            Decoded.Value k = kept[i];
            return k != null && k.live ? (T) k.value : null;
        }

        /**
         * Monitor i's entry ({@code keys[i]}, named {@code entryOf} its id) looked up, decoded and
         * held in {@code kept[i]} (a NULL tenant's: read each time). The name is made only for that
         * read, not at each window.
         */
        private <T> T load(Decoded.Value[] kept, Decoded.Key[] keys, java.util.function.UnaryOperator<String> entryOf,
                           int i, MapView<String, byte[]> configs, java.util.function.Function<byte[], T> read)
                throws Exception {
            if (keys[i] == null) {
                return decoded(tenant, entryOf.apply(monitors[i][0]), configs, read);
            }
            T value = decoded(keys[i], configs, read);
            kept[i] = decoded.entry(keys[i]);
            return value;
        }
    }

    /**
     * The tenant's {@link Entries} of a shape's monitors (the array {@link Shapes.Shape#monitorsOf}
     * gave), kept while the spec is this instance's (not one parsed for a timer before the first
     * record since a restore) and the monitors are the tenant's own.
     */
    private Entries entries(Shapes spec, String tenant, String[][] monitors) {
        Entries e = entries.get(monitors);
        if (e != null && java.util.Objects.equals(e.tenant, tenant)) {
            return e;
        }
        e = new Entries(spec, tenant, monitors);
        if (tenant != null && spec == shapes && monitors.length > 0 && monitors[0][0] != null) {
            entries.put(monitors, e);
        }
        return e;
    }

    /** A row of {@link #SHAPES_OUTPUT}: its first columns as given, the others NULL. */
    private void emit(Object... first) {
        collect(Row.of(Arrays.copyOf(first, WIDTH)));
    }

    /** Whether the spec judges the monitor of the tenant here (its pipeline has a judge segment). */
    private static boolean judgedHere(Shapes spec, String tenant, String monitor) {
        for (Shapes.Shape shape : spec.list) {
            for (String[] m : shape.monitorsOf(tenant)) {
                if (monitor.equals(m[0]) && spec.judges.containsKey(m[1])) {
                    return true;
                }
            }
        }
        return false;
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
