"""Grok with Elasticsearch's semantics, on Python's `re`.

What Elasticsearch does, and so what this does:

- The bank is the built-in (legacy) patterns overlaid with `pattern_definitions`; the
  whole overlaid bank must be free of circular references and of references to names it
  does not define, even in entries the expression never uses.
- `%{NAME}` becomes a non-capturing group, `%{NAME:field}` and `%{NAME:field:type}` a
  named group, and the expansion is repeated until no reference is left. An unknown
  NAME is an error; a `%{...}` the reference grammar does not accept stays literal text.
- Several patterns are ONE regular expression, `(?:p0)|(?:p1)|...`, searched once: the
  leftmost position where any pattern matches wins, and at that position the first
  pattern in the list. The result names which pattern that was.
- Every named group captures, `(?<name>...)` written in a pattern too. A group's name is
  split on ':': the second part (or the only one) is the field name, taken verbatim
  (dots and brackets included: `[source][ip]` stays `[source][ip]`, as in Elasticsearch,
  whose own ECS bank spells its fields `source.ip`); a third part is the type: int,
  long, float, double or boolean, and anything else means string.
- A group that did not take part in the match is absent; one that matched the empty
  string gives "". When several groups give the same field, every participating one
  contributes, and the field becomes a list of the values in group order.
- Typed captures are converted as Java converts them (Integer.parseInt, Float.parseFloat
  ...); a value Java cannot convert fails the match with Java's message.

Oniguruma (Ruby syntax) is translated where Python differs: `(?<name>` groups get
internal names, `^`/`$` match at line boundaries, an isolated `(?i)` applies to the rest
of its group, `\\h`, `\\z`, `\\Z`, `\\x{...}`, POSIX brackets. What Python cannot express
raises GrokError when the pattern is built.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from ...errors import WgsiemError
from ..java.strings import java_trim
from .convert import java_parse_double, java_parse_float

__all__ = ["Grok", "GrokConversionError", "GrokError", "builtin_patterns", "ecs_patterns"]

_MAX_EXPANSIONS = 100_000
_CACHE_SIZE = 256


class GrokError(WgsiemError):
    """A grok expression or pattern bank Elasticsearch would refuse; the message names it."""


class GrokConversionError(WgsiemError):
    """A typed capture (`:int`, `:float`...) whose text Java cannot convert.

    Elasticsearch fails the document with Java's NumberFormatException; the message is
    Java's (`For input string: "abc"`).
    """

    error_type = "number_format_exception"


# --------------------------------------------------------------------------------------
# The pattern bank


def _read_bank(name: str) -> dict[str, str]:
    """A pattern file of this package: pattern name -> expression."""
    data = yaml.safe_load(resources.files("wgsiem.ingest.formats").joinpath(name).read_text("utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise GrokError(f"{name} must map pattern names to strings")
    return data


@lru_cache(maxsize=1)
def builtin_patterns() -> Mapping[str, str]:
    """The built-in (legacy) pattern bank, name -> expression, checked once."""
    data = _read_bank("grok_patterns.yaml")
    _check_bank(data)
    return MappingProxyType(dict(data))


@lru_cache(maxsize=1)
def ecs_patterns() -> Mapping[str, str]:
    """The ECS v1 forms of the built-in patterns that differ from the legacy bank (the part
    of Elasticsearch's ecs-v1 bank that redact uses), laid over `builtin_patterns()`."""
    return MappingProxyType(_read_bank("grok_patterns_ecs.yaml"))


def _references(name: str, body: str, bank: Mapping[str, str]) -> list[str]:
    """The pattern names `body` refers to, as Elasticsearch reads them for its bank check.

    A name runs from `%{` to the first ':' or '}' after it, whichever comes first.
    """
    names: list[str] = []
    at = body.find("%{")
    while at != -1:
        begin = at + 2
        ends = [e for e in (body.find("}", begin), body.find(":", begin)) if e != -1]
        if not ends:
            raise GrokError(f"grok pattern [{name}] has a '%{{' with no closing '}}': [{body}]")
        other = body[begin : min(ends)]
        if other not in names:
            if other not in bank:
                raise GrokError(f"grok pattern [{name}] refers to [{other}], which is not a defined pattern")
            names.append(other)
        at = body.find("%{", at + 1)
    return names


def _check_bank(bank: Mapping[str, str]) -> None:
    """Refuse a bank with a cycle of references or a reference to an undefined name.

    Walks depth-first from each name in bank order, as Elasticsearch's PatternBank does,
    so the first problem reported is the one Elasticsearch reports.
    """
    refs: dict[str, list[str]] = {}

    def neighbours(n: str) -> list[str]:
        found = refs.get(n)
        if found is None:
            found = refs[n] = _references(n, bank[n], bank)
        return found

    done: set[str] = set()
    seen_twice: set[str] = set()
    for start in bank:
        if start in done and start not in seen_twice:
            continue
        visited = {start}
        path = [start]
        stack = [iter(neighbours(start))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                path.pop()
                continue
            if nxt == start:
                raise GrokError("grok patterns refer to each other in a circle: " + "->".join([*path, start]))
            if nxt in visited:
                seen_twice.add(nxt)
                continue
            visited.add(nxt)
            path.append(nxt)
            stack.append(iter(neighbours(nxt)))
        done |= visited


# One grok reference: %{NAME}, %{NAME:field}, %{NAME:field:type}; an `=definition` part
# is accepted and ignored, as Elasticsearch does. NAME is [A-z0-9]+ (that ASCII range
# includes [ \ ] ^ _ and the backquote).
_REFERENCE = re.compile(r"%\{(?P<pattern>[A-z0-9]+)(?P<sub>:[\w@\[\]:.\-]+)?(?:=[^{}]+)?\}")


def _expand(expression: str, bank: Mapping[str, str]) -> str:
    """Replace grok references until none is left (Oniguruma syntax out)."""
    done: list[str] = []
    rest = expression
    for _ in range(_MAX_EXPANSIONS):
        m = _REFERENCE.search(rest)
        if m is None:
            done.append(rest)
            return "".join(done)
        name = m.group("pattern")
        body = bank.get(name)
        if body is None:
            raise GrokError(f"Unable to find pattern [{name}] in Grok's pattern dictionary")  # Grok.java's words
        if "%{" + name + "}" in body or "%{" + name + ":" in body:
            raise GrokError(f"grok pattern [{name}] refers to itself")
        sub = m.group("sub")
        group = f"(?<{name}{sub}>{body})" if sub is not None else f"(?:{body})"
        done.append(rest[: m.start()])
        rest = group + rest[m.end() :]
    raise GrokError(f"grok expression [{expression}] does not finish expanding")


# --------------------------------------------------------------------------------------
# Oniguruma (Ruby syntax) -> Python re


class _Unsupported(Exception):  # noqa: N818 - a signal inside the pattern translator
    """Oniguruma syntax with no Python equivalent here."""


_POSIX = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "ascii": "\\x00-\\x7f",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\s",
    "upper": "A-Z",
    "word": "\\w",
    "xdigit": "0-9a-fA-F",
}
_HEX = "0-9a-fA-F"
# (?imx-imx) and (?imx-imx: ; Ruby's m is "dot matches newline", Python's s.
_OPTIONS = re.compile(r"\(\?([imx]*)(?:-([imx]*))?([:)])")
_DIGITS = re.compile(r"[0-9]+")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]{1,2}")


class _Translator:
    """Translates the expanded expressions of one Grok, in order, sharing group numbering.

    Plain groups and numbered backreferences are decided at the end: Oniguruma (Ruby
    syntax) does not capture plain groups once any named group exists, and then refuses
    numbered backreferences; without named groups they capture and can be referred to.
    """

    def __init__(self) -> None:
        self.named: list[tuple[str, str]] = []  # (Oniguruma name, Python name), in order
        self.first_py: dict[str, str] = {}  # Oniguruma name -> first Python group name
        self.plain = 0  # plain groups seen (Oniguruma numbering)
        self.pieces: list[Any] = []  # str, or ("plain", k) / ("backref", k) to decide later

    # -- whole expressions ------------------------------------------------------------

    def add(self, regex: str) -> list[Any]:
        """Translate one expression; returns its pieces (finished by `finish`)."""
        self.pieces = []
        self._run(regex)
        return self.pieces

    def finish(self, pieces: list[Any], has_named: bool) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            elif piece[0] == "plain":
                out.append("(?:" if has_named else f"(?P<_n{piece[1]}>")
            else:  # numbered backreference
                if has_named:
                    raise _Unsupported("a numbered backreference, which Oniguruma refuses once named groups are used")
                if piece[1] > self.plain or piece[1] == 0:
                    raise _Unsupported(f"a backreference to group {piece[1]}, which does not exist")
                out.append(f"(?P=_n{piece[1]})")
        return "".join(out)

    # -- the walk ---------------------------------------------------------------------

    def _emit(self, text: Any) -> None:
        self.pieces.append(text)

    def _run(self, regex: str) -> None:
        n = len(regex)
        i = 0
        # One frame per open group: how many extra ')' its end must write (one per
        # isolated option like (?i) seen directly inside it).
        frames = [0]
        while i < n:
            c = regex[i]
            if c == "\\":
                i = self._escape(regex, i)
            elif c == "[":
                i, body, negated = self._char_class(regex, i)
                self._emit("[" + ("^" if negated else "") + body + "]")
            elif c == "(":
                i = self._open(regex, i, frames)
            elif c == ")":
                if len(frames) == 1:
                    raise _Unsupported("an unmatched ')'")
                self._emit(")" * frames.pop() + ")")
                i += 1
            else:
                self._emit(c)
                i += 1
        if len(frames) != 1:
            raise _Unsupported("a '(' that is never closed")
        self._emit(")" * frames[0])

    def _open(self, regex: str, i: int, frames: list[int]) -> int:
        if not regex.startswith("(?", i):
            self.plain += 1
            self._emit(("plain", self.plain))
            frames.append(0)
            return i + 1
        kind = regex[i + 2 : i + 3]
        if kind == "<" and regex[i + 3 : i + 4] not in ("=", "!") or kind == "'":
            close = ">" if kind == "<" else "'"
            end = regex.find(close, i + 3)
            if end == -1:
                raise _Unsupported("a group name that is never closed")
            name = regex[i + 3 : end]
            if not name:
                raise _Unsupported("an empty group name")
            py = f"_g{len(self.named)}"
            self.named.append((name, py))
            self.first_py.setdefault(name, py)
            self._emit(f"(?P<{py}>")
            frames.append(0)
            return end + 1
        if kind == "#":
            end = regex.find(")", i)
            if end == -1:
                raise _Unsupported("a comment that is never closed")
            return end + 1
        if kind == "P":
            raise _Unsupported("'(?P', which is Python syntax, not Oniguruma's")
        m = _OPTIONS.match(regex, i)
        if m is not None:
            on, off, end = m.group(1), m.group(2) or "", m.group(3)
            flags = on.replace("m", "s") + ("-" + off.replace("m", "s") if off else "")
            if end == ":":
                self._emit(f"(?{flags}:")
                frames.append(0)
            elif flags:
                # Isolated option: it governs the rest of the enclosing group.
                self._emit(f"(?{flags}:")
                frames[-1] += 1
            return m.end()
        # (?= (?! (?<= (?<! (?> and anything else Python will judge
        self._emit("(?")
        frames.append(0)
        return i + 2

    def _escape(self, regex: str, i: int) -> int:
        if i + 1 >= len(regex):
            raise _Unsupported("a trailing backslash")
        c = regex[i + 1]
        if c == "h":
            self._emit(f"[{_HEX}]")
        elif c == "H":
            self._emit(f"[^{_HEX}]")
        elif c == "z":
            self._emit(r"\Z")
        elif c == "Z":
            self._emit(r"(?=\n?\Z)")
        elif c == "e":
            self._emit(r"\x1b")
        elif c == "N" and regex[i + 2 : i + 3] != "{":
            self._emit(r"[^\n]")
        elif c == "x":
            return self._hex(regex, i)
        elif c == "k" and regex[i + 2 : i + 3] == "<":
            end = regex.find(">", i + 3)
            name = regex[i + 3 : end] if end != -1 else ""
            py = self.first_py.get(name)
            if py is None:
                raise _Unsupported(f"a backreference to the unknown group <{name}>")
            self._emit(f"(?P={py})")
            return end + 1
        elif "1" <= c <= "9":
            m = _DIGITS.match(regex, i + 1)
            assert m is not None
            self._emit(("backref", int(m.group())))
            return m.end()
        else:
            self._emit("\\" + c)
        return i + 2

    def _hex(self, regex: str, i: int) -> int:
        if regex[i + 2 : i + 3] == "{":
            end = regex.find("}", i + 3)
            digits = regex[i + 3 : end] if end != -1 else ""
            if not digits or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                raise _Unsupported(r"a malformed \x{...} escape")
            self._emit(f"\\U{int(digits, 16):08x}")
            return end + 1
        m = _HEX_DIGITS.match(regex, i + 2)
        if m is None:
            raise _Unsupported(r"a \x escape with no hex digit")
        self._emit(f"\\x{int(m.group(), 16):02x}")
        return m.end()

    def _char_class(self, regex: str, i: int) -> tuple[int, str, bool]:
        """Parse `[...]` at i; returns (index after it, Python class body, negated)."""
        n = len(regex)
        j = i + 1
        negated = regex[j : j + 1] == "^"
        if negated:
            j += 1
        body: list[str] = []
        first = True
        while True:
            if j >= n:
                raise _Unsupported("a '[' that is never closed")
            c = regex[j]
            if c == "]" and not first:
                return j + 1, "".join(body), negated
            if c == "]":  # a ']' right after '[' or '[^' is literal
                body.append(r"\]")
                j += 1
            elif c == "\\":
                j = self._class_escape(regex, j, body)
            elif c == "[":
                if regex.startswith("[:", j):
                    end = regex.find(":]", j + 2)
                    name = regex[j + 2 : end] if end != -1 else ""
                    if name not in _POSIX:
                        raise _Unsupported(f"the POSIX bracket [:{name}:]")
                    body.append(_POSIX[name])
                    j = end + 2
                else:  # a nested set is a union with the outer one
                    j, inner, inner_negated = self._char_class(regex, j)
                    if inner_negated:
                        raise _Unsupported("a negated set nested in a character class")
                    body.append(inner)
            elif c == "&" and regex.startswith("&&", j):
                raise _Unsupported("a character class intersection (&&)")
            elif c in "&~|":
                body.append("\\" + c)
                j += 1
            else:
                body.append(c)
                j += 1
            first = False

    def _class_escape(self, regex: str, j: int, body: list[str]) -> int:
        if j + 1 >= len(regex):
            raise _Unsupported("a trailing backslash")
        c = regex[j + 1]
        if c == "h":
            body.append(_HEX)
        elif c == "H":
            raise _Unsupported(r"\H inside a character class")
        elif c == "e":
            body.append(r"\x1b")
        elif c == "x":
            saved = self.pieces
            self.pieces = []
            end = self._hex(regex, j)
            body.append("".join(self.pieces))
            self.pieces = saved
            return end
        else:
            body.append("\\" + c)
        return j + 2


# --------------------------------------------------------------------------------------
# Java's conversions

_INT = re.compile(r"[+-]?\d+")  # Character.digit accepts any Unicode decimal digit


def _java_integer(bits: int) -> Callable[[str], int]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def parse(s: str) -> int:
        if _INT.fullmatch(s):
            v = int(s)
            if low <= v <= high:
                return v
        raise GrokConversionError(f'For input string: "{s}"')

    return parse


def _java_decimal(parse: Callable[[str], float]) -> Callable[[str], float]:
    """Double.parseDouble / Float.parseFloat (a Float as the double that prints like it: ES
    writes it with Float.toString, so 0.1f goes out as 0.1, not 0.10000000149011612)."""

    def convert(s: str) -> float:
        try:
            return parse(s)
        except ValueError:
            text = java_trim(s)  # Java's message quotes the trimmed text
            raise GrokConversionError(f'For input string: "{text}"' if text else "empty String") from None

    return convert


def _java_boolean(s: str) -> bool:
    return s.lower() == "true"


_CONVERTERS: dict[str, Callable[[str], Any] | None] = {
    "string": None,
    "int": _java_integer(32),
    "long": _java_integer(64),
    "float": _java_decimal(java_parse_float),
    "double": _java_decimal(java_parse_double),
    "boolean": _java_boolean,
}


def _split_group_name(name: str) -> tuple[str, str]:
    """(field, type) from a group name, split on ':' the way Java's String.split does."""
    if ":" in name:
        parts = name.split(":")
        while parts and parts[-1] == "":
            parts.pop()
    else:
        parts = [name]
    field = parts[1] if len(parts) >= 2 else (parts[0] if parts else "")
    kind = parts[2] if len(parts) == 3 else "string"
    return field, kind if kind in _CONVERTERS else "string"


# --------------------------------------------------------------------------------------
# Compiled programs, cached


class _Program:
    """Everything a match needs, built once per (patterns, pattern_definitions)."""

    __slots__ = ("regex", "source", "single", "by_lastindex", "wrappers", "flat", "configs", "field_types")

    def __init__(self, patterns: tuple[str, ...], definitions: tuple[tuple[str, str], ...], trace_match: bool) -> None:
        bank = _bank(definitions)
        source, named = _source(patterns, bank, trace_match)
        try:
            self.regex = _compile(source)
        except re.error as error:
            culprit = _culprit(patterns, bank)
            what = f"grok pattern [{culprit}]" if culprit is not None else f"grok patterns {list(patterns)}"
            raise GrokError(f"{what} is not a valid regular expression: {error}") from None
        self.source = source
        self.single = len(patterns) == 1
        groupindex = self.regex.groupindex
        self.wrappers = () if self.single else tuple(groupindex[f"_p{k}"] for k in range(len(patterns)))
        self.by_lastindex = {g: k for k, g in enumerate(self.wrappers)}

        # Elasticsearch's capture configs: one per distinct group name, in order of first
        # appearance, each reading its groups in order.
        order: dict[str, list[int]] = {}
        for name, py in named:
            order.setdefault(name, []).append(groupindex[py] - 1)
        configs = []
        types: dict[str, str] = {}
        for name, indexes in order.items():
            field, kind = _split_group_name(name)
            configs.append((field, tuple(indexes), _CONVERTERS[kind]))
            types.setdefault(field, kind)
        self.configs = tuple(configs)
        self.field_types = MappingProxyType(types)
        fields = [c[0] for c in configs]
        self.flat: tuple[tuple[int, str, Any], ...] | None = None
        if all(len(c[1]) == 1 for c in configs) and len(set(fields)) == len(fields):
            self.flat = tuple((c[1][0], c[0], c[2]) for c in configs)


def _bank(definitions: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    """The built-in bank overlaid with `definitions`, checked as a whole."""
    bank = builtin_patterns()
    if not definitions:
        return bank
    overlaid = dict(bank)
    overlaid.update(definitions)
    _check_bank(overlaid)
    return overlaid


def _source(patterns: Sequence[str], bank: Mapping[str, str], trace_match: bool) -> tuple[str, list[tuple[str, str]]]:
    """The Python expression for `patterns` and its named groups (Oniguruma name, Python name)."""
    translator = _Translator()
    translated: list[list[Any]] = []
    for pattern in patterns:
        expanded = _expand(pattern, bank)
        try:
            translated.append(translator.add(expanded))
        except _Unsupported as why:
            raise GrokError(f"grok pattern [{pattern}] uses {why}") from None
    # Elasticsearch names its per-pattern wrappers when trace_match is on.
    has_named = bool(translator.named) or (trace_match and len(patterns) > 1)
    parts = []
    for pattern, pieces in zip(patterns, translated, strict=False):
        try:
            parts.append(translator.finish(pieces, has_named))
        except _Unsupported as why:
            raise GrokError(f"grok pattern [{pattern}] uses {why}") from None
    if len(parts) == 1:
        return parts[0], translator.named
    return "|".join(f"(?P<_p{k}>{p})" for k, p in enumerate(parts)), translator.named


def _compile(source: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarnings about [[ and -- in classes
        try:
            return re.compile(source, re.MULTILINE)
        except RecursionError:
            raise re.error("the expression nests too deeply") from None


def _culprit(patterns: Sequence[str], bank: Mapping[str, str]) -> str | None:
    """The first pattern that does not compile on its own, if one does not."""
    for pattern in patterns:
        try:
            _compile(_source((pattern,), bank, False)[0])
        except (re.error, GrokError):
            return pattern
    return None


_cache: OrderedDict[tuple[Any, ...], _Program] = OrderedDict()
_cache_lock = threading.Lock()


def _program(patterns: tuple[str, ...], definitions: tuple[tuple[str, str], ...], trace_match: bool) -> _Program:
    # trace_match only matters (to plain groups) when there are several patterns.
    key = (patterns, definitions, trace_match and len(patterns) > 1)
    with _cache_lock:
        program = _cache.get(key)
        if program is not None:
            _cache.move_to_end(key)
            return program
    program = _Program(patterns, definitions, trace_match)
    with _cache_lock:
        _cache[key] = program
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return program


# --------------------------------------------------------------------------------------
# The public matcher


class Grok:
    """One grok processor's patterns, compiled (and cached) once, matched per line.

    `match(text)` -> `(index of the pattern that matched, {field: value})` or None.
    Construction is cheap after the first time for the same patterns and definitions.
    """

    __slots__ = ("patterns", "pattern_definitions", "trace_match", "_p")

    def __init__(
        self,
        patterns: Sequence[str],
        pattern_definitions: Mapping[str, str] | None = None,
        *,
        trace_match: bool = False,
    ) -> None:
        if isinstance(patterns, str) or not patterns:
            raise GrokError("grok needs a non-empty list of patterns")
        if not all(isinstance(p, str) for p in patterns):
            raise GrokError("grok patterns must be strings")
        definitions: tuple[tuple[str, str], ...] = ()
        if pattern_definitions:
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in pattern_definitions.items()):
                raise GrokError("grok pattern_definitions must map names to strings")
            definitions = tuple(pattern_definitions.items())
        self.patterns = tuple(patterns)
        self.pattern_definitions = dict(definitions)
        self.trace_match = trace_match
        self._p = _program(self.patterns, definitions, trace_match)

    @property
    def field_types(self) -> Mapping[str, str]:
        """Every field the patterns can produce -> its type (string, int, long, float, double, boolean)."""
        return self._p.field_types

    @property
    def regex(self) -> str:
        """The Python regular expression the patterns became (for debugging)."""
        return self._p.source

    def match(self, text: str) -> tuple[int, dict[str, Any]] | None:
        """Search `text`; None if no pattern matches.

        Raises GrokConversionError when a typed capture cannot be converted.
        """
        p = self._p
        m = p.regex.search(text)
        if m is None:
            return None
        if p.single:
            index = 0
        else:
            index = p.by_lastindex.get(m.lastindex, -1)  # the wrapper closes last
            if index < 0:  # pragma: no cover - defensive
                index = next(k for k, g in enumerate(p.wrappers) if m.start(g) != -1)
        if not p.configs:
            return index, {}
        groups = m.groups()
        out: dict[str, Any] = {}
        if p.flat is not None:
            for k, field, convert in p.flat:
                value = groups[k]
                if value is not None:
                    out[field] = value if convert is None else convert(value)
            return index, out
        listed: set[str] = set()
        for field, indexes, convert in p.configs:
            for k in indexes:
                value = groups[k]
                if value is None:
                    continue
                if convert is not None:
                    value = convert(value)
                if field not in out:
                    out[field] = value
                elif field in listed:
                    out[field].append(value)
                else:
                    out[field] = [out[field], value]
                    listed.add(field)
        return index, out

    def __repr__(self) -> str:
        return f"Grok({list(self.patterns)!r})"
