package dev.nqlflink.udfs;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A set of strings in two arrays (open addressing, linear probing, at most half full), or, made
 * by {@link #counted}, with a number per string in a third: how many times it was counted in
 * ({@link #count}, gone at 0), or any number ({@link #put}, {@link #removeBelow}).
 *
 * <p>The distinct values of a group in a slice (COUNT DISTINCT), a population's devices, and a
 * {@link RunningWindow}'s counts of them or each value's newest slice: a record adds its values to as many sets as it has
 * shapes, so these were the largest item of the windows function for 100 distinct shapes as
 * {@code HashSet}s and {@code HashMap}s (a node allocated per value, a boxed count, a pointer
 * chased per probe; issue 15, docs/flink-job-shape.md §7). Here a probe compares the hash kept
 * beside the key before the string itself, and nothing is allocated but the arrays.
 *
 * <p>Iteration follows the slots: the same adds in the same order give the same order, which
 * nothing relies on (a set's coding is read back into a set).
 */
final class StringSet implements Iterable<String> {
    private String[] keys;
    private int[] hashes;
    /** Per slot, the string's count ({@link #counted}); null: a plain set. */
    private int[] counts;
    private int size;

    StringSet() {
        this(false, 0);
    }

    /** An empty set with room for {@code expected} strings before it grows. */
    StringSet(int expected) {
        this(false, expected);
    }

    private StringSet(boolean counted, int expected) {
        int capacity = capacityFor(Math.min(expected, 1 << 20));
        keys = new String[capacity];
        hashes = new int[capacity];
        counts = counted ? new int[capacity] : null;
    }

    /** An empty multiset ({@link #count}). */
    static StringSet counted() {
        return new StringSet(true, 0);
    }

    int size() {
        return size;
    }

    /** Adds {@code v} (not null) if it is not there; whether it was not. */
    boolean add(String v) {
        int h = hash(v);
        int at = slot(v, h);
        if (keys[at] != null) {
            return false;
        }
        put(at, v, h, 0);
        return true;
    }

    boolean contains(String v) {
        return keys[slot(v, hash(v))] != null;
    }

    /** Counts each of {@code values} in {@code by} more times (a multiset; a count reaching 0 removes it). */
    void count(String[] values, int by) {
        for (String v : values) {
            int h = hash(v);
            int at = slot(v, h);
            if (keys[at] == null) {
                if (by != 0) {
                    put(at, v, h, by);
                }
            } else if ((counts[at] += by) == 0) {
                remove(at);
            }
        }
    }

    /** What {@link #put} returns for a string that was not there. */
    static final int ABSENT = Integer.MIN_VALUE;

    /** Sets the number kept with {@code v} (a {@link #counted} set): the one before, or ABSENT. */
    int put(String v, int value) {
        int h = hash(v);
        int at = slot(v, h);
        if (keys[at] == null) {
            put(at, v, h, value);
            return ABSENT;
        }
        int old = counts[at];
        counts[at] = value;
        return old;
    }

    /** The number kept with {@code v} (a {@link #counted} set), or ABSENT. */
    int get(String v) {
        int at = slot(v, hash(v));
        return keys[at] == null ? ABSENT : counts[at];
    }

    /** Keeps only the strings whose number (a {@link #counted} set) is at least {@code min}. */
    void removeBelow(int min) {
        int kept = 0;
        for (int j = 0; j < keys.length; j++) {
            if (keys[j] != null && counts[j] >= min) {
                kept++;
            }
        }
        rehash(capacityFor(kept), min);
    }

    /** Slots for {@code expected} strings, at most half full (a power of two, at least 16). */
    private static int capacityFor(int expected) {
        return Integer.highestOneBit(Math.max(8, 2 * expected) - 1) << 1;
    }

    String[] toArray() {
        String[] out = new String[size];
        int k = 0;
        for (String key : keys) {
            if (key != null) {
                out[k++] = key;
            }
        }
        return out;
    }

    @Override
    public Iterator<String> iterator() {
        return new Iterator<>() {
            private int at = next(0);

            private int next(int from) {
                while (from < keys.length && keys[from] == null) {
                    from++;
                }
                return from;
            }

            @Override
            public boolean hasNext() {
                return at < keys.length;
            }

            @Override
            public String next() {
                if (at >= keys.length) {
                    throw new NoSuchElementException();
                }
                String v = keys[at];
                at = next(at + 1);
                return v;
            }
        };
    }

    /**
     * String's hash, its bits mixed (murmur3's finalizer): the low bits pick the slot, and ids
     * that differ in a few digits have hashes that differ in a few low bits.
     */
    private static int hash(String v) {
        int h = v.hashCode();
        h = (h ^ (h >>> 16)) * 0x85EBCA6B;
        h = (h ^ (h >>> 13)) * 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    /** The slot holding {@code v}, or the empty slot where it goes. */
    private int slot(String v, int h) {
        int mask = keys.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            String k = keys[i];
            if (k == null || (hashes[i] == h && (k == v || k.equals(v)))) {
                return i;
            }
        }
    }

    private void put(int at, String v, int h, int count) {
        keys[at] = v;
        hashes[at] = h;
        if (counts != null) {
            counts[at] = count;
        }
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    private void grow() {
        rehash(keys.length * 2, Integer.MIN_VALUE);
    }

    /**
     * The strings into new arrays of {@code capacity} slots: all of a plain set's, a counted
     * set's whose number is at least {@code min}.
     */
    private void rehash(int capacity, int min) {
        String[] oldKeys = keys;
        int[] oldHashes = hashes;
        int[] oldCounts = counts;
        keys = new String[capacity];
        hashes = new int[capacity];
        counts = oldCounts == null ? null : new int[capacity];
        size = 0;
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != null && (oldCounts == null || oldCounts[j] >= min)) {
                int i = oldHashes[j] & mask;
                while (keys[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                hashes[i] = oldHashes[j];
                if (counts != null) {
                    counts[i] = oldCounts[j];
                }
                size++;
            }
        }
    }

    /**
     * Empties a slot, moving back the strings after it that probed past it (so that every string
     * stays reachable from its own slot without an empty one between: no tombstones).
     */
    private void remove(int at) {
        int mask = keys.length - 1;
        int hole = at;
        for (int j = (hole + 1) & mask; keys[j] != null; j = (j + 1) & mask) {
            int home = hashes[j] & mask;
            // the string at j stays if its home is cyclically in (hole, j]
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                keys[hole] = keys[j];
                hashes[hole] = hashes[j];
                counts[hole] = counts[j];
                hole = j;
            }
        }
        keys[hole] = null;
        counts[hole] = 0;
        size--;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
