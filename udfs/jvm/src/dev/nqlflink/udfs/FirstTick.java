package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * {@code nql_first_tick(ts, watermark, accepted, size_ms)}: whether a record is one the table's
 * ticks must count (translator/flink sql/views/tickable.sql.j2): an accepted record ahead of the
 * watermark ({@code ts > watermark}, or no watermark yet), and the first such record of its tick
 * (the TUMBLE window of {@code size_ms} holding it) that this instance of the function has seen.
 *
 * <p>A tick is a window of the ticks' TUMBLE with at least one record: the count does not matter,
 * so the first record of a window stands for all of it, and the window aggregation receives one
 * record per tick instead of every record (its buffer's lookup per record was about 3% of the seed
 * monitor's processing CPU). The windows with a record are the same: a window's first record
 * ahead of the watermark is passed, and a window is forgotten only once the watermark has reached
 * its end, after which none of its records is ahead of the watermark. After a restart the function
 * starts with nothing seen and passes a window's first record again: the same tick.
 *
 * <p>It runs in the source's chain, every record of the subtask in order, before the ticks' local
 * aggregation; each subtask's instance passes its own first records (the global aggregation
 * counts a window once, whoever passed it). Non-deterministic for the planner (it keeps what it
 * saw): called once per record, never folded or reordered, and it decides the whole condition
 * itself, so no evaluation order of the WHERE can make it remember a window for a record that is
 * not counted. Its memory: the windows ahead of the watermark it has seen a record of.
 */
public class FirstTick extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    /** Window indexes (floor(ts / size)) with a record passed, whose end the watermark has not reached. */
    private transient Set<Long> seen;
    /** The window of the last record passed or refused as seen (most records are in the same one). */
    private transient long last;
    private transient boolean hasLast;

    @Override
    public void open(FunctionContext context) {
        seen = new HashSet<>();
        hasLast = false;
    }

    public Boolean eval(@DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData ts,
                        @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData watermark,
                        Boolean accepted,
                        Long size) {
        if (ts == null || size == null || size <= 0 || !Boolean.TRUE.equals(accepted)) {
            return false;
        }
        long t = ts.getMillisecond();
        if (watermark != null && t <= watermark.getMillisecond()) {
            return false;
        }
        if (seen == null) {
            seen = new HashSet<>();
        }
        long window = Math.floorDiv(t, size);
        if (hasLast && window == last) {
            return false;   // `last` is in `seen` until the watermark reaches its end, and t is ahead of it
        }
        if (watermark != null) {
            forget(watermark.getMillisecond(), size);
        }
        last = window;
        hasLast = true;
        return seen.add(window);
    }

    /** Drops the windows whose end the watermark has reached: no record of theirs is ahead of it. */
    private void forget(long watermark, long size) {
        if (seen.isEmpty()) {
            return;
        }
        // window w holds [w * size, (w + 1) * size): every window before the watermark's own has
        // its last millisecond before the watermark (floorDiv(watermark + 1, size) would forget a
        // window sooner, and overflows at the end of a bounded input)
        long open = Math.floorDiv(watermark, size);
        for (Iterator<Long> it = seen.iterator(); it.hasNext(); ) {
            if (it.next() < open) {
                it.remove();
            }
        }
    }

    /** How many windows the instance remembers (its memory; tests). */
    int remembered() {
        return seen == null ? 0 : seen.size();
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}
