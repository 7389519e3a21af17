package dev.nqlflink.udfs;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code ConditionEval(program, nv, params)}: a {@link Condition} program's value for one
 * evaluation's numeric outputs and parameters. It exists so the project's tests can prove on the
 * engine that a program evaluates as the SQL it replaces, row for row (style rule 9;
 * tests/udfs/test_condition.py, tests/flink/test_judge_programs.py); jobs do not call it. A
 * program that does not parse fails the call. Each program text is parsed once.
 */
public class ConditionEval extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    private transient Map<String, Condition> parsed;

    public Boolean eval(String program, @DataTypeHint("ARRAY<DOUBLE>") Double[] nv,
                        @DataTypeHint("MAP<STRING, DOUBLE>") Map<String, Double> params) {
        if (program == null) {
            return null;
        }
        if (parsed == null) {
            parsed = new HashMap<>();
        }
        return parsed.computeIfAbsent(program, Condition::parse).eval(nv, params);
    }
}
