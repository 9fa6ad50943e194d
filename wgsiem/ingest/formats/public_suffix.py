"""The public suffix list, matched the way Elasticsearch's `registered_domain` matches it.

Elasticsearch asks Apache HttpClient 4.5's PublicSuffixMatcher (its default list, the copy
bundled in the httpclient jar) for a domain's root. That matcher, and so this one:

- lowercases ASCII letters only, and refuses a domain that starts with '.';
- walks the domain from the left, one label off at a time: an exception rule (`!x`) returns
  the segment itself; a rule equal to the segment, or a wildcard rule `*.rest` matching the
  segment's remainder, stops the walk: the root is then the previous (longer) segment, or,
  when the rule comes from the PRIVATE section, the segment itself;
- otherwise the root is the last segment tried, so a name under no known suffix gives its
  last label ("bar" for "foo.bar"), which the processor turns into "no registered domain";
- compares labels after IDN.toUnicode, since the list writes internationalised suffixes
  in Unicode; where a rule is in both sections, the PRIVATE one counts (loaded last).

The list itself comes from the `publicsuffixlist` package (pinned in pyproject.toml), read
as data; it is newer than the copy inside Elasticsearch's httpclient (see docs/ingest.md).
"""

from __future__ import annotations

import codecs
from functools import lru_cache
from importlib import resources

ICANN, PRIVATE = "ICANN", "PRIVATE"
_DOTS = ("\u3002", "\uff0e", "\uff61")  # the full stops IDN.toUnicode splits on besides '.'


class SuffixList:
    """Rules and exceptions, each mapped to the section (ICANN or PRIVATE) it came from."""

    def __init__(self, text: str) -> None:
        self.rules: dict[str, str] = {}
        self.exceptions: dict[str, str] = {}
        section: str | None = None
        for line in text.splitlines():
            if not line:
                continue
            if line.startswith("//"):
                if section is None:
                    if "===BEGIN ICANN DOMAINS===" in line:
                        section = ICANN
                    elif "===BEGIN PRIVATE DOMAINS===" in line:
                        section = PRIVATE
                elif "===END ICANN DOMAINS===" in line or "===END PRIVATE DOMAINS===" in line:
                    section = None
                continue
            if section is None:
                continue  # HttpClient reads rules inside a section only
            if line.startswith("."):
                line = line[1:]
            if line.startswith("!"):
                self.exceptions[line[1:]] = section
            else:
                self.rules[line] = section

    def domain_root(self, domain: str) -> str | None:
        """PublicSuffixMatcher.getDomainRoot(domain) with no expected domain type."""
        if domain.startswith("."):
            return None
        segment: str | None = _ascii_lower(domain)
        root: str | None = None
        while segment is not None:
            key = to_unicode(segment)
            if key in self.exceptions:
                return segment
            section = self.rules.get(key)
            if section is not None:
                return segment if section == PRIVATE else root
            dot = segment.find(".")
            rest = segment[dot + 1 :] if dot != -1 else None
            if rest is not None:
                section = self.rules.get("*." + to_unicode(rest))
                if section is not None:
                    return segment if section == PRIVATE else root
            root = segment
            segment = rest
        return root

    def matches(self, domain: str) -> bool:
        """PublicSuffixMatcher.matches: the domain is itself a public suffix (it has no root)."""
        return self.domain_root(domain[1:] if domain.startswith(".") else domain) is None


def _ascii_lower(text: str) -> str:
    """DnsUtils.normalize: A-Z to a-z, nothing else (unlike str.lower)."""
    if text.isascii():
        return text.lower()
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def to_unicode(name: str) -> str:
    """java.net.IDN.toUnicode: ACE labels (xn--...) decoded when they round-trip, other labels
    as they are, and the ideographic full stops read as '.'."""
    if name == ".":
        return name
    for dot in _DOTS:
        if dot in name:
            name = name.replace(dot, ".")
    if "xn--" not in name.lower():
        return name
    return ".".join(_label_to_unicode(label) for label in name.split("."))


def _label_to_unicode(label: str) -> str:
    if not label.isascii() or not label.lower().startswith("xn--"):
        return label
    try:
        decoded = codecs.decode(label[4:].encode("ascii"), "punycode")
        if decoded.encode("idna").decode("ascii").lower() == label.lower():
            return str(decoded)
    except (UnicodeError, ValueError):
        pass
    return label


@lru_cache(maxsize=1)
def default_list() -> SuffixList:
    """The list shipped in the pinned `publicsuffixlist` package, parsed once."""
    text = resources.files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text("utf-8")
    return SuffixList(text)
