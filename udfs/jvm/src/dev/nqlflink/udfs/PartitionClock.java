package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.table.functions.TableSemantics;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.table.types.logical.TimestampKind;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.types.Row;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * One tenant's event time on one Kafka partition of an event table, in arrival order: which
 * records are late, and the clock rows that carry that time to the windows function ahead of
 * the records (docs/flink-job-shape.md "The tenant's clock ahead of the inventory join").
 *
 * <pre>
 * nql_clock(input => TABLE ... PARTITION BY nql_ck, on_time => DESCRIPTOR(ts),
 *           lateness_ms => ..., lag_ms => ..., grain_ms => ..., uid => '...')
 * input: the table's accepted records (nql_ck: tenant and partition)
 * output: nql_ck | the input's other columns, reject_reason, nql_tw, nql_sw, nql_clock | rowtime
 * </pre>
 *
 * <p>Per record, with {@code newest} the tenant's newest event time on the partition so far
 * (this record included) and {@code w} this operator's watermark when it is read: the record is
 * {@code late} when it is at least {@code lateness} older than {@code newest}, and
 * {@code lag_exceeded} when it is at least {@code lag} behind {@code w}; it leaves with
 * {@code nql_tw} = newest - lateness (the tenant's clock on the partition) and {@code nql_sw} = w.
 *
 * <p>Why clock rows: a record reaches the windows function only after the inventory's event-time
 * temporal join released it, a lateness after its time (the join waits for the table's watermark).
 * Had the windows function only the records' clocks, a window of a tenant would be judged once a
 * record a lateness after its end had been released, two latenesses after the end. So, each
 * time the tenant's clock on the partition passes a multiple of {@code grain} (the greatest
 * common divisor of the table's slides: where windows end), a clock row leaves, from a timer, at
 * that time (its rowtime and {@code nql_tw}: the multiple minus 1 ms), with the watermark at which
 * the record that moved the clock was read ({@code nql_sw}). The join releases it as soon as the
 * watermark reaches that time, at once for a tenant on time. It travels the records' path, so
 * the windows function applies it only once its own watermark has passed {@code nql_sw}: every
 * record read before it has then been released by the join (TenantClock).
 *
 * <p>The output has the input's columns but the partition key (first, as Flink puts it), the
 * input's rowtime as a plain timestamp, and Flink's {@code rowtime} last (the record's time, or
 * the clock on a clock row): Flink's pass-through columns allow no timers. A clock row's input
 * columns are NULL but {@code tenant} and {@code nql_split} (kept in the state for it).
 *
 * <p>State per tenant and partition: the newest event time, the last clock sent or due, the
 * watermark its record was read at, and the tenant and partition for the clock rows. No TTL of
 * its own (the job's {@code table.exec.state.ttl} applies): deploy/plan.py bounds it as it
 * bounds every table's clock, through the node's configuration in the compiled plan (a timer
 * that finds the state expired sends nothing).
 */
// the declared output only lets Flink extract the rest: getTypeInference replaces it
@FunctionHint(output = @DataTypeHint("ROW<nql_clock BOOLEAN>"))
public class PartitionClock extends ProcessTableFunction<Row> {
    private static final long serialVersionUID = 1L;
    private static final String CLOCK = "clock";
    private static final String INPUT = "input";
    /** The state per tenant and partition (translator/flink/codegen.py CLOCK_STATE). */
    static final String STATE = "ROW<newest BIGINT, clock BIGINT, sw BIGINT, tenant STRING, split INT>";
    /** The input columns a clock row carries (from the state): the tenant and the partition. */
    private static final String TENANT = "tenant";
    private static final String SPLIT = "nql_split";
    /** What follows the input's columns on the way out. */
    private static final DataTypes.Field[] ADDED = {
        DataTypes.FIELD("reject_reason", DataTypes.STRING()),
        DataTypes.FIELD("nql_tw", DataTypes.TIMESTAMP(3)),
        DataTypes.FIELD("nql_sw", DataTypes.TIMESTAMP(3)),
        DataTypes.FIELD("nql_clock", DataTypes.BOOLEAN()),
    };

    /** The input columns that leave as they came: all but the partition key. */
    private transient int[] passed;
    /** Where the tenant and the partition are in the output (-1: not there). */
    private transient int tenantAt;
    private transient int splitAt;

    public void eval(
            Context ctx,
            @StateHint(type = @DataTypeHint(STATE)) Row state,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = INPUT) Row in,
            @ArgumentHint(name = "lateness_ms") Long lateness,
            @ArgumentHint(name = "lag_ms") Long lag,
            @ArgumentHint(name = "grain_ms") Long grain)
            throws Exception {
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long ts = time.time();
        Long w = time.currentWatermark();
        Long before = state.getFieldAs("newest");
        long newest = before == null ? ts : Math.max(before, ts);
        if (before == null || newest != before) {
            state.setField("newest", newest);
        }
        String reason = null;
        if (ts <= newest - lateness) {
            reason = "late";
        } else if (w != null && ts <= w - lag) {
            reason = "lag_exceeded";
        }
        long tw = newest - lateness;
        Row out = out(ctx, in);
        int n = passed.length;
        out.setField(n, reason);
        out.setField(n + 1, TenantWindows.toTimestamp(tw));
        out.setField(n + 2, w == null ? null : TenantWindows.toTimestamp(w));
        out.setField(n + 3, false);
        collect(out);
        // the greatest window end - 1 ms the clock has reached
        long clock = Math.floorDiv(tw + 1, grain) * grain - 1;
        Long sent = state.getFieldAs("clock");
        if (reason == null && (sent == null || clock > sent)) {
            state.setField("clock", clock);
            state.setField("sw", w == null ? Long.MIN_VALUE : w);
            if (state.getField("tenant") == null) {
                state.setField("tenant", tenantAt < 0 ? null : out.getField(tenantAt));
                state.setField("split", splitAt < 0 ? null : out.getField(splitAt));
            }
            time.registerOnTime(CLOCK, clock);
        }
    }

    public void onTimer(OnTimerContext ctx, Row state) {
        Long due = state.getFieldAs("clock");
        if (due == null) {
            return;                                       // the state expired (deploy/plan.py bound_state)
        }
        long clock = due;
        long sw = state.<Long>getFieldAs("sw");
        Row out = out(ctx, null);
        int n = passed.length;
        if (tenantAt >= 0) {
            out.setField(tenantAt, state.getField("tenant"));
        }
        if (splitAt >= 0) {
            out.setField(splitAt, state.getField("split"));
        }
        out.setField(n + 1, TenantWindows.toTimestamp(clock));
        out.setField(n + 2, sw == Long.MIN_VALUE ? null : TenantWindows.toTimestamp(sw));
        out.setField(n + 3, true);
        collect(out);
    }

    /** A row of the output type with the record's passed columns (NULLs on a clock row). */
    private Row out(Context ctx, Row in) {
        if (passed == null) {
            TableSemantics semantics = ctx.tableSemanticsFor(INPUT);
            passed = passed(semantics);
            List<String> names = DataType.getFieldNames(semantics.dataType());
            tenantAt = -1;
            splitAt = -1;
            for (int i = 0; i < passed.length; i++) {
                if (TENANT.equals(names.get(passed[i]))) {
                    tenantAt = i;
                } else if (SPLIT.equals(names.get(passed[i]))) {
                    splitAt = i;
                }
            }
        }
        Row out = new Row(passed.length + ADDED.length);
        if (in != null) {
            for (int i = 0; i < passed.length; i++) {
                out.setField(i, in.getField(passed[i]));
            }
        }
        return out;
    }

    private static int[] passed(TableSemantics semantics) {
        Set<Integer> skipped = new HashSet<>();
        for (int k : semantics.partitionByColumns()) {
            skipped.add(k);
        }
        int width = DataType.getFieldCount(semantics.dataType());
        return IntStream.range(0, width).filter(i -> !skipped.contains(i)).toArray();
    }

    /** The input's rowtime leaves as a plain timestamp: the output's rowtime is the function's. */
    private static DataType plain(DataType type) {
        if (type.getLogicalType() instanceof TimestampType
                && ((TimestampType) type.getLogicalType()).getKind() != TimestampKind.REGULAR) {
            TimestampType t = (TimestampType) type.getLogicalType();
            DataType regular = DataTypes.TIMESTAMP(t.getPrecision());
            return t.isNullable() ? regular : regular.notNull();
        }
        return type;
    }

    /**
     * The output row type follows the input table: its columns but the partition key (Flink puts
     * it first), its rowtime as a plain timestamp, then {@link #ADDED}.
     */
    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        TypeInference base = super.getTypeInference(typeFactory);
        TypeInference.Builder builder = TypeInference.newBuilder()
                .inputTypeStrategy(base.getInputTypeStrategy())
                .stateTypeStrategies(base.getStateTypeStrategies())
                .disableSystemArguments(base.disableSystemArguments())
                .outputTypeStrategy(call -> call.getTableSemantics(0).map(semantics -> {
                    List<DataTypes.Field> fields = new ArrayList<>();
                    List<String> names = DataType.getFieldNames(semantics.dataType());
                    List<DataType> types = DataType.getFieldDataTypes(semantics.dataType());
                    for (int i : passed(semantics)) {
                        fields.add(DataTypes.FIELD(names.get(i), plain(types.get(i))));
                    }
                    fields.addAll(Arrays.asList(ADDED));
                    return DataTypes.ROW(fields.toArray(new DataTypes.Field[0])).notNull();
                }));
        base.getStaticArguments().ifPresent(builder::staticArguments);
        return builder.build();
    }
}
