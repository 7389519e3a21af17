package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code nql_late_hint(tenant, split, ts, lateness_ms, watermark, lag_ms)}: whether a record may
 * be {@code late} (the lateness or more older than its tenant's newest record on its Kafka
 * partition, as far as this instance of the function has seen) or is {@code lag_exceeded} (the lag
 * bound or more behind the table's watermark when read: the same rule as the windows function's,
 * on the same watermark, which the record brings it), so that only such records carry their line
 * to the windows function, which decides for good ({@link TenantClock#admit}) and dead-letters
 * the rejected ones with it. Carrying every record's line through the windows' exchange cost about an eighth
 * of the seed monitor's processing CPU (docs/flink-job-shape.md §7, "The clocks in the windows
 * function").
 *
 * <p>It runs in the source's chain: every record of one Kafka partition passes one instance, in
 * the partition's order, so what it has seen is what the windows function has, except after a
 * restart: its map is not checkpointed and starts empty, so a record late only against records
 * read before the restart is not hinted, and its dead letter is a summary (tenant, device, event
 * time) instead of its line. Never a record lost: the hint only decides what a dead letter holds.
 *
 * <p>Non-deterministic for the planner (it keeps what it saw): called once per record, never
 * folded or reordered. Its memory: one entry per tenant and partition this instance reads.
 */
public class LateHint extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    /** partition -> tenant -> {newest event time}. */
    private transient Map<Integer, Map<StringData, long[]>> newest;

    @Override
    public void open(FunctionContext context) {
        newest = new HashMap<>();
    }

    public Boolean eval(@DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData tenant,
                        Integer split,
                        @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData ts,
                        Long lateness,
                        @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData watermark,
                        Long lag) {
        if (tenant == null || ts == null || lateness == null) {
            return false;
        }
        long t = ts.getMillisecond();
        boolean lagging = watermark != null && lag != null && t <= watermark.getMillisecond() - lag;
        if (newest == null) {
            newest = new HashMap<>();
        }
        Map<StringData, long[]> tenants = newest.computeIfAbsent(split == null ? 0 : split, k -> new HashMap<>());
        long[] seen = tenants.get(tenant);
        if (seen == null) {
            // the key's bytes may be reused by the next record: keep a copy
            tenants.put(tenant instanceof BinaryStringData ? ((BinaryStringData) tenant).copy()
                                                           : StringData.fromString(tenant.toString()), new long[] {t});
            return lagging;
        }
        if (t > seen[0]) {
            seen[0] = t;
            return lagging;
        }
        return lagging || t <= seen[0] - lateness;
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}
