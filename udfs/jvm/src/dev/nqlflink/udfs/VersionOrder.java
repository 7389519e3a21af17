package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The inventory's versions in the order the event-time temporal join can use them, whatever
 * order they were read in (docs/polling.md "Inventory read out of version order"): each version
 * gets an effective time, its rowtime on the way out, from which the join applies it.
 *
 * <pre>
 * nql_version_order(input => TABLE ... PARTITION BY nql_split, on_time => DESCRIPTOR(last_seen), uid => '...')
 * input columns: nql_split (the Kafka partition), device_key, line (the record), last_seen (its version time)
 * output: nql_split | device_key, line | rowtime (the effective time)
 * </pre>
 *
 * <p>Per partition, in the order read, with {@code newest} the largest version time read before:
 * <ul>
 *   <li>a version at {@code t >= newest} is in order: it takes effect at {@code t}, at once;</li>
 *   <li>a version at {@code t < newest} (read behind a newer one: a tenant whose inventory sync
 *       lags another's) takes effect at {@code newest}: the join may already have used the
 *       versions in force before, for events up to {@code newest} - 1 ms, and never will they
 *       change. It waits for the watermark to pass {@code newest} (a timer) and is emitted then,
 *       before that watermark: the join still holds every event at or after {@code newest}.
 *       If a version of its device is in order at {@code newest}, that one is newer and the late
 *       one is dropped (it would never apply); of two late versions of one device waiting for the
 *       same time, the one with the later version time is kept (the later read on a tie).</li>
 * </ul>
 * An in-order version at {@code newest} also replaces a late version of its device waiting for
 * {@code newest}. The inventory's watermark is its newest version time minus 1 ms, so the join
 * releases an event at {@code t} only once a version after {@code t} has been read: every version
 * at {@code t} read in order before it is in the join. The outcome depends on the order of the
 * records on each partition only, not on how the inventory and the events interleave, nor on
 * when watermarks are emitted; the polling back end applies the same rule to the file it loads
 * (translator/clickhouse/tables.py {@code effective_versions}).
 *
 * <p>State per partition: {@code newest}, the devices in order at {@code newest}, the versions
 * waiting (none in order).
 */
@FunctionHint(output = @DataTypeHint("ROW<device_key STRING, line STRING>"))
public class VersionOrder extends ProcessTableFunction<Row> {
    private static final long serialVersionUID = 1L;
    /** A waiting version: its version time and record. */
    public static final String WAITING_TYPE = "ROW<device_key STRING, version BIGINT, line STRING>";

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<newest BIGINT>")) Row meta,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BOOLEAN>")) MapView<String, Boolean> atNewest,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, " + WAITING_TYPE + ">")) MapView<String, Row> waiting,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in)
            throws Exception {
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long t = time.time();
        String device = in.getFieldAs("device_key");
        String line = in.getFieldAs("line");
        Long newest = meta.getFieldAs("newest");
        if (newest == null || t >= newest) {
            if (newest == null || t > newest) {
                meta.setField("newest", t);
                atNewest.clear();
            }
            atNewest.put(device, true);
            waiting.remove(key(t, device));
            collect(Row.of(device, line));
            return;
        }
        if (atNewest.contains(device)) {
            return;                          // superseded by its version in order at newest
        }
        String k = key(newest, device);
        Row before = waiting.get(k);
        if (before == null || before.<Long>getFieldAs(1) <= t) {
            waiting.put(k, Row.of(device, t, line));
        }
        time.registerOnTime(newest);
    }

    public void onTimer(OnTimerContext ctx, Row meta, MapView<String, Boolean> atNewest, MapView<String, Row> waiting)
            throws Exception {
        long now = ctx.timeContext(Long.class).time();
        String prefix = padded(now);
        List<String> due = new ArrayList<>();
        for (Map.Entry<String, Row> e : waiting.entries()) {
            if (e.getKey().startsWith(prefix)) {
                due.add(e.getKey());
            }
        }
        due.sort(null);
        for (String k : due) {
            Row w = waiting.get(k);
            waiting.remove(k);
            collect(Row.of(w.getField(0), w.getField(2)));
        }
    }

    private static String key(long effective, String device) {
        return padded(effective) + "\u0000" + device;
    }

    /** {@code String.format("%020d", t)} (the keys' order is their times'), without a Formatter:
     * every version in order makes a key. */
    static String padded(long t) {
        if (t < 0) {
            return String.format("%020d", t);
        }
        String digits = Long.toString(t);
        return "0".repeat(20 - digits.length()) + digits;
    }
}
