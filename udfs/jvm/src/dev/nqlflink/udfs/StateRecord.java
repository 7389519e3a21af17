package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code nql_state_record(tenant, monitor, group_json, state, since, at, due, alert_id)}: the
 * value of an alert-state record (spec/monitors.md, sql/alert_state_record.sql.j2), the text
 *
 * <pre>JSON_OBJECT('tenant' VALUE tenant, 'monitor' VALUE monitor, 'group' VALUE JSON(group_json),
 *     'state' VALUE state, 'since' VALUE DATE_FORMAT(since, f), 'at' VALUE DATE_FORMAT(at, f),
 *     'due' VALUE DATE_FORMAT(due, f), 'alert_id' VALUE alert_id NULL ON NULL)</pre>
 *
 * gives, byte for byte (members in key order, as Flink writes them), written directly: that
 * expression parsed the group's text into a tree, built another for the record and serialized
 * it, about a seventh of the windows thread of a job whose groups change state often
 * (docs/flink-job-shape.md §7). The group's text goes in as it is: every path writes it as Flink's
 * JSON_OBJECT does, compact with its members in key order (GroupJson), which is what JSON()
 * parsing and writing it again gives. tests/flink/test_state_record.py compares the two on the
 * engine.
 */
public class StateRecord extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    public @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData tenant,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData monitor,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData group,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData state,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData since,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData at,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData due,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData alertId) {
        StringBuilder out = new StringBuilder(256);
        JsonText.string(out.append("{\"alert_id\":"), alertId);
        JsonText.time(out.append(",\"at\":"), at);
        JsonText.time(out.append(",\"due\":"), due);
        JsonText.raw(out.append(",\"group\":"), group);
        JsonText.string(out.append(",\"monitor\":"), monitor);
        JsonText.time(out.append(",\"since\":"), since);
        JsonText.string(out.append(",\"state\":"), state);
        JsonText.string(out.append(",\"tenant\":"), tenant);
        return StringData.fromString(out.append('}').toString());
    }
}
