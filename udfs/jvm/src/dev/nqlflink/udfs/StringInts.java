package dev.nqlflink.udfs;

/**
 * A number per string (open addressing, linear probing, at most half full, the strings' hashes in
 * an array beside them): a {@link Dictionary}'s ids, and a slice's group indices by name
 * ({@link ShapeState.Slice}). A probe compares the hash kept beside the key before the string
 * itself, and nothing is allocated but the arrays. Nothing is ever removed.
 */
final class StringInts {
    /** What {@link #get}, {@link #put} and {@link #putIfAbsent} return for a string that was not there. */
    static final int ABSENT = Integer.MIN_VALUE;

    private String[] keys = new String[16];
    private int[] hashes = new int[16];
    private int[] values = new int[16];
    private int size;

    int size() {
        return size;
    }

    /** The number kept with {@code v}, or ABSENT. */
    int get(String v) {
        int at = slot(v, hash(v));
        return keys[at] == null ? ABSENT : values[at];
    }

    /** Sets the number kept with {@code v}: the one before, or ABSENT. */
    int put(String v, int value) {
        int h = hash(v);
        int at = slot(v, h);
        if (keys[at] == null) {
            insert(at, v, h, value);
            return ABSENT;
        }
        int old = values[at];
        values[at] = value;
        return old;
    }

    /** The number kept with {@code v}; {@code value} kept with it if it has none (then ABSENT). */
    int putIfAbsent(String v, int value) {
        int h = hash(v);
        int at = slot(v, h);
        if (keys[at] == null) {
            insert(at, v, h, value);
            return ABSENT;
        }
        return values[at];
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

    private void insert(int at, String v, int h, int value) {
        keys[at] = v;
        hashes[at] = h;
        values[at] = value;
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldHashes = hashes;
        int[] oldValues = values;
        int capacity = 2 * oldKeys.length;
        keys = new String[capacity];
        hashes = new int[capacity];
        values = new int[capacity];
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != null) {
                int i = oldHashes[j] & mask;
                while (keys[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                hashes[i] = oldHashes[j];
                values[i] = oldValues[j];
            }
        }
    }
}
