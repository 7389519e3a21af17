package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.ScalarFunction;

import java.util.IdentityHashMap;
import java.util.Map;

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
 * they are still written in key order. The names' escaped text and order are worked out once
 * per call site, not per record. tests/flink/test_group_object.py compares the two on the engine.
 */
public class GroupObject extends ScalarFunction {
    private static final long serialVersionUID = 1L;
    /** At most this many call sites' layouts kept (a Calc has one per distinct group). */
    private static final int LAYOUTS = 256;

    /** Each call site's names, by the instance of its first name: Flink passes a literal's same instance per call. */
    private transient Map<StringData, Layout> layouts;

    /** A call site's names, each member's {@code {"name":} or {@code ,"name":} in key order, written once. */
    private static final class Layout {
        final StringData[] names;
        final String[] prefixes;
        final int[] order;

        Layout(StringData[] members) {
            int k = members.length / 2;
            names = new StringData[k];
            String[] text = new String[k];
            for (int i = 0; i < k; i++) {
                names[i] = members[2 * i];
                text[i] = names[i].toString();
            }
            order = NameOrder.of(text, k);
            prefixes = new String[k];
            for (int j = 0; j < k; j++) {
                StringBuilder p = new StringBuilder().append(j == 0 ? '{' : ',');
                prefixes[j] = JsonText.string(p, text[order[j]], JsonText.UPPER_HEX).append(':').toString();
            }
        }

        /** Whether {@code members} names these very instances. */
        boolean names(StringData[] members) {
            if (members.length != 2 * names.length) {
                return false;
            }
            for (int i = 0; i < names.length; i++) {
                if (members[2 * i] != names[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    public @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData... members) {
        if (members.length < 2) {
            return StringData.fromString("{}");
        }
        if (layouts == null) {
            layouts = new IdentityHashMap<>();
        }
        Layout layout = layouts.get(members[0]);
        if (layout == null || !layout.names(members)) {
            layout = new Layout(members);
            if (layouts.size() < LAYOUTS) {
                layouts.put(members[0], layout);
            }
        }
        StringBuilder out = new StringBuilder(32 * layout.order.length);
        for (int j = 0; j < layout.order.length; j++) {
            JsonText.string(out.append(layout.prefixes[j]), members[2 * layout.order[j] + 1]);
        }
        return StringData.fromString(out.append('}').toString());
    }
}
