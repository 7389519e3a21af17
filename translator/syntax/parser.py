"""Tokens -> syntax tree.

Pipe clauses are parsed through CLAUSE_PARSERS, a keyword -> function table: a new NQL
clause is one entry and one small function. Errors become diagnostics; after an error the
parser skips to the next `|` and goes on, so every clause is checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax import ast
from nql_flink.translator.syntax.durations import UNITS_MS as DURATION_UNITS_MS
from nql_flink.translator.syntax.lexer import BYTE_UNITS, Token, tokenize

MAX_QUERY_LENGTH = 16_000
MAX_DEPTH = 64

COMPARISON_OPS = {
    "EQ": "==", "EQEQ": "==", "NEQ": "!=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">=",
    "BANG_IN": "!in", "BANG_CONTAINS": "!contains",
}
WORD_COMPARISONS = {"in": "in", "contains": "contains"}
LITERAL_TOKENS = {"STRING": "string", "INT": "int", "FLOAT": "float", "DURATION": "duration", "BYTE": "byte",
                  "IP": "ip", "VERSION": "version", "DATETIME": "datetime"}
WORD_LITERALS = {"true": ("bool", True), "false": ("bool", False), "null": ("null", None)}
# Functions whose arguments are `name = value` pairs; elsewhere `=` inside a call compares.
NAMED_ARG_FUNCTIONS = {"as", "hour", "day", "day_of_week"}
PERIOD_UNITS = {"min": 60_000, "h": 3_600_000, "d": 86_400_000}
MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


class _Abort(Exception):
    """Unwinds to the clause loop after a syntax error has been recorded."""


class Parser:
    def __init__(self, source: Source, tokens: list[Token]):
        self.source = source
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.diagnostics: list[Diagnostic] = []

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.pos]
        if t.kind != "EOF":
            self.pos += 1
        return t

    def is_word(self, *words: str, tok: Token | None = None) -> bool:
        t = tok or self.tok
        return t.kind == "IDENT" and t.text.lower() in words

    def error(self, code: str, span: Span, hint: str | None = None, **params) -> _Abort:
        self.diagnostics.append(diag(code, self.source, span, hint, **params))
        return _Abort()

    def expected(self, what: str, hint: str | None = None) -> _Abort:
        t = self.tok
        found = "end of query" if t.kind == "EOF" else f"'{t.text}'"
        return self.error("NQL0104", t.span, hint, expected=what, found=found)

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.expected(what)
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            raise self.expected(f"`{word}`")
        return self.advance()

    def span_from(self, start: Span) -> Span:
        prev = self.tokens[self.pos - 1] if self.pos > 0 else self.tok
        return Span(start.start, max(start.end, prev.span.end))

    # -- query -----------------------------------------------------------------------------
    def parse_query(self) -> ast.Query | None:
        if self.tok.kind == "EOF":
            self.error("NQL0113", self.tok.span)
            return None
        try:
            table = self.parse_table_ref()
            time = self.parse_time_selection() if self.tok.kind not in ("PIPE", "EOF") else None
            if self.tok.kind not in ("PIPE", "EOF"):
                raise self.expected("`|` before the next clause")
        except _Abort:
            self.skip_to_pipe()
            table, time = None, None
        clauses: list[ast.Clause] = []
        while self.tok.kind == "PIPE":
            self.advance()
            try:
                clauses.append(self.parse_clause())
                if self.tok.kind not in ("PIPE", "EOF"):
                    raise self.expected("`|` or the end of the query")
            except _Abort:
                self.skip_to_pipe()
        if table is None:
            return None
        end = self.tokens[self.pos - 1].span.end if self.pos else 0
        return ast.Query(table, time, tuple(clauses), Span(table.span.start, end))

    def skip_to_pipe(self) -> None:
        depth = 0
        while self.tok.kind != "EOF":
            if self.tok.kind in ("LPAREN", "LBRACK"):
                depth += 1
            elif self.tok.kind in ("RPAREN", "RBRACK"):
                depth = max(0, depth - 1)
            elif self.tok.kind == "PIPE" and depth == 0:
                return
            self.advance()

    def parse_table_ref(self) -> ast.TableRef:
        first = self.expect("IDENT", "a table name (e.g. session.vdi_events)")
        parts, span = [first.text], first.span
        while self.tok.kind == "DOT" and self.peek().kind == "IDENT":
            self.advance()
            parts.append(self.advance().text)
        return ast.TableRef(".".join(parts).lower(), self.span_from(span))

    def parse_time_selection(self) -> ast.TimeSelection:
        start = self.tok.span
        if self.is_word("during"):
            self.advance()
            self.expect_word("past")
            lit = self.parse_duration_literal()
            window = ast.DuringPast(lit, self.span_from(start))
        elif self.is_word("from"):
            self.advance()
            a = self.parse_time_point()
            self.expect_word("to")
            b = self.parse_time_point()
            window = ast.FromTo(a, b, self.span_from(start))
        elif self.is_word("on"):
            self.advance()
            window = ast.On(self.parse_date(), self.span_from(start))
        else:
            raise self.expected("`during past`, `from … to`, `on` or `|`")
        resolution = None
        if self.is_word("by"):
            self.advance()
            resolution = self.parse_duration_literal()
        return ast.TimeSelection(window, resolution, self.span_from(start))

    def parse_duration_literal(self) -> ast.Literal:
        t = self.tok
        spaced = self.spaced_unit()
        if spaced is not None and spaced.kind == "duration":
            return spaced
        if t.kind != "DURATION":
            raise self.expected("a duration (e.g. 5min)")
        self.advance()
        return ast.Literal("duration", t.value, t.text, t.span)

    def parse_time_point(self) -> tuple[ast.Literal, ...]:
        if self.tok.kind == "DURATION":
            lit = self.parse_duration_literal()
            ago = self.expect_word("ago")
            return (lit, ast.Literal("string", "ago", "ago", ago.span))
        return (self.parse_date(),)

    def parse_date(self) -> ast.Literal:
        t = self.tok
        if t.kind == "DATETIME":
            self.advance()
            return ast.Literal("datetime", t.value, t.text, t.span)
        if t.kind == "IDENT" and t.text.lower()[:3] in MONTHS:  # Jun 15[, 2023]
            self.advance()
            day = self.expect("INT", "a day of the month")
            text = f"{t.text} {day.text}"
            if self.tok.kind == "COMMA" and self.peek().kind == "INT":
                self.advance()
                text += ", " + self.advance().text
            return ast.Literal("datetime", text, text, self.span_from(t.span))
        raise self.expected("a date (e.g. 2026-11-26 or Nov 26, 2026)")

    # -- clauses ------------------------------------------------------------------------------
    def parse_clause(self) -> ast.Clause:
        t = self.tok
        if t.kind != "IDENT":
            raise self.expected("a clause keyword (where, summarize, …)")
        if t.after_comment:
            raise self.error("NQL0114", t.span, where="between `|` and its keyword")
        word = t.text.lower()
        parser = CLAUSE_PARSERS.get(word)
        if parser is None:
            close = difflib.get_close_matches(word, CLAUSE_PARSERS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "clauses are: " + ", ".join(CLAUSE_PARSERS)
            raise self.error("NQL0110", t.span, hint, name=t.text)
        self.advance()
        return parser(self, t)

    def parse_where(self, kw: Token) -> ast.Where:
        cond = self.parse_expr()
        return ast.Where(cond, self.span_from(kw.span))

    def parse_join(self, kw: Token) -> ast.Join:
        table = self.parse_table_ref()
        time = self.parse_time_selection() if self.tok.kind not in ("PIPE", "EOF") else None
        return ast.Join(kw.text.lower(), table, time, self.span_from(kw.span))

    def parse_assigns(self) -> tuple[ast.Assign, ...]:
        assigns = [self.parse_assign()]
        while self.tok.kind == "COMMA":
            self.advance()
            assigns.append(self.parse_assign())
        return tuple(assigns)

    def parse_assign(self) -> ast.Assign:
        name = self.tok
        if name.kind != "IDENT" or self.peek().kind not in ("EQ", "EQEQ"):
            raise self.expected("`name = expression`", hint="every computed value needs a name, e.g. avg_latency = network_latency.avg()")
        self.advance()
        if self.tok.kind == "EQEQ":
            raise self.error("NQL0104", self.tok.span, "`=` names a value; `==` compares", expected="`=`", found="'=='")
        self.advance()
        expr = self.parse_expr()
        return ast.Assign(name.text, name.span, expr, self.span_from(name.span))

    def parse_compute(self, kw: Token) -> ast.Compute:
        return ast.Compute(self.parse_assigns(), self.span_from(kw.span))

    def parse_summarize(self, kw: Token) -> ast.Summarize:
        assigns = self.parse_assigns()
        keys: list[ast.Field | ast.Period] = []
        if self.is_word("by"):
            self.advance()
            keys.append(self.parse_group_key())
            while self.tok.kind == "COMMA":
                self.advance()
                keys.append(self.parse_group_key())
        return ast.Summarize(assigns, tuple(keys), self.span_from(kw.span))

    def parse_group_key(self) -> ast.Field | ast.Period:
        t = self.tok
        if t.kind == "DURATION":
            self.advance()
            return ast.Period(ast.Literal("duration", t.value, t.text, t.span), t.span)
        if t.kind == "INT" and self.is_word(*PERIOD_UNITS, tok=self.peek()):  # `15 min`, `1 h`
            unit = self.peek()
            self.advance(), self.advance()
            span = Span(t.span.start, unit.span.end)
            text = f"{t.text} {unit.text}"
            return ast.Period(ast.Literal("duration", t.value * PERIOD_UNITS[unit.text.lower()], text, span), span)
        if t.kind != "IDENT":
            raise self.expected("a field or a period after `by`")
        return self.parse_field_path()

    def parse_list(self, kw: Token) -> ast.ListClause:
        items = [self.parse_additive()]
        while self.tok.kind == "COMMA":
            self.advance()
            items.append(self.parse_additive())
        return ast.ListClause(tuple(items), self.span_from(kw.span))

    def parse_sort(self, kw: Token) -> ast.Sort:
        keys = [self.parse_additive()]
        while self.tok.kind == "COMMA":
            self.advance()
            keys.append(self.parse_additive())
        descending = False
        if self.is_word("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        return ast.Sort(tuple(keys), descending, self.span_from(kw.span))

    def parse_limit(self, kw: Token) -> ast.Limit:
        t = self.expect("INT", "a whole number after `limit`")
        return ast.Limit(ast.Literal("int", t.value, t.text, t.span), self.span_from(kw.span))

    # -- expressions ----------------------------------------------------------------------------
    def parse_expr(self) -> ast.Expr:
        return self.parse_or()

    def parse_or(self) -> ast.Expr:
        left = self.parse_and()
        while self.is_word("or"):
            self.advance()
            right = self.parse_and()
            left = ast.Logical("or", left, right, left.span.cover(right.span))
        return left

    def parse_and(self) -> ast.Expr:
        left = self.parse_comparison()
        while self.is_word("and"):
            self.advance()
            right = self.parse_comparison()
            left = ast.Logical("and", left, right, left.span.cover(right.span))
        return left

    def parse_comparison(self) -> ast.Expr:
        left = self.parse_additive()
        t = self.tok
        op = COMPARISON_OPS.get(t.kind)
        if op is None and t.kind == "IDENT":
            op = WORD_COMPARISONS.get(t.text.lower())
        if op is None:
            return left
        self.advance()
        if op in ("in", "!in") and self.tok.kind == "LPAREN":  # SQL's `in (a, b)`: one error, read as the list
            self.diagnostics.append(diag("NQL0104", self.source, self.tok.span, "write the list in brackets: [a, b]",
                                         expected="a list [a, b, …]", found="'('"))
            right = self.parse_list_literal("RPAREN")
        else:
            right = self.parse_list_literal() if self.tok.kind == "LBRACK" else self.parse_additive()
        return ast.Compare(op, left, right, left.span.cover(right.span), t.span)

    def parse_additive(self) -> ast.Expr:
        left = self.parse_multiplicative()
        while self.tok.kind in ("PLUS", "MINUS"):
            op = self.advance()
            right = self.parse_multiplicative()
            left = ast.Binary(op.text, left, right, left.span.cover(right.span), op.span)
        return left

    def parse_multiplicative(self) -> ast.Expr:
        left = self.parse_unary()
        while self.tok.kind in ("STAR", "SLASH"):
            op = self.advance()
            right = self.parse_unary()
            left = ast.Binary(op.text, left, right, left.span.cover(right.span), op.span)
        if self.tok.kind == "CARET":
            raise self.error("NQL0101", self.tok.span, "NQL has + - * / only", char="^")
        return left

    def parse_unary(self) -> ast.Expr:
        if self.tok.kind == "MINUS":
            op = self.advance()
            self.enter(op)
            try:
                operand = self.parse_unary()
            finally:
                self.depth -= 1
            if isinstance(operand, ast.Literal) and operand.kind in ("int", "float", "duration"):
                return ast.Literal(operand.kind, -operand.value, "-" + operand.text, op.span.cover(operand.span))
            return ast.Unary("-", operand, op.span.cover(operand.span))
        return self.parse_postfix()

    def enter(self, t: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("NQL0106", t.span, "split the expression or remove parentheses", limit=MAX_DEPTH)

    def parse_postfix(self) -> ast.Expr:
        t = self.tok
        if t.kind == "IDENT" and t.text.lower() not in WORD_LITERALS:
            if t.text.lower() == "not":
                raise self.error("NQL0108", t.span, "negate with !=, !in or !contains")
            return self.parse_path_or_call()
        return self.parse_primary()

    def parse_field_path(self) -> ast.Field:
        first = self.expect("IDENT", "a field name")
        parts = [first.text]
        while self.tok.kind == "DOT" and self.peek().kind == "IDENT" and self.peek(2).kind != "LPAREN":
            self.advance()
            parts.append(self.advance().text)
        return ast.Field(tuple(parts), self.span_from(first.span))

    def parse_path_or_call(self) -> ast.Expr:
        first = self.tok
        expr: ast.Expr
        if self.peek().kind == "LPAREN":  # count(), countif(...)
            name = self.advance()
            expr = self.parse_call(None, name)
        else:
            expr = self.parse_field_path()
        while self.tok.kind == "DOT":
            self.advance()
            name = self.expect("IDENT", "a function name after '.'")
            if self.tok.kind != "LPAREN":
                raise self.error("NQL0104", name.span, expected="'(' after a function name", found=f"'{name.text}'")
            expr = self.parse_call(expr, name)
        return expr

    def parse_call(self, receiver: ast.Expr | None, name: Token) -> ast.Call:
        lparen = self.expect("LPAREN", "'('")
        self.enter(lparen)
        try:
            args: list[ast.Expr] = []
            named = name.text.lower() in NAMED_ARG_FUNCTIONS
            if self.tok.kind != "RPAREN":
                args.append(self.parse_argument(named))
                while self.tok.kind == "COMMA":
                    self.advance()
                    args.append(self.parse_argument(named))
            self.expect("RPAREN", "')' to close the call")
        finally:
            self.depth -= 1
        start = receiver.span if receiver is not None else name.span
        return ast.Call(receiver, name.text.lower(), tuple(args), self.span_from(start), name.span)

    def parse_argument(self, named: bool) -> ast.Expr:
        if named and self.tok.kind == "IDENT" and self.peek().kind == "EQ":
            n = self.advance()
            self.advance()
            value = self.parse_additive()
            return ast.NamedArg(n.text.lower(), value, n.span.cover(value.span))
        return self.parse_expr()

    def parse_list_literal(self, close: str = "RBRACK") -> ast.ListLit:
        lb = self.advance()
        self.enter(lb)
        try:
            items: list[ast.Expr] = []
            if self.tok.kind != close:
                items.append(self.parse_additive())
                while self.tok.kind == "COMMA":
                    self.advance()
                    items.append(self.parse_additive())
            self.expect(close, "']' to close the list" if close == "RBRACK" else "')'")
        finally:
            self.depth -= 1
        return ast.ListLit(tuple(items), self.span_from(lb.span))

    def spaced_unit(self) -> ast.Literal | None:
        """`30 s` for `30s`: one error with the hint, then the literal that was meant."""
        t, unit = self.tok, self.peek()
        if t.kind not in ("INT", "FLOAT") or unit.kind != "IDENT" or "\n" in self.source.text[t.span.end : unit.span.start]:
            return None
        if unit.text in DURATION_UNITS_MS:
            kind, value = "duration", round(t.value * DURATION_UNITS_MS[unit.text])
        elif unit.text in BYTE_UNITS:
            kind, value = "byte", round(t.value * BYTE_UNITS[unit.text])
        else:
            return None
        self.advance(), self.advance()
        span = Span(t.span.start, unit.span.end)
        text = self.source.slice(span)
        self.diagnostics.append(diag("NQL0107", self.source, span, f"write {t.text}{unit.text} (no space)", kind=kind, text=text))
        return ast.Literal(kind, value, f"{t.text}{unit.text}", span)

    def parse_primary(self) -> ast.Expr:
        t = self.tok
        spaced = self.spaced_unit()
        if spaced is not None:
            return spaced
        if t.kind in LITERAL_TOKENS:
            self.advance()
            return ast.Literal(LITERAL_TOKENS[t.kind], t.value, t.text, t.span)
        if t.kind == "IDENT" and t.text.lower() in WORD_LITERALS:
            self.advance()
            kind, value = WORD_LITERALS[t.text.lower()]
            return ast.Literal(kind, value, t.text, t.span)
        if t.kind == "LPAREN":
            self.advance()
            self.enter(t)
            try:
                inner = self.parse_expr()
                self.expect("RPAREN", "')'")
            finally:
                self.depth -= 1
            return inner
        if t.kind == "LBRACK":
            return self.parse_list_literal()
        raise self.expected("a value, a field or '('")


CLAUSE_PARSERS: dict[str, Callable[[Parser, Token], ast.Clause]] = {
    "where": Parser.parse_where,
    "with": Parser.parse_join,
    "include": Parser.parse_join,
    "compute": Parser.parse_compute,
    "summarize": Parser.parse_summarize,
    "list": Parser.parse_list,
    "sort": Parser.parse_sort,
    "limit": Parser.parse_limit,
}


def parse_query(source: Source) -> tuple[ast.Query | None, list[Diagnostic]]:
    """NQL query text -> syntax tree and diagnostics (tree is None when unusable)."""
    if len(source.text) > MAX_QUERY_LENGTH:
        return None, [diag("NQL0105", source, Span(0, 1), length=len(source.text), limit=MAX_QUERY_LENGTH)]
    tokens, diags = tokenize(source)
    parser = Parser(source, tokens)
    query = parser.parse_query()
    return query, diags + parser.diagnostics


def parse_condition(source: Source) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """A monitor condition (`trigger.when`): one boolean expression."""
    if len(source.text) > MAX_QUERY_LENGTH:
        return None, [diag("NQL0105", source, Span(0, 1), length=len(source.text), limit=MAX_QUERY_LENGTH)]
    tokens, diags = tokenize(source)
    parser = Parser(source, tokens)
    if parser.tok.kind == "EOF":
        return None, diags + [diag("NQL0113", source, parser.tok.span)]
    try:
        expr = parser.parse_expr()
        if parser.tok.kind != "EOF":
            raise parser.expected("the end of the condition", hint="join conditions with `and` / `or`")
    except _Abort:
        expr = None
    return expr, diags + parser.diagnostics
