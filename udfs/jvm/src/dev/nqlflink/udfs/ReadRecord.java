package dev.nqlflink.udfs;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.data.binary.BinaryStringDataUtil;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.TypeInference;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code nql_read(line, schema)}: one raw JSON line read once, into a ROW of the typed fields
 * a job uses and the first reason the record cannot be used (docs/flink-job-shape.md §1,
 * "Dead-letter reasons"). It replaces a JSON_VALUE / JSON_QUERY per field, IS JSON OBJECT,
 * ENCODE and TO_TIMESTAMP, each of which parsed the line again, with the same results: the
 * line is accepted and its values read as those functions parse it (Flink's SqlJsonUtils:
 * Jackson's whole-tree parse with floats as BigDecimal, read by jayway's JacksonJsonProvider),
 * a path is walked as their dotted paths are (a missing step, a step through a non-object,
 * null: missing), and values are cast with Flink's own casts (BinaryStringDataUtil,
 * DateTimeUtils). The line is read by Jackson's streaming parser ({@link JsonPaths}): only the
 * declared paths become values, the rest is only checked (issue 15: building the whole tree was
 * most of this function's cost).
 *
 * <p>{@code schema} is a literal (the result type is inferred from it): entries separated by
 * {@code ,}, each {@code <column> <role> <path> [<type or argument>]}:
 *
 * <ul>
 *   <li>{@code tenant}: JSON_VALUE text; {@code missing_tenant} when missing or empty;
 *   <li>{@code time <path> <skew ms>}: the event time, {@code yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}, as
 *       a non-null rowtime: the epoch when it is missing ({@code missing_event_time}),
 *       unparsable ({@code bad_event_time}) or more than the skew ahead of the processing
 *       clock ({@code future}; the clock is read here, so the function is not deterministic);
 *   <li>{@code key}: JSON_VALUE text; {@code missing_key:<path>} when missing;
 *   <li>{@code version <path> [<skew ms>]}: a time as {@code time} reads it, the epoch when
 *       unparsable ({@code bad_version_time:<path>}) or, with a skew, more than the skew ahead of
 *       the processing clock ({@code future});
 *   <li>{@code field <path> <type>}: a field a monitor reads, {@code bad_type:<path>} when
 *       present, not null and not of its type: {@code string} (JSON_VALUE text, never bad),
 *       {@code float} (a JSON number finite as a DOUBLE), {@code int} (a JSON number whose
 *       value is whole and in BIGINT range), {@code bool} (true or false), {@code datetime}
 *       (a time as {@code time} reads it: ISO-8601 UTC; a SQL CAST refused valid records),
 *       {@code strings} (an array of strings or nulls: ARRAY&lt;STRING&gt;), {@code numbers} (an
 *       object whose members are numbers finite as a DOUBLE, or nulls: MAP&lt;STRING, DOUBLE&gt;).
 * </ul>
 *
 * <p>The result is {@code ROW<nql_reason STRING, <column> <type>...> NOT NULL}; the reasons are
 * checked not_utf8, not_json, then the entries in schema order ({@code future} right after its
 * time entry). A record with a reason still gets every value that could be read.
 */
public class ReadRecord extends ScalarFunction {
    private static final long serialVersionUID = 1L;
    private static final TimestampData EPOCH = TimestampData.fromEpochMillis(0);
    // Jackson's defaults, as the ObjectMapper of org.apache.flink.table.runtime.functions.SqlJsonUtils
    private static final JsonFactory JSON = new JsonFactory();
    // The parser's limit on a string's length applies to the strings it materializes: a line
    // longer than this could hold a skipped string the tree parse would have refused.
    private static final int MAX_STRING = JSON.streamReadConstraints().getMaxStringLength();

    private transient String schemaText;
    private transient Entry[] entries;
    private transient JsonPaths paths;
    // The last record read and its row: the rowtime column of the raw source calls the function
    // again on the same line in the same Calc (a computed column cannot read another one).
    private transient byte[] lastBytes;
    private transient RowData lastRow;

    @Override
    public boolean isDeterministic() {
        return false;  // `future` reads the processing clock
    }

    @Override
    public void open(FunctionContext context) {
        schemaText = null;
        lastBytes = null;
    }


    public RowData eval(StringData line, String schema) {
        if (schema != schemaText && !schema.equals(schemaText)) {
            entries = parse(schema);
            String[] p = new String[entries.length];
            boolean[] whole = new boolean[entries.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = entries[i].pathText;
                whole[i] = entries[i].whole();
            }
            paths = new JsonPaths(p, whole);
            schemaText = schema;
            lastBytes = null;
        }
        byte[] bytes = line == null ? null : ((BinaryStringData) line).toBytes();
        if (bytes != null && lastBytes != null && Arrays.equals(bytes, lastBytes)) {
            return lastRow;
        }
        GenericRowData row = new GenericRowData(entries.length + 1);
        String reason = null;
        boolean utf8 = bytes == null || Utf8.valid(bytes);
        if (!utf8) {
            reason = "not_utf8";
        }
        if (!read(line, bytes, utf8) && reason == null) {
            reason = "not_json";
        }
        long now = System.currentTimeMillis();
        for (int i = 0; i < entries.length; i++) {
            String r = entries[i].read(paths.value(i), row, i + 1, now);
            if (reason == null) {
                reason = r;
            }
        }
        row.setField(0, reason == null ? null : StringData.fromString(reason));
        lastBytes = bytes;
        lastRow = row;
        return row;
    }

    /** Reads the declared paths of the line into {@link #paths}; false when it is not a JSON
     * object (then no path has a value). */
    private boolean read(StringData line, byte[] bytes, boolean utf8) {
        if (line == null) {
            paths.clear();
            return false;
        }
        // Jackson reads bytes in place, but guesses their encoding from the first ones (a zero
        // byte reads as UTF-16 or UTF-32, a UTF-8 BOM is skipped) where the tree parse read the
        // decoded text: only well-formed UTF-8 that opens with "{" and no zero byte is read as
        // bytes (every record of a sane producer); anything else is decoded first, as before.
        boolean inPlace = utf8 && bytes.length > 1 && bytes[0] == '{' && bytes[1] != 0;
        try (JsonParser p = inPlace ? JSON.createParser(bytes) : JSON.createParser(line.toString())) {
            return paths.read(p, bytes.length > MAX_STRING);
        } catch (IOException | RuntimeException e) {
            paths.clear();
            return false;
        }
    }

    /** JSON_VALUE's text: the text of a scalar, NULL for null, an object or an array. */
    static String scalarText(Object v) {
        if (v == null || v == JsonPaths.OBJECT || v == JsonPaths.ARRAY) {
            return null;
        }
        return v.toString();
    }

    static final class Entry {
        final String column;
        final String role;
        final String pathText;
        final String arg;
        /** A version's skew bound in ms (its argument), or -1 without one. */
        final long versionSkew;
        /** An event time's skew bound in ms (its argument). */
        final long timeSkew;
        /** A field's reason when its value is not of its type. */
        final String bad;

        Entry(String column, String role, String pathText, String arg) {
            this.column = column;
            this.role = role;
            this.pathText = pathText;
            this.arg = arg;
            this.versionSkew = "version".equals(role) && arg.matches("\\d+") ? Long.parseLong(arg) : -1;
            this.timeSkew = "time".equals(role) ? Long.parseLong(arg) : 0;
            this.bad = "bad_type:" + pathText;
        }

        /** Whether the entry reads a container (JsonPaths reads its path whole). */
        boolean whole() {
            return "field".equals(role) && ("strings".equals(arg) || "numbers".equals(arg));
        }

        DataType type() {
            switch (role) {
                case "time":
                case "version":
                    return DataTypes.TIMESTAMP(3).notNull();
                case "field":
                    switch (arg) {
                        case "float":
                            return DataTypes.DOUBLE();
                        case "int":
                            return DataTypes.BIGINT();
                        case "bool":
                            return DataTypes.BOOLEAN();
                        case "datetime":
                            return DataTypes.TIMESTAMP(3);
                        case "strings":
                            return DataTypes.ARRAY(DataTypes.STRING());
                        case "numbers":
                            return DataTypes.MAP(DataTypes.STRING(), DataTypes.DOUBLE());
                        default:
                            return DataTypes.STRING();
                    }
                default:
                    return DataTypes.STRING();
            }
        }

        /** Sets the value at {@code pos} and returns this entry's reason, or null. */
        String read(Object v, GenericRowData row, int pos, long now) {
            switch (role) {
                case "tenant": {
                    String s = scalarText(v);
                    row.setField(pos, s == null ? null : StringData.fromString(s));
                    return s == null || s.isEmpty() ? "missing_tenant" : null;
                }
                case "key": {
                    String s = scalarText(v);
                    row.setField(pos, s == null ? null : StringData.fromString(s));
                    return s == null ? "missing_key:" + pathText : null;
                }
                case "time": {
                    String s = scalarText(v);
                    TimestampData t = RecordTime.parse(s);
                    boolean future = t != null && t.getMillisecond() > now + timeSkew;
                    row.setField(pos, t == null || future ? EPOCH : t);
                    return s == null ? "missing_event_time" : t == null ? "bad_event_time" : future ? "future" : null;
                }
                case "version": {
                    TimestampData t = RecordTime.parse(scalarText(v));
                    // with a skew: more than that ahead of the processing clock is `future`, as for
                    // events (an inventory version from a wrong clock would otherwise be the newest
                    // for ever, and every later version read behind it: VersionOrder)
                    boolean future = t != null && versionSkew >= 0 && t.getMillisecond() > now + versionSkew;
                    row.setField(pos, t == null || future ? EPOCH : t);
                    return t == null ? "bad_version_time:" + pathText : future ? "future" : null;
                }
                default:
                    return field(v, row, pos);
            }
        }

        private String field(Object v, GenericRowData row, int pos) {
            switch (arg) {
                case "float": {
                    Double d = number(v);
                    row.setField(pos, d);
                    return v != null && !finite(d) ? bad : null;
                }
                case "int": {
                    Long n = v instanceof Number ? toLong(v.toString()) : null;
                    Double d = number(v);
                    row.setField(pos, n);
                    return v != null && !(n != null && d != null && n.doubleValue() == d) ? bad : null;
                }
                case "bool": {
                    row.setField(pos, v instanceof Boolean ? v : null);
                    return v != null && !(v instanceof Boolean) ? bad : null;
                }
                case "datetime": {
                    // the data model's times, as the event time is read (ISO-8601 UTC with Z);
                    // a SQL CAST refused the 'T' and 'Z' of every valid record
                    String s = scalarText(v);
                    TimestampData t = RecordTime.parse(s);
                    row.setField(pos, t);
                    return s != null && t == null ? bad : null;
                }
                case "strings": {
                    GenericArrayData a = v instanceof List ? strings((List<?>) v) : null;
                    row.setField(pos, a);
                    return v != null && a == null ? bad : null;
                }
                case "numbers": {
                    GenericMapData m = v instanceof Map ? numbers((Map<?, ?>) v) : null;
                    row.setField(pos, m);
                    return v != null && m == null ? bad : null;
                }
                default: {
                    String s = scalarText(v);
                    row.setField(pos, s == null ? null : StringData.fromString(s));
                    return null;
                }
            }
        }
    }

    /** A JSON number as a DOUBLE: JSON_QUERY's text of it, cast as TRY_CAST(t AS DOUBLE); null
     * for anything else. That cast is Double.parseDouble of the text, the double nearest the
     * number's value, which is what the number's own doubleValue() gives (an integer's
     * conversion and BigDecimal's rounds to nearest too): no text made and parsed again. */
    static Double number(Object v) {
        return v instanceof Number ? ((Number) v).doubleValue() : null;
    }

    static boolean finite(Double d) {
        return d != null && Math.abs(d) <= Double.MAX_VALUE;
    }

    /** An array of strings (or nulls); null when an element is anything else. */
    static GenericArrayData strings(List<?> items) {
        Object[] out = new Object[items.size()];
        for (int i = 0; i < out.length; i++) {
            Object e = items.get(i);
            if (e != null && !(e instanceof String)) {
                return null;
            }
            out[i] = e == null ? null : StringData.fromString((String) e);
        }
        return new GenericArrayData(out);
    }

    /** An object whose members are numbers finite as a DOUBLE (or nulls); null otherwise. */
    static GenericMapData numbers(Map<?, ?> members) {
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : members.entrySet()) {
            Double d = number(e.getValue());
            if (e.getValue() != null && !finite(d)) {
                return null;
            }
            out.put(StringData.fromString((String) e.getKey()), d);
        }
        return new GenericMapData(out);
    }

    static Long toLong(String t) {
        try {
            return BinaryStringDataUtil.toLong(BinaryStringData.fromString(t));
        } catch (RuntimeException e) {
            return null;
        }
    }

    static Entry[] parse(String schema) {
        List<Entry> out = new ArrayList<>();
        for (String item : schema.split(",")) {
            String[] p = item.trim().split("\\s+");
            if (p.length < 3) {
                throw new IllegalArgumentException("nql_read: bad schema entry '" + item + "'");
            }
            out.add(new Entry(p[0], p[1], p[2], p.length > 3 ? p[3] : "string"));
        }
        return out.toArray(new Entry[0]);
    }

    static DataType resultType(String schema) {
        Entry[] es = parse(schema);
        DataTypes.Field[] fields = new DataTypes.Field[es.length + 1];
        fields[0] = DataTypes.FIELD("nql_reason", DataTypes.STRING());
        for (int i = 0; i < es.length; i++) {
            fields[i + 1] = DataTypes.FIELD(es[i].column, es[i].type());
        }
        return DataTypes.ROW(fields).notNull().bridgedTo(RowData.class);
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return TypeInference.newBuilder()
                .typedArguments(DataTypes.STRING().bridgedTo(StringData.class), DataTypes.STRING().notNull())
                .outputTypeStrategy(ctx -> {
                    Optional<String> schema = ctx.getArgumentValue(1, String.class);
                    if (!schema.isPresent()) {
                        throw ctx.newValidationError("nql_read: the schema must be a literal");
                    }
                    return Optional.of(resultType(schema.get()));
                })
                .build();
    }
}
