package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * `summarize` after `compute`: the per-device results of each window ({@link TenantWindows}'
 * evaluations, one row per device) aggregated again per summarize group, with the same
 * partial aggregates ({@link Partial}; the spec's size and slide are the window's).
 *
 * <p>Called from generated SQL, partitioned by tenant, on the per-device evaluations
 * (see {@code views/monitor_regroup.sql.j2}):
 *
 * <pre>
 * nql_regroup(input => TABLE objects PARTITION BY tenant, on_time => DESCRIPTOR(window_time), spec => '...', uid => '...')
 * input columns: window_time (rowtime: window end - 1 ms), nql_group STRING (NULL: filtered out),
 *                nql_n ARRAY&lt;DOUBLE&gt;, nql_s ARRAY&lt;STRING&gt;
 * output: tenant | nql_kind ('eval'), group_json, window_start, window_end, nv, sv, population (NULL),
 *                  late_ts (NULL) | rowtime: the windows function's output, so the same views follow
 * </pre>
 *
 * The windows function emits all the devices of one window of a tenant at once, before the
 * watermark that follows them: a timer at the window's time fires after the last of them.
 *
 * <p>State: the window's partial aggregates per group ({@code parts}), removed by that timer;
 * no time-to-live ({@code ttl = "0 ms"}): Flink gives PTF state that declares none a TTL even
 * without a job TTL, and a TTL'd heap MapState's incremental clean-up copies the tenant's whole
 * map at every access (docs/flink-job-shape.md §7).
 */
@FunctionHint(output = @DataTypeHint(TenantWindows.OUTPUT))
public class Regroup extends ProcessTableFunction<Row> {
    private static final long serialVersionUID = 1L;
    private static final String FIRE = "w";

    private transient Map<String, WindowSpec> specs;

    private WindowSpec spec(String text) {
        if (specs == null) {
            specs = new java.util.HashMap<>();
        }
        return specs.computeIfAbsent(text, WindowSpec::parse);
    }

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<spec STRING>")) Row state,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> parts,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        String group = in.getFieldAs("nql_group");
        if (group == null) {
            return;
        }
        WindowSpec spec = spec(specText);
        state.setField("spec", specText);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        long t = time.time();
        String key = t + "|" + group;
        Partial p = Partial.read(spec, parts.get(key));
        p.add(in.getFieldAs("nql_n"), in.getFieldAs("nql_s"), t);
        parts.put(key, p.write());
        time.registerOnTime(FIRE + t, t);
    }

    public void onTimer(OnTimerContext ctx, Row state, MapView<String, byte[]> parts) throws Exception {
        String text = state.getFieldAs("spec");
        if (text == null) {
            return;
        }
        WindowSpec spec = spec(text);
        long t = Long.parseLong(ctx.currentTimer().substring(FIRE.length()));
        String prefix = t + "|";
        TreeMap<String, byte[]> groups = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : parts.entries()) {
            if (e.getKey().startsWith(prefix)) {
                groups.put(e.getKey(), e.getValue());
            }
        }
        LocalDateTime from = TenantWindows.toTimestamp(t + 1 - spec.size);
        LocalDateTime to = TenantWindows.toTimestamp(t + 1);
        List<String> done = new ArrayList<>();
        for (Map.Entry<String, byte[]> g : groups.entrySet()) {
            Partial p = Partial.read(spec, g.getValue());
            collect(Row.of("eval", g.getKey().substring(prefix.length()), from, to, p.numbers(), p.strings(), null, null));
            done.add(g.getKey());
        }
        for (String k : done) {
            parts.remove(k);
        }
    }
}
