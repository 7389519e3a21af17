package dev.nqlflink.udfs;

import org.apache.flink.table.functions.ScalarFunction;

import java.math.BigInteger;

/**
 * {@code nql_version_compare(a, b)}: the order of two versions by their numeric components,
 * left to right (NQL {@code binary.version < v16.0.17000}): -1, 0 or 1; a missing component
 * counts as 0 ({@code 16.0} = {@code 16.0.0}), so {@code 16.0.9} &lt; {@code 16.0.17000} &lt;
 * {@code 16.1}. A leading {@code v} is ignored. NULL when either is NULL or not a version
 * (components of digits separated by single dots), as a comparison with a bad value.
 */
public class VersionCompare extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    public Integer eval(String a, String b) {
        BigInteger[] x = parse(a);
        BigInteger[] y = parse(b);
        if (x == null || y == null) {
            return null;
        }
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            BigInteger p = i < x.length ? x[i] : BigInteger.ZERO;
            BigInteger q = i < y.length ? y[i] : BigInteger.ZERO;
            int c = p.compareTo(q);
            if (c != 0) {
                return c < 0 ? -1 : 1;
            }
        }
        return 0;
    }

    static BigInteger[] parse(String text) {
        if (text == null) {
            return null;
        }
        String t = text.trim();
        if (t.startsWith("v") || t.startsWith("V")) {
            t = t.substring(1);
        }
        String[] parts = t.split("\\.", -1);
        BigInteger[] out = new BigInteger[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty()) {
                return null;
            }
            for (int j = 0; j < p.length(); j++) {
                if (p.charAt(j) < '0' || p.charAt(j) > '9') {
                    return null;
                }
            }
            out[i] = new BigInteger(p);
        }
        return out;
    }
}
