package dev.nqlflink.udfs;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values at a fixed set of dotted paths of one JSON object, read in one pass of a streaming
 * parser (udfs/jvm {@link ReadRecord}). Only the declared paths become Java values; everything
 * else is skipped token by token, which still checks its syntax: the record is refused (an
 * exception) exactly when a whole-tree parse of it would have failed.
 *
 * <p>The values are those a whole-tree parse (Jackson's untyped deserializer, floats as
 * BigDecimal, as Flink's JSON functions parse) followed by a walk of the dotted path gave: a
 * {@code String}, {@code Boolean}, {@code Integer}/{@code Long}/{@code BigInteger} for an
 * integer, {@code BigDecimal} for any other number, {@link #OBJECT} or {@link #ARRAY} for a
 * container, and {@code null} when a step is missing, goes through a non-object, or the value
 * is {@code null}. A key given twice counts with its last value, as in the tree's map (and a
 * later non-object value of a step leaves nothing below it).
 *
 * <p>A path declared <em>whole</em> that holds a container gets the container itself: a
 * {@code List} of its elements or a {@code Map} (in order; a key given twice keeps its last
 * value, in its first place, as in the tree's map) of its members, each a value as above ({@link #OBJECT} or {@link #ARRAY} for a nested
 * container).
 */
final class JsonPaths {
    /** The value of a path that holds an object (what the tree walk found as a Map). */
    static final Object OBJECT = new Object();
    /** The value of a path that holds an array. */
    static final Object ARRAY = new Object();

    // A float's conversion to BigDecimal fails only on an exponent of 10 digits or more (the
    // scale overflows an int; the mantissa is at most the parser's 1000-digit number limit), so
    // a skipped float is converted, as the tree parse converted every number, only when its
    // text is at least this long and has an exponent.
    private static final int CONVERT_FLOATS_FROM = 12;

    private final Node root = new Node();
    private final int[] slots;
    private final Object[] values;

    /** @param paths the dotted paths (several may be equal); value(i) is the value of paths[i] */
    JsonPaths(String[] paths) {
        this(paths, new boolean[paths.length]);
    }

    /** @param whole whole[i]: paths[i] is read whole when it holds a container (see above) */
    JsonPaths(String[] paths, boolean[] whole) {
        List<Node> leaves = new ArrayList<>();
        slots = new int[paths.length];
        Map<String, Node> byPath = new HashMap<>();
        for (String path : paths) {
            Node n = root;
            for (String step : path.split("\\.")) {
                n = n.children.computeIfAbsent(step, s -> new Node());
            }
            byPath.put(path, n);
        }
        for (int i = 0; i < paths.length; i++) {
            byPath.get(paths[i]).whole |= whole[i];
        }
        int count = number(root, 0);
        values = new Object[count];
        for (int i = 0; i < paths.length; i++) {
            slots[i] = byPath.get(paths[i]).slot;
        }
    }

    /** Numbers the nodes depth first, so that a node's subtree is the slot range [slot, end). */
    private static int number(Node n, int next) {
        n.slot = next++;
        for (Node c : n.children.values()) {
            next = number(c, next);
        }
        n.end = next;
        n.leaf = n.children.isEmpty();
        return next;
    }

    Object value(int path) {
        return values[slots[path]];
    }

    /** Forgets the last record's values (a record that is not a JSON object has none). */
    void clear() {
        Arrays.fill(values, null);
    }

    /**
     * Reads one record; false when its first token does not open an object (not a JSON object,
     * whatever follows). Throws on a syntax error anywhere up to the end of the root object;
     * what follows that end is not read (as the tree parse, which ignores trailing content).
     *
     * @param materialize read the text of every skipped string too, so that the parser's limit
     *     on a string's length applies to it as it did to the tree parse (only needed for a
     *     record longer than that limit)
     */
    boolean read(JsonParser p, boolean materialize) throws IOException {
        clear();
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return false;
        }
        values[root.slot] = OBJECT;
        object(p, root, materialize);
        return true;
    }

    private void object(JsonParser p, Node node, boolean materialize) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            Node n = node.children.get(p.currentName());
            JsonToken t = p.nextToken();
            if (n == null) {
                skip(p, t, materialize);
                continue;
            }
            Arrays.fill(values, n.slot, n.end, null);  // a repeated key replaces all below it
            values[n.slot] = scalar(p, t);
            if (t == JsonToken.START_OBJECT && !n.leaf) {
                object(p, n, materialize);
            } else if (n.whole && (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY)) {
                values[n.slot] = container(p, t, materialize);
            } else {
                skip(p, t, materialize);
            }
        }
        if (p.currentToken() != JsonToken.END_OBJECT) {
            throw new IOException("unexpected end of input");  // the parser reports it first
        }
    }

    /** The container that starts with {@code t}, its elements as {@link #scalar} reads them
     * (a nested container is skipped, and checked, as any skipped value). */
    private static Object container(JsonParser p, JsonToken t, boolean materialize) throws IOException {
        if (t == JsonToken.START_ARRAY) {
            List<Object> items = new ArrayList<>();
            for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                if (e == null) {
                    throw new IOException("unexpected end of input");
                }
                items.add(scalar(p, e));
                skip(p, e, materialize);
            }
            return items;
        }
        Map<String, Object> members = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken e = p.nextToken();
            members.put(name, scalar(p, e));  // a repeated key: its last value, in its first place
            skip(p, e, materialize);
        }
        if (p.currentToken() != JsonToken.END_OBJECT) {
            throw new IOException("unexpected end of input");
        }
        return members;
    }

    private static Object scalar(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT:
                return OBJECT;
            case START_ARRAY:
                return ARRAY;
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDecimalValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            default:
                return null;
        }
    }

    /** Skips the value that starts with {@code t} (a container up to its end), checking what
     * the tree parse would have refused. */
    private static void skip(JsonParser p, JsonToken t, boolean materialize) throws IOException {
        int depth = 0;
        while (true) {
            if (t == null) {
                throw new IOException("unexpected end of input");  // the parser reports it first
            }
            switch (t) {
                case START_OBJECT:
                case START_ARRAY:
                    depth++;
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    depth--;
                    break;
                case VALUE_NUMBER_FLOAT:
                    if (p.getTextLength() >= CONVERT_FLOATS_FROM && hasExponent(p)) {
                        p.getDecimalValue();
                    }
                    break;
                case VALUE_STRING:
                    if (materialize) {
                        p.getText();
                    }
                    break;
                default:
                    break;
            }
            if (depth == 0) {
                return;
            }
            t = p.nextToken();
        }
    }

    private static boolean hasExponent(JsonParser p) throws IOException {
        char[] text = p.getTextCharacters();
        for (int i = p.getTextOffset(), end = i + p.getTextLength(); i < end; i++) {
            if (text[i] == 'e' || text[i] == 'E') {
                return true;
            }
        }
        return false;
    }

    private static final class Node {
        final Map<String, Node> children = new HashMap<>(4);
        int slot;
        int end;
        boolean leaf;
        boolean whole;
    }
}
