package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.ListView;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.types.Row;

/**
 * The windows of an event table's monitors over its rows and ticks ({@link WindowsFunction}):
 * the rows say themselves whether a record's device has an inventory version
 * ({@code nql_unknown}, from a temporal join before the call).
 */
@FunctionHint(output = @DataTypeHint(WindowsFunction.SHAPES_OUTPUT))
public class TenantWindows extends WindowsFunction {
    private static final long serialVersionUID = 1L;

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<clock BYTES, due BIGINT, fired BIGINT>")) Row state,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, STRING>")) MapView<String, String> meta,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ARRAY<BYTES>")) ListView<byte[]> open,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> slices,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<BIGINT, BOOLEAN>")) MapView<Long, Boolean> buckets,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BIGINT>")) MapView<String, Long> fired,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> configs,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        onRow(ctx, state, meta, open, slices, buckets, fired, configs, in, specText, null);
    }

    public void onTimer(
            OnTimerContext ctx,
            Row state,
            MapView<String, String> meta,
            ListView<byte[]> open,
            MapView<String, byte[]> slices,
            MapView<Long, Boolean> buckets,
            MapView<String, Long> fired,
            MapView<String, byte[]> configs)
            throws Exception {
        onTimers(ctx, state, meta, open, slices, buckets, fired, configs, null);
    }
}
