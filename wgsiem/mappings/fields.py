"""The field definitions of ecs_mappings/, and whether a value fits an Elasticsearch type.

A field file is a YAML list of entries (`name`, `type`, `description`, and optionally
`example`, `array`, `ignore_above`, `index`, `doc_values`, `scaling_factor`, `value`,
`multi_fields`), validated against ecs_mappings/fields.schema.json. Across all files a
name may be defined once, and a field may not also be the parent of another (`a.b` a
keyword and `a.b.c` a long cannot both be mapped).

`value_fits` is deliberately stricter than Elasticsearch: Elasticsearch coerces `"5"`
into a long field and `5` into a keyword field, but a document of ours that does that
has a bug, and the tests should say so.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from wgsiem.content import ECS_MAPPINGS as ECS_MAPPINGS_DIR

from ..errors import WgsiemError

FIELDS_SCHEMA = "fields.schema.json"
TEMPLATES_FILE = "templates.yml"

# keyword fields without an ignore_above of their own get ECS's default.
DEFAULT_IGNORE_ABOVE = 1024
# Types whose value is a JSON object: a document's dict stops being walked there.
OBJECT_VALUED = frozenset({"geo_point", "object", "flattened"})


class FieldError(WgsiemError):
    """A field file that is not valid; the message names the file, the entry and the key."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field: its dotted name, Elasticsearch type, meaning, and mapping options."""

    name: str
    type: str
    description: str
    file: str  # the field file that defines it, e.g. "ecs.yml"
    example: Any = None
    array: bool = False
    # Mapping parameters beyond the type, as Elasticsearch spells them: ignore_above,
    # index, doc_values, scaling_factor, value, and `fields` for the multi-fields.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def multi_fields(self) -> dict[str, str]:
        """Multi-field name -> type (`user.name` has `text`: `user.name.text`)."""
        return {name: spec["type"] for name, spec in self.options.get("fields", {}).items()}

    def mapping(self) -> dict[str, Any]:
        """The field's Elasticsearch mapping."""
        out: dict[str, Any] = {"type": self.type}
        for key, value in self.options.items():
            out[key] = {k: dict(v) for k, v in value.items()} if key == "fields" else value
        return out


# -- loading -----------------------------------------------------------------------------


def field_files(directory: Path = ECS_MAPPINGS_DIR) -> list[Path]:
    """Every field file of the directory: each *.yml but templates.yml, by name."""
    return sorted(p for p in Path(directory).glob("*.yml") if p.name != TEMPLATES_FILE)


def load_fields(directory: Path = ECS_MAPPINGS_DIR) -> dict[str, Field]:
    """name -> Field for every field file of `directory`, in file order, then entry order.

    Raises FieldError naming file, entry and key for every problem found.
    """
    directory = Path(directory)
    validator = _validator(directory / FIELDS_SCHEMA)
    problems: list[str] = []
    fields: dict[str, Field] = {}
    entry_of: dict[str, int] = {}  # name -> entry number in its file, for messages
    for path in field_files(directory):
        for number, f in _load_file(path, validator, problems):
            if f.name in fields:
                problems.append(
                    f"{path.name}: entry {number} ({f.name}): key 'name': already defined"
                    f" ({fields[f.name].file} entry {entry_of[f.name]})"
                )
                continue
            fields[f.name] = f
            entry_of[f.name] = number
    problems += _parent_conflicts(fields, entry_of)
    if problems:
        raise FieldError("\n".join(problems))
    return fields


def _validator(schema_path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _load_file(path: Path, validator: jsonschema.protocols.Validator, problems: list[str]) -> Iterator[tuple[int, Field]]:
    """(entry number from 1, Field) of each valid entry; problems of the others are added."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        problems.append(f"{path.name}: not valid YAML: {err}")
        return
    if not isinstance(raw, list):
        problems.append(f"{path.name}: expected a list of field entries, found {type(raw).__name__}")
        return
    bad: set[int] = set()
    for err in sorted(validator.iter_errors(raw), key=lambda e: (e.absolute_path[0] if e.absolute_path else -1, str(e.absolute_path))):
        problems.append(_describe(path.name, raw, err, validator.schema))
        if err.absolute_path:
            bad.add(err.absolute_path[0])
    for index, entry in enumerate(raw):
        if index not in bad:
            yield index + 1, _field(entry, path.name)


def _describe(file: str, raw: list[Any], err: jsonschema.ValidationError, schema: Any) -> str:
    """`file: entry N (name): key 'k': what is wrong`."""
    path = list(err.absolute_path)
    if err.validator is None and err.absolute_schema_path and err.absolute_schema_path[-1] == "properties":
        # A key the schema forbids (`"key": false` under properties): jsonschema reports
        # it at the object holding the key, with the key's value: find the key by it.
        holder = raw
        for step in path:
            holder = holder[step]
        if isinstance(holder, dict):
            path += [k for k, v in holder.items() if v is err.instance or (type(v) is type(err.instance) and v == err.instance)][:1]
    if not path:
        return f"{file}: {err.message}"
    index, rest = path[0], path[1:]
    entry = raw[index]
    name = entry.get("name") if isinstance(entry, dict) else None
    where = f"{file}: entry {index + 1}" + (f" ({name})" if isinstance(name, str) else "")
    keys = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in rest).replace(".[", "[")
    instance = err.instance
    if err.validator == "required" and isinstance(instance, dict):
        missing = [k for k in err.validator_value if k not in instance]
        return f"{where}: key {_join(keys, missing[0])!r}: missing" + (f" ({err.message})" if len(missing) > 1 else "")
    if err.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)
        return f"{where}: key {_join(keys, extra[0])!r}: unknown key" + (f" (also {extra[1:]})" if len(extra) > 1 else "")
    if not rest:
        return f"{where}: {err.message}"
    if err.validator is None or err.message.startswith("False schema"):
        entry_type = entry.get("type") if isinstance(entry, dict) else None
        return f"{where}: key {keys!r}: not allowed for type {entry_type!r}"
    return f"{where}: key {keys!r}: {err.message}"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _field(entry: dict[str, Any], file: str) -> Field:
    options: dict[str, Any] = {}
    if entry["type"] == "keyword":
        ignore_above = entry.get("ignore_above", DEFAULT_IGNORE_ABOVE)
        if ignore_above is not None:
            options["ignore_above"] = ignore_above
    for key in ("index", "doc_values", "scaling_factor", "value"):
        if key in entry:
            options[key] = entry[key]
    if "multi_fields" in entry:
        options["fields"] = MappingProxyType(
            {m["name"]: MappingProxyType({k: v for k, v in m.items() if k != "name"}) for m in entry["multi_fields"]}
        )
    return Field(
        name=entry["name"],
        type=entry["type"],
        description=entry["description"],
        file=file,
        example=entry.get("example"),
        array=entry.get("array", False),
        options=MappingProxyType(options),
    )


def _parent_conflicts(fields: dict[str, Field], entry_of: dict[str, int]) -> list[str]:
    """A name that is a field and also the parent of a field (or of a multi-field's name)."""
    problems = []
    for name, f in fields.items():
        here = f"{f.file}: entry {entry_of[name]} ({name})"
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = fields.get(".".join(parts[:i]))
            if parent is not None:
                problems.append(
                    f"{here}: key 'name': {parent.name} ({parent.file} entry {entry_of[parent.name]})"
                    f" is a {parent.type} field, so no field can be under it"
                )
                break
        for sub in f.multi_fields:
            clash = fields.get(f"{name}.{sub}")
            if clash is not None:
                problems.append(
                    f"{here}: key 'multi_fields': {clash.name} is also defined as a field"
                    f" ({clash.file} entry {entry_of[clash.name]})"
                )
    return problems


@cache
def _default_fields() -> dict[str, Field]:
    return load_fields(ECS_MAPPINGS_DIR)


def default_fields() -> dict[str, Field]:
    """load_fields() of ecs_mappings/, read once per process."""
    return dict(_default_fields())


@cache
def _types() -> MappingProxyType[str, str]:
    return MappingProxyType({name: f.type for name, f in _default_fields().items()})


def field_types() -> dict[str, str]:
    """Dotted name -> Elasticsearch type of every field of ecs_mappings/ (read once)."""
    return dict(_types())


# -- does a value fit a type ---------------------------------------------------------------

STRING_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "match_only_text", "text"})
INTEGER_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsigned_long": (0, 2**64 - 1),
}
FLOAT_LIMITS = {
    "half_float": 65504.0,
    "float": 3.4028234663852886e38,
    "double": 1.7976931348623157e308,
    "scaled_float": 1.7976931348623157e308,  # the scaled value must also fit a long; see value_error
}
DATE_TYPES = frozenset({"date", "date_nanos"})
TYPES = STRING_TYPES | set(INTEGER_RANGES) | set(FLOAT_LIMITS) | DATE_TYPES | {"boolean", "ip"} | OBJECT_VALUED

# Elasticsearch's default date format is strict_date_optional_time||epoch_millis. The
# first is ISO 8601 with a four-digit year and at least the year: yyyy[-MM[-dd[THH[:mm
# [:ss[.fraction]]][zone]]]], fraction up to 9 digits, zone Z, +HH, +HHmm or +HH:mm.
_ISO_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?)?"
    r"(?P<zone>Z|[+-](?P<zh>\d{2})(?::?(?P<zm>\d{2}))?)?)?)?)?"
)
_LAT_LON = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*")
_WKT_POINT = re.compile(r"\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*", re.IGNORECASE)


def value_fits(es_type: str, value: Any) -> bool:
    """Whether Elasticsearch would index `value` in a field of `es_type`, strictly (see value_error)."""
    return value_error(es_type, value) is None


def value_error(es_type: str, value: Any) -> str | None:
    """Why `value` does not fit a field of `es_type`, or None when it does.

    A list fits when every item fits (Elasticsearch indexes each; nested lists are
    flattened). null fits: Elasticsearch indexes it as no value. Raises ValueError for a
    type this module does not know.
    """
    if es_type not in TYPES:
        raise ValueError(f"unknown Elasticsearch type {es_type!r}")
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problem = value_error(es_type, item)
            if problem is not None:
                return f"item {i}: {problem}"
        return None
    return _CHECKS[_family(es_type)](es_type, value)


def _family(es_type: str) -> str:
    if es_type in STRING_TYPES:
        return "string"
    if es_type in INTEGER_RANGES:
        return "integer"
    if es_type in FLOAT_LIMITS:
        return "float"
    if es_type in DATE_TYPES:
        return "date"
    if es_type in ("object", "flattened"):
        return "object"
    return es_type


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(es_type: str, value: Any) -> str | None:
    # Strings only: Elasticsearch would turn 5 or true into "5" / "true" for a keyword
    # field, but a number where we document a string is a bug in what wrote it.
    if not isinstance(value, str):
        return f"{_show(value)} is a {type(value).__name__}, {es_type} takes a string"
    return None


def _integer(es_type: str, value: Any) -> str | None:
    # bool is an int in Python, not in JSON; a float or a numeric string would be coerced
    # (truncated) by Elasticsearch: both are bugs here. The one exception: an
    # unsigned_long given as its decimal digits, the only way an ingest pipeline can hand
    # on a u64 above 2^63 (grok's and convert's `long` stop there); Elasticsearch reads
    # those digits exactly.
    if es_type == "unsigned_long" and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{_show(value)} is a {type(value).__name__}, {es_type} takes an integer"
    low, high = INTEGER_RANGES[es_type]
    if not low <= value <= high:
        return f"{value} is outside {es_type}'s range {low}..{high}"
    return None


def _float(es_type: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{_show(value)} is a {type(value).__name__}, {es_type} takes a number"
    try:
        number = float(value)
    except OverflowError:
        return f"{value} is too large for {es_type}"
    if not math.isfinite(number) or abs(number) > FLOAT_LIMITS[es_type]:
        return f"{value} is not a finite {es_type}"
    return None


def _boolean(es_type: str, value: Any) -> str | None:
    # Elasticsearch also takes "true" / "false" strings; a document of ours should not.
    if not isinstance(value, bool):
        return f"{_show(value)} is a {type(value).__name__}, boolean takes true or false"
    return None


def _date(es_type: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return f"{value} is a bool, {es_type} takes an ISO 8601 string or epoch milliseconds"
    if isinstance(value, int):  # epoch_millis; a numeric string is not accepted here
        low, high = INTEGER_RANGES["long"]
        return None if low <= value <= high else f"{value} is outside the epoch milliseconds Elasticsearch can hold"
    if not isinstance(value, str):
        return f"{_show(value)} is a {type(value).__name__}, {es_type} takes an ISO 8601 string or epoch milliseconds"
    m = _ISO_DATE.fullmatch(value)
    if m is None:
        return f"{_show(value)} is not an ISO 8601 date (strict_date_optional_time)"
    parts = {k: int(v) for k, v in m.groupdict().items() if v is not None and k not in ("zone", "fraction")}
    try:
        datetime(
            parts["year"], parts.get("month", 1), parts.get("day", 1),
            parts.get("hour", 0), parts.get("minute", 0), parts.get("second", 0),
        )  # fmt: skip
    except ValueError as err:
        return f"{_show(value)} is not a valid date ({err})"
    if parts.get("zh", 0) > 18 or parts.get("zm", 0) > 59:
        return f"{_show(value)} has an invalid time zone offset"
    return None


def _ip(es_type: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{_show(value)} is a {type(value).__name__}, ip takes an address string"
    if "%" in value:  # Python accepts an IPv6 scope (fe80::1%eth0); Elasticsearch does not
        return f"{_show(value)} has a scope id, which ip does not take"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"{_show(value)} is not an IPv4 or IPv6 address"
    return None


def _geo_point(es_type: str, value: Any) -> str | None:
    """{"lat": .., "lon": ..}, GeoJSON {"type": "Point", "coordinates": [lon, lat]},
    "lat,lon" or "POINT (lon lat)". (Elasticsearch also takes geohashes and [lon, lat]
    arrays; the first is not used by us and the second reads here as a list of values.)"""
    lat = lon = None
    if isinstance(value, dict):
        if set(value) == {"lat", "lon"}:
            lat, lon = value["lat"], value["lon"]
        elif value.get("type") == "Point" and set(value) == {"type", "coordinates"}:
            coords = value["coordinates"]
            if isinstance(coords, list) and len(coords) == 2:
                lon, lat = coords
    elif isinstance(value, str):
        if m := _LAT_LON.fullmatch(value):
            lat, lon = float(m[1]), float(m[2])
        elif m := _WKT_POINT.fullmatch(value):
            lon, lat = float(m[1]), float(m[2])
    if lat is None and lon is None:
        return f"{_show(value)} is not a geo point ({{'lat': .., 'lon': ..}}, GeoJSON Point, 'lat,lon' or WKT POINT)"
    for what, number, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            return f"{_show(value)}: {what} is not a number"
        if abs(number) > limit:
            return f"{_show(value)}: {what} {number} is outside -{limit}..{limit}"
    return None


def _object(es_type: str, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{_show(value)} is a {type(value).__name__}, {es_type} takes an object"
    return None


_CHECKS = {
    "string": _string,
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "date": _date,
    "ip": _ip,
    "geo_point": _geo_point,
    "object": _object,
}


# -- documents ---------------------------------------------------------------------------


def raw_values(doc: Mapping[str, Any], field: str) -> list[Any]:
    """Every scalar leaf at `field`, dotted keys and nested objects alike, arrays flattened."""
    out: list[Any] = []
    _collect(doc, field.split("."), 0, out)
    return out


def _collect(node: Any, parts: list[str], i: int, out: list[Any]) -> None:
    if i == len(parts):
        _leaves(node, out)
        return
    if isinstance(node, list):
        for item in node:
            _collect(item, parts, i, out)
        return
    if not isinstance(node, dict):
        return
    key = parts[i]
    for j in range(i, len(parts)):
        if j > i:
            key = f"{key}.{parts[j]}"
        if key in node:
            _collect(node[key], parts, j + 1, out)


def _leaves(value: Any, out: list[Any]) -> None:
    if value is None or isinstance(value, dict):
        return
    if isinstance(value, list):
        for item in value:
            _leaves(item, out)
    else:
        out.append(value)


def leaves(doc: Mapping[str, Any], types: Mapping[str, str] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of every leaf of a document.

    A dict is walked into, except where `types` says the name is an object-valued field
    (geo_point, object, flattened): there the dict is the value. A list is one value
    (of one field), whatever it holds. An empty dict has no leaves.
    """
    types = field_types() if types is None else types
    for key, value in doc.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and types.get(name) not in OBJECT_VALUED:
            yield from leaves(value, types, name)
        else:
            yield name, value


def check_document(doc: Mapping[str, Any], types: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with a document against the field definitions: fields that are not
    defined, values that do not fit their field's type, and lists of objects (wgsiem uses
    none: Elasticsearch would flatten them and lose which values belonged together).
    Empty when all is well."""
    types = field_types() if types is None else types
    problems = []
    for name, value in leaves(doc, types):
        es_type = types.get(name)
        if es_type is None:
            problems.append(f"{name}: not defined (value {_show(value)})")
            continue
        if isinstance(value, list) and es_type not in OBJECT_VALUED and any(isinstance(v, dict) for v in value):
            problems.append(f"{name}: a list of objects ({_show(value)})")
            continue
        problem = value_error(es_type, value)
        if problem is not None:
            problems.append(f"{name}: {problem} (type {es_type})")
    return problems
