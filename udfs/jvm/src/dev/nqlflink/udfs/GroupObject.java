package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code nql_group_object(name1, value1, name2, value2, ...)}: a group's keys of STRING values as
 * the text {@code JSON_OBJECT(name1 VALUE value1, name2 VALUE value2, ...)} gives (NULL ON NULL,
 * Flink's default), byte for byte: the members in key order as Flink writes them, each value
 * quoted and escaped as Flink's shaded Jackson does ({@link JsonText}), or {@code null}.
 *
 * <p>Why: JSON_OBJECT builds a Jackson tree per call and serializes it through an ObjectMapper.
 * A table's rows view computes one group per distinct group of its shapes for every record,
 * and with 100 distinct shapes those trees were a fifth of the source thread
 * (docs/flink-job-shape.md §7, session 62). The names are distinct literals (a monitor's group
 * keys, given in key order by the compiler: {@code codegen._group}); given in another order
 * they are still written in key order. tests/flink/test_group_object.py compares the two on the
 * engine.
 */
public class GroupObject extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    public @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData... members) {
        int k = members.length / 2;
        String[] names = new String[k];
        for (int i = 0; i < k; i++) {
            names[i] = members[2 * i].toString();
        }
        int[] order = NameOrder.of(names, k);
        StringBuilder out = new StringBuilder(16 * k + 2).append('{');
        for (int j = 0; j < k; j++) {
            int i = order[j];
            if (j > 0) {
                out.append(',');
            }
            JsonText.string(out, names[i], JsonText.UPPER_HEX).append(':');
            JsonText.string(out, members[2 * i + 1]);
        }
        return StringData.fromString(out.append('}').toString());
    }
}
