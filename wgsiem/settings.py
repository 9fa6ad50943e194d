"""A setting as a person gives it: what it means and the option that sets it.

The settings classes (the shipper's `config.ShipConfig`, the Elasticsearch and Kibana
connections in `adapters/`) are frozen dataclasses whose fields carry a `Setting` in
their metadata. The command line builds its options from them (`cli/groups.py`), so a
setting is explained once, whether it comes from an option or from a config file key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_KEY = "wgsiem.setting"


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
