"""Alert documents as Kibana's detection engine writes them to `.alerts-security.alerts-*`.

The layout follows factories/utils/transform_hit_to_alert.ts and build_alert.ts: the
source event's own fields, nested or dotted exactly as its `_source` had them, minus
what traverse_and_mutate_doc.ts strips (top-level `kibana`, `signal`, `threshold_result`
and empty arrays or objects), with `event.*` and `data_stream.*` copied flattened under
`kibana.alert.original_event.*` / `kibana.alert.original_data_stream.*`, the source's
`event.kind` replaced by `event.kind: signal`, and Kibana's own fields merged in as
dotted keys at the top level of the document (`"kibana.alert.rule.name": ...`), which is
how they are in a real alert's `_source`.

Ids are Kibana's recipes (see each function) with two ingredients an offline replay
cannot know replaced by stand-ins: the rule's saved-object id (a UUID Kibana draws when
the rule is created) is a UUID derived from its rule_id, and an event's index is its data
stream's name rather than the `.ds-...` backing index a search hit would report.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import orjson

from wgsiem.rules.model import Rule

from .timestamps import iso

SPACE_ID = "default"
# Namespace of the stand-in rule saved-object ids (a fixed, arbitrary UUID of ours).
RULE_UUID_NAMESPACE = uuid.UUID("6f1c9a3e-2d47-5b8e-9c10-7a4e0f3d2b61")
# calculateThresholdSignalUuid's namespace (threshold/utils.ts).
THRESHOLD_NAMESPACE = uuid.UUID("0684ec03-7201-4ee0-8ee0-3a3f6b2479b2")

RULE_TYPE_IDS = {"query": "siem.queryRule", "threshold": "siem.thresholdRule", "new_terms": "siem.newTermsRule"}
RULE_TYPE_NAMES = {"query": "Custom Query Rule", "threshold": "Threshold Rule", "new_terms": "New Terms Rule"}
_BANNED_TOP_LEVEL = ("kibana", "signal", "threshold_result")
_COPIED = {"event": "kibana.alert.original_event", "data_stream": "kibana.alert.original_data_stream"}
# Rule keys that are the alerting framework's, not the security rule's parameters.
_NOT_PARAMETERS = frozenset({"name", "tags", "interval", "enabled", "actions", "throttle", "new_terms", "threshold"})


# getMaxSignalsWarning (rule_types/utils/utils.ts).
MAX_SIGNALS_WARNING = "This rule reached the maximum alert limit for the rule execution. Some alerts were not created."


class NewAlerts:
    """Kibana's bulk create behind the persistence wrapper's duplicate filter: an alert
    whose id an earlier execution wrote is left out, and one execution writes at most
    `max_signals` new ones. Both engines write through one per rule."""

    def __init__(self, max_signals: int) -> None:
        self.max_signals = max_signals
        self.written: set[Hashable] = set()

    def add(self, created: list[dict[str, Any]], candidates: Iterable[tuple[Hashable, Callable[[], dict[str, Any]]]]) -> bool:
        """Append to `created` the alert of each (id, build) candidate not written before;
        True when a new one had to be left out for max_signals."""
        for key, build in candidates:
            if key in self.written:
                continue
            if len(created) == self.max_signals:
                return True
            self.written.add(key)
            created.append(build())
        return False


def rule_uuid(rule: Rule) -> str:
    return str(uuid.uuid5(RULE_UUID_NAMESPACE, rule.rule_id))


def query_alert_id(index: str, doc_id: str, rule_id: str) -> str:
    """generateId (rule_types/utils/utils.ts) as wrap_hits.ts calls it: sha256 of index,
    _id, the hit's `_version` (never requested by the search, so the string
    "undefined") and `<space>:<rule saved-object id>`."""
    return hashlib.sha256(f"{index}{doc_id}undefined{SPACE_ID}:{rule_id}".encode()).hexdigest()


def threshold_hit_id(rule: Rule, started_at: int, key: Sequence[Any]) -> str:
    """calculateThresholdSignalUuid: uuidv5 of rule_id, execution start, group-by fields and
    the bucket's values sorted as JavaScript's default sort does (as strings)."""
    values = ",".join(sorted(js_string(v) for v in key))
    fields = ",".join(rule.threshold.fields if rule.threshold else ())
    return str(uuid.uuid5(THRESHOLD_NAMESPACE, f"{rule.rule_id}{iso(started_at)}{fields}{values}"))


def new_terms_alert_id(index: str, doc_id: str, rule_id: str, terms: Sequence[Any]) -> str:
    """wrap_new_terms_alerts.ts hashes [index, _id, String(_version), space:rule, terms] with
    object-hash, so one event gives one id per new term."""
    return object_hash([index, doc_id, "undefined", f"{SPACE_ID}:{rule_id}", list(terms)])


def object_hash(value: Any) -> str:
    """Kibana's `objectHash(value)` (the object-hash package: sha1 over a typed
    serialisation, object keys sorted) stood in for by a sha1 over the same ingredients,
    typed the same way: equal inputs give equal ids, different ones different ids."""
    return hashlib.sha1(_typed(value).encode()).hexdigest()  # noqa: S324 - Kibana's id scheme, not a security measure


def _typed(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"array:{len(value)}:" + "".join(_typed(v) for v in value)
    if isinstance(value, Mapping):
        return f"object:{len(value)}:" + "".join(f"{_typed(str(k))}:{_typed(value[k])}," for k in sorted(value, key=str))
    if isinstance(value, str):
        return f"string:{len(value)}:{value}"
    if isinstance(value, bool):
        return f"bool:{'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"number:{js_string(value)}"
    if value is None:
        return "Null"
    return f"string:{len(str(value))}:{value}"


def js_string(value: Any) -> str:
    """JavaScript's String(value) for a JSON scalar: `5` for 5.0, `true` for True."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class RuleContext:
    """What every alert of one rule shares, computed once per rule."""

    rule: Rule
    uuid: str
    indices: tuple[str, ...]
    fields: Mapping[str, Any]  # the rule's kibana.alert.rule.* fields and other constants

    @cached_property
    def fields_json(self) -> bytes:
        # Decoding this is a much cheaper deep copy per alert than copy.deepcopy.
        return orjson.dumps(self.fields)

    @classmethod
    def of(cls, rule: Rule, indices: tuple[str, ...], created_at: int) -> RuleContext:
        ident = rule_uuid(rule)
        body = rule.body
        created = iso(created_at)
        fields: dict[str, Any] = {
            "kibana.space_ids": [SPACE_ID],
            "kibana.alert.rule.consumer": "siem",
            "kibana.alert.rule.producer": "siem",
            "kibana.alert.rule.category": RULE_TYPE_NAMES.get(rule.type, rule.type),
            "kibana.alert.rule.rule_type_id": RULE_TYPE_IDS.get(rule.type, rule.type),
            "kibana.alert.rule.revision": 0,
            "kibana.alert.status": "active",
            "kibana.alert.workflow_status": "open",
            "kibana.alert.workflow_tags": [],
            "kibana.alert.workflow_assignee_ids": [],
            "kibana.alert.depth": 1,
            "kibana.alert.severity": rule.severity,
            "kibana.alert.risk_score": rule.risk_score,
            "kibana.alert.rule.parameters": _parameters(rule, indices),
            "kibana.alert.rule.actions": [],
            "kibana.alert.rule.author": body.get("author", []),
            "kibana.alert.rule.created_at": created,
            "kibana.alert.rule.created_by": "",
            "kibana.alert.rule.description": body.get("description", ""),
            "kibana.alert.rule.enabled": True,
            "kibana.alert.rule.exceptions_list": body.get("exceptions_list", []),
            "kibana.alert.rule.false_positives": body.get("false_positives", []),
            "kibana.alert.rule.from": body.get("from", "now-6m"),
            "kibana.alert.rule.immutable": False,
            "kibana.alert.rule.interval": body.get("interval", "5m"),
            "kibana.alert.rule.indices": list(indices),
            "kibana.alert.rule.license": body.get("license", ""),
            "kibana.alert.rule.max_signals": rule.max_signals,
            "kibana.alert.rule.name": rule.name,
            "kibana.alert.rule.references": body.get("references", []),
            "kibana.alert.rule.risk_score_mapping": body.get("risk_score_mapping", []),
            "kibana.alert.rule.rule_id": rule.rule_id,
            "kibana.alert.rule.severity_mapping": body.get("severity_mapping", []),
            "kibana.alert.rule.tags": body.get("tags", []),
            "kibana.alert.rule.threat": body.get("threat", []),
            "kibana.alert.rule.to": body.get("to", "now"),
            "kibana.alert.rule.type": rule.type,
            "kibana.alert.rule.updated_at": created,
            "kibana.alert.rule.updated_by": "",
            "kibana.alert.rule.uuid": ident,
            "kibana.alert.rule.version": rule.version,
            "kibana.alert.rule.risk_score": rule.risk_score,
            "kibana.alert.rule.severity": rule.severity,
            "kibana.alert.rule.execution.type": "scheduled",
        }
        if "note" in body:
            fields["kibana.alert.rule.note"] = body["note"]
        return cls(rule=rule, uuid=ident, indices=indices, fields=fields)


def _parameters(rule: Rule, indices: tuple[str, ...]) -> dict[str, Any]:
    """kibana.alert.rule.parameters: the rule's params in snake case, as the API shows them."""
    params = {k: copy.deepcopy(v) for k, v in rule.body.items() if k not in _NOT_PARAMETERS}
    params.setdefault("language", "kuery")
    params.setdefault("to", "now")
    params["index"] = list(indices)
    params["max_signals"] = rule.max_signals
    if rule.threshold:
        card = rule.threshold.cardinality
        params["threshold"] = {
            "field": list(rule.threshold.fields),
            "value": rule.threshold.value,
            "cardinality": [{"field": card.field, "value": card.value}] if card else [],
        }
    if rule.type == "new_terms":
        params["new_terms_fields"] = list(rule.new_terms_fields)
        windows = (rule.body.get("new_terms") or {}).get("history_window_start") or [{}]
        params["history_window_start"] = windows[0].get("value")
    return params


def build_alert(
    ctx: RuleContext,
    source: Mapping[str, Any],
    *,
    alert_id: str,
    parent_id: str,
    parent_index: str,
    started_at: int,
    original_time: int,
) -> dict[str, Any]:
    """transformHitToAlert for one hit: `source` is the hit's `_source` (for threshold
    the synthetic bucket document), `started_at` the execution time."""
    doc = _mutated(_deep_copy(source))
    name = ctx.rule.name
    executed = iso(started_at)
    alert_fields = orjson.loads(ctx.fields_json)
    alert_fields.update(
        {
            "@timestamp": executed,
            "event.kind": "signal",
            "kibana.alert.original_time": iso(original_time),
            "kibana.alert.ancestors": [{"id": parent_id, "type": "event", "index": parent_index, "depth": 0}],
            "kibana.alert.reason": reason(source, name, ctx.rule.severity),
            "kibana.alert.uuid": alert_id,
            "kibana.alert.intended_timestamp": executed,
            "kibana.alert.start": executed,
            "kibana.alert.last_detected": executed,
            "kibana.alert.rule.execution.timestamp": executed,
            "kibana.alert.rule.execution.uuid": _execution_uuid(ctx.uuid, executed),
        }
    )
    doc.update(alert_fields)
    return doc


@lru_cache(maxsize=1024)
def _execution_uuid(rule: str, executed: str) -> str:
    return str(uuid.uuid5(uuid.UUID(rule), executed))


def _deep_copy(source: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return orjson.loads(orjson.dumps(source))
    except TypeError:  # a value JSON has no form for: the slow way keeps it as it is
        return copy.deepcopy(dict(source))


def _mutated(doc: dict[str, Any]) -> dict[str, Any]:
    """traverseAndMutateDoc's removals and copies, then the removal of `event.kind`."""
    copies: dict[str, Any] = {}
    for key in list(doc):
        root = key.split(".")[0]
        if root in _BANNED_TOP_LEVEL:
            del doc[key]
            continue
        if not _prune(doc, key):
            continue
        if root in _COPIED:
            target = _COPIED[root] + key[len(root) :]
            value = doc[key]
            if isinstance(value, dict):
                copies.update(_flatten(target, value))
            else:
                copies[target] = _copied(value)
    doc.update(copies)
    _drop_event_kind(doc)
    return doc


def _prune(container: dict[str, Any], key: str) -> bool:
    """Drops empty arrays and objects (after pruning their insides); True if `key` stays."""
    value = container[key]
    if isinstance(value, dict):
        for inner in list(value):
            _prune(value, inner)
        if not value:
            del container[key]
            return False
    elif isinstance(value, list):
        kept = []
        for item in value:
            if isinstance(item, (dict, list)):
                holder = {"": item}
                if _prune(holder, ""):
                    kept.append(holder[""])
            else:
                kept.append(item)
        if not kept:
            del container[key]
            return False
        container[key] = kept
    return True


def _flatten(prefix: str, value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, inner in value.items():
        path = f"{prefix}.{key}"
        if isinstance(inner, dict):
            out.update(_flatten(path, inner))
        else:
            out[path] = _copied(inner)
    return out


def _copied(value: Any) -> Any:
    """A copy so that the alert's two places for one value do not share a list."""
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def _drop_event_kind(doc: dict[str, Any]) -> None:
    doc.pop("event.kind", None)
    event = doc.get("event")
    if isinstance(event, dict):
        event.pop("kind", None)
        if not event:
            del doc["event"]


def reason(source: Mapping[str, Any], name: str, severity: str) -> str:
    """buildReasonMessageUtil (rule_types/utils/reason_formatters.ts), from the hit's
    `_source`. A value shows when it is a non-empty string or array: a bare number (a
    port from `_source`) has no `.length` there, so Kibana leaves it out, and so do we."""
    picked = {
        key: _template_value(_reason_field(source, field))
        for key, field in (
            ("destination", "destination.ip"),
            ("destination_port", "destination.port"),
            ("category", "event.category"),
            ("file", "file.name"),
            ("host", "host.name"),
            ("process", "process.name"),
            ("parent", "process.parent.name"),
            ("source", "source.ip"),
            ("source_port", "source.port"),
            ("user", "user.name"),
        )
    }
    of_interest = any(picked[k] is not None for k in ("destination", "destination_port", "file", "process", "parent", "source", "source_port"))
    out = ""
    if picked["category"] is not None:
        out += f"{picked['category']} "
    out += "event"
    if of_interest:
        out += " with"
    if picked["process"] is not None:
        out += f" process {picked['process']},"
    if picked["parent"] is not None:
        out += f" parent process {picked['parent']},"
    if picked["file"] is not None:
        out += f" file {picked['file']},"
    if picked["source"] is not None:
        out += f" source {picked['source']}"
    if picked["source_port"] is not None:
        out += f":{picked['source_port']},"
    if picked["destination"] is not None:
        out += f" destination {picked['destination']}"
    if picked["destination_port"] is not None:
        out += f":{picked['destination_port']},"
    if picked["user"] is not None:
        out += f" by {picked['user']}"
    if picked["host"] is not None:
        out += f" on {picked['host']}"
    return f"{out} created {severity} alert {name}."


def _reason_field(source: Mapping[str, Any], field: str) -> Any:
    """lodash `get`: a dotted key that exists as such wins, else the nested path only."""
    if field in source:
        return source[field]
    node: Any = source
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _template_value(value: Any) -> str | None:
    """getFieldTemplateValue: null for falsy, length-less or `['-']` values."""
    if not value or not isinstance(value, (str, list)):
        return None
    if isinstance(value, list) and len(value) == 1 and value[0] == "-":
        return None
    if isinstance(value, list):
        return ", ".join(js_string(v) if v is not None else "" for v in value)
    return value
