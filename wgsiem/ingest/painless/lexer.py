"""Painless source to tokens, as PainlessLexer.g4 splits it.

Kinds: `num` (a numeric literal's text), `str` (value: the unescaped text), `regex` (value:
(pattern, flags)), `id` (names and keywords), `field` (the name or integer right after `.`
or `?.`, where Painless switches lexer mode), `op`, `eof`. A `/` starts a regex unless the
token before it ends a value (a name, a number, `)` or `]`), as EnhancedPainlessLexer decides.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .errors import PainlessCompileError


class Tok(NamedTuple):
    kind: str
    text: str
    start: int
    end: int
    value: Any = None


KEYWORDS = frozenset(
    "if in else while do for continue break return new try catch throw this instanceof true false null "
    "boolean byte short char int long float double def".split()
)
_PUNCTUATION = sorted(
    """>>>= >>> >>= <<= === !== ==~ == != <= >= << >> && || ?. ?: :: -> =~ ++ -- += -= *= /= %= &= ^= |=
    { } [ ] ( ) . , ; ! ~ * / % + - < > & ^ | ? : =""".split(),
    key=len,
    reverse=True,
)
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[lL]?|0[0-7]+[lL]?|(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[lLfFdD]?")
_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_DOT_INTEGER = re.compile(r"0|[1-9][0-9]*")
_REGEX = re.compile(r"/((?:\\[^\n]|[^/\n\\])+?)/([cilmsUux]*)")


def _describe_at(source: str, i: int) -> str:
    if i >= len(source):
        return "end of input"
    return "whitespace" if source[i].isspace() else repr(source[i])


def _slash_is_regex(tokens: list[Tok]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    if last.kind in ("num", "field"):
        return False
    if last.kind == "id":
        return last.text in KEYWORDS
    return not (last.kind == "op" and last.text in (")", "]"))


def tokenize(source: str) -> list[Tok]:
    tokens: list[Tok] = []
    i, n = 0, len(source)
    while True:
        # Whitespace and comments, in Painless's default lexer mode.
        while i < n:
            c = source[i]
            if c in " \t\n\r":
                i += 1
            elif source.startswith("//", i):
                ends = [p for p in (source.find("\n", i), source.find("\r", i)) if p >= 0]
                if not ends:
                    # Painless's lexer ends a // comment only at a line break.
                    raise PainlessCompileError("unterminated // comment: expected a line break", source, i, "a line break")
                i = min(ends) + 1
            elif source.startswith("/*", i):
                end = source.find("*/", i + 2)
                if end < 0:
                    raise PainlessCompileError("unterminated /* comment: expected '*/'", source, i, "'*/'")
                i = end + 2
            else:
                break
        if i >= n:
            tokens.append(Tok("eof", "", n, n))
            return tokens
        c = source[i]
        if c == "'" or c == '"':
            tokens.append(_string(source, i))
            i = tokens[-1].end
            continue
        if "0" <= c <= "9":
            m = _NUMBER.match(source, i)
            assert m is not None  # any ASCII digit starts a number
            tokens.append(Tok("num", m.group(), i, m.end()))
            i = m.end()
            continue
        m = _IDENT.match(source, i)
        if m:
            tokens.append(Tok("id", m.group(), i, m.end()))
            i = m.end()
            continue
        if c == "/" and _slash_is_regex(tokens):
            rm = _REGEX.match(source, i)
            if rm is None:
                raise PainlessCompileError("unterminated regex literal (it ends on its own line): expected '/'", source, i, "'/'")
            tokens.append(Tok("regex", rm.group(), i, rm.end(), (rm.group(1), rm.group(2))))
            i = rm.end()
            continue
        for p in _PUNCTUATION:
            if source.startswith(p, i):
                tokens.append(Tok("op", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise PainlessCompileError(
                f"unexpected character {c!r}: expected an expression or operator", source, i, "an expression or operator"
            )
        if p in (".", "?."):
            # Painless switches lexer mode after a dot: only a name or an integer may follow,
            # not even whitespace (`ctx. a` does not compile).
            m = _IDENT.match(source, i) or _DOT_INTEGER.match(source, i)
            if m is None:
                raise PainlessCompileError(
                    f"unexpected {_describe_at(source, i)}: expected a field or method name right after '{p}'",
                    source, i, f"a field or method name right after '{p}'",
                )  # fmt: skip
            tokens.append(Tok("field", m.group(), i, m.end()))
            i = m.end()


def _string(source: str, start: int) -> Tok:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        c = source[i]
        if c == quote:
            return Tok("str", source[start : i + 1], start, i + 1, "".join(chars))
        if c == "\\":
            # Painless knows two escapes per quote style: the quote itself and the backslash.
            nxt = source[i + 1 : i + 2]
            if nxt not in (quote, "\\"):
                raise PainlessCompileError(
                    f"invalid escape sequence in a {quote}-quoted string: expected \\{quote} or \\\\", source, i, f"\\{quote} or \\\\"
                )
            chars.append(nxt)
            i += 2
            continue
        chars.append(c)
        i += 1
    raise PainlessCompileError(f"unterminated string: expected a closing {quote}", source, start, f"a closing {quote}")
