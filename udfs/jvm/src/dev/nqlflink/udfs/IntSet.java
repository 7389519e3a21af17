package dev.nqlflink.udfs;

import java.util.Arrays;

/**
 * A set of ids (ints of at least 0: a {@link Dictionary}'s) in one array (open addressing,
 * linear probing, at most half full), or, made by {@link #counted}, with a number per id in a
 * second: how many times it was counted in ({@link #count}, gone at 0), or any number
 * ({@link #put}, {@link #removeBelow}).
 *
 * <p>The distinct values of a group in a slice (COUNT DISTINCT), a population's devices, and a
 * {@link RunningWindow}'s counts of them or each value's newest slice. A record adds its values
 * to as many sets as it has shapes: as strings (a hash array beside the keys, each
 * string's hash read from the string) these adds were the largest item of the windows function
 * for 100 distinct shapes (issue 15, docs/flink-job-shape.md §7). An id is its own key: a probe
 * reads one int.
 *
 * <p>Iteration ({@link #slots}, {@link #at}) follows the slots: the same adds in the same order
 * give the same order, which nothing relies on (a set's coding is read back into a set).
 */
final class IntSet {
    static final int EMPTY = -1;
    private int[] keys;
    /** Per slot, the id's number ({@link #counted}); null: a plain set. */
    private int[] counts;
    private int size;
    /** 32 - log2(keys.length): the bits of the spread hash that pick a slot. */
    private int shift;

    IntSet() {
        this(false, 0);
    }

    /** An empty set with room for {@code expected} ids before it grows. */
    IntSet(int expected) {
        this(false, expected);
    }

    private IntSet(boolean counted, int expected) {
        int capacity = capacityFor(Math.min(expected, 1 << 20));
        keys = empty(capacity);
        counts = counted ? new int[capacity] : null;
        shift = Integer.numberOfLeadingZeros(capacity) + 1;
    }

    /** An empty multiset ({@link #count}). */
    static IntSet counted() {
        return new IntSet(true, 0);
    }

    int size() {
        return size;
    }

    /** Adds {@code id} if it is not there; whether it was not. */
    boolean add(int id) {
        int at = slot(id);
        if (keys[at] != EMPTY) {
            return false;
        }
        put(at, id, 0);
        return true;
    }

    boolean contains(int id) {
        return keys[slot(id)] != EMPTY;
    }

    /** Counts each of {@code ids} in {@code by} more times (a multiset; a count reaching 0 removes it). */
    void count(int[] ids, int by) {
        for (int id : ids) {
            int at = slot(id);
            if (keys[at] == EMPTY) {
                if (by != 0) {
                    put(at, id, by);
                }
            } else if ((counts[at] += by) == 0) {
                remove(at);
            }
        }
    }

    /** What {@link #put} returns for an id that was not there. */
    static final int ABSENT = Integer.MIN_VALUE;

    /** Sets the number kept with {@code id} (a {@link #counted} set): the one before, or ABSENT. */
    int put(int id, int value) {
        int at = slot(id);
        if (keys[at] == EMPTY) {
            put(at, id, value);
            return ABSENT;
        }
        int old = counts[at];
        counts[at] = value;
        return old;
    }

    /** Keeps only the ids whose number (a {@link #counted} set) is at least {@code min}. */
    void removeBelow(int min) {
        int kept = 0;
        for (int j = 0; j < keys.length; j++) {
            if (keys[j] != EMPTY && counts[j] >= min) {
                kept++;
            }
        }
        rehash(capacityFor(kept), min);
    }

    /** The ids, in slot order. */
    int[] toArray() {
        int[] out = new int[size];
        int k = 0;
        for (int key : keys) {
            if (key != EMPTY) {
                out[k++] = key;
            }
        }
        return out;
    }

    /** How many slots there are: slot j holds {@link #at}(j), or EMPTY. */
    int slots() {
        return keys.length;
    }

    int at(int slot) {
        return keys[slot];
    }

    /** Slots for {@code expected} ids, at most half full (a power of two, at least 16). */
    private static int capacityFor(int expected) {
        return Integer.highestOneBit(Math.max(8, 2 * expected) - 1) << 1;
    }

    private static int[] empty(int capacity) {
        int[] keys = new int[capacity];
        Arrays.fill(keys, EMPTY);
        return keys;
    }

    /**
     * The slot holding {@code id}, or the empty slot where it goes. Ids are spread over the slots
     * by Fibonacci hashing (the top bits of id times 2^32 / phi): the ids of a set are a tenant's
     * in the order they were first seen, runs and strides that the low bits alone would pile up.
     */
    private int slot(int id) {
        int mask = keys.length - 1;
        for (int i = home(id); ; i = (i + 1) & mask) {
            int k = keys[i];
            if (k == EMPTY || k == id) {
                return i;
            }
        }
    }

    private int home(int id) {
        return (id * 0x9E3779B9) >>> shift;
    }

    private void put(int at, int id, int count) {
        keys[at] = id;
        if (counts != null) {
            counts[at] = count;
        }
        if (++size * 2 > keys.length) {
            rehash(keys.length * 2, Integer.MIN_VALUE);
        }
    }

    /**
     * The ids into new arrays of {@code capacity} slots: all of a plain set's, a counted set's
     * whose number is at least {@code min}.
     */
    private void rehash(int capacity, int min) {
        int[] oldKeys = keys;
        int[] oldCounts = counts;
        keys = empty(capacity);
        counts = oldCounts == null ? null : new int[capacity];
        shift = Integer.numberOfLeadingZeros(capacity) + 1;
        size = 0;
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            int id = oldKeys[j];
            if (id != EMPTY && (oldCounts == null || oldCounts[j] >= min)) {
                int i = home(id);
                while (keys[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                keys[i] = id;
                if (counts != null) {
                    counts[i] = oldCounts[j];
                }
                size++;
            }
        }
    }

    /**
     * Empties a slot, moving back the ids after it that probed past it (so that every id stays
     * reachable from its own slot without an empty one between: no tombstones).
     */
    private void remove(int at) {
        int mask = keys.length - 1;
        int hole = at;
        for (int j = (hole + 1) & mask; keys[j] != EMPTY; j = (j + 1) & mask) {
            int home = home(keys[j]);
            // the id at j stays if its home is cyclically in (hole, j]
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                keys[hole] = keys[j];
                counts[hole] = counts[j];
                hole = j;
            }
        }
        keys[hole] = EMPTY;
        counts[hole] = 0;
        size--;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
