package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code nql_alert_record(alert_id, tenant, monitor, status, window_start, window_end,
 * group_json, values_json, condition, impact_devices, impact_users, active_devices, priority,
 * name, tags)}: a threshold monitor's alert record (spec/monitors.md "Alert record",
 * sql/alert_record.sql.j2), the text
 *
 * <pre>JSON_OBJECT('alert_id' VALUE alert_id, 'tenant' VALUE tenant, 'monitor' VALUE monitor,
 *     'status' VALUE status, 'at' VALUE DATE_FORMAT(window_end, f), 'group' VALUE JSON(group_json),
 *     'values' VALUE JSON(values_json),
 *     'window' VALUE JSON_OBJECT('start' VALUE DATE_FORMAT(window_start, f), 'end' VALUE DATE_FORMAT(window_end, f)),
 *     'condition' VALUE condition, 'baseline' VALUE CAST(NULL AS STRING),
 *     'impact' VALUE JSON_OBJECT('devices' VALUE impact_devices, 'users' VALUE impact_users,
 *         'active_devices' VALUE active_devices,
 *         'share' VALUE CAST(impact_devices AS DOUBLE) / NULLIF(active_devices, 0) NULL ON NULL),
 *     'priority' VALUE priority, 'name' VALUE name, 'tags' VALUE tags NULL ON NULL)</pre>
 *
 * gives, byte for byte (members in key order, as Flink writes them), written directly: that
 * expression built a JSON tree per nested object, wrote it, parsed it back into its parent's
 * and wrote the parent (docs/flink-job-shape.md §7, "Session 52", for what it saves). As in
 * {@link StateRecord}, the group's and the values' texts go in as they are:
 * Flink's own JSON_OBJECT texts, compact with their members in key order, which is what JSON()
 * parsing and writing them again gives. The share is a DOUBLE written as the nested impact
 * object has it ({@link JsonText#nested}). tests/flink/test_alert_record.py compares the two on the engine.
 */
public class AlertRecord extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    public @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData alertId,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData tenant,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData monitor,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData status,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData windowStart,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData windowEnd,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData group,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData values,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData condition,
            @DataTypeHint("BIGINT") Long impactDevices,
            @DataTypeHint("BIGINT") Long impactUsers,
            @DataTypeHint("BIGINT") Long activeDevices,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData priority,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData name,
            @DataTypeHint(value = "ARRAY<STRING>", bridgedTo = ArrayData.class) ArrayData tags) {
        StringBuilder out = new StringBuilder(512);
        JsonText.string(out.append("{\"alert_id\":"), alertId);
        JsonText.time(out.append(",\"at\":"), windowEnd);
        out.append(",\"baseline\":null");
        JsonText.string(out.append(",\"condition\":"), condition);
        JsonText.raw(out.append(",\"group\":"), group);
        out.append(",\"impact\":{\"active_devices\":").append(activeDevices);
        out.append(",\"devices\":").append(impactDevices);
        out.append(",\"share\":").append(impactDevices == null || activeDevices == null || activeDevices == 0
                ? "null" : JsonText.nested((double) impactDevices / activeDevices));
        out.append(",\"users\":").append(impactUsers).append('}');
        JsonText.string(out.append(",\"monitor\":"), monitor);
        JsonText.string(out.append(",\"name\":"), name);
        JsonText.string(out.append(",\"priority\":"), priority);
        JsonText.string(out.append(",\"status\":"), status);
        out.append(",\"tags\":");
        if (tags == null) {
            out.append("null");
        } else {
            out.append('[');
            for (int i = 0; i < tags.size(); i++) {
                JsonText.string(out.append(i == 0 ? "" : ","), tags.isNullAt(i) ? null : tags.getString(i));
            }
            out.append(']');
        }
        JsonText.string(out.append(",\"tenant\":"), tenant);
        JsonText.raw(out.append(",\"values\":"), values);
        JsonText.time(out.append(",\"window\":{\"end\":"), windowEnd);
        JsonText.time(out.append(",\"start\":"), windowStart);
        return StringData.fromString(out.append("}}").toString());
    }
}
