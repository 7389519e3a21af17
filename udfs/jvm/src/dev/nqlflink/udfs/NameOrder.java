package dev.nqlflink.udfs;

import java.util.Arrays;

/** The order of names (String#compareTo, as Flink's JSON writes an object's members and a slice its groups). */
final class NameOrder {
    /** Up to this many names, an insertion sort without boxing. */
    private static final int FEW = 8;

    private NameOrder() {
    }

    /** The indices 0 .. k - 1 of {@code names} in the order of their names. */
    static int[] of(String[] names, int k) {
        int[] order = new int[k];
        if (k > FEW) {
            Integer[] boxed = new Integer[k];
            for (int g = 0; g < k; g++) {
                boxed[g] = g;
            }
            Arrays.sort(boxed, (a, b) -> names[a].compareTo(names[b]));
            for (int g = 0; g < k; g++) {
                order[g] = boxed[g];
            }
            return order;
        }
        for (int g = 0; g < k; g++) {
            int at = g;
            while (at > 0 && names[order[at - 1]].compareTo(names[g]) > 0) {
                order[at] = order[at - 1];
                at--;
            }
            order[at] = g;
        }
        return order;
    }
}
