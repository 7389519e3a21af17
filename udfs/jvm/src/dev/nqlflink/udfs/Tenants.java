package dev.nqlflink.udfs;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * What a windows function's instance keeps per tenant beside its state: one object per tenant,
 * found with one lookup per row, the least recently used tenants forgotten beyond {@link #LIMIT}
 * tenants and running windows in all (memory bounded whatever the number of tenants). Everything
 * here is derived from the state, or found again from it when missing.
 *
 * <p>Why one object: a record read its tenant's decoded clock, whether its state was checked
 * against the spec, whether its inventory was checked, whether it reads the inventory and the
 * time bucket whose timers were set last, and a window its tenant's running windows and strings,
 * each from a map of its own. With one tenant those maps stay in the CPU's caches; with a hundred
 * tenants taking turns each lookup found its table slot, entry and key out of the caches
 * (docs/flink-job-shape.md §7, session 58).
 */
final class Tenants {
    /** The most tenants and running windows kept (each tenant counts once, and once per window). */
    static final int LIMIT = 10_000;
    /** A tenant's dictionary is replaced beyond this many strings and SPARE times its windows' values. */
    static final int STRINGS = 4_096;
    static final int SPARE = 4;

    /** One tenant's entry. */
    static final class Tenant {
        private final Tenants owner;
        /** Whether the tenant's state was brought to the spec (WindowsFunction#checkSpec). */
        boolean upToDate;
        /** Whether the tenant's inventory versions were checked against the spec's digest (InventoryWindows). */
        boolean inventoryChecked;
        /** Whether a shape reading the inventory serves a monitor of the tenant (null: not known yet). */
        Boolean readsInventory;
        /**
         * The last time bucket whose first record set its windows' timers in this instance under
         * the spec (null: none since a restore, a spec change or the tenant was forgotten): its
         * successor sets only the timers of the windows it starts.
         */
        Long timersSet;
        /** The tenant's clock as decoded from {@link #clockBytes} (null: none kept). */
        private TenantClock clock;
        private byte[] clockBytes;
        /** The shapes' last evaluated windows ({@link RunningWindow}). */
        private final Map<String, RunningWindow> windows = new HashMap<>();
        /** {@link #dictionary()}. */
        private Dictionary dictionary = new Dictionary();
        /** No time bucket in the tenant's state is lower ({@link #oldestBucket}). */
        private long oldestBucket = Long.MIN_VALUE;

        private Tenant(Tenants owner) {
            this.owner = owner;
        }

        /** The clock stored as {@code stored} (null: none yet), decoded once while its bytes are the same. */
        TenantClock clock(byte[] stored, Function<byte[], TenantClock> read) {
            if (clock != null && Decoded.same(clockBytes, stored)) {
                return clock;
            }
            TenantClock decoded = read.apply(stored);
            if (stored != null) {
                keepClock(stored, decoded);
            }
            return decoded;
        }

        /** {@code clock} as written in {@code bytes}. */
        void keepClock(byte[] bytes, TenantClock clock) {
            this.clockBytes = bytes;
            this.clock = clock;
        }

        /** The shape's running window (null: none kept). */
        RunningWindow window(String shape) {
            return windows.get(shape);
        }

        void keepWindow(String shape, RunningWindow w) {
            if (windows.put(shape, w) == null) {
                owner.size++;
                owner.trim(this);
            }
        }

        void dropWindow(String shape) {
            if (windows.remove(shape) != null) {
                owner.size--;
            }
        }

        /**
         * The tenant's strings (devices, distinct values) numbered, for the records its folds read
         * ({@link ShapeState.Open#read}) and the slices and running windows made from them, which
         * hold their ids. Forgotten with the tenant.
         */
        Dictionary dictionary() {
            return dictionary;
        }

        /**
         * {@link #dictionary()}, replaced by an empty one (and the running windows, whose ids it
         * numbers, dropped: rebuilt from the slices' strings) once it holds more than
         * {@link #STRINGS} strings and {@link #SPARE} times the values its windows count, so that
         * values seen once (sessions that ended) do not pile up. Only a fold calls it, before it
         * reads anything: no slice of another dictionary is in use then.
         */
        Dictionary trimmedDictionary() {
            if (dictionary.size() > STRINGS) {
                long held = 0;
                for (RunningWindow w : windows.values()) {
                    held += w.values();
                }
                if (dictionary.size() > SPARE * held) {
                    dictionary = new Dictionary();
                    owner.size -= windows.size();
                    windows.clear();
                }
            }
            return dictionary;
        }

        /**
         * A bound of the tenant's time buckets in its state ({@link ShapeState#forgetBuckets}):
         * none is lower. Set there, lowered by each bucket added since; Long.MIN_VALUE when
         * unknown (the tenant forgotten, or never set).
         */
        long oldestBucket() {
            return oldestBucket;
        }

        void oldestBucket(long bucket) {
            oldestBucket = bucket;
        }

        /** A bucket added to the tenant's state: the bound lowered to it, if it was known. */
        void bucketAdded(long bucket) {
            if (oldestBucket != Long.MIN_VALUE) {
                oldestBucket = Math.min(oldestBucket, bucket);
            }
        }
    }

    private final LinkedHashMap<String, Tenant> byId = new LinkedHashMap<>(16, 0.75f, true);
    /** Tenants plus their running windows. */
    private int size;
    private final int limit;
    /** The tenant found last and its id's instance: the calls of one row find it again by identity. */
    private String lastId;
    private Tenant last;

    Tenants() {
        this(LIMIT);
    }

    /** At most {@code limit} tenants and running windows kept. */
    Tenants(int limit) {
        this.limit = limit;
    }

    /** The tenant's entry, made if missing. */
    Tenant get(String tenant) {
        if (tenant == lastId && last != null) {
            return last;
        }
        Tenant t = byId.get(tenant);
        if (t == null) {
            t = new Tenant(this);
            byId.put(tenant, t);
            size++;
            trim(t);
        }
        lastId = tenant;
        last = t;
        return t;
    }

    /** Forgets every tenant (another spec: what they hold was found under the old one). */
    void clear() {
        byId.clear();
        size = 0;
        lastId = null;
        last = null;
    }

    /** Forgets the least recently used tenants other than {@code keep} beyond the limit. */
    private void trim(Tenant keep) {
        Iterator<Map.Entry<String, Tenant>> eldest = byId.entrySet().iterator();
        while (size > limit && byId.size() > 1) {
            Tenant t = eldest.next().getValue();
            if (t != keep) {
                size -= 1 + t.windows.size();
                eldest.remove();
                if (t == last) {
                    lastId = null;
                    last = null;
                }
            }
        }
    }
}
