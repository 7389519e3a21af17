package dev.nqlflink.udfs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What one {@link TenantWindows} call computes: the windows of every monitor reading one event
 * table, grouped in shapes (one window size and slide, group keys, filters and aggregates;
 * monitors that agree on all of them share one). From the literal the code generator writes:
 *
 * <pre>lag=600000;idle=60000 | s_8f2a61c0: size=300000;slide=30000;pop=0;aggs=avg:n0 | s_77ab01ee: size=...</pre>
 *
 * Segments are separated by {@code " | "}; the first is the table's (lag and idle, see
 * {@link WindowSpec}), each other one is a shape, {@code <id>: <WindowSpec without lag/idle>}
 * or {@code <id> (<monitors>): ...} (the monitors it serves, which the function ignores).
 * Shape i (0-based, spec order) reads element i of the row's group array; its aggregates' inputs
 * index the row's input arrays, shared by all the shapes. No shape at all is valid.
 */
final class Shapes implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String SEPARATOR = " | ";
    /** Shape ids never hold ':' nor '|', the separators of the state keys ({@link TenantWindows}). */
    private static final Pattern ID = Pattern.compile("[a-z0-9_]+");

    static final class Shape implements Serializable {
        private static final long serialVersionUID = 1L;
        final int index;
        final String id;
        final WindowSpec spec;

        Shape(int index, String id, WindowSpec spec) {
            this.index = index;
            this.id = id;
            this.spec = spec;
        }
    }

    final long lag;
    final long idle;
    final List<Shape> list;
    final Map<String, Shape> byId;
    /** id -> the shape's own text: a shape whose text changed under the same id starts anew. */
    final Map<String, String> texts;

    private Shapes(long lag, long idle, List<Shape> list, Map<String, String> texts) {
        this.lag = lag;
        this.idle = idle;
        this.list = Collections.unmodifiableList(list);
        Map<String, Shape> byId = new HashMap<>();
        for (Shape s : list) {
            byId.put(s.id, s);
        }
        this.byId = byId;
        this.texts = texts;
    }

    static Shapes parse(String text) {
        String[] segments = text.split(Pattern.quote(SEPARATOR), -1);
        long lag = -1;
        long idle = -1;
        for (String part : segments[0].split(";")) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part.trim() : part.substring(0, eq).trim();
            String value = eq < 0 ? "" : part.substring(eq + 1).trim();
            if (key.equals("lag")) {
                lag = Long.parseLong(value);
            } else if (key.equals("idle")) {
                idle = Long.parseLong(value);
            } else {
                throw new IllegalArgumentException("windows spec: the table's segment holds lag and idle only, not '"
                        + part + "' in " + text);
            }
        }
        if (lag < 0 || idle < 0) {
            throw new IllegalArgumentException("windows spec: lag and idle needed first: " + text);
        }
        Map<String, String> texts = texts(text);
        List<Shape> list = new ArrayList<>();
        for (Map.Entry<String, String> e : texts.entrySet()) {
            if (!ID.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("windows spec: shape id '" + e.getKey() + "' is not [a-z0-9_]+ in " + text);
            }
            list.add(new Shape(list.size(), e.getKey(), WindowSpec.parseShape(e.getValue())));
        }
        if (list.size() != segments.length - 1) {
            throw new IllegalArgumentException("windows spec: a shape id appears twice in " + text);
        }
        return new Shapes(lag, idle, list, texts);
    }

    /**
     * id -> text of each shape of a spec, in spec order, without validating them: what an older
     * spec stored in state held, to drop the state of the shapes the current one no longer has.
     */
    static Map<String, String> texts(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] segments = text.split(Pattern.quote(SEPARATOR), -1);
        for (int i = 1; i < segments.length; i++) {
            int colon = segments[i].indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("windows spec: shape '" + segments[i] + "' is not <id>: <spec> in " + text);
            }
            // the id may be followed by the monitors the shape serves, "(m_a, m_b)": for people
            // and deploy/plan.py only (a monitor added to a shape must not change its id)
            String head = segments[i].substring(0, colon);
            int served = head.indexOf('(');
            out.put((served < 0 ? head : head.substring(0, served)).trim(), segments[i].substring(colon + 1).trim());
        }
        return out;
    }
}
