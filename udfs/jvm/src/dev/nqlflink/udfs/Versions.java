package dev.nqlflink.udfs;

import java.util.ArrayList;
import java.util.List;

/**
 * One device's inventory versions as {@link InventoryWindows} keeps them (state: device ->
 * {@link #write}): per version, the time it takes effect from and what the shapes read of it,
 * computed once per version by the generated SQL (each distinct group of the shapes that group
 * by inventory attributes, and each distinct filter on them). Oldest first.
 */
final class Versions {
    private Versions() {}

    /** Something in force from its time until the next one's (a device's version, a monitor's config). */
    interface Timed {
        long time();
    }

    /** One version: in force from {@code time} until the next one's. */
    static final class Version implements Timed {
        final long time;
        final String[] groups;
        final Boolean[] keeps;

        Version(long time, String[] groups, Boolean[] keeps) {
            this.time = time;
            this.groups = groups == null ? new String[0] : groups;
            this.keeps = keeps == null ? new Boolean[0] : keeps;
        }

        @Override
        public long time() {
            return time;
        }
    }

    /** The version in force at {@code ts}: the newest taking effect at or before it; null: none. */
    static <V extends Timed> V at(List<V> versions, long ts) {
        V out = null;
        for (V v : versions) {
            if (v.time() > ts) {
                break;
            }
            out = v;
        }
        return out;
    }

    /** The time the version after the one in force at {@code ts} takes over (Long.MAX_VALUE: none yet). */
    static long until(List<? extends Timed> versions, long ts) {
        for (Timed v : versions) {
            if (v.time() > ts) {
                return v.time();
            }
        }
        return Long.MAX_VALUE;
    }

    /**
     * {@code versions} with {@code v} in its place by time (a version of the same time replaced:
     * the later read wins, as in the deduplicated versioned view the temporal join reads), less the
     * versions no lookup at or after {@code from} can find (a newer one is in force by then).
     */
    static <V extends Timed> List<V> add(List<V> versions, V v, long from) {
        List<V> out = new ArrayList<>(versions.size() + 1);
        boolean placed = false;
        for (V old : versions) {
            if (!placed && v.time() <= old.time()) {
                out.add(v);
                placed = true;
                if (v.time() == old.time()) {
                    continue;
                }
            }
            out.add(old);
        }
        if (!placed) {
            out.add(v);
        }
        int first = 0;
        while (first + 1 < out.size() && out.get(first + 1).time() <= from) {
            first++;
        }
        return first == 0 ? out : new ArrayList<>(out.subList(first, out.size()));
    }

    /** What one version holds after its time, written and read back ({@link #write(List, Payload)}). */
    interface Payload<V> {
        void write(Bytes.Writer out, V version);

        V read(long time, Bytes.Reader in);
    }

    /** A list of versions, oldest first: their count, then each one's time and payload. */
    static <V extends Timed> byte[] write(List<V> versions, Payload<V> payload) {
        Bytes.Writer out = new Bytes.Writer(64);
        out.writeInt(versions.size());
        for (V v : versions) {
            out.writeLong(v.time());
            payload.write(out, v);
        }
        return out.toByteArray();
    }

    static <V> List<V> read(byte[] data, Payload<V> payload) {
        List<V> out = new ArrayList<>();
        if (data == null) {
            return out;
        }
        Bytes.Reader in = new Bytes.Reader(data);
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            out.add(payload.read(in.readLong(), in));
        }
        return out;
    }

    /** A device's version after its time: its groups and keeps (DataOutputStream's format, {@link Bytes}). */
    private static final Payload<Version> INVENTORY = new Payload<>() {
        @Override
        public void write(Bytes.Writer out, Version v) {
            out.writeInt(v.groups.length);
            for (String g : v.groups) {
                out.writeBoolean(g != null);
                if (g != null) {
                    out.writeUTF(g);
                }
            }
            out.writeInt(v.keeps.length);
            for (Boolean k : v.keeps) {
                out.writeByte(k == null ? 2 : k ? 1 : 0);
            }
        }

        @Override
        public Version read(long time, Bytes.Reader in) {
            String[] groups = new String[in.readInt()];
            for (int g = 0; g < groups.length; g++) {
                groups[g] = in.readBoolean() ? in.readUTF() : null;
            }
            Boolean[] keeps = new Boolean[in.readInt()];
            for (int k = 0; k < keeps.length; k++) {
                byte b = in.readByte();
                keeps[k] = b == 2 ? null : b == 1;
            }
            return new Version(time, groups, keeps);
        }
    };

    static byte[] write(List<Version> versions) {
        return write(versions, INVENTORY);
    }

    static List<Version> read(byte[] data) {
        return read(data, INVENTORY);
    }
}
