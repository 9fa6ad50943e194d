"""What Fleet makes of a data stream's `fields/*.yml` when it installs a package.

Kibana's Fleet reads the package's field files and builds, per data stream, one component
template `<type>-<dataset>@package` (the package's settings and mappings) and one index
template `<type>-<dataset>` composed of Elasticsearch's built-in templates, that one, the
user's `@custom` templates and Fleet's own. This module follows Fleet's rules as
functions of parsed YAML, so a test can compare the result with `wgsiem templates install`
without a Kibana:

    mappings = fleet_mappings(fields)                       # the @package `mappings`
    bodies = fleet_templates("wireguard.status", "1.0.0", fields, retention=None)
    # {"logs-wireguard.status@package": {...}, "logs-wireguard.status": {...}}

The rules are those of Kibana's `x-pack/platform/plugins/shared/fleet/server/services/epm/`
(paths below are relative to it; docs/fleet-templates.md names the commits read):

- `fields/field.ts` `processFields`: wildcard names become `object` + `object_type`
  (`processFieldsWithWildcard`), dotted names become nested `group`s (`expandFields`),
  siblings of one name merge (`dedupFields`), aliases to nothing and arrays without
  `object_type` are dropped (`validateFields`). `process_fields` here.
- `elasticsearch/template/mappings_builder.ts` `MappingsBuilder` and
  `field_type_registry.ts` (per-type handlers) with `mappings.ts` (`getDefaultProperties`,
  `keyword`, `scaledFloat`): field → mapping. `fleet_mappings` here.
- `elasticsearch/template/install.ts` `prepareTemplate`, `buildComponentTemplates`,
  `countFields` / `getFieldsLimit`; `template.ts` `getTemplate`, `getBaseTemplate`,
  `generateTemplateIndexPattern`, `getTemplatePriority`; `default_settings.ts`
  `buildDefaultSettings`: the bodies. `fleet_templates` here.

Not modelled (a field or manifest that uses them raises `FleetTemplateError` rather than
giving a body Fleet would not): runtime fields, time series data streams (`index_mode`,
so `dimension` and `metric_type` only ever give `meta`), OTel inputs, the experimental
data stream features (synthetic source per data stream, doc-value-only fields), columnar
index modes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import WgsiemError

# -- Fleet's constants ---------------------------------------------------------------------
# mappings.ts / field_type_registry.ts
DEFAULT_IGNORE_ABOVE = 1024
DEFAULT_SCALING_FACTOR = 1000
# template.ts: DEFAULT_TEMPLATE_PRIORITY, DATASET_IS_PREFIX_TEMPLATE_PRIORITY
DEFAULT_TEMPLATE_PRIORITY = 200
DATASET_IS_PREFIX_TEMPLATE_PRIORITY = 150
# install.ts: DEFAULT_FIELD_LIMIT, MAX_FIELD_LIMIT, FIELD_LIMIT_THRESHOLD
DEFAULT_FIELD_LIMIT = 1000
MAX_FIELD_LIMIT = 10000
FIELD_LIMIT_THRESHOLD = 500
# constants/fleet_es_assets.ts and common/constants: template names and suffixes
PACKAGE_TEMPLATE_SUFFIX = "@package"
USER_SETTINGS_TEMPLATE_SUFFIX = "@custom"
FLEET_GLOBALS_COMPONENT_TEMPLATE_NAME = ".fleet_globals-1"
FLEET_AGENT_ID_VERIFY_COMPONENT_TEMPLATE_NAME = ".fleet_agent_id_verification-1"
FLEET_EVENT_INGESTED_COMPONENT_TEMPLATE_NAME = ".fleet_event_ingested-1"
STACK_COMPONENT_TEMPLATE_LOGS_MAPPINGS = "logs@mappings"
STACK_COMPONENT_TEMPLATE_LOGS_SETTINGS = "logs@settings"
STACK_COMPONENT_TEMPLATE_METRICS_SETTINGS = "metrics@settings"
STACK_COMPONENT_TEMPLATE_ECS_MAPPINGS = "ecs@mappings"
# default_settings.ts: ILM policies named before the @lifecycle convention
LEGACY_DEFAULT_ILM_POLICY_NAMES = ("logs", "metrics", "synthetics")
MANAGED_BY = "fleet"  # meta.ts MANAGED_BY_DEFAULT

# The body of `.fleet_globals-1`, which Fleet installs once at setup (fleet_es_assets.ts
# FLEET_GLOBALS_COMPONENT_TEMPLATE_CONTENT) and every package's index template uses.
FLEET_GLOBALS_COMPONENT_TEMPLATE: Mapping[str, Any] = {
    "_meta": {"managed_by": MANAGED_BY, "managed": True},
    "template": {
        "settings": {},
        "mappings": {
            "_meta": {"managed_by": MANAGED_BY, "managed": True},
            "dynamic_templates": [
                {"strings_as_keyword": {"mapping": {"ignore_above": DEFAULT_IGNORE_ABOVE, "type": "keyword"}, "match_mapping_type": "string"}}
            ],
            "date_detection": False,
        },
    },
}


class FleetTemplateError(WgsiemError):
    """A field list Fleet would refuse (PackageInvalidArchiveError), or a feature of Fleet's
    that this module does not model."""


# -- fields/field.ts: processFields ----------------------------------------------------------


def process_fields(fields: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Fleet's `processFields`: the field list as `generateMappings` sees it. The input is
    not changed (Fleet's helpers mutate the copies they make)."""
    processed = _with_wildcards([copy.deepcopy(dict(f)) for f in fields])
    deduped = _dedup(_expand(processed))
    return _validate(deduped, deduped)


def _with_wildcards(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # processFieldsWithWildcard / processFieldWithoutObjectType
    out = []
    for f in fields:
        if "*" in f["name"] and not f.get("object_type") and f.get("type") != "object":
            f = {**f, "type": "object", "object_type": f.get("type")}
        else:
            f = dict(f)
        if f.get("type") == "group" and f.get("fields"):
            f["fields"] = _with_wildcards(f["fields"])
        out.append(f)
    return out


def _expand(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # expandFields: `a.b.c` becomes group a > group b > c, keeping c's properties
    out = []
    for f in fields:
        if "." in f["name"]:
            first, rest = f["name"].split(".", 1)
            out.append({"name": first, "type": "group", "fields": _expand([{**f, "name": rest}])})
        else:
            f = dict(f)
            if f.get("fields"):
                f["fields"] = _expand(f["fields"])
            out.append(f)
    return out


def _dedup(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # dedupFields: siblings of one name merge when one is a group and the other a group,
    # object or nested; any other repeat is ignored (the first definition stays).
    out: list[dict[str, Any]] = []
    for f in fields:
        found = next((d for d in out if d["name"] == f["name"]), None)
        if found is None:
            if f.get("fields"):
                f["fields"] = _dedup(f["fields"])
            out.append(f)
            continue
        mergeable = (found.get("type") == "group" and f.get("type") in ("object", "nested", "group")) or (
            found.get("type") in ("object", "nested", "group-nested") and f.get("type") == "group"
        )
        if not mergeable:
            continue
        # `if (field.fields)`: in JavaScript an empty list is true, None is not
        if f.get("fields") is not None:
            found["fields"] = _dedup(list(found.get("fields") or []) + f["fields"])
        if found.get("fields") is not None:
            if "nested" in (found.get("type"), f.get("type")):
                found["type"] = "group-nested"
            elif found.get("type") == "object":
                found["type"] = "group"
        found.update({k: v for k, v in f.items() if k not in ("name", "type", "fields")})
    return out


def _validate(fields: list[dict[str, Any]], everything: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # validateFields: an alias must point at a field, an array needs object_type
    out = []
    for f in fields:
        if f.get("type") == "alias":
            if f.get("path") and _find(everything, f["path"].split(".")) is not None:
                out.append(f)
        elif f.get("type") == "array":
            if f.get("object_type"):
                out.append(f)
        else:
            out.append(f)
        if f.get("fields"):
            f["fields"] = _validate(f["fields"], everything)
    return out


def _find(fields: list[dict[str, Any]], names: list[str]) -> dict[str, Any] | None:
    # getField
    if not names:
        return None
    first, rest = names[0], names[1:]
    for f in fields:
        if f["name"] == first:
            if f.get("fields"):
                return _find(f["fields"], rest)
            return None if rest else f
    return None


def count_fields(fields: Iterable[Mapping[str, Any]]) -> int:
    """install.ts `countFields`: every entry of the processed list, groups and multi-fields
    included (it decides `index.mapping.total_fields.limit`)."""
    total = 0
    for f in fields:
        total += 1 + count_fields(f.get("fields") or []) + count_fields(f.get("multi_fields") or [])
    return total


# -- mappings.ts and field_type_registry.ts: one field's mapping ----------------------------


def _defaults(f: Mapping[str, Any]) -> dict[str, Any]:
    # mappings.ts getDefaultProperties
    out: dict[str, Any] = {}
    if f.get("index") is not None:
        out["index"] = f["index"]
    if f.get("doc_values") is not None:
        out["doc_values"] = f["doc_values"]
    if f.get("copy_to"):
        out["copy_to"] = f["copy_to"]
    if f.get("store") is not None:
        out["store"] = f["store"]
    return out


def _keyword(f: Mapping[str, Any], dynamic: bool = False) -> dict[str, Any]:
    # mappings.ts keyword(): ignore_above 1024 unless given (none in a dynamic template),
    # none at all for a dimension or a field that is not indexed or has no doc values
    out = {**_defaults(f), "type": "keyword"}
    if f.get("ignore_above"):
        out["ignore_above"] = f["ignore_above"]
    elif not dynamic:
        out["ignore_above"] = DEFAULT_IGNORE_ABOVE
    if f.get("normalizer"):
        out["normalizer"] = f["normalizer"]
    if f.get("dimension") or f.get("index") is False or f.get("doc_values") is False:
        out.pop("ignore_above", None)
    return out


def _text_extras(f: Mapping[str, Any], dynamic: bool) -> dict[str, Any]:
    # field_type_registry.ts buildTextExtras (text, match_only_text; wildcard when dynamic)
    out: dict[str, Any] = {}
    if not dynamic:
        for key in ("analyzer", "search_analyzer"):
            if f.get(key):
                out[key] = f[key]
    for key in ("null_value", "ignore_above"):
        if f.get(key):
            out[key] = f[key]
    return out


def _date(f: Mapping[str, Any]) -> dict[str, Any]:
    # field_type_registry.ts buildDateMapping: `date_format` is the format; @timestamp never
    # ignores a malformed value (logs@settings sets index.mapping.ignore_malformed: true)
    out: dict[str, Any] = {}
    if f.get("date_format"):
        out["format"] = f["date_format"]
    if f["name"] == "@timestamp":
        out["ignore_malformed"] = False
    return out


def _multi_fields(f: Mapping[str, Any]) -> dict[str, Any]:
    # field_type_registry.ts generateMultiFields: only types with a multiFieldMapping
    # handler (keyword, text, match_only_text, the numbers) become multi-fields; any
    # other (wildcard, ip, date, boolean...) is left out without a word.
    out: dict[str, Any] = {}
    for sub in f.get("multi_fields") or []:
        kind = sub.get("type")
        if kind == "keyword":
            out[sub["name"]] = _keyword(sub)
        elif kind in ("text", "match_only_text"):
            out[sub["name"]] = {**_text_extras(sub, dynamic=False), "type": kind}
        elif kind in _NUMERIC:
            out[sub["name"]] = {"type": _NUMERIC[kind][0]}
    return out


def _with_multi_fields(props: dict[str, Any], f: Mapping[str, Any]) -> dict[str, Any]:
    # applyMultiFields
    if f.get("multi_fields"):
        props["fields"] = _multi_fields(f)
    return props


# type -> (mapped type, match_mapping_type of its dynamic template); integer is mapped as long
_NUMERIC = {
    "long": ("long", "long"),
    "integer": ("long", "long"),
    "short": ("short", "long"),
    "byte": ("byte", "long"),
    "unsigned_long": ("unsigned_long", "long"),
    "double": ("double", "double"),
    "float": ("float", "double"),
    "half_float": ("half_float", "double"),
}


def _static(f: Mapping[str, Any], kind: str) -> dict[str, Any]:  # noqa: C901, PLR0911, PLR0912 - one branch per handler of the registry
    """field_type_registry.ts: each type's `staticMapping` (not group, nested, object with
    object_type: the builder handles those)."""
    if kind == "keyword":
        return _with_multi_fields(_keyword(f), f)
    if kind in ("text", "match_only_text"):
        return _with_multi_fields({**_defaults(f), **_text_extras(f, dynamic=False), "type": kind}, f)
    if kind == "wildcard":
        props = {**_defaults(f), "ignore_above": DEFAULT_IGNORE_ABOVE}
        if f.get("null_value"):
            props["null_value"] = f["null_value"]
        if f.get("ignore_above"):
            props["ignore_above"] = f["ignore_above"]
        props["type"] = "wildcard"
        return _with_multi_fields(props, f)
    if kind in _NUMERIC:
        return {**_defaults(f), "type": _NUMERIC[kind][0]}
    if kind == "date":
        return {**_defaults(f), **_date(f), "type": "date"}
    if kind == "scaled_float":
        return {**_defaults(f), "type": "scaled_float", "scaling_factor": f.get("scaling_factor") or DEFAULT_SCALING_FACTOR}
    if kind == "histogram":
        return {**_defaults(f), "type": "histogram"}
    if kind == "aggregate_metric_double":
        return {**_defaults(f), "metrics": f.get("metrics"), "default_metric": f.get("default_metric"), "type": kind}
    if kind == "flattened":
        props = {**_defaults(f), "type": "flattened"}
        if f.get("ignore_above"):
            props["ignore_above"] = f["ignore_above"]
        return props
    if kind == "constant_keyword":
        props = {**_defaults(f), "type": "constant_keyword"}
        if f.get("value"):
            props["value"] = f["value"]
        return props
    if kind == "alias":
        return {**_defaults(f), "type": "alias", "path": f.get("path")}
    if kind == "array":
        props = _defaults(f)
        if f.get("object_type"):
            props["type"] = f["object_type"]
        return props
    if kind == "object":
        return {**_defaults(f), **_dynamic_and_enabled(f), "type": "object"}
    # boolean, ip and any type the registry does not know: the type as it is
    return {**_defaults(f), "type": kind}


def _dynamic_mapping(f: Mapping[str, Any], kind: str) -> tuple[dict[str, Any], str] | None:
    """field_type_registry.ts: each type's `dynamicMapping`, for an `object` field whose
    members have `object_type` `kind`: (mapping, default match_mapping_type)."""
    matching = f.get("object_type_mapping_type")
    if kind == "keyword":
        return _with_multi_fields(_keyword(f, dynamic=True), f), matching or "string"
    if kind in ("text", "match_only_text", "wildcard"):
        return _with_multi_fields({**_defaults(f), **_text_extras(f, dynamic=True), "type": kind}, f), matching or "string"
    if kind in _NUMERIC:
        return {**_defaults(f), "type": _NUMERIC[kind][0]}, matching or _NUMERIC[kind][1]
    if kind == "boolean":
        return {**_defaults(f), "type": "boolean"}, matching or "boolean"
    if kind == "ip":
        return {**_defaults(f), "type": "ip"}, matching or "string"
    if kind in ("histogram", "scaled_float", "aggregate_metric_double"):
        return _static(f, kind), matching or "*"
    if kind == "flattened":
        return {**_defaults(f), "type": "flattened"}, matching or "object"
    return None  # date, constant_keyword, ...: Fleet has no dynamic mapping for them


def _dynamic_and_enabled(f: Mapping[str, Any]) -> dict[str, Any]:
    # generateDynamicAndEnabled
    return {k: f[k] for k in ("enabled", "dynamic") if k in f}


def _dynamic_parent(subobjects: bool | None = None) -> dict[str, Any]:
    # dynamicObjectParentProps
    props: dict[str, Any] = {"type": "object", "dynamic": True}
    if subobjects is not None:
        props["subobjects"] = subobjects
    return props


# -- mappings_builder.ts: the walk over the processed fields --------------------------------


@dataclass
class _Walk:
    group: str | None
    properties: dict[str, Any] = field(default_factory=dict)
    has_static: bool = False  # hasNonDynamicTemplateMappings
    has_dynamic: bool = False  # hasDynamicTemplateMappings
    subobjects: bool | None = None


class _Builder:
    """MappingsBuilder: properties from the walk, dynamic templates collected on the way."""

    def __init__(self) -> None:
        self.dynamic_templates: list[dict[str, Any]] = []
        self.template_index: dict[str, int] = {}

    def build(self, fields: Iterable[Mapping[str, Any]], group: str | None = None) -> _Walk:
        walk = _Walk(group)
        for f in fields:
            self._field(walk, f)
        return walk

    def _field(self, walk: _Walk, f: Mapping[str, Any]) -> None:
        kind = f.get("type") or "keyword"  # "If type is not defined, assume keyword"
        if "runtime" in f:
            raise FleetTemplateError(f"{_path(walk.group, f['name'])}: runtime fields are not modelled")
        if kind == "object" and f.get("object_type"):
            self._object_as_dynamic(walk, f)
            return
        if kind == "group":
            mapped = self._group(walk, f)
            if mapped is None:
                return
            props = mapped
        elif kind in ("nested", "group-nested"):
            props = {**_dynamic_and_enabled(f), **{k: f[k] for k in ("include_in_parent", "include_in_root") if k in f}, "type": "nested"}
            if f.get("fields"):
                props["properties"] = self.build(f["fields"], _path(walk.group, f["name"])).properties
        else:
            props = _static(f, kind)
        # applyCommonProps: `meta` (its unit) for a field with metric_type or unit;
        # time_series_* only in a time series data stream, which is not modelled
        if ("metric_type" in f or "unit" in f) and kind not in ("group", "group-nested"):
            props["meta"] = {"unit": f["unit"]} if "unit" in f else {}
        if "subobjects" in f:
            props["subobjects"] = f["subobjects"]
        walk.has_static = True
        if "*" in f["name"]:  # a wildcard name only has its dynamic template
            walk.has_dynamic = True
            return
        walk.properties[f["name"]] = props

    def _group(self, walk: _Walk, f: Mapping[str, Any]) -> dict[str, Any] | None:
        # processGroup with field_type_registry.ts groupType.mapGroup
        inner = self.build(f.get("fields") or [], _path(walk.group, f["name"]))
        props: dict[str, Any] | None = None
        if inner.has_static:
            props = {**({"properties": inner.properties} if inner.properties else {}), **_dynamic_and_enabled(f)}
            if inner.has_dynamic:
                props.update(type="object", dynamic=True)
            if inner.subobjects is not None:
                props["subobjects"] = inner.subobjects
        elif inner.has_dynamic:
            props = _dynamic_parent(inner.subobjects)
            walk.has_dynamic = True
        if f.get("object_type"):  # a group merged with an object by dedupFields
            props = props if props is not None else _dynamic_parent()
            self._object_as_dynamic(walk, f)
            walk.has_dynamic = True
            props.update(type="object", dynamic=True)
        return props

    def _object_as_dynamic(self, walk: _Walk, f: Mapping[str, Any]) -> None:
        # addObjectAsDynamicMapping
        path = _path(walk.group, f["name"])
        kind = f["object_type"]
        if kind == "group":
            if not f.get("fields"):
                return
            members = [{**m, "type": "object", "object_type": m.get("object_type") or m.get("type")} for m in f["fields"]]
            if self.build(members, path).has_dynamic:
                walk.has_dynamic = True
            return
        result = _dynamic_mapping({**f, "type": kind}, kind)
        if result is None:
            raise FleetTemplateError(f"No dynamic mapping generated for field {path} of type {kind}")
        if "subobjects" in f and "*" in path:
            walk.subobjects = f["subobjects"]
        mapping, matching = result
        path_match = path if "*" in path else f"{path}.*"
        self._add_template(path, path_match, matching, mapping)
        walk.has_dynamic = True
        parts = path_match.split(".")
        for i in range(len(parts) - 1, 0, -1):  # the dynamic intermediate objects
            name = ".".join(parts[:i])
            if "*" in name:
                self._add_template(name, name, "object", _dynamic_parent())
        if "*" not in f["name"]:  # addParentObjectAsStaticProperty
            walk.properties[f["name"]] = _dynamic_parent(f.get("subobjects"))
            walk.has_static = True

    def _add_template(self, name: str, path_match: str, matching: str, mapping: dict[str, Any]) -> None:
        # addDynamicTemplate: the first of a name wins, but a later intermediate object of a
        # wildcard name replaces an earlier one (Fleet's splice does not renumber the rest)
        if name in self.template_index:
            if "*" not in name or mapping.get("type") != "object":
                return
            del self.dynamic_templates[self.template_index.pop(name)]
        body: dict[str, Any] = {"mapping": mapping}
        if matching:
            body["match_mapping_type"] = matching
        if path_match:
            body["path_match"] = path_match
        self.dynamic_templates.append({name: body})
        self.template_index[name] = len(self.dynamic_templates) - 1


def _path(group: str | None, name: str) -> str:
    return f"{group}.{name}" if group else name


def generate_mappings(processed: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """template.ts `generateMappings` on fields already through `process_fields`."""
    builder = _Builder()
    out: dict[str, Any] = {"properties": builder.build(processed).properties}
    if builder.dynamic_templates:
        out["dynamic_templates"] = builder.dynamic_templates
    return out


def fleet_mappings(fields: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The `mappings` Fleet generates from a data stream's fields (every `fields/*.yml` of
    it, concatenated in file order): `properties`, and `dynamic_templates` when a field has
    an `object_type` or a wildcard name. Before the data stream manifest's own mappings are
    merged in (`fleet_templates` does that)."""
    return generate_mappings(process_fields(fields))


# -- install.ts, template.ts, default_settings.ts: the bodies --------------------------------


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """The Kibana settings that change what Fleet writes (kibana.yml `xpack.fleet.*`)."""

    agent_id_verification: bool = True  # agentIdVerificationEnabled (default true)
    event_ingested: bool = False  # eventIngestedEnabled (only without agent id verification)
    ilm_disabled: bool = False  # internal.disableILMPolicies: true on Serverless


def _meta(package: str) -> dict[str, Any]:
    # meta.ts getESAssetMetadata
    return {"managed_by": MANAGED_BY, "managed": True, "package": {"name": package}}


def expand_dotted(value: Any) -> Any:
    """`a.b: 1` → `a: {b: 1}` at every level of a mapping (Fleet's expandDottedEntries on the
    manifest's index_template settings and mappings); lists are left as they are."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _merge(node.get(leaf), expand_dotted(item))
    return out


def _merge(base: Any, extra: Any) -> Any:
    """lodash `merge`: objects merged key by key, anything else replaced (undefined skipped)."""
    if extra is None:
        return base
    if isinstance(base, dict) and isinstance(extra, Mapping):
        out = dict(base)
        for key, value in extra.items():
            out[key] = _merge(out.get(key), value)
        return out
    return copy.deepcopy(extra)


def fleet_templates(  # noqa: PLR0913 - the data stream's names and version, its fields and manifest, Kibana's settings
    dataset: str,
    package_version: str,
    fields: Iterable[Mapping[str, Any]],
    *,
    retention: str | None,
    package: str = "wireguard",
    stream_type: str = "logs",
    manifest: Mapping[str, Any] | None = None,
    config: FleetConfig = FleetConfig(),  # noqa: B008 - frozen
) -> dict[str, dict[str, Any]]:
    """name → body of what Fleet PUTs for one data stream, in the order it PUTs them: the
    component template `<type>-<dataset>@package`, then the index template
    `<type>-<dataset>` (the one body with `index_patterns`). The `@custom` templates it
    names are left for the user to create, as Fleet leaves them.

    `fields` is every entry of the data stream's `fields/*.yml` as the built package has
    them (Fleet does not resolve `external: ecs`). `manifest` is the data stream's
    `manifest.yml` (`elasticsearch.index_template.{settings,mappings,data_stream}`,
    `elasticsearch.source_mode`, `ilm_policy`, `hidden`, `dataset_is_prefix` are read).
    `retention` is its `lifecycle.yml` `data_retention`: Fleet only writes it when ILM
    policies are disabled (Serverless); otherwise the data stream gets the `logs` ILM policy.
    """
    manifest = manifest or {}
    es = expand_dotted(manifest.get("elasticsearch") or {})
    if es.get("index_mode"):
        raise FleetTemplateError(f"{dataset}: elasticsearch.index_mode {es['index_mode']!r} is not modelled")
    processed = process_fields(fields)
    generated = generate_mappings(processed)
    base = f".{stream_type}-{dataset}" if manifest.get("hidden") else f"{stream_type}-{dataset}"
    index_template = es.get("index_template") or {}
    component = _package_component(
        generated,
        index_template,
        settings=_default_settings(stream_type, manifest.get("ilm_policy"), config),
        pipeline=f"{stream_type}-{dataset}-{package_version}",  # datastream_es_name.ts getPipelineNameForDatastream
        field_count=count_fields(processed),
        synthetic_source=es.get("source_mode") == "synthetic",
    )
    if config.ilm_disabled and retention is not None:
        component["template"]["lifecycle"] = {"data_retention": retention}
    component["_meta"] = _meta(package)
    # buildComponentTemplates' keys, in order: they become the middle of composed_of
    composed = [f"{base}{PACKAGE_TEMPLATE_SUFFIX}", f"{stream_type}{USER_SETTINGS_TEMPLATE_SUFFIX}", f"{package}{USER_SETTINGS_TEMPLATE_SUFFIX}"]
    composed.append(f"{base}{USER_SETTINGS_TEMPLATE_SUFFIX}")
    return {
        f"{base}{PACKAGE_TEMPLATE_SUFFIX}": component,
        base: _index_template(base, composed, stream_type, package, manifest, index_template, config),
    }


def _default_settings(stream_type: str, ilm_policy: str | None, config: FleetConfig) -> dict[str, Any]:
    # default_settings.ts buildDefaultSettings
    if config.ilm_disabled:
        return {"index": {}}
    name = ilm_policy or (stream_type if stream_type in LEGACY_DEFAULT_ILM_POLICY_NAMES else f"{stream_type}@lifecycle")
    return {"index": {"lifecycle": {"name": name}}}


def _package_component(  # noqa: PLR0913 - buildComponentTemplates' parameters
    generated: Mapping[str, Any],
    index_template: Mapping[str, Any],
    *,
    settings: dict[str, Any],
    pipeline: str,
    field_count: int,
    synthetic_source: bool,
) -> dict[str, Any]:
    """install.ts buildComponentTemplates: the `@package` template's settings and mappings."""
    merged = _merge(settings, index_template.get("settings") or {})
    index = dict(merged.get("index") or {})
    mapping = dict(index.get("mapping") or {})
    explicit = (mapping.get("total_fields") or {}).get("limit")
    if explicit:  # getFieldsLimit
        limit = explicit
    else:
        limit = MAX_FIELD_LIMIT if field_count > FIELD_LIMIT_THRESHOLD else DEFAULT_FIELD_LIMIT
    mapping["total_fields"] = {"limit": limit}
    if mapping.get("source") or synthetic_source:
        mapping["source"] = {**(mapping.get("source") or {}), **({"mode": "synthetic"} if synthetic_source else {})}
    index.update(default_pipeline=pipeline, mapping=mapping)
    extra = index_template.get("mappings") or {}
    mappings: dict[str, Any] = {"properties": _merge(generated["properties"], extra.get("properties") or {})}
    if extra.get("runtime"):
        raise FleetTemplateError("runtime fields in the manifest's index_template.mappings are not modelled")
    templates: list[dict[str, Any]] = []
    for template in list(generated.get("dynamic_templates", [])) + list(extra.get("dynamic_templates") or []):
        if next(iter(template)) not in {next(iter(t)) for t in templates}:  # lodash uniqBy, by name
            templates.append(template)
    if templates:
        mappings["dynamic_templates"] = templates
    mappings.update({k: v for k, v in extra.items() if k not in ("properties", "dynamic_templates", "runtime")})
    return {"template": {"settings": {**merged, "index": index}, "mappings": mappings}}


def _index_template(  # noqa: PLR0913 - getTemplate's parameters
    base: str,
    composed: list[str],
    stream_type: str,
    package: str,
    manifest: Mapping[str, Any],
    index_template: Mapping[str, Any],
    config: FleetConfig,
) -> dict[str, Any]:
    """template.ts getTemplate / getBaseTemplate."""
    prefix = bool(manifest.get("dataset_is_prefix"))
    stack = {
        "logs": [STACK_COMPONENT_TEMPLATE_LOGS_MAPPINGS, STACK_COMPONENT_TEMPLATE_LOGS_SETTINGS],
        "metrics": [STACK_COMPONENT_TEMPLATE_METRICS_SETTINGS],
    }.get(stream_type, [])  # getBaseEsComponents
    fleet = [STACK_COMPONENT_TEMPLATE_ECS_MAPPINGS, FLEET_GLOBALS_COMPONENT_TEMPLATE_NAME]
    if config.agent_id_verification:
        fleet.append(FLEET_AGENT_ID_VERIFY_COMPONENT_TEMPLATE_NAME)
    elif config.event_ingested:
        fleet.append(FLEET_EVENT_INGESTED_COMPONENT_TEMPLATE_NAME)
    composed_of = [*stack, *composed, *fleet]
    hidden = (index_template.get("data_stream") or {}).get("hidden") or manifest.get("hidden")
    return {
        "priority": DATASET_IS_PREFIX_TEMPLATE_PRIORITY if prefix else DEFAULT_TEMPLATE_PRIORITY,
        "index_patterns": [f"{base}.*-*" if prefix else f"{base}-*"],
        "template": {"settings": {"index": {}}, "mappings": {"_meta": _meta(package)}},
        "data_stream": {} if hidden is None else {"hidden": hidden},
        "composed_of": composed_of,
        "_meta": _meta(package),
        "ignore_missing_component_templates": [n for n in composed_of if n.endswith(USER_SETTINGS_TEMPLATE_SUFFIX)],
    }


def split_templates(templates: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(component templates, index templates) of a `fleet_templates` result, each name →
    body, in PUT order (component templates first: the index templates use them)."""
    components = {n: dict(b) for n, b in templates.items() if "index_patterns" not in b}
    indices = {n: dict(b) for n, b in templates.items() if "index_patterns" in b}
    return components, indices
