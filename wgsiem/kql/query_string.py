"""The part of Lucene's classic query parser that KQL's `query_string` queries use.

Kibana sends a wildcard value to `query_string` with every reserved character escaped
but `*` and whitespace (wildcard.ts toQueryStringQuery). What is left for the parser to
read is a list of whitespace-separated terms (default operator OR), each one:

- `*` alone: exists;
- no unescaped `*`: a plain term (analyzed like a `match` on the field; a term that starts
  with `<`, `>`, `<=` or `>=` is a one-sided range, as Elasticsearch's parser reads it);
- `text*` with no other `*`: a prefix query on the unescaped text;
- anything else with a `*`: a wildcard pattern (Lucene syntax, escapes kept).

The bare words AND, OR and NOT would be operators; Kibana does not escape them, but the
grammar only lets them into a value escaped (`\\or`) and their meaning in Lucene's parser
(precedence quirks of the classic parser) is not reproduced: such a query is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import WgsiemError

# QueryParser.jj _WHITESPACE.
_WHITESPACE = frozenset(" \t\n\r\u3000")


@dataclass(frozen=True, slots=True)
class Clause:
    kind: str  # "exists", "term", "prefix", "wildcard"
    text: str  # term: unescaped; prefix: unescaped, without the `*`; wildcard: as written


class UnsupportedQueryStringError(WgsiemError):
    """A query_string beyond what this evaluator reproduces (operators between clauses)."""


def parse(query: str) -> list[Clause]:
    clauses = []
    for raw in _split(query):
        if raw in ("AND", "OR", "NOT", "&&", "||"):
            raise UnsupportedQueryStringError(
                f"the query_string {query!r} holds the operator {raw}, which this evaluator does not reproduce"
            )
        stars = _unescaped_stars(raw)
        if not stars:
            clauses.append(Clause("term", unescape(raw)))
        elif raw == "*":
            clauses.append(Clause("exists", ""))
        elif stars == [len(raw) - 1] and raw[0] != "*":
            clauses.append(Clause("prefix", unescape(raw[:-1])))
        else:
            clauses.append(Clause("wildcard", raw))
    return clauses


def _split(query: str) -> list[str]:
    terms = []
    current: list[str] = []
    i = 0
    while i < len(query):
        c = query[i]
        if c == "\\" and i + 1 < len(query):
            current.append(query[i : i + 2])
            i += 2
            continue
        if c in _WHITESPACE:
            if current:
                terms.append("".join(current))
                current = []
        else:
            current.append(c)
        i += 1
    if current:
        terms.append("".join(current))
    return terms


def _unescaped_stars(term: str) -> list[int]:
    stars = []
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        if term[i] == "*":
            stars.append(i)
        i += 1
    return stars


def unescape(text: str) -> str:
    """QueryParserBase.discardEscapeChar."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
