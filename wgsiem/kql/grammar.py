"""The KQL parser: Kibana's grammar.peggy, rule for rule, with peggy's semantics.

Kibana generates its parser with peggy (`cache: true`), and its syntax error messages are
whatever peggy collected at the furthest position it failed. To give the same messages this
module behaves as that generated parser does:

- ordered choice, greedy repetition, `!`/`&` predicates that report nothing;
- a rule with a display name ("value", "whitespace", ...) reports only its name, and
  only where it starts; what fails inside it is silent;
- every rule's result is cached per position (peggy's `cache` option), so a rule that
  already failed somewhere silently does not report again when it is tried there anew.
  That last point is why `foo:ba:r` expects "AND, OR, end of input" and no "whitespace".

The cursor alternatives (autocomplete) always fail, as they do when Kibana parses a query
to run it (`parseCursor` is unset).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .ast import MATCH_ALL, WILDCARD_SYMBOL, And, Is, Literal, Nested, Node, Not, Or, Range, Wildcard
from .errors import KqlSyntaxError

_FAILED: Any = object()

_SPACE = frozenset(" \t\r\n\u00a0")
_SPECIAL = frozenset('\\():<>"*{}')
_HEX = frozenset("0123456789abcdefABCDEF")
# JavaScript's String.prototype.trim: WhiteSpace and LineTerminator code points.
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

# kuery_syntax_error.ts: how peggy's expectations are shown.
_RULE_NAMES = {"fieldName": "field name", "value": "value", "literal": "literal", "whitespace": "whitespace"}
LEADING_WILDCARD_MESSAGE = "Leading wildcards are disabled. See query:allowLeadingWildcards in Advanced Settings."


def parse(text: str, *, allow_leading_wildcards: bool = True) -> Node:
    """Parse a KQL query into its tree; raise KqlSyntaxError where Kibana would.

    An empty (or all-whitespace) query is Kibana's match-all, `is(*, *)`. Leading wildcards
    are allowed by default, as Kibana's detection engine allows them.
    """
    try:
        return _Parser(text, allow_leading_wildcards).run()
    except RecursionError:
        pass
    # Each level of parentheses costs a dozen Python frames; JavaScript's stack takes far
    # deeper queries than Python's default limit, so retry with room for this one.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(max(limit, 40 * len(text) + 1000), 500_000))
    try:
        return _Parser(text, allow_leading_wildcards).run()
    finally:
        sys.setrecursionlimit(limit)


def _rule(fn: Callable[[_Parser], Any]) -> Callable[[_Parser], Any]:
    name = fn.__name__

    def cached(self: _Parser) -> Any:
        key = (name, self.pos)
        hit = self.cache.get(key)
        if hit is not None:
            self.pos = hit[1]
            return hit[0]
        result = fn(self)
        self.cache[key] = (result, self.pos)
        return result

    cached.__name__ = name
    return cached


def _named(display: str) -> Callable[[Callable[[_Parser], Any]], Callable[[_Parser], Any]]:
    def wrap(fn: Callable[[_Parser], Any]) -> Callable[[_Parser], Any]:
        def body(self: _Parser) -> Any:
            self.silent += 1
            result = fn(self)
            self.silent -= 1
            if result is _FAILED and self.silent == 0:
                self.fail(("other", display))
            return result

        body.__name__ = fn.__name__
        return _rule(body)

    return wrap


class _Parser:
    def __init__(self, text: str, allow_leading_wildcards: bool) -> None:
        self.s = text
        self.n = len(text)
        self.pos = 0
        self.silent = 0
        self.max_fail_pos = 0
        self.expected: list[tuple[str, ...]] = []
        self.cache: dict[tuple[str, int], tuple[Any, int]] = {}
        self.allow_leading_wildcards = allow_leading_wildcards

    # -- machinery ------------------------------------------------------------------------

    def run(self) -> Node:
        result = self.start()
        if result is not _FAILED and self.pos == self.n:
            return result
        if result is not _FAILED:
            self.fail(("end",))
        found = self.s[self.max_fail_pos] if self.max_fail_pos < self.n else None
        expected = sorted({_describe(e) for e in self.expected})
        shown = f'"{found}"' if found else "end of input"
        message = f"Expected {', '.join(expected)} but {shown} found."
        raise KqlSyntaxError(message, self.s, self.max_fail_pos, expected, found)

    def fail(self, expectation: tuple[str, ...]) -> None:
        if self.pos < self.max_fail_pos:
            return
        if self.pos > self.max_fail_pos:
            self.max_fail_pos = self.pos
            self.expected = []
        self.expected.append(expectation)

    def lit(self, text: str) -> Any:
        if self.s.startswith(text, self.pos):
            self.pos += len(text)
            return text
        if self.silent == 0:
            self.fail(("literal", text))
        return _FAILED

    def lit_i(self, text: str) -> Any:
        chunk = self.s[self.pos : self.pos + len(text)]
        if chunk.lower() == text:
            self.pos += len(text)
            return chunk
        if self.silent == 0:
            self.fail(("literal", text))
        return _FAILED

    def char_in(self, chars: frozenset[str]) -> Any:
        if self.pos < self.n and self.s[self.pos] in chars:
            self.pos += 1
            return self.s[self.pos - 1]
        if self.silent == 0:
            self.fail(("class",))
        return _FAILED

    def not_ahead(self, rule: Callable[[], Any]) -> bool:
        """`!rule`: true when the rule does not match here; consumes nothing, reports nothing."""
        saved = self.pos
        self.silent += 1
        result = rule()
        self.silent -= 1
        self.pos = saved
        return result is _FAILED

    def spaces(self) -> None:
        while self.Space() is not _FAILED:
            pass

    # -- the grammar ------------------------------------------------------------------------

    @_rule
    def start(self) -> Any:
        self.spaces()
        query = self.OrQuery()
        self.OptionalSpace()
        return MATCH_ALL if query is _FAILED else query

    @_rule
    def OrQuery(self) -> Any:
        return self._chain(self.AndQuery, self.Or, Or)

    @_rule
    def AndQuery(self) -> Any:
        return self._chain(self.NotQuery, self.And, And)

    def _chain(self, item: Callable[[], Any], joint: Callable[[], Any], build: Callable[[tuple[Any, ...]], Any]) -> Any:
        start = self.pos
        head = item()
        if head is not _FAILED:
            tail = []
            while True:
                saved = self.pos
                if joint() is not _FAILED:
                    nxt = item()
                    if nxt is not _FAILED:
                        tail.append(nxt)
                        continue
                self.pos = saved
                break
            if tail:
                return build((head, *tail))
            self.pos = start
        return item()

    @_rule
    def NotQuery(self) -> Any:
        start = self.pos
        if self.Not() is not _FAILED:
            query = self.SubQuery()
            if query is not _FAILED:
                return Not(query)
            self.pos = start
        return self.SubQuery()

    @_rule
    def SubQuery(self) -> Any:
        start = self.pos
        if self.lit("(") is not _FAILED:
            self.spaces()
            query = self.OrQuery()
            if query is not _FAILED:
                self.OptionalSpace()
                if self.lit(")") is not _FAILED:
                    return query
            self.pos = start
        return self.NestedQuery()

    @_rule
    def NestedQuery(self) -> Any:
        start = self.pos
        field = self.Field()
        if field is not _FAILED:
            self.spaces()
            if self.lit(":") is not _FAILED:
                self.spaces()
                if self.lit("{") is not _FAILED:
                    self.spaces()
                    query = self.OrQuery()
                    if query is not _FAILED:
                        self.OptionalSpace()
                        if self.lit("}") is not _FAILED:
                            return Nested(field, query)
            self.pos = start
        return self.Expression()

    @_rule
    def Expression(self) -> Any:
        for alternative in (self.FieldRangeExpression, self.FieldValueExpression, self.ValueExpression):
            result = alternative()
            if result is not _FAILED:
                return result
        return _FAILED

    @_named("fieldName")
    def Field(self) -> Any:
        return self.Literal()

    @_rule
    def FieldRangeExpression(self) -> Any:
        start = self.pos
        field = self.Field()
        if field is not _FAILED:
            self.spaces()
            op = self.RangeOperator()
            if op is not _FAILED:
                self.spaces()
                value = self.Literal()
                if value is not _FAILED:
                    return Range(field, op, value)
        self.pos = start
        return _FAILED

    @_rule
    def FieldValueExpression(self) -> Any:
        start = self.pos
        field = self.Field()
        if field is not _FAILED:
            self.spaces()
            if self.lit(":") is not _FAILED:
                self.spaces()
                partial = self.ListOfValues()
                if partial is not _FAILED:
                    return partial(field)
        self.pos = start
        return _FAILED

    @_rule
    def ValueExpression(self) -> Any:
        partial = self.Value()
        if partial is _FAILED:
            return _FAILED
        return partial(Literal(None))

    @_rule
    def ListOfValues(self) -> Any:
        start = self.pos
        if self.lit("(") is not _FAILED:
            self.spaces()
            partial = self.OrListOfValues()
            if partial is not _FAILED:
                self.OptionalSpace()
                if self.lit(")") is not _FAILED:
                    return partial
            self.pos = start
        return self.Value()

    @_rule
    def OrListOfValues(self) -> Any:
        return self._chain(self.AndListOfValues, self.Or, _partials(Or))

    @_rule
    def AndListOfValues(self) -> Any:
        return self._chain(self.NotListOfValues, self.And, _partials(And))

    @_rule
    def NotListOfValues(self) -> Any:
        start = self.pos
        if self.Not() is not _FAILED:
            partial = self.ListOfValues()
            if partial is not _FAILED:
                return lambda field: Not(partial(field))
            self.pos = start
        return self.ListOfValues()

    @_named("value")
    def Value(self) -> Any:
        start = self.pos
        value = self.QuotedString()
        if value is _FAILED:
            value = self.UnquotedLiteral()
            if value is _FAILED:
                return _FAILED
            if not self.allow_leading_wildcards and isinstance(value, Wildcard) and value.has_leading_wildcard():
                raise KqlSyntaxError(LEADING_WILDCARD_MESSAGE, self.s, start, [], None)
        return lambda field: Is(field, value)

    @_named("OR")
    def Or(self) -> Any:
        return self._keyword("or", leading_space=True)

    @_named("AND")
    def And(self) -> Any:
        return self._keyword("and", leading_space=True)

    @_named("NOT")
    def Not(self) -> Any:
        return self._keyword("not", leading_space=False)

    def _keyword(self, word: str, leading_space: bool) -> Any:
        start = self.pos
        if leading_space:
            if self.Space() is _FAILED:
                return _FAILED
            self.spaces()
        if self.lit_i(word) is not _FAILED and self.Space() is not _FAILED:
            self.spaces()
            return word
        self.pos = start
        return _FAILED

    @_named("literal")
    def Literal(self) -> Any:
        value = self.QuotedString()
        return value if value is not _FAILED else self.UnquotedLiteral()

    @_rule
    def QuotedString(self) -> Any:
        start = self.pos
        if self.lit('"') is _FAILED:
            return _FAILED
        chars = []
        while (c := self.QuotedCharacter()) is not _FAILED:
            chars.append(c)
        if self.lit('"') is _FAILED:
            self.pos = start
            return _FAILED
        return Literal("".join(chars), quoted=True)

    @_rule
    def QuotedCharacter(self) -> Any:
        for alternative in (self.EscapedWhitespace, self.EscapedUnicodeSequence):
            result = alternative()
            if result is not _FAILED:
                return result
        start = self.pos
        if self.lit("\\") is not _FAILED:
            c = self.char_in(frozenset('\\"'))
            if c is not _FAILED:
                return c
            self.pos = start
        if self.not_ahead(self.Cursor):
            if self.pos < self.n and self.s[self.pos] != '"':
                self.pos += 1
                return self.s[self.pos - 1]
            if self.silent == 0:
                self.fail(("class",))
        return _FAILED

    @_rule
    def UnquotedLiteral(self) -> Any:
        chars = []
        while (c := self.UnquotedCharacter()) is not _FAILED:
            chars.append(c)
        if not chars:
            return _FAILED
        sequence = "".join(chars).strip(_JS_WHITESPACE)
        if sequence == "null":
            return Literal(None)
        if sequence == "true":
            return Literal(True)
        if sequence == "false":
            return Literal(False)
        if WILDCARD_SYMBOL in chars:
            return Wildcard(sequence)
        return Literal(sequence)

    @_rule
    def UnquotedCharacter(self) -> Any:
        for alternative in (
            self.EscapedWhitespace,
            self.EscapedSpecialCharacter,
            self.EscapedUnicodeSequence,
            self.EscapedKeyword,
            self.Wildcard,
        ):
            result = alternative()
            if result is not _FAILED:
                return result
        if self.not_ahead(self.SpecialCharacter) and self.not_ahead(self.Keyword) and self.not_ahead(self.Cursor):
            if self.pos < self.n:
                self.pos += 1
                return self.s[self.pos - 1]
            if self.silent == 0:
                self.fail(("any",))
        return _FAILED

    @_rule
    def Wildcard(self) -> Any:
        return WILDCARD_SYMBOL if self.lit("*") is not _FAILED else _FAILED

    @_rule
    def OptionalSpace(self) -> Any:
        self.spaces()
        return None

    @_rule
    def EscapedWhitespace(self) -> Any:
        for text, char in (("\\t", "\t"), ("\\r", "\r"), ("\\n", "\n")):
            if self.lit(text) is not _FAILED:
                return char
        return _FAILED

    @_rule
    def EscapedSpecialCharacter(self) -> Any:
        start = self.pos
        if self.lit("\\") is not _FAILED:
            c = self.SpecialCharacter()
            if c is not _FAILED:
                return c
            self.pos = start
        return _FAILED

    @_rule
    def EscapedKeyword(self) -> Any:
        start = self.pos
        if self.lit("\\") is not _FAILED:
            for word in ("or", "and", "not"):
                kw = self.lit_i(word)
                if kw is not _FAILED:
                    return kw
            self.pos = start
        return _FAILED

    @_rule
    def Keyword(self) -> Any:
        start = self.pos
        for word in ("or", "and"):
            if self.Space() is not _FAILED and self.lit_i(word) is not _FAILED and self.Space() is not _FAILED:
                return word
            self.pos = start
        if self.lit_i("not") is not _FAILED and self.Space() is not _FAILED:
            return "not"
        self.pos = start
        return _FAILED

    @_rule
    def SpecialCharacter(self) -> Any:
        return self.char_in(_SPECIAL)

    @_rule
    def EscapedUnicodeSequence(self) -> Any:
        start = self.pos
        if self.lit("\\") is not _FAILED:
            c = self.UnicodeSequence()
            if c is not _FAILED:
                return c
            self.pos = start
        return _FAILED

    @_rule
    def UnicodeSequence(self) -> Any:
        start = self.pos
        if self.lit("u") is not _FAILED:
            digits = []
            for _ in range(4):
                d = self.HexDigit()
                if d is _FAILED:
                    self.pos = start
                    return _FAILED
                digits.append(d)
            return chr(int("".join(digits), 16))
        return _FAILED

    @_rule
    def HexDigit(self) -> Any:
        return self.char_in(_HEX)

    @_rule
    def RangeOperator(self) -> Any:
        for text, op in (("<=", "lte"), (">=", "gte"), ("<", "lt"), (">", "gt")):
            if self.lit(text) is not _FAILED:
                return op
        return _FAILED

    @_named("whitespace")
    def Space(self) -> Any:
        return self.char_in(_SPACE)

    @_rule
    def Cursor(self) -> Any:
        # &{ return parseCursor; } is false when a query is parsed to be run.
        return _FAILED


def _partials(build: Callable[[tuple[Any, ...]], Any]) -> Callable[[tuple[Any, ...]], Any]:
    def combine(partials: tuple[Any, ...]) -> Any:
        return lambda field: build(tuple(p(field) for p in partials))

    return combine


def _describe(expectation: tuple[str, ...]) -> str:
    kind = expectation[0]
    if kind == "other":
        return _RULE_NAMES.get(expectation[1], expectation[1])
    if kind == "literal":
        return f'"{expectation[1]}"'
    if kind == "end":
        return "end of input"
    return ""  # a character class or "any character": Kibana shows these as an empty string
