package dev.nqlflink.udfs;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.table.functions.TableSemantics;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.CallContext;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.table.types.utils.DataTypeUtils;
import org.apache.flink.types.Row;

import static dev.nqlflink.udfs.WindowsFunction.toTimestamp;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The alert state machine of spec/monitors.md "Semantics", one state per (tenant, monitor,
 * group), with its state visible and bounded.
 *
 * <p>Why a process table function and not the Python UDAF in a GROUP BY it replaces: a group
 * aggregate has no event-time timers, so it can neither forget a group that went silent nor
 * tell anyone; this function has a timer per group ({@code evict_after_ms} after its last
 * evaluation) and emits every change of the group's state next to the alert transitions.
 *
 * <pre>
 * nql_alert_states(input => TABLE judged PARTITION BY nql_state_key, on_time => DESCRIPTOR(window_time),
 *                  uid => '...')
 * input columns: nql_state_key (tenant/monitor/group_json), tenant, monitor, group_json,
 *                window_end TIMESTAMP(3), trig BOOLEAN, rec BOOLEAN, for_ms BIGINT, recover_for_ms BIGINT,
 *                every_ms BIGINT, evict_after_ms BIGINT, any others (carried)
 * output: nql_state_key | tenant, monitor, group_json, nql_kind ('alert' | 'state'), status, alert_id,
 *         at, since, due (TIMESTAMP(3), UTC), the carried columns | rowtime
 * </pre>
 *
 * <p>One call serves every threshold monitor of a job (the generator's judged views of all of
 * them have one row type, UNION ALL): {@code every_ms} (the monitor's slide) and
 * {@code evict_after_ms} come with each row, since they differ per monitor; a group's rows are
 * always one monitor's (the partition key names it).
 *
 * <p>The carried columns are the input's other columns (not a partition column, not named as one
 * of the fixed output columns), with their types (a time attribute as a plain timestamp): an
 * 'alert' row has those of the evaluation that caused the transition, a 'state' row NULLs. So the
 * alert record is built once per transition from typed columns (what the evaluation measured, its
 * window, impact and config), not from a JSON payload built at every evaluation. The output type is
 * therefore inferred per call from the input table (getTypeInference); Flink's own pass-through
 * (ArgumentTrait.PASS_COLUMNS_THROUGH) is refused for a function with timers, and would copy every
 * row's columns into the state rows too. The state (STATE_TYPE) does not hold any of them.
 *
 * One partition column holding the group's identity, not three: Flink 2.3 fails to expand a
 * view over a PTF call partitioned by several columns (ClassCastException SqlIdentifier ->
 * SqlCall in SqlCallBinding.permutedOperands). It is also the group's key on the state topic.
 *
 * 'alert' rows are the transitions (status triggered / recovered), exactly those of
 * udfs/alerting/state_machine.py: trigger once the trigger condition held at every evaluation
 * for {@code for} (read at each evaluation), no evaluation missing in between (consecutive
 * evaluations exactly {@code every} apart), recovery likewise, only a triggered group recovers,
 * NULL counts as false, alert_id = sha256 of the JSON text [tenant, monitor, group_json,
 * trigger_at_ms] as Python's json.dumps(ensure_ascii=False, separators=(",", ":")) writes it.
 *
 * <p>'state' rows are the group's state after an evaluation, whenever it differs from the last
 * one emitted, and after every evaluation while a run is going (pending or recovering: its
 * {@code at} moves on): status ok | pending | triggered | recovering | evicted, since (ok: when
 * it became ok; pending / recovering: the run's first evaluation; triggered: the trigger time),
 * due (pending / recovering: since + for, when the transition happens if the condition keeps
 * holding), at (the evaluation's time).
 *
 * <p>Eviction (docs/guarantees.md, "Bounded state"; the generator passes --evict-after plus the
 * tenant lag bound and one slide, codegen.eviction_delay): when the watermark passes the group's last
 * evaluation by {@code evict_after_ms} (at least {@code every_ms}) and the group is ok, its state
 * is cleared and an 'evicted' row is emitted. The decision waits for one more watermark advance
 * after the timer (see onTimer): evaluations may reach this function behind its watermark.
 * A group with an open alert is never evicted (a recovering run it had is broken at its next
 * evaluation: until then the state topic shows it recovering, with its last {@code at}).
 * A group in a pending run is not evicted then either, but one whole delay of watermark progress
 * later: when the watermark jumps (a backlog read at once, a tenant dragged along), the group's
 * next evaluation, which would continue the run, can still be on its way, and dropping the run
 * would move its trigger (seen in tests/kafka/test_alert_state.py). Evicting an ok group never
 * changes an alert: an evaluation that comes after it starts a run exactly as the kept state
 * would (its last evaluation had no run going). At the end of a bounded input (watermark MAX)
 * nothing is evicted: the job ends anyway.
 *
 * <p>The eviction's timer is set once, not moved at every evaluation: an evaluation only
 * records when eviction is due ({@code evict_due}, its time plus the delay) and sets a timer
 * when the group has none ({@code timer_at}); a timer that fires before {@code evict_due} is set
 * again for then, and a confirmation finding an evaluation newer than the one it was asked for
 * ({@code checked_t}) likewise. Deleting and registering a timer at every evaluation was about
 * a seventh of a job of 1,000 monitors (docs/benchmarks.md). The state has no TTL
 * ({@code ttl = "0 ms"}): groups are evicted here, in event time, and a TTL'd state's
 * incremental clean-up ran at every access.
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<tenant STRING, monitor STRING, group_json STRING, nql_kind STRING, status STRING, alert_id STRING, at TIMESTAMP(3), since TIMESTAMP(3), "
                + "due TIMESTAMP(3)>"))
public class AlertStates extends ProcessTableFunction<Row> {
    private static final long serialVersionUID = 1L;
    private static final String OK = GroupAlert.OK;
    private static final String EVICT = "evict";
    private static final String CONFIRM = "confirm";
    private static final String PENDING_EVICT = "evict-pending";

    /** Groups with state in this subtask (approximate: restored state is not counted). */
    private transient long live;
    /** Positions of the carried input columns (set at the first row or timer). */
    private transient int[] carried;

    /**
     * The declared output (the @FunctionHint) followed by the carried input columns; the
     * arguments and the state as declared.
     */
    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        TypeInference declared = super.getTypeInference(typeFactory);
        return TypeInference.newBuilder()
                .staticArguments(declared.getStaticArguments().orElseThrow())
                .inputTypeStrategy(declared.getInputTypeStrategy())
                .stateTypeStrategies(declared.getStateTypeStrategies())
                .outputTypeStrategy(call -> declared.getOutputTypeStrategy().inferType(call)
                        .map(out -> withCarried(out, call)))
                .build();
    }

    private static DataType withCarried(DataType out, CallContext call) {
        Optional<TableSemantics> input = call.getTableSemantics(0);
        if (input.isEmpty()) {
            return out;
        }
        List<DataTypes.Field> fields = new ArrayList<>();
        List<String> names = DataType.getFieldNames(out);
        List<DataType> types = DataType.getFieldDataTypes(out);
        for (int i = 0; i < names.size(); i++) {
            fields.add(DataTypes.FIELD(names.get(i), types.get(i)));
        }
        DataType in = input.get().dataType();
        List<String> inNames = DataType.getFieldNames(in);
        List<DataType> inTypes = DataType.getFieldDataTypes(in);
        for (int i : carried(input.get(), names)) {
            fields.add(DataTypes.FIELD(inNames.get(i), DataTypeUtils.removeTimeAttribute(inTypes.get(i))));
        }
        return DataTypes.ROW(fields);
    }

    /** The input columns carried to the output: neither a partition column nor a fixed output name. */
    private static int[] carried(TableSemantics input, List<String> fixed) {
        List<String> names = DataType.getFieldNames(input.dataType());
        int[] partition = input.partitionByColumns();
        return java.util.stream.IntStream.range(0, names.size())
                .filter(i -> Arrays.stream(partition).noneMatch(p -> p == i) && !fixed.contains(names.get(i)))
                .toArray();
    }

    private int[] carriedColumns(Context ctx) {
        if (carried == null) {
            carried = carried(ctx.tableSemanticsFor("input"), FIXED);
        }
        return carried;
    }

    /** The declared output columns, in order. */
    private static final List<String> FIXED =
            List.of("tenant", "monitor", "group_json", "nql_kind", "status", "alert_id", "at", "since", "due");

    @Override
    public void open(FunctionContext context) throws Exception {
        live = 0;
        context.getMetricGroup().gauge("nqlLiveGroups", (Gauge<Long>) () -> live);
    }

    /** One group's state; all fields NULL for a group never seen (or evicted). */
    public static final String STATE_TYPE =
            "ROW<status STRING, last_t BIGINT, streak BIGINT, alert_id STRING, trigger_at BIGINT, "
                    + "shown STRING, shown_since BIGINT, shown_due BIGINT, evict_due BIGINT, timer_at BIGINT, checked_t BIGINT>";

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint(STATE_TYPE)) Row state,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in)
            throws Exception {
        long everyMs = orZero(in.getFieldAs("every_ms"));
        Long evictAfterMs = in.getFieldAs("evict_after_ms");
        Object end = in.getField("window_end");
        if (end == null) {
            return;
        }
        if (state.getField("status") == null) {
            state.setField("status", OK);
            live++;
        }
        long t = millis(end);
        String tenant = in.getFieldAs("tenant");
        String monitor = in.getFieldAs("monitor");
        String group = in.getFieldAs("group_json");
        GroupAlert machine = GroupAlert.of(state);
        long forMs = GroupAlert.orZero(in.getFieldAs("for_ms"));
        long recoverForMs = GroupAlert.orZero(in.getFieldAs("recover_for_ms"));
        Row transition = machine.step(t, in.getFieldAs("trig"), in.getFieldAs("rec"), forMs, recoverForMs, everyMs,
                                      tenant, monitor, group);
        int[] carry = carriedColumns(ctx);
        if (transition != null) {
            Row evaluation = new Row(carry.length);
            for (int i = 0; i < carry.length; i++) {
                evaluation.setField(i, in.getField(carry[i]));
            }
            collect(Row.join(Row.of(tenant, monitor, group), transition, evaluation));
        }
        Row shown = machine.show(t, forMs, recoverForMs);
        machine.into(state);
        if (shown != null) {
            collect(Row.join(Row.of(tenant, monitor, group), shown, new Row(carry.length)));
        }
        if (evictAfterMs != null && evictAfterMs > 0) {
            TimeContext<Long> time = ctx.timeContext(Long.class);
            long due = time.time() + Math.max(evictAfterMs, everyMs);
            Long before = state.getFieldAs("evict_due");
            state.setField("evict_due", before == null ? due : Math.max(before, due));
            if (state.getField("timer_at") == null) {
                time.registerOnTime(EVICT, due);
                state.setField("timer_at", due);
            }
        }
    }

    public void onTimer(OnTimerContext ctx, Row state) throws Exception {
        TimeContext<Long> time = ctx.timeContext(Long.class);
        Long watermark = time.currentWatermark();
        if (watermark != null && watermark == Long.MAX_VALUE || state.getField("status") == null) {
            return;
        }
        String timer = ctx.currentTimer();
        boolean pending = state.getField("streak") != null;
        Long last = state.getFieldAs("last_t");
        if (EVICT.equals(timer)) {
            Long due = state.getFieldAs("evict_due");
            if (due != null && due > time.time()) {
                // evaluated since this timer was set: the eviction is due later
                later(time, state, due);
                return;
            }
            state.setField("checked_t", last);
            if (OK.equals(state.getField("status")) && pending) {
                // a pending run: kept for one more eviction delay of watermark progress (the
                // delay: this timer's time less the last evaluation's window_time)
                state.setField("timer_at", watermark + (time.time() - (last - 1)));
                time.registerOnTime(PENDING_EVICT, state.<Long>getFieldAs("timer_at"));
                return;
            }
            // Not yet: an evaluation of this group may still be on its way although the watermark
            // passed it. The windows function emits a tenant's window when it learns the tenant's
            // progress, from records that come after the watermark they carry, and the config's
            // temporal join holds such a row until the next watermark advance. So decide at the
            // next advance: by then that row has arrived (and moved the eviction on).
            state.setField("timer_at", watermark + 1);
            time.registerOnTime(CONFIRM, watermark + 1);
            return;
        }
        if (!Objects.equals(last, state.getField("checked_t"))) {
            // evaluated between the eviction's time and this confirmation: due again after that
            later(time, state, state.<Long>getFieldAs("evict_due"));
            return;
        }
        state.setField("timer_at", null);       // the next evaluation sets the eviction again
        if (OK.equals(state.getField("status")) && (!pending || PENDING_EVICT.equals(timer))) {
            // the tombstone: the key (the partition column) and no value
            collect(Row.join(Row.of(null, null, null, "state", GroupAlert.EVICTED, null, toTimestamp(last), null, null),
                    new Row(carriedColumns(ctx).length)));
            ctx.clearAll();
            live--;
        }
        // an open alert stays, as it is: a recovering run it had is broken by the next evaluation
    }

    /** The eviction timer set again, at {@code due}. */
    private static void later(TimeContext<Long> time, Row state, long due) {
        state.setField("timer_at", due);
        time.registerOnTime(EVICT, due);
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    /** sha256 of the JSON text [tenant, monitor, group, trigger_at_ms], hex, first 32 chars. */
    static String alertId(String tenant, String monitor, String group, long triggerAtMs) {
        StringBuilder json = new StringBuilder("[");
        jsonString(json, tenant).append(',');
        jsonString(json, monitor).append(',');
        jsonString(json, group).append(',').append(triggerAtMs).append(']');
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(json.toString().getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                hex.append(String.format("%02x", digest[i] & 0xff));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A JSON string as Python's json.dumps(..., ensure_ascii=False) writes it: the two-character
     * escapes for quote, backslash, \n \r \t \b \f, other characters below U+0020 as a lowercase
     * \\u00XX, everything else (U+007F, non-ASCII, U+2028) as it is; None as null.
     */
    static StringBuilder jsonString(StringBuilder out, String s) {
        return JsonText.string(out, s, JsonText.LOWER_HEX);
    }

    private static long millis(Object t) {
        return ((LocalDateTime) t).toInstant(ZoneOffset.UTC).toEpochMilli();
    }
}
