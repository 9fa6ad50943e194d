"""Options several commands share, declared once and handed to a command as one object.

A command parameter annotated `Annotated[EsSettings, ES]` (or another group below) stands
for a whole group of options. `@with_groups` replaces that parameter in the command's
signature by the group's options, so `--help` lists them, and builds the settings object
from what was given before the command's body runs, with the checks no single option can
make ("--ca-file needs --es", "EVENTS or --es, not both"). Names and help come from the
settings classes' own field descriptions (`wgsiem.settings`), so `--es` means and says
the same on every command, and every `ship` option is a key of its config file.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar, Union

import typer

from ..adapters.elasticsearch import EsSettings
from ..adapters.kibana import KibanaSettings
from ..config import ShipConfig, load_config
from ..errors import WgsiemError
from ..settings import Setting, described

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(WgsiemError):
    """Options that do not go together, or one that is missing."""


class Group:
    """How a settings object becomes options (`params`) and is built back from them."""

    def params(self, prefix: str) -> list[inspect.Parameter]:
        raise NotImplementedError

    def build(self, values: dict[str, Any]) -> Any:
        """`values`: the options' values, keyed by their names without the prefix."""
        raise NotImplementedError


def with_groups(command: F) -> F:
    """Expand every group parameter of `command` into its options (see the module doc)."""
    signature = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)
    params: list[inspect.Parameter] = []
    groups: dict[str, tuple[Group, list[str]]] = {}
    for p in signature.parameters.values():
        annotation = hints.get(p.name, p.annotation)
        group = _group_in(annotation)
        if group is None:
            params.append(p.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        own = group.params(p.name)
        groups[p.name] = (group, [q.name for q in own])
        params += own

    @functools.wraps(command)
    def run(**values: Any) -> Any:
        for name, (group, names) in groups.items():
            values[name] = group.build({n[len(name) + 2 :]: values.pop(n) for n in names})
        return command(**values)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run  # type: ignore[return-value]


def _group_in(annotation: Any) -> Group | None:
    if typing.get_origin(annotation) is Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, Group):
                return extra
    return None


# -- one described field as one option ------------------------------------------------------


def _option_type(hint: Any) -> Any:
    """A setting's type as typer takes it: tuples are repeatable options, `X | None` Optional."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (Union, types.UnionType):
        return Optional[_option_type(args[0])]
    if typing.get_origin(hint) is tuple:
        return list[args[0]]  # type: ignore[valid-type]
    return hint


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _option(
    name: str,
    hint: Any,
    described_as: Setting,
    default: Any,
    *,
    flags: Sequence[str] = (),
    default_text: str | None = None,
    argument: bool = False,
) -> inspect.Parameter:
    """One option; `default_text` (when given) goes into the help as "[default: ...]"."""
    text = described_as.help + (f" [default: {default_text}]" if default_text else "")
    path: dict[str, Any] = {}
    if described_as.path == "file":
        path["dir_okay"] = False
    elif described_as.path == "dir":
        path["file_okay"] = False
    if described_as.exists:
        path["exists"] = True
    if argument:
        info = typer.Argument(help=text, metavar=described_as.metavar, show_default=False, **path)
    else:
        info = typer.Option(*flags, help=text, metavar=described_as.metavar, show_default=default_text is None, **path)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[hint, info], default=default)


def _flags(name: str, described_as: Setting) -> tuple[str, ...]:
    return described_as.flags or ("--" + name.replace("_", "-"),)


# -- the connections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection(Group):
    """A connection's settings class (EsSettings, KibanaSettings) as options; its first
    field (the URL) decides whether a connection was asked for at all. Required: the URL
    option must be given. Optional (`Annotated[EsSettings | None, ES_OPTIONAL]`): without it
    the command gets None, and the other options of the group are refused."""

    cls: type
    required: bool = True

    def params(self, prefix: str) -> list[inspect.Parameter]:
        hints = typing.get_type_hints(self.cls)
        out = []
        for i, (f, s) in enumerate(described(self.cls)):
            hint = _option_type(hints[f.name])
            default = f.default if f.default is not dataclasses.MISSING else ...
            if i == 0 and not self.required:
                hint, default = Optional[hint], None
            out.append(_option(f"{prefix}__{f.name}", hint, s, default, flags=_flags(f.name, s), default_text=s.default_text))
        return out

    def build(self, values: dict[str, Any]) -> Any:
        fields = described(self.cls)
        key = fields[0][0].name
        if values[key] is None:
            given = [_flags(f.name, s)[0] for f, s in fields[1:] if values[f.name] not in (None, False, f.default)]
            if given:
                raise UsageError(f"{', '.join(given)} without {_flags(key, fields[0][1])[0]}: there is no connection to apply them to")
            return None
        return self.cls(**values)


ES = Connection(EsSettings)
ES_OPTIONAL = Connection(EsSettings, required=False)
KIBANA = Connection(KibanaSettings)


# -- events from a file or a cluster ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventSource:
    """Events as NDJSON from a file (`-`: stdin), or the documents of a cluster."""

    file: Path | None
    es: EsSettings | None

    def require(self, what_es_does: str) -> None:
        if self.file is None and self.es is None:
            raise UsageError(f"EVENTS is required (or --es URL {what_es_does})")


_EVENTS = Setting(help="NDJSON file of ECS events ('-' for stdin). Not with --es.", metavar="EVENTS.ndjson")


@dataclass(frozen=True)
class Events(Group):
    """EVENTS.ndjson or --es URL (with the cluster's connection options), not both."""

    es_help: str

    def params(self, prefix: str) -> list[inspect.Parameter]:
        events = _option(f"{prefix}__file", Optional[Path], _EVENTS, None, argument=True)
        cluster = ES_OPTIONAL.params(f"{prefix}__es")
        cluster[0] = cluster[0].replace(annotation=_with_help(cluster[0], self.es_help))
        return [events, *cluster]

    def build(self, values: dict[str, Any]) -> EventSource:
        es = ES_OPTIONAL.build({k[len("es__") :]: v for k, v in values.items() if k.startswith("es__")})
        if es is not None and values["file"] is not None:
            raise UsageError("give EVENTS or --es, not both")
        return EventSource(values["file"], es)


def _with_help(param: inspect.Parameter, text: str) -> Any:
    hint, info = typing.get_args(param.annotation)
    info.help = text
    return Annotated[hint, info]


# -- the shipper's settings ------------------------------------------------------------------

_CONFIG = Setting(
    help="YAML settings file; every key is also an option (session_timeout = --session-timeout).",
    flags=("--config", "-c"),
    path="file",
    exists=True,
)


@dataclass(frozen=True)
class ShipOptions(Group):
    """ShipConfig's settings as options: all of them (`ship`) or `keys`. Each option is the
    config key of the same name; with `config_file`, a --config file is read first and the
    options given override it. `fixed` settings ignore the config file: the option, or the
    default given here."""

    keys: tuple[str, ...] | None = None
    config_file: bool = True
    fixed: tuple[tuple[str, Any, str], ...] = ()  # (key, default, how the help says it)

    def params(self, prefix: str) -> list[inspect.Parameter]:
        hints = typing.get_type_hints(ShipConfig)
        fixed = {key: text for key, _, text in self.fixed}
        out = []
        if self.config_file:
            out.append(_option(f"{prefix}__config", Optional[Path], _CONFIG, None, flags=_CONFIG.flags))
        for f, s in self._fields():
            hint = _option_type(hints[f.name])
            text = fixed.get(f.name) or s.default_text or (None if f.default is None else _show(f.default))
            if hint is bool:
                out.append(_option(f"{prefix}__{f.name}", bool, s, False, flags=_flags(f.name, s)))
            elif self.config_file:
                # None: not given, so the config file's value (or the default) stands.
                out.append(_option(f"{prefix}__{f.name}", Optional[hint], s, None, flags=_flags(f.name, s), default_text=text))
            else:
                default = list(f.default) if isinstance(f.default, tuple) else f.default
                out.append(_option(f"{prefix}__{f.name}", hint, s, default, flags=_flags(f.name, s), default_text=text))
        return out

    def build(self, values: dict[str, Any]) -> ShipConfig:
        path = values.pop("config", None)
        # A list is a repeatable option; False is a flag not given: neither overrides the file.
        given = {key: tuple(v) if isinstance(v, list) else (None if v is False else v) for key, v in values.items()}
        fixed = {key: default for key, default, _ in self.fixed}
        cfg = load_config(path, {key: v for key, v in given.items() if key not in fixed})
        if fixed:
            cfg = dataclasses.replace(cfg, **{key: given[key] or default for key, default in fixed.items()})
        return cfg

    def _fields(self) -> list[tuple[dataclasses.Field[Any], Setting]]:
        fields = described(ShipConfig)
        if self.keys is None:
            return fields
        by_name = {f.name: (f, s) for f, s in fields}
        return [by_name[key] for key in self.keys]
