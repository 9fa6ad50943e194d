"""A problem found in a package: the file inside the package, the key, and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import Location


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing package-spec (or Fleet, or Kibana) would refuse or get wrong.

    `file` is the path inside the package (`data_stream/status/manifest.yml`; the package
    itself when empty); `key` a dotted and indexed path into the file's YAML or JSON
    (`policy_templates[0].inputs[1].type`), or a document's dotted field name; `line` the
    YAML line when known. `message` is one sentence.
    """

    file: str
    key: str | None
    message: str
    line: int | None = None

    @property
    def location(self) -> Location:
        return Location(file=self.file or None, line=self.line, key=self.key)

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


def key_path(parts: Iterable[str | int]) -> str:
    """`["policy_templates", 0, "inputs", 1, "type"]` -> `policy_templates[0].inputs[1].type`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def join_key(prefix: str | None, key: str | None) -> str | None:
    """A key under another: `attributes` + `threat[0]` -> `attributes.threat[0]`."""
    if not prefix:
        return key
    if not key:
        return prefix
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """In file order, then line and key; each problem once."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.key or "", p.message))
