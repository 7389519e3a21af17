package dev.nqlflink.udfs;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * State entries kept decoded between calls of a function (not state: a cache, rebuilt from the
 * state when missing): each decoded value stands for the bytes it was read from, and is used
 * again only for the same bytes. The heap state backend returns the array it holds until the
 * entry is written again (same array: no compare); another backend returns a copy at each read
 * (compared byte for byte: still no decode). Least recently used entries go beyond the capacity,
 * so the memory is bounded whatever the number of keys; a function that reads more keys in a
 * cycle than that decodes each again, as it would without the cache.
 *
 * <p>A value is shared by every caller that reads the same bytes: a caller that changes it must
 * write its bytes back and {@link #put} the value with them (the next reader gets it).
 *
 * <p>A function whose every write of an entry goes through {@link #put} or {@link #remove}
 * may also take a value without reading the entry at all ({@link #cached}): keyed state is
 * written by its own function instance only, and a new instance (a restore, a rescale)
 * starts with an empty cache. That spares a state read per use, which on the heap backend
 * is a map lookup per entry and on RocksDB a read and a copy.
 */
final class Decoded {
    private final Map<Object, Value> entries;
    /**
     * How many kept values have stopped being live ({@link Value#live}: replaced, removed or
     * dropped) or been added: a caller that derived something from kept values may use it again
     * while this is unchanged, without looking each of them up.
     */
    private long epoch;

    Decoded(int capacity) {
        entries = lru(capacity, dropped -> {
            dropped.live = false;
            epoch++;
        });
    }

    /** {@link #epoch}: unchanged while every value kept is the one it was, and none was added. */
    long epoch() {
        return epoch;
    }

    /** A map that drops its least recently used entry beyond {@code capacity}. */
    static <K, V> Map<K, V> lru(int capacity) {
        return lru(capacity, dropped -> { });
    }

    /** {@link #lru(int)}, each value dropped given to {@code dropped}. */
    private static <K, V> Map<K, V> lru(int capacity, java.util.function.Consumer<V> dropped) {
        return new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() <= capacity) {
                    return false;
                }
                dropped.accept(eldest.getValue());
                return true;
            }
        };
    }

    /** The value of {@code stored} (the entry's bytes as just read, null: none) under {@code key}. */
    @SuppressWarnings("unchecked")
    <T> T get(Object key, byte[] stored, Function<byte[], T> read) {
        Value cached = entries.get(key);
        if (cached != null && same(cached.bytes, stored)) {
            return (T) cached.value;
        }
        T value = read.apply(stored);
        if (stored != null) {
            replace(key, new Value(stored, value));
        }
        return value;
    }

    /** Whether bytes kept with a decoded value are those just read from the state (null: none read). */
    static boolean same(byte[] kept, byte[] stored) {
        return kept == stored || stored != null && Arrays.equals(kept, stored);
    }

    /**
     * The value last read or put under {@code key}, without its entry's bytes (null: none
     * kept): for entries written only through this cache.
     */
    @SuppressWarnings("unchecked")
    <T> T cached(Object key) {
        Value cached = entries.get(key);
        return cached == null ? null : (T) cached.value;
    }

    /**
     * The entry kept under {@code key} (null: none), for a caller that holds on to it and takes its
     * value again while it is {@link Value#live} (without a lookup): only for entries written
     * through this cache, as {@link #cached}.
     */
    Value entry(Object key) {
        return entries.get(key);
    }

    /**
     * {@code value} as written in {@code bytes} under {@code key}; the entry kept (the same one,
     * still live, if it held this very value: a value changed in place and written back).
     */
    Value put(Object key, byte[] bytes, Object value) {
        return put(key, bytes, value, null);
    }

    /**
     * {@link #put(Object, byte[], Object)} for a caller that holds the key's entry ({@link #entry}):
     * while it is live it is the one kept, so it is not looked up again.
     */
    Value put(Object key, byte[] bytes, Object value, Value held) {
        Value kept = held != null && held.live ? held : entries.get(key);
        if (kept != null && kept.value == value) {
            kept.bytes = bytes;
            return kept;
        }
        return replace(key, new Value(bytes, value));
    }

    void remove(Object key) {
        Value gone = entries.remove(key);
        if (gone != null) {
            gone.live = false;
            epoch++;
        }
    }

    private Value replace(Object key, Value value) {
        epoch++;
        Value old = entries.put(key, value);
        if (old != null) {
            old.live = false;
        }
        return value;
    }

    /**
     * The key of a tenant's entry (both not null): equal for equal strings, its hash from theirs
     * (cached by String), so that a lookup neither concatenates nor hashes their characters again.
     */
    static final class Key {
        final String tenant;
        final String entry;
        private final int hash;

        Key(String tenant, String entry) {
            this.tenant = tenant;
            this.entry = entry;
            this.hash = 31 * tenant.hashCode() + entry.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && ((Key) o).hash == hash && ((Key) o).tenant.equals(tenant)
                    && ((Key) o).entry.equals(entry);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** A kept entry: its bytes and their value; not {@code live} once replaced, removed or dropped. */
    static final class Value {
        private byte[] bytes;
        final Object value;
        boolean live = true;

        Value(byte[] bytes, Object value) {
            this.bytes = bytes;
            this.value = value;
        }
    }
}
