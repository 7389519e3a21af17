package dev.nqlflink.udfs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A monitor's trigger or recover condition as data, judged by its table's windows function
 * instead of a SQL CASE per evaluation row (issue 15, docs/sharing.md "Judging in the windows
 * function", step 2: an evaluation must stop being a row). Its value is the one Flink SQL gives
 * the equivalent expression: three-valued logic, BIGINT arithmetic wrapping around as Java's
 * (Flink's generated code), comparisons with Java's primitive operators (NaN equals nothing).
 * tests/udfs/test_condition.py checks the rules, and on the engine against the SQL ({@link
 * ConditionEval}); tests/flink/test_judge_programs.py the compiler's programs against theirs.
 *
 * <p>A program is one expression in prefix notation, tokens separated by single spaces:
 * <pre>
 * n&lt;k&gt;          DOUBLE: element k (from 0) of the window's numeric outputs; NULL when null or k &gt;= length
 * $&lt;name&gt;       DOUBLE: the config's parameter name ([A-Za-z0-9_]+); NULL when absent, null, or no params
 * #&lt;long&gt;       BIGINT literal (#5, #-3)        %&lt;double&gt;  DOUBLE literal, as Double.parseDouble reads it
 * null  true  false                            literals (null fits any type)
 * l X  d X                                     CAST(X AS BIGINT) (Java's (long): truncated, NaN 0,
 *                                              saturated), CAST(X AS DOUBLE)
 * nzl X  nzd X                                 COALESCE(X, 0) (BIGINT, DOUBLE for a DOUBLE X), COALESCE(X, 0.0E0)
 * add A B  sub A B  mul A B                    BIGINT if both are, else DOUBLE
 * div A B                                      always DOUBLE (x / 0.0 is Infinity or NaN)
 * eq ne lt gt le ge A B                        BIGINTs as longs, else as doubles; BOOLEANs (eq, ne only)
 * and A B  or A B  not A                       three-valued
 * isnull A  notnull A                          never NULL
 * in&lt;k&gt; A V1..Vk  notin&lt;k&gt; A V1..Vk           A = V1 OR ... OR A = Vk (k &gt;= 1), each V cast to A's
 *                                              type; NOT of that
 * </pre>
 *
 * <p>Flink evaluates the SQL after Calcite's simplifier has rewritten it, and two of its rewrites
 * change a value when a DOUBLE is NaN, so parsing makes them too (tests/udfs/test_condition.py
 * shows both on the engine):
 * <ul>
 *   <li>NOT goes down to the comparisons: {@code NOT (a < b)} is {@code a >= b} (FALSE for a NaN,
 *       not TRUE), through AND and OR by De Morgan. This matters: a monitor's default recover
 *       condition is {@code NOT (trigger)}.
 *   <li>A comparison of an expression with itself is decided without comparing:
 *       {@code x = x}, {@code <=}, {@code >=} are TRUE and {@code x <> x}, {@code <}, {@code >}
 *       FALSE, NULL when x is (so {@code NaN = NaN} is TRUE). "Itself" is the same program text
 *       less what Calcite drops too: casts to the type x has already ({@code l} of a BIGINT,
 *       {@code d} of a DOUBLE) and {@code x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1} (a literal
 *       0 or 1; x cast to the result's type).
 * </ul>
 * And an IN list's values are cast to the type of what is looked up (Calcite's IN, unlike
 * {@code =}, which widens): {@code CAST(0 AS BIGINT) IN (0.5E0)} is TRUE. Not followed: Calcite
 * merges comparisons of an operand that cannot be NULL (a COALESCE) into ranges, so
 * {@code x < 5 OR x >= 5} is TRUE to it even for a NaN x (FALSE here).
 *
 * <p>Types are static (a measure and a parameter are DOUBLEs, a cast says what it makes), so
 * {@link #parse} refuses what SQL would refuse to plan: a number where a BOOLEAN is wanted or the
 * reverse, an order of BOOLEANs, and a program that is not a BOOLEAN. Parsing builds a tree of
 * small nodes; evaluating it does no string work and boxes nothing: a BOOLEAN node's value is
 * {@code F < U < T} (so AND is the least, OR the greatest), a number's is a primitive with its
 * NULL-ness in {@link Env#nul} (as Flink's generated code has an isNull term).
 */
final class Condition implements Serializable {
    private static final long serialVersionUID = 1L;

    // a BOOLEAN node's values
    static final int F = 0, U = 1, T = 2;
    // the static types of nodes (NULL: the untyped null literal, which fits any)
    static final int BOOL = 0, LONG = 1, DOUBLE = 2, NULL = 3;
    private static final String[] TYPE_NAMES = {"BOOLEAN", "BIGINT", "DOUBLE", "NULL"};
    // operators
    private static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, EQ = 4, NE = 5, LT = 6, GT = 7, LE = 8, GE = 9;
    private static final String[] OPS = {"add", "sub", "mul", "div", "eq", "ne", "lt", "gt", "le", "ge"};
    // NOT (a op b) is (a NEGATED[op] b), as Calcite rewrites it (SqlKind.negateNullSafe)
    private static final int[] NEGATED = {-1, -1, -1, -1, NE, EQ, GE, LE, GT, LT};

    private final String text;
    private final Node root;
    /** The parameters it reads, each once, in the order of their first use ({@link Param#index}). */
    private final String[] params;
    /** What eval reads, kept between calls (a function instance evaluates on one thread). */
    private transient Env env;

    private Condition(String text, Node root, String[] params) {
        this.text = text;
        this.root = root;
        this.params = params;
    }

    /** The condition's value for one evaluation: TRUE, FALSE or NULL. */
    Boolean eval(Double[] nv, Map<String, Double> params) {
        return eval(nv, bind(params));
    }

    /**
     * The values of the parameters it reads in {@code params} (null: none), for {@link
     * #eval(Double[], Double[])}: looked up once for all the evaluations of one config. Each
     * value is a copy made with the array, so that they lie next to each other in memory, not
     * wherever the config's map was made (an evaluation of a monitor of one of many tenants
     * finds them out of the CPU's caches).
     */
    Double[] bind(Map<String, Double> params) {
        Double[] bound = new Double[this.params.length];
        for (int i = 0; i < bound.length && params != null; i++) {
            Double v = params.get(this.params[i]);
            bound[i] = v == null ? null : Double.valueOf(v.doubleValue());
        }
        return bound;
    }

    /** The condition's value for one evaluation, its parameters {@link #bind bound}: TRUE, FALSE or NULL. */
    Boolean eval(Double[] nv, Double[] bound) {
        Env e = env;
        if (e == null) {
            e = env = new Env();
        }
        e.nv = nv;
        e.bound = bound;
        int v = root.bool(e);
        return v == T ? Boolean.TRUE : v == F ? Boolean.FALSE : null;
    }

    String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }

    /** What one evaluation reads, and whether the number last evaluated is NULL. */
    private static final class Env {
        Double[] nv;
        Double[] bound;
        boolean nul;
    }

    /**
     * A node of a program. Only the method of its type is called: {@link #bool} (BOOL),
     * {@link #l} (LONG), {@link #d} (DOUBLE, or LONG widened); a number's sets {@code e.nul}.
     */
    private abstract static class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        final int type;

        Node(int type) {
            this.type = type;
        }

        int bool(Env e) {
            throw new IllegalStateException("not a BOOLEAN");
        }

        long l(Env e) {
            throw new IllegalStateException("not a BIGINT");
        }

        double d(Env e) {
            return l(e);  // a BIGINT widened; a DOUBLE node overrides
        }

        /** A BOOLEAN node's NOT, as Calcite simplifies it (pushed down to the comparisons). */
        Node negate() {
            throw new IllegalStateException("not a BOOLEAN");
        }

        /** Whether the node's value is NULL (evaluating it in its own type). */
        final boolean isNull(Env e) {
            if (type == BOOL) {
                return bool(e) == U;
            }
            if (type == LONG) {
                l(e);
            } else {
                d(e);
            }
            return e.nul;
        }
    }

    private static int truth(boolean b) {
        return b ? T : F;
    }

    // ------------------------------------------------------------------------------ leaves --

    private static final class Elem extends Node {
        private final int k;

        Elem(int k) {
            super(DOUBLE);
            this.k = k;
        }

        @Override
        double d(Env e) {
            Double v = e.nv != null && k < e.nv.length ? e.nv[k] : null;
            e.nul = v == null;
            return v == null ? 0 : v;
        }
    }

    private static final class Param extends Node {
        /** Its position in the condition's {@link Condition#params}. */
        private final int index;

        Param(int index) {
            super(DOUBLE);
            this.index = index;
        }

        @Override
        double d(Env e) {
            Double v = e.bound[index];
            e.nul = v == null;
            return v == null ? 0 : v;
        }
    }

    private static final class LongLit extends Node {
        private final long v;

        LongLit(long v) {
            super(LONG);
            this.v = v;
        }

        @Override
        long l(Env e) {
            e.nul = false;
            return v;
        }
    }

    private static final class DoubleLit extends Node {
        private final double v;

        DoubleLit(double v) {
            super(DOUBLE);
            this.v = v;
        }

        @Override
        double d(Env e) {
            e.nul = false;
            return v;
        }
    }

    private static final class BoolLit extends Node {
        private final int v;

        BoolLit(boolean v) {
            super(BOOL);
            this.v = truth(v);
        }

        @Override
        int bool(Env e) {
            return v;
        }

        @Override
        Node negate() {
            return new BoolLit(v == F);
        }
    }

    /** NULL, of a type (a cast of the null literal) or of none (it fits any). */
    private static final class Null extends Node {
        Null(int type) {
            super(type);
        }

        @Override
        int bool(Env e) {
            return U;
        }

        @Override
        Node negate() {
            return new Null(BOOL);  // NOT NULL: a BOOLEAN
        }

        @Override
        long l(Env e) {
            e.nul = true;
            return 0;
        }

        @Override
        double d(Env e) {
            e.nul = true;
            return 0;
        }
    }

    // ----------------------------------------------------------------------------- numbers --

    private static final class ToLong extends Node {
        private final Node x;

        ToLong(Node x) {
            super(LONG);
            this.x = x;
        }

        @Override
        long l(Env e) {
            double v = x.d(e);
            return (long) v;  // Flink's cast: truncated toward zero, NaN 0, saturated (e.nul is x's)
        }
    }

    private static final class ToDouble extends Node {
        private final Node x;

        ToDouble(Node x) {
            super(DOUBLE);
            this.x = x;
        }

        @Override
        double d(Env e) {
            return x.d(e);
        }
    }

    /** COALESCE(x, 0): BIGINT or DOUBLE as its type says. */
    private static final class Nz extends Node {
        private final Node x;

        Nz(int type, Node x) {
            super(type);
            this.x = x;
        }

        @Override
        long l(Env e) {
            long v = x.l(e);
            if (e.nul) {
                e.nul = false;
                return 0;
            }
            return v;
        }

        @Override
        double d(Env e) {
            double v = x.d(e);
            if (e.nul) {
                e.nul = false;
                return 0;
            }
            return v;
        }
    }

    private static final class LongArith extends Node {
        private final int op;
        private final Node a, b;

        LongArith(int op, Node a, Node b) {
            super(LONG);
            this.op = op;
            this.a = a;
            this.b = b;
        }

        @Override
        long l(Env e) {
            long x = a.l(e);
            if (e.nul) {
                return 0;
            }
            long y = b.l(e);
            return op == ADD ? x + y : op == SUB ? x - y : x * y;  // wrapping around, as Flink's BIGINT
        }
    }

    private static final class DoubleArith extends Node {
        private final int op;
        private final Node a, b;

        DoubleArith(int op, Node a, Node b) {
            super(DOUBLE);
            this.op = op;
            this.a = a;
            this.b = b;
        }

        @Override
        double d(Env e) {
            double x = a.d(e);
            if (e.nul) {
                return 0;
            }
            double y = b.d(e);
            switch (op) {
                case ADD:
                    return x + y;
                case SUB:
                    return x - y;
                case MUL:
                    return x * y;
                default:
                    return x / y;
            }
        }
    }

    // ---------------------------------------------------------------------------- booleans --

    /** A comparison of BIGINTs (as longs) or of anything else numeric (as doubles). */
    private static final class Cmp extends Node {
        private final int op;
        private final boolean longs;
        private final Node a, b;

        Cmp(int op, Node a, Node b) {
            super(BOOL);
            this.op = op;
            this.longs = a.type != DOUBLE && b.type != DOUBLE;
            this.a = a;
            this.b = b;
        }

        @Override
        int bool(Env e) {
            if (longs) {
                long x = a.l(e);
                if (e.nul) {
                    return U;
                }
                long y = b.l(e);
                return e.nul ? U : compare(op, Long.compare(x, y));
            }
            double x = a.d(e);
            if (e.nul) {
                return U;
            }
            double y = b.d(e);
            if (e.nul) {
                return U;
            }
            switch (op) {  // Java's primitive operators: NaN is not equal to, less or greater than anything
                case EQ:
                    return truth(x == y);
                case NE:
                    return truth(x != y);
                case LT:
                    return truth(x < y);
                case GT:
                    return truth(x > y);
                case LE:
                    return truth(x <= y);
                default:
                    return truth(x >= y);
            }
        }

        @Override
        Node negate() {
            return new Cmp(NEGATED[op], a, b);
        }

        static int compare(int op, int c) {
            switch (op) {
                case EQ:
                    return truth(c == 0);
                case NE:
                    return truth(c != 0);
                case LT:
                    return truth(c < 0);
                case GT:
                    return truth(c > 0);
                case LE:
                    return truth(c <= 0);
                default:
                    return truth(c >= 0);
            }
        }
    }

    private static final class BoolEq extends Node {
        private final boolean ne;
        private final Node a, b;

        BoolEq(boolean ne, Node a, Node b) {
            super(BOOL);
            this.ne = ne;
            this.a = a;
            this.b = b;
        }

        @Override
        int bool(Env e) {
            int x = a.bool(e);
            int y = x == U ? U : b.bool(e);
            return y == U ? U : truth((x == y) != ne);
        }

        @Override
        Node negate() {
            return new BoolEq(!ne, a, b);
        }
    }

    /** AND (the least of F &lt; U &lt; T) or OR (the greatest), the second side unread when the first decides. */
    private static final class Junction extends Node {
        private final boolean and;
        private final Node a, b;

        Junction(boolean and, Node a, Node b) {
            super(BOOL);
            this.and = and;
            this.a = a;
            this.b = b;
        }

        @Override
        int bool(Env e) {
            int x = a.bool(e);
            if (x == (and ? F : T)) {
                return x;
            }
            int y = b.bool(e);
            return and ? Math.min(x, y) : Math.max(x, y);
        }

        @Override
        Node negate() {
            return new Junction(!and, a.negate(), b.negate());  // De Morgan
        }
    }

    /**
     * x op x, as Calcite simplifies it: {@code x = x} to {@code NULL OR x IS NOT NULL} (so also
     * {@code <=}, {@code >=}), {@code x <> x} to {@code NULL AND x IS NULL} (so also {@code <}, {@code >}).
     */
    private static final class SelfCmp extends Node {
        private final int op;
        private final Node x;

        SelfCmp(int op, Node x) {
            super(BOOL);
            this.op = op;
            this.x = x;
        }

        @Override
        int bool(Env e) {
            return x.isNull(e) ? U : truth(op == EQ || op == LE || op == GE);
        }

        @Override
        Node negate() {
            return new SelfCmp(NEGATED[op], x);
        }
    }

    private static final class IsNull extends Node {
        private final boolean negated;
        private final Node x;

        IsNull(boolean negated, Node x) {
            super(BOOL);
            this.negated = negated;
            this.x = x;
        }

        @Override
        int bool(Env e) {
            return truth(x.isNull(e) != negated);
        }

        @Override
        Node negate() {
            return new IsNull(!negated, x);
        }
    }

    // ------------------------------------------------------------------------------- parse --

    /** Parses a program; IllegalArgumentException, naming the token and its position, if it is not one. */
    static Condition parse(String program) {
        if (program == null || program.isEmpty()) {
            throw new IllegalArgumentException("an empty condition");
        }
        Parser p = new Parser(program);
        Node root = p.node();
        if (p.pos < p.tokens.size()) {
            throw p.error("trailing token", p.pos, "after the condition's end");
        }
        if (root.type != BOOL) {
            throw p.error("the condition is not a BOOLEAN:", 0, "is a " + TYPE_NAMES[root.type]);
        }
        return new Condition(program, root, p.params.toArray(new String[0]));
    }

    private static final class Parser {
        final String program;
        final List<String> tokens = new ArrayList<>();
        /** Each token as it counts for "the same expression": literals read, casts to the type there dropped (null). */
        final List<String> same = new ArrayList<>();
        /** Each operand's text for "the same expression", to find comparisons of an expression with itself. */
        final Map<Node, String> texts = new IdentityHashMap<>();
        /** The parameters read, each once ({@link Param#index}). */
        final List<String> params = new ArrayList<>();
        int pos;

        Parser(String program) {
            this.program = program;
            for (int i = 0; ; ) {
                int j = program.indexOf(' ', i);
                tokens.add(program.substring(i, j < 0 ? program.length() : j));
                if (j < 0) {
                    break;
                }
                i = j + 1;
            }
            same.addAll(tokens);
        }

        IllegalArgumentException error(String what, int at, String why) {
            return new IllegalArgumentException(what + " '" + tokens.get(at) + "' at token " + at
                    + (why.isEmpty() ? "" : " " + why) + " in condition '" + program + "'");
        }

        /** The node starting at the next token (its operands parsed too). */
        Node node() {
            int at = pos++;
            String t = tokens.get(at);
            if (t.isEmpty()) {
                throw error("an empty token", at, "(two spaces in a row, or a space at an end)");
            }
            switch (t) {
                case "null":
                    return new Null(NULL);
                case "true":
                    return new BoolLit(true);
                case "false":
                    return new BoolLit(false);
                case "l": {
                    Node x = operand(at, 1, LONG);
                    if (x.type == LONG) {
                        same.set(at, null);
                        return x;
                    }
                    return x.type == NULL ? new Null(LONG) : new ToLong(x);
                }
                case "d": {
                    Node x = operand(at, 1, DOUBLE);
                    if (x.type == DOUBLE) {
                        same.set(at, null);
                        return x;
                    }
                    return x.type == NULL ? new Null(DOUBLE) : new ToDouble(x);
                }
                case "nzl": {
                    Node x = operand(at, 1, LONG);  // COALESCE(x, 0): a DOUBLE x makes it a DOUBLE
                    return new Nz(x.type == DOUBLE ? DOUBLE : LONG, x);
                }
                case "nzd":
                    return new Nz(DOUBLE, operand(at, 1, DOUBLE));
                case "and":
                    return new Junction(true, operand(at, 1, BOOL), operand(at, 2, BOOL));
                case "or":
                    return new Junction(false, operand(at, 1, BOOL), operand(at, 2, BOOL));
                case "not":
                    return operand(at, 1, BOOL).negate();
                case "isnull":
                case "notnull":
                    return new IsNull(t.equals("notnull"), operand(at, 1, NULL));
                default:
            }
            for (int op = 0; op < OPS.length; op++) {
                if (t.equals(OPS[op])) {
                    return op < EQ ? arith(op, at) : compare(op, at, operand(at, 1, NULL), operand(at, 2, NULL));
                }
            }
            char c = t.charAt(0);
            String rest = t.substring(1);
            try {
                if (c == '#') {
                    long v = Long.parseLong(rest);
                    same.set(at, "#" + v);
                    return new LongLit(v);
                }
                if (c == '%') {
                    double v = Double.parseDouble(rest);
                    same.set(at, "%" + v);
                    return new DoubleLit(v);
                }
            } catch (NumberFormatException ex) {
                throw error("bad number", at, "(" + ex.getMessage() + ")");
            }
            if (c == '$') {
                if (rest.isEmpty() || !isName(rest)) {
                    throw error("bad parameter name", at, "(letters, digits and _ only)");
                }
                int index = params.indexOf(rest);
                if (index < 0) {
                    index = params.size();
                    params.add(rest);
                }
                return new Param(index);
            }
            if (c == 'n' && isDigits(rest)) {
                int k = count(at, rest);
                same.set(at, "n" + k);
                return new Elem(k);
            }
            boolean notIn = t.startsWith("notin") && isDigits(t.substring(5));
            if (notIn || t.startsWith("in") && isDigits(t.substring(2))) {
                int k = count(at, t.substring(notIn ? 5 : 2));
                if (k == 0) {
                    throw error("no values in", at, "(in<k> needs k >= 1)");
                }
                Node a = operand(at, 1, NULL);
                Node any = null;
                for (int i = 0; i < k; i++) {
                    // A IN (V...) is A = V1 OR ..., each V cast to A's type (Calcite's IN): a DOUBLE V
                    // truncated for a BIGINT A
                    Node v = operand(at, 2 + i, NULL);
                    Node eq = compare(EQ, at, a, a.type == LONG && v.type == DOUBLE ? new ToLong(v) : v);
                    any = any == null ? eq : new Junction(false, any, eq);
                }
                return notIn ? any.negate() : any;
            }
            throw error("unknown token", at, "");
        }

        /** Operand n (from 1) of the operator at token {@code at}, of type {@code want} (NULL: any; LONG: a number). */
        private Node operand(int at, int n, int want) {
            if (pos >= tokens.size()) {
                throw error("missing operand " + n + " of", at, "(the condition ends)");
            }
            int start = pos;
            Node x = node();
            StringBuilder text = new StringBuilder();
            for (int i = start; i < pos; i++) {
                if (same.get(i) != null) {
                    text.append(same.get(i)).append(' ');
                }
            }
            texts.put(x, text.toString());
            boolean number = x.type == LONG || x.type == DOUBLE;
            if (x.type != NULL && want != NULL && (want == BOOL ? x.type != BOOL : !number)) {
                throw error("operand " + n + " of '" + tokens.get(at) + "' at token " + at + " is not a "
                        + (want == BOOL ? "BOOLEAN" : "number") + ":", start, "is a " + TYPE_NAMES[x.type]);
            }
            return x;
        }

        private Node arith(int op, int at) {
            int ia = pos;
            Node a = operand(at, 1, LONG);
            int ib = pos;
            Node b = operand(at, 2, LONG);
            boolean longs = op != DIV && a.type != DOUBLE && b.type != DOUBLE;
            Node out = longs ? new LongArith(op, a, b) : new DoubleArith(op, a, b);
            // x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 are x to Calcite (cast to the result's type)
            int unit = op == ADD || op == SUB ? 0 : 1;
            if (isLiteral(b, unit)) {
                same(at, ib, pos, a, out);
            } else if ((op == ADD || op == MUL) && isLiteral(a, unit)) {
                same(at, ia, ib, b, out);
            }
            return out;
        }

        private static boolean isLiteral(Node x, int v) {
            return x instanceof LongLit ? ((LongLit) x).v == v : x instanceof DoubleLit && ((DoubleLit) x).v == v;
        }

        /** The operation at token {@code at} is its operand x: the operator and the literal in [from, to) do not count. */
        private void same(int at, int from, int to, Node x, Node out) {
            for (int i = from; i < to; i++) {
                same.set(i, null);
            }
            same.set(at, x.type == out.type ? null : "d");
        }

        private Node compare(int op, int at, Node a, Node b) {
            boolean bools = a.type == BOOL || b.type == BOOL;
            if (bools && (a.type == LONG || a.type == DOUBLE || b.type == LONG || b.type == DOUBLE)) {
                throw error("a BOOLEAN compared with a number by", at, "");
            }
            if (bools && op != EQ && op != NE) {
                throw error("an order of BOOLEANs by", at, "(only eq and ne)");
            }
            if (texts.get(a).equals(texts.get(b))) {  // an IN value's ToLong has no text: not A (nor NaN)
                return new SelfCmp(op, a);
            }
            return bools ? new BoolEq(op == NE, a, b) : new Cmp(op, a, b);
        }

        private int count(int at, String digits) {
            try {
                return Integer.parseInt(digits);
            } catch (NumberFormatException ex) {
                throw error("bad number", at, "(" + ex.getMessage() + ")");
            }
        }

        private static boolean isDigits(String s) {
            if (s.isEmpty()) {
                return false;
            }
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    return false;
                }
            }
            return true;
        }

        private static boolean isName(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) {
                    return false;
                }
            }
            return true;
        }
    }
}
