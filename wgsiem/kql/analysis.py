"""Elasticsearch's `standard` analyzer: Lucene's StandardTokenizer, then lowercasing.

What `text` and `match_only_text` fields index and what `match` / `match_phrase` queries
on them look for. The tokenizer follows the word-boundary rules of Unicode UAX #29
(WB4-WB13b), as Lucene's does: letters and digits join (`wg0`), letters join across
`:` `.` `'` (`foo.bar`, `a:b`, `can't`), digits across `,` `;` `.` `'` (`10.0.0.1`, `1,5`),
`_` joins anything word-like (`peer_id`); everything else separates, and separators are
not tokens. Han ideographs and hiragana are one token per character, katakana runs and
runs of Thai/Lao/Khmer/Myanmar letters are one token each. Tokens longer than 255
characters are cut into pieces of 255, as Lucene's maxTokenLength does. The standard
analyzer of Elasticsearch has no stop words.

Character classes for non-ASCII text come from unicodedata, which is close to but not
exactly the Word_Break property tables Lucene compiles in; ASCII text is exact.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TOKEN_LENGTH = 255

# Word_Break classes (the ones the rules look at).
_OTHER, _ALETTER, _HEBREW, _NUMERIC, _KATAKANA, _EXTENDNUMLET = range(6)
_MIDLETTER, _MIDNUM, _MIDNUMLET, _SQUOTE, _DQUOTE, _EXTEND = range(6, 12)
_IDEOGRAPHIC, _HIRAGANA, _SOUTHEAST_ASIAN, _EMOJI = range(12, 16)

_WORDLIKE = frozenset({_ALETTER, _HEBREW, _NUMERIC, _KATAKANA, _EXTENDNUMLET})
_AH = frozenset({_ALETTER, _HEBREW})
_MIDLETTER_ISH = frozenset({_MIDLETTER, _MIDNUMLET, _SQUOTE})
_MIDNUM_ISH = frozenset({_MIDNUM, _MIDNUMLET, _SQUOTE})

_MIDLETTER_CHARS = frozenset(":\u00b7\u0387\u055f\u05f4\u2027\ufe13\ufe55\uff1a")
_MIDNUMLET_CHARS = frozenset(".\u2018\u2019\u2024\ufe52\uff07\uff0e")
_MIDNUM_CHARS = frozenset(",;\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b")

# The ASCII case, which is all of what wgsiem itself writes, as one regular expression:
# runs of letters, digits and `_`, joined across `:` `.` `'` between letters and across
# `,` `;` `.` `'` between digits.
_ASCII_WORD = re.compile(r"(?:[A-Za-z0-9_]|(?<=[A-Za-z])[:.'](?=[A-Za-z])|(?<=[0-9])[,;.'](?=[0-9]))+")
_HAS_ALNUM = re.compile(r"[A-Za-z0-9]")


def _word_break_class(c: str) -> int:  # noqa: PLR0911 - one answer per Unicode word-break class
    if c in _MIDLETTER_CHARS:
        return _MIDLETTER
    if c in _MIDNUMLET_CHARS:
        return _MIDNUMLET
    if c in _MIDNUM_CHARS:
        return _MIDNUM
    if c == "'":
        return _SQUOTE
    if c == '"':
        return _DQUOTE
    cp = ord(c)
    if cp == 0x202F:  # NARROW NO-BREAK SPACE is ExtendNumLet since Unicode 8
        return _EXTENDNUMLET
    category = unicodedata.category(c)
    if category in ("Mn", "Me", "Mc", "Cf"):
        return _EXTEND
    if category == "Pc":
        return _EXTENDNUMLET
    if category == "Nd":
        return _NUMERIC
    if 0x3041 <= cp <= 0x3096 or 0x309D <= cp <= 0x309F:
        return _HIRAGANA
    if 0x30A0 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0x32D0 <= cp <= 0x32FE or 0x3300 <= cp <= 0x3357 \
            or 0xFF66 <= cp <= 0xFF9F or 0x3031 <= cp <= 0x3035 or cp in (0x309B, 0x309C):  # fmt: skip
        return _KATAKANA
    if 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF \
            or cp in (0x3005, 0x3006, 0x3007) or 0x3021 <= cp <= 0x3029 or 0x3038 <= cp <= 0x303B:  # fmt: skip
        return _IDEOGRAPHIC
    if 0x0E00 <= cp <= 0x0EFF or 0x1000 <= cp <= 0x109F or 0x1780 <= cp <= 0x17FF or 0x1950 <= cp <= 0x19DF \
            or 0x1A20 <= cp <= 0x1AAF or 0xAA60 <= cp <= 0xAADF or 0xA9E0 <= cp <= 0xA9FF:  # fmt: skip
        return _SOUTHEAST_ASIAN if category.startswith("L") else _OTHER
    if 0x05D0 <= cp <= 0x05EA or 0x05EF <= cp <= 0x05F2 or 0xFB1D <= cp <= 0xFB4F:
        return _HEBREW if category.startswith("L") else _OTHER
    if category.startswith("L") or category == "Nl":
        return _ALETTER
    if category == "So" and (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF):
        return _EMOJI
    return _OTHER


def _lower(token: str) -> str:
    if token.isascii():
        return token.lower()
    # Lucene's LowerCaseFilter maps code point by code point (Character.toLowerCase);
    # str.lower() may turn one character into two (U+0130), so keep the first.
    return "".join(c.lower()[:1] or c for c in token)


def normalize(text: str) -> str:
    """What the standard analyzer's normalize() does to a wildcard or prefix pattern: lowercase."""
    return _lower(text)


def tokenize(text: str) -> list[str]:
    """The standard analyzer's tokens of `text`, in order (positions are consecutive)."""
    if text.isascii():
        words = [m for m in _ASCII_WORD.findall(text) if _HAS_ALNUM.search(m)]
    else:
        words = _words(text)
    tokens = []
    for w in words:
        if len(w) > MAX_TOKEN_LENGTH:
            tokens.extend(_lower(w[i : i + MAX_TOKEN_LENGTH]) for i in range(0, len(w), MAX_TOKEN_LENGTH))
        else:
            tokens.append(_lower(w))
    return tokens


def _words(text: str) -> list[str]:
    classes = [_word_break_class(c) for c in text]
    n = len(text)
    words = []
    i = 0
    while i < n:
        cls = classes[i]
        if cls in _WORDLIKE:
            j, significant = _scan_word(classes, i)
            if significant:
                words.append(text[i:j])
            i = j
        elif cls in (_IDEOGRAPHIC, _HIRAGANA, _EMOJI):
            j = _skip_extend(classes, i + 1)
            words.append(text[i:j])
            i = j
        elif cls == _SOUTHEAST_ASIAN:
            j = i + 1
            while j < n and classes[j] in (_SOUTHEAST_ASIAN, _EXTEND):
                j += 1
            words.append(text[i:j])
            i = j
        else:
            i += 1
    return words


def _skip_extend(classes: list[int], j: int) -> int:
    while j < len(classes) and classes[j] == _EXTEND:
        j += 1
    return j


def _scan_word(classes: list[int], i: int) -> tuple[int, bool]:
    """End of the word starting at i, and whether it holds a letter or digit (WB5-WB13b)."""
    n = len(classes)
    prev = classes[i]
    significant = prev != _EXTENDNUMLET
    j = _skip_extend(classes, i + 1)
    while j < n:
        cur = classes[j]
        nxt_at = _skip_extend(classes, j + 1)
        nxt = classes[nxt_at] if nxt_at < n else _OTHER
        joined = (
            (prev in _AH and cur in _AH)
            or (prev in _AH and cur == _NUMERIC)
            or (prev == _NUMERIC and (cur in _AH or cur == _NUMERIC))
            or (prev == _KATAKANA and cur == _KATAKANA)
            or (cur == _EXTENDNUMLET and prev in _WORDLIKE)
            or (prev == _EXTENDNUMLET and cur in (_ALETTER, _HEBREW, _NUMERIC, _KATAKANA))
        )
        if joined:
            prev = cur
            significant = significant or cur != _EXTENDNUMLET
            j = nxt_at
            continue
        if prev in _AH and cur in _MIDLETTER_ISH and nxt in _AH:
            prev = nxt
            j = _skip_extend(classes, nxt_at + 1)
            continue
        if prev == _HEBREW and cur == _DQUOTE and nxt == _HEBREW:
            prev = nxt
            j = _skip_extend(classes, nxt_at + 1)
            continue
        if prev == _NUMERIC and cur in _MIDNUM_ISH and nxt == _NUMERIC:
            prev = nxt
            j = _skip_extend(classes, nxt_at + 1)
            continue
        if prev == _HEBREW and cur == _SQUOTE:
            prev = cur
            j = nxt_at
            continue
        break
    return j, significant
