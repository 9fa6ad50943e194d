"""Lucene's HTMLStripCharFilter, for the html_strip processor.

The filter is a JFlex lexer (HTMLStripCharFilter.jflex); this follows its states and rules:

* A tag of an inline element (a, b, i, span, strong, img, ...; Lucene's list) is removed; any
  other start or end tag, and `<br>`, becomes a newline. Attributes may hold quoted '<' and
  '>'. A `<script>` or `<style>` element becomes one newline with everything inside it.
* Comments `<!-- -->`, declarations `<!...>` and processing instructions `<?...?>` are
  removed; a CDATA section keeps its text.
* Character references are decoded: the HTML 4 names (and apos, and AMP, LT, GT, QUOT, COPY,
  REG), decimal and hexadecimal numbers (a surrogate gives U+FFFD, a pair written as two
  references one character); the ';' may be missing only at the end of the text.
* What does not make a construct stays as it is ("a < b", "&foo;"); a construct cut off by
  the end of the text is kept when it is only "<", "</", "<!..." or "&..." so far, and
  dropped when it is inside a tag, a comment, a script or a quoted string.

JFlex picks the longest match among the rules of a state, and so does this: a tag's
content is read every way the grammar allows (an attribute's quoted value or a server-side
include may hold '<' and '>') and the tag ends after the furthest '>' reached. Names use
Python's \\w for Unicode's ID_Start and ID_Continue.
"""

from __future__ import annotations

import html.entities
import re

_ENTITIES = {name: chr(code) for name, code in html.entities.name2codepoint.items()}
_ENTITIES["apos"] = "'"
for _name in ("quot", "copy", "gt", "lt", "reg", "amp"):
    _ENTITIES[_name.upper()] = _ENTITIES[_name]
_LONGEST_ENTITY = max(map(len, _ENTITIES))

_INLINE = (
    "a|b|i|q|s|u|abbr|acronym|basefont|bdo|big|cite|code|dfn|em|font|img|input|kbd|label|samp|select|small|span|strike|strong|sub|sup"
    "|textarea|tt|var"
)
_NAME = r"[:_\w][-.:_\w]*"  # XML/UAX #31 names, with Python's \w standing in for ID_Start/ID_Continue
_NAME_RE = re.compile(_NAME)
# An attribute up to its quoted value: once \s+ starts it, the rest can match one way only.
_ATTRIBUTE_PREFIX = re.compile(rf"\s+{_NAME}\s*=\s*")
_BR = re.compile(r"\s*[bB][rR]")
_SCRIPT = re.compile(r"\s*(?i:script)")
_STYLE = re.compile(r"\s*(?i:style)")
_PROCESSING = re.compile(r"\?[^>]*[/?]>")
_END_TAG_TAIL = re.compile(r"\s*>")
_END_BR = re.compile(r"[bB][rR]\s*>")
_SPACE = re.compile(r"\s+")
_NUMERIC = re.compile(r"[xX][0-9A-Fa-f]+|[0-9]+")
# Two references that together write one UTF-16 surrogate pair (hexadecimal or decimal each).
_PAIR = re.compile(r"#(?:[xX](?P<hx>[dD][89aAbB][0-9a-fA-F]{2})|(?P<hd>5[56][0-9]{3}));&#(?:[xX](?P<lx>[dD][c-fC-F][0-9a-fA-F]{2})|(?P<ld>5[67][0-9]{3}));")


def _quoted_ends(text: str, at: int) -> list[int]:
    """Where a quoted string opened at `at` may end: ( "\\" quote | [^quote]* )* lets every quote
    right after a backslash either end it or be part of it, and the first other quote ends it."""
    quote = text[at]
    ends: list[int] = []
    position = at + 1
    while True:
        close = text.find(quote, position)
        if close < 0:
            return ends
        ends.append(close + 1)
        if close - 1 == at or text[close - 1] != "\\":
            return ends
        position = close + 1


def _include_ends(text: str, at: int) -> list[int]:
    """Where a server-side include `<!--#` ( [^'"] | quoted )* `-->` starting at `at` may end."""
    reach = {at + 5}
    ends = []
    position = at + 5
    frontier = at + 5
    while position <= frontier and position < len(text):
        if position in reach:
            char = text[position]
            if char in "'\"":
                for end in _quoted_ends(text, position):
                    reach.add(end)
                    frontier = max(frontier, end)
            else:
                if text.startswith("-->", position):
                    ends.append(position + 3)
                reach.add(position + 1)
                frontier = max(frontier, position + 1)
        position += 1
    return ends


def _tag_end(text: str, at: int) -> int | None:
    """The end of the longest `OpenTagContent \\s* "/"? ">"` from `at`, the way JFlex's longest
    match reads it: the content is any run of characters but '<' and '>', in which an
    attribute's quoted value or a server-side include may hold them; the tag ends after the
    furthest '>' such a reading reaches. None when no '>' is reached."""
    size = len(text)
    reach = bytearray(size + 1)
    reach[at] = 1
    frontier, best = at, None
    position = at
    while position <= frontier and position < size:
        if reach[position]:
            char = text[position]
            if char == ">":
                best = position + 1
            elif char != "<":
                reach[position + 1] = 1
                frontier = max(frontier, position + 1)
            # Within a run of spaces an attribute reads the same from any reachable position.
            if char.isspace() and not (position > at and reach[position - 1] and text[position - 1].isspace()):
                prefix = _ATTRIBUTE_PREFIX.match(text, position)
                if prefix is not None and text[prefix.end() : prefix.end() + 1] in ("'", '"'):
                    for end in _quoted_ends(text, prefix.end()):
                        reach[end] = 1
                        frontier = max(frontier, end)
            elif char == "<" and text.startswith("<!--#", position):
                for end in _include_ends(text, position):
                    reach[end] = 1
                    frontier = max(frontier, end)
        position += 1
    return best


def _name_length(text: str, start: int) -> int:
    match = _NAME_RE.match(text, start)
    if match is None or match.group()[0].isdigit():
        return 0
    return match.end() - start


def _inline_length(text: str, start: int) -> int:
    """The longest inline element name at `start` (the alternation itself is leftmost-first)."""
    best = 0
    for name in _INLINE.split("|"):
        if text[start : start + len(name)].lower() == name:
            best = max(best, len(name))
    return best


class _Stripper:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []

    def run(self) -> str:
        text, out = self.text, self.out
        position, end = 0, len(text)
        while position < end:
            char = text[position]
            if char == "&":
                position = self._reference(position)
            elif char == "<":
                position = self._markup(position)
            else:
                next_special = min((p for p in (text.find("&", position), text.find("<", position)) if p >= 0), default=end)
                out.append(text[position:next_special])
                position = next_special
        return "".join(out)

    # --- character references -------------------------------------------------------------

    def _reference(self, start: int) -> int:
        """From '&': the character referred to, or the text as it is."""
        text = self.text
        at = start + 1
        pair = _PAIR.match(text, at)
        if pair is not None:
            high = int(pair["hx"], 16) if pair["hx"] else int(pair["hd"])
            low = int(pair["lx"], 16) if pair["lx"] else int(pair["ld"])
            if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
                self.out.append(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
                return pair.end()
        if text.startswith("#", at):
            return self._numeric(start, at + 1)
        for length in range(min(_LONGEST_ENTITY, len(text) - at), 1, -1):
            value = _ENTITIES.get(text[at : at + length])
            if value is not None:
                return self._tail(start, at + length, value)
        self.out.append("&")
        return at

    def _numeric(self, start: int, at: int) -> int:
        match = _NUMERIC.match(self.text, at)
        if match is None:
            self.out.append(self.text[start:at])
            return at
        digits = match.group()
        hexadecimal = digits[0] in "xX"
        if len(digits) > (6 if hexadecimal else 7):
            self.out.append(self.text[start : match.end()])
            return match.end()
        code = int(digits[1:], 16) if hexadecimal else int(digits)
        if code > 0x10FFFF:
            self.out.append(self.text[start : match.end()])
            return match.end()
        return self._tail(start, match.end(), "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code))

    def _tail(self, start: int, at: int, value: str) -> int:
        """A reference needs its ';', except at the very end of the text."""
        if at == len(self.text):
            self.out.append(value)
            return at
        if self.text[at] == ";":
            self.out.append(value)
            return at + 1
        self.out.append(self.text[start:at])
        return at

    # --- markup ---------------------------------------------------------------------------

    def _markup(self, start: int) -> int:  # noqa: PLR0911 - one return per rule of the state
        """From '<': a tag, a comment, a declaration, a processing instruction, or just '<'."""
        text = self.text
        at = start + 1
        if at == len(text):
            self.out.append("<")
            return at
        char = text[at]
        if char == "!":
            return self._bang(start, at + 1)
        if char == "/":
            return self._end_tag(start, at + 1)
        rules: list[tuple[int, str]] = []  # (match end, rule), in the jflex file's order
        space = _SPACE.match(text, at)
        if space is not None:
            rules.append((space.end(), "space"))
        processing = _PROCESSING.match(text, at)
        if processing is not None:
            rules.append((processing.end(), "drop"))
        for pattern, rule in ((_BR, "newline"), (_SCRIPT, "script"), (_STYLE, "style")):
            # The element's name, then the content of a tag up to its '>' (for <br> also an
            # optional '/'; what a script or style tag allows in between reads the same).
            name_match = pattern.match(text, at)
            end = _tag_end(text, name_match.end()) if name_match is not None else None
            if end is not None:
                rules.append((end, rule))
        inline, name = _inline_length(text, at), _name_length(text, at)
        if inline:
            rules.append((at + inline, "inline"))
        if name:
            rules.append((at + name, "name"))
        if not rules:
            self.out.append("<")
            return at
        end, rule = max(rules, key=lambda r: r[0])  # max() keeps the first of equal lengths
        if rule == "drop":
            return end
        if rule == "newline":
            self.out.append("\n")
            return end
        if rule in ("script", "style"):
            return self._raw_text(start, end, rule)
        if rule == "space":
            inline, name = _inline_length(text, end), _name_length(text, end)
            if not inline and not name:
                self.out.append(text[start:end])  # kept, whether the text ends here or not
                return end
            rule = "inline" if inline >= name else "name"
            end += inline if rule == "inline" else name
        return self._start_tag_tail(start, end, rule == "name")

    def _start_tag_tail(self, start: int, at: int, substitute: bool) -> int:
        if at == len(self.text):
            return at  # cut off inside a tag: dropped
        end = _tag_end(self.text, at)
        if end is None:
            self.out.append(self.text[start:at])
            return at
        if substitute:
            self.out.append("\n")
        return end

    def _end_tag(self, start: int, at: int) -> int:
        text = self.text
        space = _SPACE.match(text, at)
        if space is not None:
            at = space.end()
        if at == len(text):
            self.out.append(text[start:at])
            return at
        br = _END_BR.match(text, at)
        inline, name = _inline_length(text, at), _name_length(text, at)
        if br is not None and br.end() - at > max(inline, name):
            self.out.append("\n")
            return br.end()
        if not inline and not name:
            self.out.append(text[start:at])
            return at
        substitute = name > inline
        at += name if substitute else inline
        if at == len(text):
            return at
        tail = _END_TAG_TAIL.match(text, at)
        if tail is None:
            self.out.append(text[start:at])
            return at
        if substitute:
            self.out.append("\n")
        return tail.end()

    def _bang(self, start: int, at: int) -> int:
        """After '<!': a comment, a CDATA section, or a declaration up to '>'."""
        text = self.text
        if text.startswith("--", at):
            return self._skip_comment(at + 2)
        if text.startswith("[CDATA[", at):
            close = text.find("]]>", at + 7)
            if close < 0:
                self.out.append(text[at + 7 :])
                return len(text)
            self.out.append(text[at + 7 : close])
            return close + 3
        close = text.find(">", at)
        if close < 0:
            self.out.append(text[start:])
            return len(text)
        return close + 1

    def _skip_comment(self, at: int) -> int:
        """Inside <!-- -->: a server-side include's quotes can hide '-->'; the end of the text
        inside a comment drops it."""
        text = self.text
        while at < len(text):
            if text.startswith("<!--#", at):
                at = self._skip_include(at + 5)
            elif text.startswith("-->", at):
                return at + 3
            else:
                at += 1
        return at

    def _skip_include(self, at: int) -> int:
        text = self.text
        while at < len(text):
            if text.startswith("-->", at):
                return at + 3
            if text[at] in "'\"":
                at = self._skip_quoted(at + 1, text[at])
            else:
                at += 1
        return at

    def _skip_quoted(self, at: int, quote: str) -> int:
        text = self.text
        while at < len(text):
            if text[at] == "\\":
                at += 2
            elif text[at] == quote:
                return at + 1
            else:
                at += 1
        return len(text)

    def _raw_text(self, start: int, at: int, element: str) -> int:
        """Inside <script> or <style>: everything up to the closing tag becomes one newline;
        quotes count only inside an HTML comment there."""
        text = self.text
        closing = re.compile(rf"</\s*(?i:{element})\s*>")
        while at < len(text):
            if text.startswith("<!--", at):
                at += 4
                while at < len(text):
                    if text.startswith("<!--#", at):
                        at = self._skip_include(at + 5)
                    elif text[at] in "'\"":
                        at = self._skip_quoted(at + 1, text[at])
                    elif text.startswith("-->", at):
                        at += 3
                        break
                    else:
                        at += 1
                continue
            match = closing.match(text, at)
            if match is not None:
                self.out.append("\n")
                return match.end()
            at += 1
        return at  # cut off inside the element: dropped


def strip_html(text: str) -> str:
    """The text as HTMLStripCharFilter reads it out."""
    return _Stripper(text).run()
