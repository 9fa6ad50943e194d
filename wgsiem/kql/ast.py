"""The KQL syntax tree: the nodes Kibana's grammar builds, as frozen dataclasses.

The shapes follow Kibana's kuery node types (`literal`, `wildcard`, and the `is`, `range`,
`nested`, `and`, `or`, `not` functions) so that translating a tree to Elasticsearch DSL can
follow Kibana's functions one for one. `exists` is absent on purpose: the grammar never
builds it (`field:*` is an `is` node whose value is a lone wildcard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kibana marks an unescaped `*` inside a literal with this string (node_types/wildcard.ts),
# so `a\*b*` keeps its escaped star as text. A literal that spells the marker out is read
# back as a wildcard too, exactly as in Kibana.
WILDCARD_SYMBOL = "@kuery-wildcard@"


@dataclass(frozen=True, slots=True)
class Literal:
    """A value or field name: a string, true/false, or null (null as a field means "no field")."""

    value: str | bool | None
    quoted: bool = False

    def text(self) -> str:
        """The value as Kibana's ast.toElasticsearchQuery hands it on, made a string."""
        return js_string(self.value)


@dataclass(frozen=True, slots=True)
class Wildcard:
    """An unquoted value with at least one unescaped `*`, kept in Kibana's encoded form."""

    value: str

    @property
    def parts(self) -> list[str]:
        """The literal text between the wildcards."""
        return self.value.split(WILDCARD_SYMBOL)

    def is_lone(self) -> bool:
        # wildcard.ts isLoneWildcard: String.replace drops only the first marker, so `**` is
        # not "lone" and becomes a pattern query rather than an exists query.
        return WILDCARD_SYMBOL in self.value and not self.value.replace(WILDCARD_SYMBOL, "", 1)

    def has_leading_wildcard(self) -> bool:
        return not self.is_lone() and self.value.startswith(WILDCARD_SYMBOL)

    def text(self) -> str:
        """wildcard.ts toElasticsearchQuery: the pattern with plain `*`s."""
        return "*".join(self.parts)

    def to_query_string(self) -> str:
        """wildcard.ts toQueryStringQuery: query_string's reserved characters escaped, `*` kept."""
        return "*".join(_QS_RESERVED.sub(r"\\\g<0>", part) for part in self.parts)

    def matches(self, name: str) -> bool:
        """wildcard.ts test: does a field name fit this pattern (`*` spans dots too)."""
        return _pattern_regex(self.value).fullmatch(name) is not None


_QS_RESERVED = re.compile(r'[+\-=&|><!(){}\[\]^"~*?:\\/]')
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern_regex(value: str) -> re.Pattern[str]:
    rx = _PATTERNS.get(value)
    if rx is None:
        rx = _PATTERNS[value] = re.compile("[\\s\\S]*".join(re.escape(p) for p in value.split(WILDCARD_SYMBOL)))
    return rx


Term = Literal | Wildcard


@dataclass(frozen=True, slots=True)
class Is:
    """`field: value`; a null field (`Literal(None)`) is a query on every field (free text)."""

    field: Term
    value: Term


@dataclass(frozen=True, slots=True)
class Range:
    """`field < value` and friends; `op` is Kibana's name for it: gt, gte, lt or lte."""

    field: Term
    op: str
    value: Term


@dataclass(frozen=True, slots=True)
class Nested:
    """`path: { query }`: the inner query must hold within one object of a nested field."""

    path: Term
    query: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Is | Range | Nested | And | Or | Not

# What Kibana's grammar returns for an empty query: is(*, *), a match_all.
MATCH_ALL = Is(Wildcard(WILDCARD_SYMBOL), Wildcard(WILDCARD_SYMBOL))

RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def js_string(value: object) -> str:
    """A literal as Kibana's `${value}` writes it: true -> "true", null -> "null"."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


# -- back to KQL -----------------------------------------------------------------------------

_SPECIAL = re.compile(r'[\\():<>"*{}]')
# A keyword the grammar would see (Keyword = Space 'or'i Space / Space 'and'i Space /
# 'not'i Space); at the end of a value too, since a space may follow it in a query.
_KEYWORD = re.compile(r"(?i)(?<=[ \t\r\n\u00a0])(or|and)(?=[ \t\r\n\u00a0]|$)|not(?=[ \t\r\n\u00a0]|$)")


def to_kql(node: Node) -> str:
    """KQL text that parses back to `node`.

    Shaped like Kibana's toKqlExpression (`(a AND b)`, `NOT a`, `f: v`, `f >= v`,
    `path: { q }`), but escaping every character the grammar treats as special: Kibana's
    escapeKuery leaves `{` and `}` alone, so its output does not always parse back.
    """
    if isinstance(node, And):
        return "(" + " AND ".join(to_kql(c) for c in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(to_kql(c) for c in node.children) + ")"
    if isinstance(node, Not):
        return "NOT " + to_kql(node.child)
    if isinstance(node, Nested):
        return f"{term_to_kql(node.path)}: {{ {to_kql(node.query)} }}"
    if isinstance(node, Range):
        return f"{term_to_kql(node.field)} {RANGE_OPERATORS[node.op]} {term_to_kql(node.value)}"
    if isinstance(node, Is):
        if isinstance(node.field, Literal) and node.field.value is None:
            return term_to_kql(node.value)
        return f"{term_to_kql(node.field)}: {term_to_kql(node.value)}"
    raise TypeError(f"not a KQL node: {node!r}")


def term_to_kql(term: Term) -> str:
    if isinstance(term, Wildcard):
        return "*".join(_escape_unquoted(p) for p in term.parts)
    if term.quoted:
        return '"' + _escape_whitespace(re.sub(r'[\\"]', r"\\\g<0>", js_string(term.value))) + '"'
    if term.value is None or isinstance(term.value, bool):
        return js_string(term.value)
    if term.value == "":
        return "\\t"  # an escaped tab, which trim() leaves as the empty string
    return _escape_unquoted(term.value)


def _escape_unquoted(text: str) -> str:
    text = _SPECIAL.sub(r"\\\g<0>", text)
    text = _KEYWORD.sub(_escape_keyword, text)
    return _escape_whitespace(text)


def _escape_keyword(m: re.Match[str]) -> str:
    word = m.group(0)
    # `\not` would read as an escaped newline (EscapedWhitespace comes first in the
    # grammar), so a lowercase n is written as a unicode escape instead.
    if word[0] == "n":
        return "\\u006e" + word[1:]
    return "\\" + word


def _escape_whitespace(text: str) -> str:
    return text.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
