"""udfs/jvm Partial.percentile: Flink's PERCENTILE (position p * (n - 1) in the values sorted,
linear between the closest ranks), found by selecting the two ranks it needs, not by sorting.
Checked without an engine against the definition computed here from a sorted copy, on values
that are runs in order (as a window's slices give them), runs reversed, many ties, -0.0 and 0.0,
and NaN, for every p of a grid and sizes 1 to 40; and by hand on one small case."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class PercentileCheck {
    static Partial.Doubles of(double... v) {
        Partial.Doubles d = new Partial.Doubles();
        for (double x : v) {
            d.add(x);
        }
        return d;
    }

    /** The definition: sort, then interpolate between floor and ceil of p * (n - 1). */
    static double expected(double[] values, double p) {
        double[] v = values.clone();
        Arrays.sort(v);
        double pos = p * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return lo == hi ? v[lo] : v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    public static void main(String[] args) {
        // 10, 20, 30, 40: p=0.5 -> position 1.5 -> 20 + 0.5 * 10; p=0.95 -> 2.85 -> 30 + 0.85 * 10
        System.out.println("hand " + Partial.percentile(of(40, 10, 30, 20), 0.5) + " "
                           + Partial.percentile(of(40, 10, 30, 20), 0.95) + " "
                           + Partial.percentile(of(7), 0.95) + " " + Partial.percentile(of(), 0.5));
        Random random = new Random(15);
        double[] pool = {-0.0, 0.0, 1.5, -3, Double.NaN, 250, 250, 1e9, Double.NEGATIVE_INFINITY};
        int cases = 0;
        for (int n = 1; n <= 40; n++) {
            for (int shape = 0; shape < 4; shape++) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = shape == 3 ? pool[random.nextInt(pool.length)] : random.nextInt(shape == 2 ? 3 : 1000);
                }
                if (shape < 2) {
                    // runs in order (slices of a window), reversed in shape 1
                    for (int at = 0; at < n; at += 7) {
                        Arrays.sort(v, at, Math.min(n, at + 7));
                    }
                    if (shape == 1) {
                        for (int i = 0; i < n / 2; i++) {
                            double t = v[i];
                            v[i] = v[n - 1 - i];
                            v[n - 1 - i] = t;
                        }
                    }
                }
                for (int step = 0; step <= 20; step++) {
                    double q = step / 20.0;
                    double got = Partial.percentile(of(v), q);
                    double want = expected(v, q);
                    if (Double.doubleToLongBits(got) != Double.doubleToLongBits(want)) {
                        System.out.println("differs " + Arrays.toString(v) + " p=" + q + ": " + got + " vs " + want);
                        return;
                    }
                    cases++;
                }
            }
        }
        System.out.println("cases " + cases);
    }
}
"""


def test_a_percentile_is_the_definitions_bit_for_bit(tmp_path):
    lines = run_java_check(tmp_path, "PercentileCheck", CHECK).splitlines()
    assert lines == ["hand 25.0 38.5 7.0 null", f"cases {40 * 4 * 21}"]
