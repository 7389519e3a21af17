package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * One row per argument, in order: the tenants a table's ticks are repeated for
 * ({@code views/table_input.sql.j2}: {@code LATERAL TABLE(nql_each('acme', 'globex'))}), so that
 * the plan has one tick query whatever the number of tenants. Not {@code UNNEST} of a literal
 * array: the planner makes that an uncorrelated Uncollect, which it cannot run in streaming once
 * a statement set is optimized in blocks (tests/flink/test_semantics.py).
 */
@FunctionHint(output = @DataTypeHint("ROW<tenant STRING>"))
public class Each extends TableFunction<Row> {
    private static final long serialVersionUID = 1L;

    public void eval(String... values) {
        for (String v : values) {
            collect(Row.of(v));
        }
    }
}
