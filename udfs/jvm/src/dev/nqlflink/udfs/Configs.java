package dev.nqlflink.udfs;

import org.apache.flink.types.Row;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The monitor configs a windows function keeps ({@link WindowsFunction}, state: monitor ->
 * {@link #write}, per tenant), so that its 'eval' rows carry the config in force at their
 * window's time and the job judges them without a temporal join (docs/sharing.md, "The configs
 * in the windows function"). A config row of the input ({@code nql_config} not NULL) is
 * {@code ROW<monitor, <the fields of TYPE>>}, taking effect at the row's time ({@code updated_at});
 * an 'eval' row's {@code nql_config} is the fields of the newest version taking effect at or
 * before the window's time (a version of the same time replaced by the later read, as in the
 * versioned view the join read), NULL when there is none.
 */
final class Configs {
    private Configs() {}

    /**
     * An 'eval' row's config: the config record's fields the judgement and the alert record
     * read, in the order of translator/flink/monitor_config.py's CONFIG_FIELDS (less tenant,
     * monitor and updated_at; tests/udfs/test_configs.py checks the two agree).
     */
    static final String TYPE = "ROW<enabled BOOLEAN, priority STRING, name STRING, tags ARRAY<STRING>, "
            + "params MAP<STRING, DOUBLE>, for_ms BIGINT, recover_for_ms BIGINT, trigger_condition STRING, "
            + "recover_condition STRING>";
    /** The position of {@code params} in {@link #TYPE}: what a judgement reads ({@link Condition}). */
    static final int PARAMS = 4;
    /** The positions of {@code enabled}, {@code for_ms} and {@code recover_for_ms}: what the alert state reads. */
    static final int ENABLED = 0;
    static final int FOR_MS = 5;
    static final int RECOVER_FOR_MS = 6;

    /** One version of a monitor's config: its fields, in force from {@code time}. */
    static final class Config implements Versions.Timed {
        final long time;
        final Object[] values;

        Config(long time, Object[] values) {
            this.time = time;
            this.values = values;
        }

        /** A config row of the input: ROW&lt;monitor, fields...&gt;. */
        static Config of(long time, Row row) {
            Object[] values = new Object[row.getArity() - 1];
            for (int i = 0; i < values.length; i++) {
                values[i] = row.getField(i + 1);
            }
            return new Config(time, values);
        }

        @Override
        public long time() {
            return time;
        }

        /** Its fields as a row, made once (read by every evaluation of its monitor, never changed). */
        Row row() {
            if (row == null) {
                row = Row.of(values);
            }
            return row;
        }

        /**
         * What {@code make} derives from this version for {@code owner}, made once and kept with
         * it while the owner is the same (a monitor's conditions bound to its parameters, read
         * at every evaluation of the monitor; a version never changes).
         */
        @SuppressWarnings("unchecked")
        <T> T derived(Object owner, java.util.function.Function<Config, T> make) {
            if (derivedFor != owner) {
                derived = make.apply(this);
                derivedFor = owner;
            }
            return (T) derived;
        }

        private transient Row row;
        private transient Object derivedFor;
        private transient Object derived;
    }

    // the coding of one value: a tag, then the value
    private static final byte NULL = 0;
    private static final byte BOOLEAN = 1;
    private static final byte STRING = 2;
    private static final byte STRINGS = 3;
    private static final byte MAP = 4;
    private static final byte LONG = 5;
    private static final byte DOUBLE = 6;

    /** Each version's values after its time: their count, then each tagged. */
    private static final Versions.Payload<Config> VALUES = new Versions.Payload<>() {
        @Override
        public void write(Bytes.Writer out, Config c) {
            out.writeInt(c.values.length);
            for (Object v : c.values) {
                writeValue(out, v);
            }
        }

        @Override
        public Config read(long time, Bytes.Reader in) {
            Object[] values = new Object[in.readInt()];
            for (int k = 0; k < values.length; k++) {
                values[k] = readValue(in);
            }
            return new Config(time, values);
        }
    };

    static byte[] write(List<Config> configs) {
        return Versions.write(configs, VALUES);
    }

    static List<Config> read(byte[] data) {
        return Versions.read(data, VALUES);
    }

    private static void writeValue(Bytes.Writer out, Object v) {
        if (v == null) {
            out.writeByte(NULL);
        } else if (v instanceof Boolean) {
            out.writeByte(BOOLEAN);
            out.writeBoolean((Boolean) v);
        } else if (v instanceof String) {
            // not writeUTF: a name or condition from the topic may be longer than its 64 KB
            byte[] utf8 = ((String) v).getBytes(StandardCharsets.UTF_8);
            out.writeByte(STRING);
            out.writeInt(utf8.length);
            out.write(utf8);
        } else if (v instanceof String[]) {
            String[] a = (String[]) v;
            out.writeByte(STRINGS);
            out.writeInt(a.length);
            for (String s : a) {
                writeValue(out, s);
            }
        } else if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            out.writeByte(MAP);
            out.writeInt(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                writeValue(out, e.getKey());
                writeValue(out, e.getValue());
            }
        } else if (v instanceof Long) {
            out.writeByte(LONG);
            out.writeLong((Long) v);
        } else if (v instanceof Double) {
            out.writeByte(DOUBLE);
            out.writeDouble((Double) v);
        } else {
            throw new IllegalArgumentException("a config value of type " + v.getClass().getName());
        }
    }

    private static Object readValue(Bytes.Reader in) {
        byte tag = in.readByte();
        switch (tag) {
            case NULL:
                return null;
            case BOOLEAN:
                return in.readBoolean();
            case STRING:
                return new String(in.readBytes(in.readInt()), StandardCharsets.UTF_8);
            case STRINGS: {
                String[] a = new String[in.readInt()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (String) readValue(in);
                }
                return a;
            }
            case MAP: {
                int n = in.readInt();
                Map<Object, Object> m = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    Object key = readValue(in);
                    m.put(key, readValue(in));
                }
                return m;
            }
            case LONG:
                return in.readLong();
            case DOUBLE:
                return in.readDouble();
            default:
                throw new IllegalStateException("config value tag " + tag);
        }
    }
}
