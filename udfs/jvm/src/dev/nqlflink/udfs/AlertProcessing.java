package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alert processing after the alert topic (docs/processing.md): each monitor's transitions, as
 * the alert topic has them, become notification records: flapping groups
 * suppressed, alerts inside a matching maintenance window muted, a monitor's groups changing in
 * one interval in one notification, open alerts repeated, in event time. The alert
 * records themselves are not changed.
 *
 * <pre>
 * nql_alert_processing(input => TABLE job__processing_input PARTITION BY tenant,
 *                      spec => 'tenant/monitor: flap=N/WITHIN_MS;group=MS;repeat=MS | ...', uid => '...')
 * input columns: tenant, nql_kind ('alert' | 'window'), monitor, group_json, status,
 *                at TIMESTAMP(3) (the transition's time; a window's version time), alert_id, record (the
 *                alert record's JSON; the window's record, Maintenance)
 * output: tenant | nql_key (the notification's idempotency key), monitor, at TIMESTAMP(3), record
 * </pre>
 *
 * <p>No time attribute ({@code on_time}): the transitions of seasonal and change monitors come
 * from a Python aggregate, whose result has none. Time is each row's {@code at}; the timers
 * follow the watermark, which every operator before this one forwards after the rows it emitted
 * for the times it passes, so a transition arrives before the watermark that passes its time.
 *
 * <p>Every transition waits for the watermark to pass its time (a timer), and the transitions
 * due are decided in the order of their times, whatever their arrival order across groups; a
 * group's own transitions come in order (AlertStates and the detection aggregates emit them so).
 *
 * <p>Flapping (a monitor's {@code flap=N/W}): a group whose transitions in the look-back
 * (t - W, t] number more than N at a transition t is flapping from that transition on: its
 * transitions are not notified (the record says {@code "flapping": true}). It settles when it
 * has not changed for a whole look-back (a timer at its last change + W): then, when its state
 * differs from the one last notified, that state's record is notified ({@code "settled": true}).
 * A recovery is notified only when its trigger was.
 *
 * <p>Maintenance: each window version ('window' rows, kept per id and version time) mutes the
 * transitions it matches ({@link Maintenance}) in its version in force at their time: not
 * notified, {@code "muted_by"} lists the windows' ids.
 *
 * <p>Grouping ({@code group=G}): the monitor's entries due in one interval (kG, (k+1)G] make one
 * notification at the interval's end, keyed tenant/monitor/end. Repeat ({@code repeat=R}): a
 * group still triggered R after its trigger (or last repeat) is notified again with its
 * trigger's record ({@code "repeat": n}); its recovery cancels the timer. At the end of a
 * bounded input, repeats come due up to the tenant's newest transition only.
 *
 * <p>State per tenant (the partition): per group its flapping history and the state last
 * notified; the transitions waiting for the watermark; the maintenance windows' versions. At the end of a bounded input
 * (watermark MAX) every timer fires in the order of its time, as the watermark's steps would
 * have fired them: the outcome does not depend on how often the watermark advanced.
 */
@FunctionHint(output = @DataTypeHint("ROW<nql_key STRING, monitor STRING, at TIMESTAMP(3), record STRING>"))
public class AlertProcessing extends ProcessTableFunction<Row> {
    private static final long serialVersionUID = 1L;
    static final String TRIGGERED = "triggered";
    static final String RECOVERED = "recovered";
    private static final String FLUSH = "flush:";
    private static final String SETTLE = "settle:";
    private static final String REPEAT = "repeat:";
    private static final String EVICT = "evict:";

    /** A group's processing state (its look-back with it: a settle timer has no spec). */
    public static final String GROUP_TYPE =
            "ROW<changes ARRAY<BIGINT>, flapping BOOLEAN, status STRING, alert_id STRING, record STRING, "
                    + "notified STRING, notified_id STRING, within BIGINT, options ARRAY<BIGINT>, repeats BIGINT>";
    /** A transition (or a settled state) waiting for the watermark to pass its due time, with its monitor's options. */
    public static final String ENTRY_TYPE =
            "ROW<due BIGINT, at BIGINT, tenant STRING, monitor STRING, group_json STRING, status STRING, "
                    + "alert_id STRING, record STRING, settled BOOLEAN, options ARRAY<BIGINT>, repeat BIGINT>";
    private static final Long[] NONE = {0L, 0L, 0L, 0L};
    // positions of the entry's and the group's fields (rows made here are position-based)
    private static final int E_DUE = 0;
    private static final int E_AT = 1;
    private static final int E_TENANT = 2;
    private static final int E_MONITOR = 3;
    private static final int E_GROUP_JSON = 4;
    private static final int E_STATUS = 5;
    private static final int E_ALERT_ID = 6;
    private static final int E_RECORD = 7;
    private static final int E_SETTLED = 8;
    private static final int E_OPTIONS = 9;
    private static final int E_REPEAT = 10;
    private static final int G_CHANGES = 0;
    private static final int G_FLAPPING = 1;
    private static final int G_STATUS = 2;
    private static final int G_ALERT_ID = 3;
    private static final int G_RECORD = 4;
    private static final int G_NOTIFIED = 5;
    private static final int G_NOTIFIED_ID = 6;
    private static final int G_WITHIN = 7;
    private static final int G_OPTIONS = 8;
    private static final int G_REPEATS = 9;


    private transient String specText;
    private transient Map<String, Long[]> spec;

    public void eval(
            Context ctx,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, " + GROUP_TYPE + ">")) MapView<String, Row> groups,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, " + ENTRY_TYPE + ">")) MapView<String, Row> pending,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("MAP<STRING, STRING>")) MapView<String, String> windows,
            @StateHint(ttl = "0 ms", type = @DataTypeHint("ROW<seen BIGINT>")) Row meta,
            @ArgumentHint(value = {ArgumentTrait.SET_SEMANTIC_TABLE}, name = "input") Row in,
            @ArgumentHint(name = "spec") String specText)
            throws Exception {
        if ("window".equals(in.getField("nql_kind"))) {
            Maintenance w = Maintenance.parse(in.getFieldAs("record"));
            if (w != null) {     // (the source dead-letters records without tenant, id or version time)
                windows.put(w.id + "\u0000" + String.format("%020d", millis(in.getField("at"))), in.getFieldAs("record"));
            }
            return;
        }
        if (!"alert".equals(in.getField("nql_kind"))) {
            return;
        }
        String tenant = in.getFieldAs("tenant");
        String monitor = in.getFieldAs("monitor");
        long at = millis(in.getField("at"));
        Long[] options = options(specText, tenant + "/" + monitor);
        long due = bucket(at, options[2]);
        Row entry = Row.of(due, at, tenant, monitor, in.getFieldAs("group_json"), in.getFieldAs("status"),
                in.getFieldAs("alert_id"), in.getFieldAs("record"), false, options, 0L);
        Long seen = meta.getFieldAs("seen");
        meta.setField("seen", seen == null ? at : Math.max(seen, at));
        pending.put(entryKey(entry), entry);
        ctx.timeContext(Long.class).registerOnTime(FLUSH + due, due);
    }

    public void onTimer(OnTimerContext ctx, MapView<String, Row> groups, MapView<String, Row> pending,
                        MapView<String, String> windows, Row meta) throws Exception {
        TimeContext<Long> time = ctx.timeContext(Long.class);
        String timer = ctx.currentTimer();
        long now = time.time();
        if (timer.startsWith(SETTLE)) {
            settle(time, groups, pending, timer.substring(SETTLE.length()), now);
            return;
        }
        if (timer.startsWith(EVICT)) {
            evict(groups, timer.substring(EVICT.length()), now);
            return;
        }
        if (timer.startsWith(REPEAT)) {
            Long watermark = time.currentWatermark();
            Long seen = meta.getFieldAs("seen");
            // at the end of a bounded input, repeats up to the newest transition only: the same
            // repeats however often the watermark advanced (and not one every interval forever)
            if (watermark == null || watermark != Long.MAX_VALUE || seen == null || now <= seen) {
                repeat(time, groups, pending, timer.substring(REPEAT.length()), now);
            }
            return;
        }
        List<Row> due = new ArrayList<>();
        for (Map.Entry<String, Row> e : pending.entries()) {
            if (e.getValue().<Long>getFieldAs(E_DUE) <= now) {
                due.add(e.getValue());
            }
        }
        for (Row entry : due) {
            pending.remove(entryKey(entry));
        }
        due.sort(Comparator.comparing(AlertProcessing::entryKey));
        // one notification per monitor and interval when it groups (entries in the order decided)
        Map<String, List<String>> grouped = new LinkedHashMap<>();
        Map<String, Boolean> notifyAny = new HashMap<>();
        for (Row entry : due) {
            Decided decided = decide(time, groups, windows, entry);
            if (decided == null) {
                continue;
            }
            String tenant = entry.getFieldAs(E_TENANT);
            String monitor = entry.getFieldAs(E_MONITOR);
            long at = entry.<Long>getFieldAs(E_AT);
            if (entry.<Long[]>getFieldAs(E_OPTIONS)[2] <= 0) {
                emit(entryId(entry), tenant, monitor, at, decided.notify, List.of(decided.json));
                continue;
            }
            String bucket = tenant + "\u0000" + monitor + "\u0000" + entry.getField(E_DUE);
            grouped.computeIfAbsent(bucket, k -> new ArrayList<>()).add(decided.json);
            notifyAny.merge(bucket, decided.notify, Boolean::logicalOr);
        }
        for (Map.Entry<String, List<String>> b : grouped.entrySet()) {
            String[] k = b.getKey().split("\u0000", 3);
            long bucketEnd = Long.parseLong(k[2]);
            String id = k[0] + "/" + k[1] + "/" + iso(bucketEnd) + (bucketEnd < now ? "/" + iso(now) : "");
            emit(id, k[0], k[1], bucketEnd, notifyAny.get(b.getKey()), b.getValue());
        }
    }

    /**
     * A recovered group is forgotten once its changes are all out of the look-back and it does
     * not flap: what a group never seen starts with (no history, nothing notified) decides its
     * next transitions the same way, since a recovery is notified only after its own trigger.
     */
    private static void evict(MapView<String, Row> groups, String key, long now) throws Exception {
        Row g = groups.get(key);
        if (g == null || !RECOVERED.equals(g.getField(G_STATUS)) || Boolean.TRUE.equals(g.getField(G_FLAPPING))) {
            return;
        }
        Long[] changes = g.getFieldAs(G_CHANGES);
        if (changes.length == 0 || changes[changes.length - 1] + g.<Long>getFieldAs(G_WITHIN) <= now) {
            groups.remove(key);
        }
    }

    /** The end of the interval holding {@code at} ((end - interval, end]), or {@code at} without grouping. */
    static long bucket(long at, long interval) {
        return interval <= 0 ? at : Math.floorDiv(at + interval - 1, interval) * interval;
    }

    /** A triggered group's repeat at {@code now}: its alert again, decided with the others due. */
    private void repeat(TimeContext<Long> time, MapView<String, Row> groups, MapView<String, Row> pending, String key,
                        long now) throws Exception {
        Row g = groups.get(key);
        if (g == null || !TRIGGERED.equals(g.getField(G_STATUS))) {
            return;
        }
        long n = g.<Long>getFieldAs(G_REPEATS) + 1;
        g.setField(G_REPEATS, n);
        groups.put(key, g);
        Long[] options = g.getFieldAs(G_OPTIONS);
        String[] parts = key.split("\u0000", 3);
        long due = bucket(now, options[2]);
        Row entry = Row.of(due, now, parts[0], parts[1], parts[2], TRIGGERED, g.getField(G_ALERT_ID),
                g.getField(G_RECORD), false, options, n);
        pending.put(entryKey(entry), entry);
        time.registerOnTime(FLUSH + due, due);
    }

    /** One transition (settled state, repeat) due: its entry in a notification record, or null. */
    private Decided decide(TimeContext<Long> time, MapView<String, Row> groups, MapView<String, String> windows, Row entry)
            throws Exception {
        String tenant = entry.getFieldAs(E_TENANT);
        String monitor = entry.getFieldAs(E_MONITOR);
        String status = entry.getFieldAs(E_STATUS);
        String alertId = entry.getFieldAs(E_ALERT_ID);
        long at = entry.<Long>getFieldAs(E_AT);
        boolean settled = Boolean.TRUE.equals(entry.getField(E_SETTLED));
        Long[] options = entry.getFieldAs(E_OPTIONS);
        String key = groupKey(tenant, monitor, entry.getFieldAs(E_GROUP_JSON));
        Row g = groups.get(key);
        if (g == null) {
            g = Row.of(new Long[0], false, null, null, null, null, null, 0L, options, 0L);
        }
        long repeat = entry.<Long>getFieldAs(E_REPEAT);
        if (repeat > 0 && !(TRIGGERED.equals(g.getField(G_STATUS)) && alertId.equals(g.getField(G_ALERT_ID)))) {
            return null;        // recovered since its repeat came due
        }
        if (!settled && repeat == 0) {
            g.setField(G_OPTIONS, options);
            g.setField(G_REPEATS, 0L);
            g.setField(G_STATUS, status);
            g.setField(G_ALERT_ID, alertId);
            g.setField(G_RECORD, entry.getField(E_RECORD));
            flap(time, g, key, at, options[0], options[1]);
        }
        boolean flapping = !settled && Boolean.TRUE.equals(g.getField(G_FLAPPING));
        if (options[3] > 0 && !settled) {
            if (TRIGGERED.equals(status)) {
                time.registerOnTime(REPEAT + key, at + options[3]);
            } else {
                time.clearTimer(REPEAT + key);
            }
        }
        if (RECOVERED.equals(status) && repeat == 0) {
            time.registerOnTime(EVICT + key, at + options[1]);  // once its changes left the look-back
        }
        List<String> muted = mutedBy(windows, monitor, entry.getFieldAs(E_RECORD), at);
        boolean notify = !flapping && muted.isEmpty();
        if (RECOVERED.equals(status)) {
            notify &= TRIGGERED.equals(g.getField(G_NOTIFIED)) && alertId.equals(g.getField(G_NOTIFIED_ID));
        }
        if (settled) {
            notify &= !(status.equals(g.getField(G_NOTIFIED)) && alertId.equals(g.getField(G_NOTIFIED_ID)));
        }
        if (notify) {
            g.setField(G_NOTIFIED, status);
            g.setField(G_NOTIFIED_ID, alertId);
        }
        groups.put(key, g);
        if (settled && !notify) {
            return null;        // settled as last notified: nothing to say
        }
        StringBuilder out = new StringBuilder("{\"alert\":").append((String) entry.getField(E_RECORD))
                .append(",\"notify\":").append(notify)
                .append(",\"flapping\":").append(flapping)
                .append(",\"muted_by\":[").append(String.join(",", quoted(muted))).append(']')
                .append(",\"settled\":").append(settled)
                .append(",\"repeat\":").append(repeat).append('}');
        return new Decided(out.toString(), notify);
    }

    /** An entry of a notification record (JSON) and whether it is to be delivered. */
    private static final class Decided {
        final String json;
        final boolean notify;

        Decided(String json, boolean notify) {
            this.json = json;
            this.notify = notify;
        }
    }

    /**
     * The ids of the maintenance windows muting the alert at {@code at}, sorted: of each window,
     * its version in force then (the newest with its version time at or before {@code at}).
     */
    private static List<String> mutedBy(MapView<String, String> windows, String monitor, String record, long at)
            throws Exception {
        Map<String, String> asOf = new java.util.TreeMap<>();
        Map<String, Long> versions = new HashMap<>();
        for (Map.Entry<String, String> e : windows.entries()) {
            String[] k = e.getKey().split("\u0000", 2);
            long version = Long.parseLong(k[1]);
            if (version <= at && version >= versions.getOrDefault(k[0], Long.MIN_VALUE)) {
                versions.put(k[0], version);
                asOf.put(k[0], e.getValue());
            }
        }
        List<String> out = new ArrayList<>();
        if (asOf.isEmpty()) {
            return out;
        }
        var alert = Maintenance.read(record);
        for (Map.Entry<String, String> e : asOf.entrySet()) {
            Maintenance w = Maintenance.parse(e.getValue());
            if (w != null && w.mutes(monitor, alert.path("tags"), alert.path("group"), at)) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    private static List<String> quoted(List<String> texts) {
        List<String> out = new ArrayList<>();
        for (String t : texts) {
            out.add(AlertStates.jsonString(new StringBuilder(), t).toString());
        }
        return out;
    }

    /**
     * A transition at {@code at} in the group's flapping history: more than {@code changes}
     * within the look-back make it flapping, and its settle timer follows its last change.
     */
    private static void flap(TimeContext<Long> time, Row g, String key, long at, long changes, long within) {
        if (changes <= 0) {
            return;
        }
        List<Long> kept = new ArrayList<>();
        for (Long c : g.<Long[]>getFieldAs(G_CHANGES)) {
            if (c > at - within) {
                kept.add(c);
            }
        }
        kept.add(at);
        if (kept.size() > changes) {
            g.setField(G_FLAPPING, true);
            kept = kept.subList(kept.size() - (int) changes - 1, kept.size());
        }
        g.setField(G_CHANGES, kept.toArray(new Long[0]));
        g.setField(G_WITHIN, within);
        if (Boolean.TRUE.equals(g.getField(G_FLAPPING))) {
            time.registerOnTime(SETTLE + key, at + within);
        }
    }

    /** A flapping group that has not changed for a whole look-back settles. */
    private void settle(TimeContext<Long> time, MapView<String, Row> groups, MapView<String, Row> pending, String key,
                        long now) throws Exception {
        Row g = groups.get(key);
        if (g == null || !Boolean.TRUE.equals(g.getField(G_FLAPPING))) {
            return;
        }
        Long[] changes = g.getFieldAs(G_CHANGES);
        if (changes.length > 0 && changes[changes.length - 1] + g.<Long>getFieldAs(G_WITHIN) > now) {
            return;             // changed since: its own timer is later
        }
        g.setField(G_FLAPPING, false);
        g.setField(G_CHANGES, new Long[0]);
        groups.put(key, g);
        String[] parts = key.split("\u0000", 3);
        Long[] options = g.getFieldAs(G_OPTIONS);
        long due = bucket(now, options[2]);
        Row entry = Row.of(due, now, parts[0], parts[1], parts[2], g.getField(G_STATUS), g.getField(G_ALERT_ID),
                g.getField(G_RECORD), true, options, 0L);
        pending.put(entryKey(entry), entry);
        time.registerOnTime(FLUSH + due, due);
    }

    /** A notification record: its key, where it belongs, whether to notify, its alerts. */
    private void emit(String id, String tenant, String monitor, long at, boolean notify, List<String> alerts) {
        StringBuilder out = new StringBuilder("{\"key\":");
        AlertStates.jsonString(out, id).append(",\"tenant\":");
        AlertStates.jsonString(out, tenant).append(",\"monitor\":");
        AlertStates.jsonString(out, monitor).append(",\"at\":");
        AlertStates.jsonString(out, iso(at)).append(",\"notify\":").append(notify).append(",\"alerts\":[")
                .append(String.join(",", alerts)).append("]}");
        collect(Row.of(id, monitor, toTimestamp(at), out.toString()));
    }

    /** The notification key of one entry: its transition's, and what made it. */
    static String entryId(Row e) {
        return e.getField(E_ALERT_ID) + "/" + e.getField(E_STATUS) + "/" + iso(e.<Long>getFieldAs(E_AT))
                + (Boolean.TRUE.equals(e.getField(E_SETTLED)) ? "/settled" : "")
                + (e.<Long>getFieldAs(E_REPEAT) > 0 ? "/repeat" : "");
    }

    /** Entries in the order they are decided: by time, then monitor, group and kind. */
    static String entryKey(Row e) {
        return String.format("%020d", e.<Long>getFieldAs(E_AT)) + "\u0000" + e.getField(E_MONITOR) + "\u0000"
                + e.getField(E_GROUP_JSON) + "\u0000" + e.getField(E_STATUS)
                + (Boolean.TRUE.equals(e.getField(E_SETTLED)) ? "\u0000settled" : "")
                + (e.<Long>getFieldAs(E_REPEAT) > 0 ? "\u0000repeat" : "");
    }

    static String groupKey(String tenant, String monitor, String group) {
        return tenant + "\u0000" + monitor + "\u0000" + group;
    }

    /** A monitor's options {flap changes, flap within, group, repeat} (zeros: none asked for). */
    private Long[] options(String text, String monitor) {
        if (!text.equals(specText)) {
            spec = parseSpec(text);
            specText = text;
        }
        return spec.getOrDefault(monitor, NONE);
    }

    /** 'tenant/monitor: flap=N/MS;group=MS;repeat=MS | ...' by tenant/monitor. */
    static Map<String, Long[]> parseSpec(String text) {
        Map<String, Long[]> out = new HashMap<>();
        for (String part : text.split("\\|")) {
            part = part.trim();
            if (part.isEmpty()) {
                continue;
            }
            int colon = part.indexOf(':');
            Long[] o = NONE.clone();
            for (String kv : part.substring(colon + 1).split(";")) {
                String[] p = kv.trim().split("=");
                switch (p[0]) {
                    case "flap":
                        String[] f = p[1].split("/");
                        o[0] = Long.parseLong(f[0]);
                        o[1] = Long.parseLong(f[1]);
                        break;
                    case "group": o[2] = Long.parseLong(p[1]); break;
                    case "repeat": o[3] = Long.parseLong(p[1]); break;
                    default: throw new IllegalArgumentException("unknown option in the processing spec: " + kv);
                }
            }
            out.put(part.substring(0, colon).trim(), o);
        }
        return out;
    }

    static long millis(Object t) {
        return ((LocalDateTime) t).toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    static LocalDateTime toTimestamp(long ms) {
        return LocalDateTime.ofEpochSecond(Math.floorDiv(ms, 1000), Math.floorMod(ms, 1000) * 1_000_000, ZoneOffset.UTC);
    }

    static String iso(long ms) {
        return ISO.format(Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC));
    }

    private static final java.time.format.DateTimeFormatter ISO =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
}
