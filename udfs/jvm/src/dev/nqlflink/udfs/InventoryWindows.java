package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.ListView;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.types.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The windows of an event table's monitors ({@link WindowsFunction}) with the inventory looked up
 * here: the table's rows include the inventory's versions (after {@link VersionOrder}; rows with
 * {@code nql_inventory} TRUE), each with what the shapes compute from its attributes (their
 * groups and filters on inventory attributes, once per version). The function keeps each
 * device's versions and reads the one in force at a record's time when that is final: once the
 * watermark, the inventory's included, has passed the record (at once for a record behind it,
 * else at the record's first fold, when a window holding it is due). So no temporal join holds
 * each record in its state until the watermark comes, and a lagging tenant finds the versions of
 * its own time: a device's older version is dropped only once a newer one is in force for every
 * record the tenant may still bring (within the lag bound and the longest window of the
 * watermark; docs/flink-job-shape.md §7, "The inventory looked up in the windows function").
 *
 * <p>State beyond the windows': {@code versions}, device -> {@link Versions}, per tenant. A device
 * whose newest version took effect more than the spec's {@code forget} (the job's {@code
 * --evict-after}) before the oldest record the tenant may still bring is forgotten, as the
 * inventory's versioned view forgets a device with no new version for that long: its records
 * are then dead-lettered {@code unknown_device} until its next version. Event time, swept by the
 * tenant's inventory rows ({@link #forget}). Not Flink's state time-to-live: a TTL'd heap
 * MapState's incremental clean-up copied whole per-tenant maps of devices at every state access,
 * about 60% of this function's thread (docs/flink-job-shape.md §7). The
 * arrays a version holds mean what the spec's {@code inv} digest says (the table segment, {@link
 * Shapes}): a tenant's versions stored under another digest are dropped when the tenant is next
 * seen, and the job's plan reads the inventory topic again from the start (deploy/plan.py).
 */
@FunctionHint(output = @DataTypeHint(WindowsFunction.SHAPES_OUTPUT))
public class InventoryWindows extends WindowsFunction {
    private static final long serialVersionUID = 1L;
    /** {@code meta} key: the spec's inventory digest the tenant's versions were stored under. */
    private static final String INVENTORY = "inv";
    /** {@code meta} key: the watermark at or after which the tenant's versions are next swept ({@link #forget}). */
    private static final String SWEEP = "sweep";
    /**
     * How many devices' versions an instance keeps decoded ({@link Decoded}; keyed by device
     * alone: the bytes decide, so two tenants' devices of the same id only take turns): each
     * record's device is looked up once, at its first fold for most, so decoding its versions
     * from the state's bytes each time was about a tenth of the seed monitor's windows thread.
     * About 300 bytes each beyond the state's.
     */
    private static final int DEVICES_DECODED = 50_000;

    /** Devices' versions, decoded (not state). */
    private transient Decoded devices;

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<clock BYTES, due BIGINT, fired BIGINT>")) Row state,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, STRING>")) MapView<String, String> meta,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ARRAY<BYTES>")) ListView<byte[]> open,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> slices,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<BIGINT, BOOLEAN>")) MapView<Long, Boolean> buckets,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BIGINT>")) MapView<String, Long> fired,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> versions,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, BYTES>")) MapView<String, byte[]> configs,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        Shapes spec = shapes(specText);
        String tenant = in.getFieldAs("tenant");
        check(spec, tenant, meta, versions);
        if (!Boolean.TRUE.equals(in.getField("nql_inventory"))) {
            onRow(ctx, state, meta, open, slices, buckets, fired, configs, in, specText, inventory(versions));
            return;
        }
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String device = in.getFieldAs("nql_device");
        if (device == null) {
            return;
        }
        Long watermark = time.currentWatermark();
        long from = oldest(spec, watermark);
        Versions.Version v = new Versions.Version(time.time(), in.getFieldAs("nql_group"), in.getFieldAs("nql_keep"));
        List<Versions.Version> updated = Versions.add(versions(versions, device), v, from);
        byte[] written = Versions.write(updated);
        versions.put(device, written);
        devices.put(device, written, updated);
        if (watermark != null && from != Long.MIN_VALUE) {
            forget(spec.forget, from, watermark, meta, versions);
        }
    }

    /**
     * Drops the devices whose newest version took effect more than {@code forget} ms before
     * {@code from} (no record the tenant may still bring is older than it), once the watermark
     * reaches the tenant's next sweep; the next one then a quarter of {@code forget} later. So a
     * device is forgotten between {@code forget} and 1.25 times that after its last version,
     * checked on the tenant's inventory rows only (a tenant sending none adds no device either).
     */
    static void forget(long forget, long from, long watermark, MapView<String, String> meta,
                       MapView<String, byte[]> versions) throws Exception {
        if (forget <= 0 || from < Long.MIN_VALUE + forget) {
            return;
        }
        String due = meta.get(SWEEP);
        if (due != null && watermark < Long.parseLong(due)) {
            return;
        }
        if (due != null) {
            List<String> gone = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : versions.entries()) {
                List<Versions.Version> list = Versions.read(e.getValue());
                if (list.isEmpty() || list.get(list.size() - 1).time < from - forget) {
                    gone.add(e.getKey());
                }
            }
            for (String device : gone) {
                versions.remove(device);
            }
        }
        meta.put(SWEEP, Long.toString(watermark + Math.max(1, forget / 4)));
    }

    public void onTimer(
            OnTimerContext ctx,
            Row state,
            MapView<String, String> meta,
            ListView<byte[]> open,
            MapView<String, byte[]> slices,
            MapView<Long, Boolean> buckets,
            MapView<String, Long> fired,
            MapView<String, byte[]> versions,
            MapView<String, byte[]> configs)
            throws Exception {
        onTimers(ctx, state, meta, open, slices, buckets, fired, configs, inventory(versions));
    }

    /** The tenant's versions, each device's decoded once while its bytes are the same. */
    private Inventory inventory(MapView<String, byte[]> versions) {
        return (device, ts) -> device == null ? null : Versions.at(versions(versions, device), ts);
    }

    /** A device's versions as stored ({@link #devices}). */
    private List<Versions.Version> versions(MapView<String, byte[]> versions, String device) throws Exception {
        if (devices == null) {
            devices = new Decoded(DEVICES_DECODED);
        }
        return devices.get(device, versions.get(device), Versions::read);
    }

    /** Drops the tenant's versions if they were stored under another inventory digest. */
    private void check(Shapes spec, String tenant, MapView<String, String> meta, MapView<String, byte[]> versions)
            throws Exception {
        Tenants.Tenant kept = tenant(tenant);
        if (kept.inventoryChecked) {
            return;
        }
        String digest = spec.inventory == null ? "" : spec.inventory;
        String stored = meta.get(INVENTORY);
        if (!digest.equals(stored)) {
            if (stored != null) {
                versions.clear();
            }
            meta.put(INVENTORY, digest);
        }
        kept.inventoryChecked = true;
    }
}
