"""A setting as a person gives it: what it means and the option that sets it.

The settings classes (the shipper's `config.ShipConfig`, the Elasticsearch and Kibana
connections in `adapters/`) are frozen dataclasses whose fields carry a `Setting` in
their metadata. The command line builds its options from them (`cli/groups.py`), so a
setting is explained once, whether it comes from an option or from a config file key.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

_KEY = "wgsiem.setting"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Setting:
    help: str
    flags: tuple[str, ...] = ()  # empty: --<field name with dashes>
    metavar: str | None = None
    default_text: str | None = None  # for the help where the default value itself says too little
    path: str | None = None  # "file" or "dir": what a path must name
    exists: bool = False  # the path must exist when it is given


def setting(default: Any = dataclasses.MISSING, **describe: Any) -> Any:
    """A dataclass field (with `default`) described for the command line."""
    return dataclasses.field(default=default, metadata={_KEY: Setting(**describe)})


def described(cls: type) -> list[tuple[dataclasses.Field[Any], Setting]]:
    """The fields of a settings class that are described, in declaration order."""
    return [(f, f.metadata[_KEY]) for f in dataclasses.fields(cls) if _KEY in f.metadata]


def description(cls: type, name: str) -> Setting:
    for f, s in described(cls):
        if f.name == name:
            return s
    raise KeyError(f"{cls.__name__}.{name} is not a described setting")


def duration(text: str) -> timedelta:
    """`5m` → 5 minutes: Kibana's interval syntax (s, m, h, d), the one duration syntax of the
    project's files (rule intervals, the registry's `always_on: 15m`)."""
    match = re.fullmatch(r"([1-9][0-9]*)([smhd])", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 1h or 14d")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])
