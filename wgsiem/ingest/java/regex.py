"""Java regular expressions (java.util.regex.Pattern syntax) compiled with Python's `re`.

Painless regex literals (`/.../flags`) are Java patterns. Most of the syntax is shared; what
differs is translated here, and what `re` cannot express is refused with `JavaRegexError`
naming the construct, so a pattern never silently matches something else:

* `(?<name>...)` and `\\k<name>` are Python's `(?P<name>...)` and `(?P=name)`;
* `\\Q...\\E` quotes, `\\x{h...h}` is a code point, `\\h` horizontal whitespace, `\\R` a line
  break, `\\z` the very end (Python's `\\Z`) and `\\Z` the end before a final line break;
* the POSIX classes `\\p{Lower}`, `\\p{Alpha}`, `\\p{Punct}`... (US-ASCII only, as in Java);
* `.` excludes every Java line terminator (\\n, \\r, \\u0085, \\u2028, \\u2029) unless DOTALL;
* `\\d \\w \\s \\b` are ASCII-only unless UNICODE_CHARACTER_CLASS (flag `U`), and
  CASE_INSENSITIVE folds ASCII only unless UNICODE_CASE (flag `u`), as in Java;
* possessive quantifiers and atomic groups are Python's own (3.11+).

Refused: Unicode categories and scripts (`\\p{L}`, `\\p{IsLatin}`...), class intersections
(`[a-z&&[^x]]`), `\\G`, `\\X`, `\\cX`, and CANON_EQ.

Sources: the java.util.regex.Pattern documentation (JDK 21, the one Elasticsearch 9 bundles).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...errors import WgsiemError

# Java's flags as Painless spells them after a regex literal (PainlessLexer REGEX), and the
# java.util.regex.Pattern constants they stand for.
FLAG_BITS = {"c": 128, "i": 2, "l": 16, "m": 8, "s": 32, "U": 256, "u": 64, "x": 4}
_LINE_TERMINATORS = "\\n\\r\\x85\\u2028\\u2029"
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}
_HORIZONTAL = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VERTICAL = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
_ASCII_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " \\t\\n\\x0b\\f\\r"}


class JavaRegexError(WgsiemError):
    """A pattern Java would reject, or one this translation cannot reproduce."""

    def __init__(self, message: str, pattern: str, index: int, java_exception: str = "PatternSyntaxException") -> None:
        # Only a pattern's syntax errors point into it; Matcher's replacement errors do not.
        syntax = java_exception == "PatternSyntaxException"
        super().__init__(f"{message} near index {index} of [{pattern}]" if syntax else message)
        self.message = message
        self.java_exception = java_exception
        self.pattern = pattern
        self.index = index


def compile_java(pattern: str, flags: str = "") -> re.Pattern[str]:
    """The Python pattern that matches what Java's `Pattern.compile(pattern, flags)` matches."""
    for flag in flags:
        if flag not in FLAG_BITS:
            raise JavaRegexError(f"unknown regex flag [{flag}]", pattern, 0)
    if "c" in flags:
        raise JavaRegexError("the CANON_EQ flag (c) is not supported by the offline engine", pattern, 0)
    unicode_classes = "U" in flags
    py_flags = 0
    if "i" in flags:
        py_flags |= re.IGNORECASE
    if "m" in flags:
        py_flags |= re.MULTILINE
    if "x" in flags:
        py_flags |= re.VERBOSE
    if "l" in flags:
        source = re.escape(pattern)
    else:
        source = _Translator(pattern, dotall="s" in flags, unicode_classes=unicode_classes).run()
    if "s" in flags:
        py_flags |= re.DOTALL
    # Java folds case for ASCII only unless UNICODE_CASE (u) or UNICODE_CHARACTER_CLASS (U).
    if "i" in flags and "u" not in flags and not unicode_classes:
        py_flags |= re.ASCII
    try:
        return re.compile(source, py_flags)
    except re.error as error:
        raise JavaRegexError(str(error), pattern, error.pos or 0) from None


class _Translator:
    def __init__(self, pattern: str, *, dotall: bool, unicode_classes: bool) -> None:
        self.p = pattern
        self.dotall = dotall
        self.unicode = unicode_classes
        self.out: list[str] = []

    def fail(self, what: str, i: int) -> JavaRegexError:
        return JavaRegexError(f"{what} is not supported by the offline engine", self.p, i)

    def run(self) -> str:
        p, n, i = self.p, len(self.p), 0
        while i < n:
            c = p[i]
            if c == "\\":
                i = self.escape(i, self.out, in_class=False)
            elif c == "[":
                body, i = self.char_class(i)
                self.out.append(body)
            elif c == "(":
                i = self.group(i)
            elif c == "." and not self.dotall:
                self.out.append(f"[^{_LINE_TERMINATORS}]")
                i += 1
            else:
                self.out.append(c)
                i += 1
        return "".join(self.out)

    def group(self, i: int) -> int:
        p = self.p
        if p.startswith("(?P", i) or p.startswith("(?#", i):
            # Python spellings Java does not have: Pattern.compile rejects them.
            raise JavaRegexError("Unknown inline modifier", p, i + 2)
        if p.startswith("(?<", i) and p[i + 3 : i + 4] not in ("=", "!"):
            end = p.find(">", i + 3)
            name = p[i + 3 : end] if end > 0 else ""
            if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9]*", name):
                raise JavaRegexError("named capturing group is missing trailing '>'" if end < 0 else f"bad group name [{name}]", p, i)
            self.out.append(f"(?P<{name}>")
            return end + 1
        m = re.compile(r"\(\?([idmsuxU]*)(?:-([idmsuxU]*))?([:)])").match(p, i)
        if m is not None and (m.group(1) or m.group(2) or m.group(3) == ":"):
            on, off = m.group(1), m.group(2) or ""
            if "d" in on + off or "u" in on + off or "U" in on + off:
                raise self.fail("the inline flags d, u and U", i)
            if "s" in on and not self.dotall or "s" in off and self.dotall:
                # `.` was spelled out for the whole pattern; a local DOTALL change cannot follow.
                raise self.fail("an inline (?s) flag", i)
            flags = on + ("-" + off if off else "")
            if m.group(3) == ")":
                # Java's isolated (?i) applies to the rest of the group; Python only accepts global
                # flags at the very start.
                if i == 0 and not off:
                    self.out.append(f"(?{on})")
                    return m.end()
                raise self.fail("an inline flag group in the middle of a pattern", i)
            self.out.append(f"(?{flags}:")
            return m.end()
        self.out.append("(")
        return i + 1

    def escape(self, i: int, out: list[str], *, in_class: bool) -> int:  # noqa: C901, PLR0911, PLR0912 - one case per escape
        p = self.p
        if i + 1 >= len(p):
            raise JavaRegexError("unexpected internal error (a trailing backslash)", p, i)
        c = p[i + 1]
        if c == "Q":
            end = p.find("\\E", i + 2)
            text = p[i + 2 :] if end < 0 else p[i + 2 : end]
            out.append("".join("\\" + ch if not ch.isalnum() else ch for ch in text) if in_class else re.escape(text))
            return len(p) if end < 0 else end + 2
        if c in "dws" and not self.unicode:
            out.append(_ASCII_CLASSES[c] if in_class else f"[{_ASCII_CLASSES[c]}]")
            return i + 2
        if c in "DWS" and not self.unicode:
            if in_class:
                raise self.fail(f"\\{c} inside a character class", i)
            out.append(f"[^{_ASCII_CLASSES[c.lower()]}]")
            return i + 2
        if c in "pP":
            return self.property(i, out, in_class=in_class, negated=c == "P")
        if c == "h":
            out.append(_HORIZONTAL if in_class else f"[{_HORIZONTAL}]")
            return i + 2
        if c == "H":
            if in_class:
                raise self.fail("\\H inside a character class", i)
            out.append(f"[^{_HORIZONTAL}]")
            return i + 2
        if c == "v":
            out.append(_VERTICAL if in_class else f"[{_VERTICAL}]")
            return i + 2
        if c == "R" and not in_class:
            out.append("(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])")
            return i + 2
        if c == "z" and not in_class:
            out.append("\\Z")
            return i + 2
        if c == "Z" and not in_class:
            out.append(f"(?=(?:\\r\\n|[{_LINE_TERMINATORS}])?\\Z)")
            return i + 2
        if c == "k" and p[i + 2 : i + 3] == "<":
            end = p.find(">", i + 3)
            if end < 0:
                raise JavaRegexError("\\k is not followed by '<' for named capturing group", p, i)
            out.append(f"(?P={p[i + 3 : end]})")
            return end + 1
        if c == "x" and p[i + 2 : i + 3] == "{":
            end = p.find("}", i + 3)
            digits = p[i + 3 : end] if end > 0 else ""
            if not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise JavaRegexError("illegal hexadecimal escape sequence", p, i)
            out.append(f"\\U{int(digits, 16):08x}")
            return end + 1
        if c == "0":
            m = re.compile(r"[0-3]?[0-7]{1,2}").match(p, i + 2)
            if m is None:
                raise JavaRegexError("illegal octal escape sequence", p, i)
            out.append(f"\\x{int(m.group(), 8):02x}" if int(m.group(), 8) < 256 else f"\\u{int(m.group(), 8):04x}")
            return m.end()
        if c == "e":
            out.append("\\x1b")
            return i + 2
        if c == "a":
            out.append("\\x07")
            return i + 2
        if c in "GXc":
            raise self.fail(f"\\{c}", i)
        if c in "bB" and not in_class and not self.unicode:
            # JDK 19+ (Elasticsearch 9 bundles 21+): \b agrees with \w, ASCII unless U.
            w = _ASCII_CLASSES["w"]
            boundary = f"(?<=[{w}])(?![{w}])|(?<![{w}])(?=[{w}])"
            out.append(f"(?:{boundary})" if c == "b" else f"(?!{boundary})")
            return i + 2
        out.append("\\" + c)
        return i + 2

    def property(self, i: int, out: list[str], *, in_class: bool, negated: bool) -> int:
        p = self.p
        if p[i + 2 : i + 3] == "{":
            end = p.find("}", i + 3)
            name = p[i + 3 : end] if end > 0 else ""
            after = end + 1
        else:
            name, after = p[i + 2 : i + 3], i + 3
        body = _POSIX.get(name[2:] if name.startswith("Is") and name[2:] in _POSIX else name)
        if body is None:
            raise self.fail(f"the character property \\p{{{name}}}", i)
        if negated:
            if in_class:
                raise self.fail("\\P{...} inside a character class", i)
            out.append(f"[^{body}]")
        else:
            out.append(body if in_class else f"[{body}]")
        return after

    def char_class(self, i: int) -> tuple[str, int]:
        """`[...]` at i (nested classes are unions, as in Java); returns (Python class, next index)."""
        p, n = self.p, len(self.p)
        j = i + 1
        negated = p[j : j + 1] == "^"
        if negated:
            j += 1
        body: list[str] = []
        first = True
        while True:
            if j >= n:
                raise JavaRegexError("unclosed character class", p, j - 1)
            c = p[j]
            if c == "]" and not first:
                break
            if c == "\\":
                j = self.escape(j, body, in_class=True)
            elif c == "[":
                inner, j = self.char_class(j)
                if inner.startswith("[^"):
                    raise self.fail("a negated class nested in a character class", j)
                body.append(inner[1:-1])
            elif p.startswith("&&", j):
                raise self.fail("a character class intersection (&&)", j)
            elif c == "]":  # Java: a ']' right after '[' closes nothing... it is an empty class error
                raise JavaRegexError("unclosed character class", p, j)
            elif c in "[&~|":
                body.append("\\" + c)
                j += 1
            else:
                body.append(c)
                j += 1
            first = False
        return "[" + ("^" if negated else "") + "".join(body) + "]", j + 1


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Matcher.appendReplacement's reading of a replacement string, as a function of a match:
    `$n` takes as many digits as still name a group, `${name}` a named group, a backslash
    quotes the next character; a bad reference fails as Java's does."""
    pieces: list[Any] = []  # str, int (group number) or ("name", str)
    text: list[str] = []
    i, n = 0, len(replacement)
    while i < n:
        c = replacement[i]
        if c == "\\":
            if i + 1 >= n:
                raise JavaRegexError("character to be escaped is missing", replacement, i, "IllegalArgumentException")
            text.append(replacement[i + 1])
            i += 2
        elif c == "$":
            if i + 1 >= n:
                raise JavaRegexError("Illegal group reference: group index is missing", replacement, i, "IllegalArgumentException")
            if text:
                pieces.append("".join(text))
                text = []
            if replacement[i + 1] == "{":
                end = replacement.find("}", i + 2)
                if end < 0:
                    raise JavaRegexError("named capturing group is missing trailing '}'", replacement, i, "IllegalArgumentException")
                pieces.append(("name", replacement[i + 2 : end]))
                i = end + 1
            elif replacement[i + 1].isdigit():
                j = i + 2
                while j < n and replacement[j].isdigit():
                    j += 1
                pieces.append(("digits", replacement[i + 1 : j]))
                i = j
            else:
                raise JavaRegexError("Illegal group reference", replacement, i, "IllegalArgumentException")
        else:
            text.append(c)
            i += 1
    if text:
        pieces.append("".join(text))
    if all(isinstance(piece, str) for piece in pieces):
        constant = "".join(pieces)
        return lambda match: constant

    def render(match: re.Match[str]) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            kind, value = piece
            if kind == "name":
                if value not in match.re.groupindex:
                    raise JavaRegexError(f"No group with name {{{value}}}", replacement, 0, "IllegalArgumentException")
                out.append(match.group(value) or "")
                continue
            # The first digit is the group; later digits join it while the number exists.
            number = int(value[0])
            rest = value[1:]
            if number > match.re.groups:
                raise JavaRegexError(f"No group {number}", replacement, 0, "IndexOutOfBoundsException")
            while rest and number * 10 + int(rest[0]) <= match.re.groups:
                number = number * 10 + int(rest[0])
                rest = rest[1:]
            out.append((match.group(number) or "") + rest)
        return "".join(out)

    return render
