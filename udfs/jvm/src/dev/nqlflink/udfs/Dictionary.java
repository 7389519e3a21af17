package dev.nqlflink.udfs;

import java.util.Arrays;

/**
 * A tenant's strings numbered (devices, users, sessions: the values its distinct sets hold), one
 * instance and one id each, ids from 0 in the order the strings were first seen. The windows
 * function keeps one per tenant beside its state ({@link Tenants.Tenant#dictionary}), never in it:
 * slices are written with their strings, and read back into whichever dictionary the tenant has
 * then. Everything holding ids ({@link IntSet}s of slices and running windows) holds the
 * dictionary they are ids of, and is used only with it.
 */
final class Dictionary {
    private final StringInts ids = new StringInts();
    private String[] strings = new String[64];
    private int size;

    /** The id of {@code v} (not null), numbered now if it has none. */
    int id(String v) {
        int id = ids.putIfAbsent(v, size);
        if (id != StringInts.ABSENT) {
            return id;
        }
        if (size == strings.length) {
            strings = Arrays.copyOf(strings, 2 * size);
        }
        strings[size] = v;
        return size++;
    }

    /** The string numbered {@code id}: the one instance of its value here. */
    String string(int id) {
        return strings[id];
    }

    int size() {
        return size;
    }

    /** {@code ids} as a slice's state holds a set: its size, then each id's string. */
    void write(IntSet ids, Bytes.Writer out) {
        out.writeInt(ids.size());
        for (int j = 0; j < ids.slots(); j++) {
            int id = ids.at(j);
            if (id != IntSet.EMPTY) {
                out.writeUTF(string(id));
            }
        }
    }

    /** The {@code k} strings that follow in {@code in} ({@link #write}) numbered into {@code into} (null: skipped). */
    void read(Bytes.Reader in, int k, IntSet into) {
        for (int i = 0; i < k; i++) {
            String v = in.readUTF();
            if (into != null) {
                into.add(id(v));
            }
        }
    }
}
