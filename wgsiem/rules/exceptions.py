"""Exception lists and value lists: how a SOC tunes the rules without editing them.

An exception list (detection_rules/exceptions/*.toml, elastic/detection-rules' layout) is
attached to rules by its metadata's `rule_ids`; a document that matches any of its items
(each an AND of entries) produces no alert. A value list
(detection_rules/value_lists/<id>.toml) is a set of ip, ip_range or keyword values an
entry of type `list` ("is in list") names by id. `wgsiem rules run --exceptions FILE` adds
lists of the user's own to those of the folder.

Files are checked against detection_rules/schemas/{exception-list,value-list}-toml.schema.json
first, then for what a schema cannot see: values that are not of their list's type, an
entry naming a value list that does not exist or of another type, ids given twice, a
rule_default list on several rules. Problems name the file, line and key. How a list
becomes part of a rule's search is detection/exception_filter.py's.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..content import DETECTION_RULES
from ..errors import WgsiemError
from .model import schema_problem, schema_validator

EXCEPTION_SCHEMA = DETECTION_RULES / "schemas" / "exception-list-toml.schema.json"
VALUE_LIST_SCHEMA = DETECTION_RULES / "schemas" / "value-list-toml.schema.json"
EXCEPTIONS_DIR = "exceptions"
VALUE_LISTS_DIR = "value_lists"
# Kibana puts a value list into the search only up to these sizes (MAXIMUM_SMALL_VALUE_LIST_SIZE,
# MAXIMUM_SMALL_IP_RANGE_VALUE_LIST_DASH_SIZE in kbn-securitysolution-list-constants); a
# larger one is applied after the search for query rules and not at all for the others.
# wgsiem refuses such lists rather than imitate the difference.
MAX_VALUES = 65_536
MAX_DASH_RANGES = 200


class ExceptionFileError(WgsiemError):
    """An exception or value list file that cannot be used; one problem per line."""


@dataclass(frozen=True, slots=True)
class Entry:
    field: str
    type: str  # match, match_any, exists, wildcard, list, nested
    operator: str = "included"  # included or excluded (nested entries have none)
    value: str | tuple[str, ...] | None = None  # match/wildcard: a string; match_any: several
    list_id: str | None = None  # type list: the value list's id ...
    list_type: str | None = None  # ... and its type
    entries: tuple[Entry, ...] = ()  # type nested: entries on the nested object's fields


@dataclass(frozen=True, slots=True)
class ExceptionItem:
    item_id: str
    name: str
    description: str
    namespace_type: str
    entries: tuple[Entry, ...]
    expire_time: str | None  # ISO 8601 as written; Kibana drops the item once it is past
    expire_ms: int | None
    tags: tuple[str, ...]
    comments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExceptionList:
    path: Path
    list_id: str
    name: str
    description: str
    type: str  # detection (shared) or rule_default (one rule's own)
    namespace_type: str
    tags: tuple[str, ...]
    rule_ids: tuple[str, ...]
    items: tuple[ExceptionItem, ...]


@dataclass(frozen=True, slots=True)
class ValueList:
    path: Path
    id: str
    name: str
    description: str
    type: str  # ip, ip_range or keyword
    values: tuple[str, ...]  # as written (trimmed)


@dataclass(frozen=True)
class Tuning:
    """The exception lists and value lists in play for a run, an export or an install."""

    lists: tuple[ExceptionList, ...] = ()
    value_lists: Mapping[str, ValueList] = field(default_factory=dict)

    def for_rule(self, rule_id: str) -> tuple[ExceptionList, ...]:
        return tuple(lst for lst in self.lists if rule_id in lst.rule_ids)

    def fields(self, rule_ids: Iterable[str] | None = None) -> list[str]:
        """The document fields the entries of the lists read (of the lists on `rule_ids`, or all)."""
        wanted = None if rule_ids is None else set(rule_ids)
        found = [
            name for lst in self.lists if wanted is None or wanted & set(lst.rule_ids)
            for item in lst.items for entry in item.entries for name in entry_fields(entry)
        ]  # fmt: skip
        return list(dict.fromkeys(found))

    def __bool__(self) -> bool:
        return bool(self.lists or self.value_lists)


def _read(path: Path, schema: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ExceptionFileError(f"{path}: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ExceptionFileError(f"{path}: not UTF-8 text (byte {err.start})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ExceptionFileError(f"{path}: not valid TOML: {err}") from None
    errors = sorted(schema_validator(schema, formats=True).iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ExceptionFileError("\n".join(schema_problem(path, text, e) for e in errors))
    return text, raw


def load_value_list(path: Path) -> ValueList:
    text, raw = _read(path, VALUE_LIST_SCHEMA)
    body = raw["list"]
    values = tuple(v.strip() for v in body["values"])
    problems = [f"{path}:{_line_with(text, v)}: list.values: {problem}" for v in values if (problem := value_problem(body["type"], v))]
    if body["id"] != path.stem:
        problems.append(f"{path}:{_line_with(text, 'id')}: list.id: {body['id']!r} is not the file's name ({path.stem}.toml)")
    if len(values) > MAX_VALUES:
        problems.append(f"{path}: list.values: {len(values)} values; Kibana puts at most {MAX_VALUES} into a rule's search")
    # Kibana reads a single address of an ip_range list back as `a-a`: a range too.
    dashes = sum("/" not in v for v in values) if body["type"] == "ip_range" else 0
    if dashes > MAX_DASH_RANGES:
        problems.append(f"{path}: list.values: {dashes} 'first-last' ranges; Kibana searches with at most {MAX_DASH_RANGES} (use CIDR blocks)")
    if problems:
        raise ExceptionFileError("\n".join(problems))
    return ValueList(path, body["id"], body["name"], body["description"], body["type"], values)


def value_list_text(value_list: ValueList) -> str:
    """The values as Kibana's value list upload takes them: one per line."""
    return "".join(v + "\n" for v in value_list.values)


def value_problem(list_type: str, value: str) -> str | None:
    """Why `value` cannot be an item of a list of `list_type` (Elasticsearch would refuse to
    index it, and Kibana's import drops such an item without a word), or None."""
    if list_type == "keyword":
        return None
    try:
        if list_type == "ip":
            ipaddress.ip_address(value)
        elif "-" in value:
            first, last = (ipaddress.ip_address(part.strip()) for part in value.split("-", 1))
            if first.version != last.version or first > last:
                return f"{value!r}: a range runs from its lower address to its higher one, in one IP version"
        elif "/" in value:
            ipaddress.ip_network(value, strict=False)
        else:
            ipaddress.ip_address(value)
    except ValueError:
        shape = "an IP address" if list_type == "ip" else "an address, a CIDR block or a 'first-last' range"
        return f"{value!r} is not {shape}"
    return None


def load_exception_list(path: Path) -> ExceptionList:
    text, raw = _read(path, EXCEPTION_SCHEMA)
    block = raw["exceptions"][0]
    container = block["container"]
    problems = []
    items = []
    seen: set[str] = set()
    for item in block["items"]:
        where = f"{path}:{_line_with(text, item['item_id'])}"
        if item["list_id"] != container["list_id"]:
            problems.append(
                f"{path}:{_line_with(text, item['list_id'])}: exceptions.items.list_id: {item['list_id']!r} is not the container's {container['list_id']!r}"
            )
        if item["item_id"] in seen:
            problems.append(f"{where}: exceptions.items.item_id: {item['item_id']!r} is given twice")
        seen.add(item["item_id"])
        expire = item.get("expire_time")
        expire_ms = None
        if expire:
            expire_ms = _epoch_ms(expire)
            if expire_ms is None:
                problems.append(
                    f"{path}:{_line_with(text, expire)}: exceptions.items.expire_time: {expire!r} is not an ISO 8601 time with its zone (2026-12-31T23:59:59Z)"
                )
        items.append(
            ExceptionItem(
                item_id=item["item_id"],
                name=item["name"],
                description=item["description"],
                namespace_type=item["namespace_type"],
                entries=tuple(_entry(e) for e in item["entries"]),
                expire_time=expire,
                expire_ms=expire_ms,
                tags=tuple(item.get("tags", ())),
                comments=tuple(c["comment"] for c in item.get("comments", ())),
            )
        )
    metadata = raw["metadata"]
    if container["type"] == "rule_default" and len(metadata["rule_ids"]) != 1:
        problems.append(f"{path}:{_line_with(text, 'rule_ids')}: metadata.rule_ids: a rule_default list belongs to exactly one rule")
    if problems:
        raise ExceptionFileError("\n".join(problems))
    return ExceptionList(
        path=path,
        list_id=container["list_id"],
        name=container["name"],
        description=container["description"],
        type=container["type"],
        namespace_type=container["namespace_type"],
        tags=tuple(container.get("tags", ())),
        rule_ids=tuple(metadata["rule_ids"]),
        items=tuple(items),
    )


def _entry(raw: Mapping[str, Any]) -> Entry:
    value = raw.get("value")
    listed = raw.get("list") or {}
    return Entry(
        field=raw["field"],
        type=raw["type"],
        operator=raw.get("operator", "included"),
        value=tuple(value) if isinstance(value, list) else value,
        list_id=listed.get("id"),
        list_type=listed.get("type"),
        entries=tuple(_entry(e) for e in raw.get("entries", ())),
    )


def load_tuning(rules_dir: Path, exception_files: Sequence[Path] = (), value_list_files: Sequence[Path] = ()) -> Tuning:
    """The lists of `rules_dir` (its exceptions/ and value_lists/ folders, if any) and the
    files given, all problems at once."""
    problems: list[str] = []
    value_lists: dict[str, ValueList] = {}
    for path in [*sorted((rules_dir / VALUE_LISTS_DIR).glob("*.toml")), *value_list_files]:
        try:
            vl = load_value_list(path)
        except ExceptionFileError as err:
            problems.append(str(err))
            continue
        if vl.id in value_lists:
            problems.append(f"{path}: list.id: {vl.id!r} is also {value_lists[vl.id].path}")
        value_lists[vl.id] = vl
    lists: list[ExceptionList] = []
    for path in [*sorted((rules_dir / EXCEPTIONS_DIR).glob("*.toml")), *exception_files]:
        try:
            lists.append(load_exception_list(path))
        except ExceptionFileError as err:
            problems.append(str(err))
    problems += _cross_problems(lists, value_lists)
    if problems:
        raise ExceptionFileError("\n".join(problems))
    return Tuning(tuple(lists), value_lists)


def _cross_problems(lists: Iterable[ExceptionList], value_lists: Mapping[str, ValueList]) -> list[str]:
    problems = []
    by_id: dict[tuple[str, str], ExceptionList] = {}
    for lst in lists:
        key = (lst.list_id, lst.namespace_type)
        if key in by_id:
            problems.append(f"{lst.path}: exceptions.container.list_id: {lst.list_id!r} is also {by_id[key].path}")
        by_id[key] = lst
        for item in lst.items:
            for entry in item.entries:
                if entry.type != "list":
                    continue
                known = value_lists.get(entry.list_id or "")
                if known is None:
                    problems.append(f"{lst.path}: item {item.item_id}: {entry.field}: no value list {entry.list_id!r} (detection_rules/value_lists/<id>.toml)")
                elif known.type != entry.list_type:
                    problems.append(
                        f"{lst.path}: item {item.item_id}: {entry.field}: value list {entry.list_id!r} is of type {known.type}, not {entry.list_type}"
                    )
    return problems


def entry_fields(entry: Entry) -> list[str]:
    """The document fields an entry reads (a nested entry's inner fields with its path)."""
    if entry.type == "nested":
        return [f"{entry.field}.{inner.field}" for inner in entry.entries]
    return [entry.field]


def _epoch_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 time with a zone; None for anything else (Kibana's
    schema wants a date-time with its offset)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000) if moment.tzinfo is not None else None


def _line_with(text: str, needle: str) -> int:
    """The first line mentioning `needle` as a quoted value or a key: where a problem with it is."""
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{needle}"' in line or f"'{needle}'" in line or re.match(rf"\s*{re.escape(needle)}\s*=", line):
            return number
    return 1
