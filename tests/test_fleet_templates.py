"""Same mappings both ways: the templates Fleet builds from the `wireguard` package's fields,
and the ones `wgsiem templates install` puts in the cluster.

Three parts: Fleet's rules on small field lists (each test names the Kibana source it
follows, quoting the line; docs/fleet-templates.md gives the files and commits), the
comparison of Fleet's mappings and settings with ours for every field of both datasets
(every difference must be in wgsiem/package/fleet_differences.yaml, every entry there must
still be needed), and an `es` test that PUTs Fleet's templates on the real test node and
indexes every event of every scenario into them.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.es import bulk_create, in_namespace
from wgsiem.mappings import field_types, leaves, load_fields
from wgsiem.mappings.datastreams import data_stream_index
from wgsiem.mappings.templates import component_templates, fit_to_modules, load_spec
from wgsiem.package.build import DATA_STREAMS, Package, assemble
from wgsiem.package.compare import (
    DYNAMIC_TEMPLATES,
    MAPPING,
    SETTINGS,
    WHOLE_FIELD,
    Difference,
    Known,
    compare_mappings,
    compare_settings,
    compose_mappings,
    field_mappings,
    known_differences,
    unused,
)
from wgsiem.package.field_files import data_stream_fields, is_ecs, package_field
from wgsiem.package.fleet_templates import (
    FleetConfig,
    FleetTemplateError,
    count_fields,
    expand_dotted,
    fleet_mappings,
    fleet_templates,
    process_fields,
    split_templates,
)
from wgsiem.package.node_fit import LOGS_SETTINGS_COMPONENT_TEMPLATE, fit_fleet_templates

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.parent for p in (REPO / "fixtures" / "scenarios").glob("*/events.ndjson"))
VERSION = "1.0.0"


def props(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return fleet_mappings(fields)["properties"]


def mapped_types(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            out.update(mapped_types(spec["properties"], f"{prefix}{name}."))
        if "type" in spec:
            out[f"{prefix}{name}"] = spec["type"]
    return out


# -- fields/field.ts: processFields ----------------------------------------------------------------


def test_dotted_names_become_groups_and_siblings_merge():
    # field.ts expandFields: "create a new field of type group with the original field in the fields array"
    # field.ts dedupFields: "merges sibling fields with the same name together"
    processed = process_fields([{"name": "a.b", "type": "long"}, {"name": "a.c.d", "type": "ip"}, {"name": "a", "type": "group", "fields": [{"name": "e"}]}])
    assert processed == [{"name": "a", "type": "group", "fields": [
        {"name": "b", "type": "long"},
        {"name": "c", "type": "group", "fields": [{"name": "d", "type": "ip"}]},
        {"name": "e"},
    ]}]  # fmt: skip
    assert props([{"name": "a.b", "type": "long"}, {"name": "a", "type": "group", "fields": [{"name": "c", "type": "ip"}]}]) == {
        "a": {"properties": {"b": {"type": "long"}, "c": {"type": "ip"}}}
    }


def test_a_repeated_field_keeps_its_first_definition():
    # field.ts dedupFields: "if `field.type` wasn't group object or nested, then there's a conflict in types, so lets ignore it"
    assert props([{"name": "a.b", "type": "long"}, {"name": "a.b", "type": "keyword"}]) == {"a": {"properties": {"b": {"type": "long"}}}}


def test_an_object_and_a_group_of_one_name_merge_into_a_group_with_the_objects_options():
    # field.ts dedupFields: "} else if (found.type === 'object') { found.type = 'group'" and "Object.assign(found, importantFieldProps)"
    processed = process_fields([{"name": "a", "type": "object", "dynamic": "strict"}, {"name": "a.b", "type": "long"}])
    assert processed == [{"name": "a", "type": "group", "dynamic": "strict", "fields": [{"name": "b", "type": "long"}]}]
    assert props([{"name": "a", "type": "object", "dynamic": "strict"}, {"name": "a.b", "type": "long"}]) == {
        "a": {"properties": {"b": {"type": "long"}}, "dynamic": "strict"}
    }


def test_nested_stays_nested_when_fields_join_it():
    # field.ts dedupFields: "if (found.type === 'nested' || field.type === 'nested') { found.type = 'group-nested'"
    assert props([{"name": "a", "type": "nested", "include_in_parent": True}, {"name": "a.b", "type": "long"}]) == {
        "a": {"include_in_parent": True, "type": "nested", "properties": {"b": {"type": "long"}}}
    }


def test_aliases_to_nothing_and_arrays_without_object_type_are_dropped():
    # field.ts validateFields: "all fields of type alias point to existing fields", "all fields of type array have a property object_type"
    fields = [
        {"name": "a.b", "type": "keyword"},
        {"name": "good", "type": "alias", "path": "a.b"},
        {"name": "bad", "type": "alias", "path": "a.nothing"},
        {"name": "list", "type": "array"},
        {"name": "longs", "type": "array", "object_type": "long"},
    ]
    out = props(fields)
    assert out["good"] == {"type": "alias", "path": "a.b"}
    assert out["longs"] == {"type": "long"}
    assert "bad" not in out and "list" not in out


def test_the_input_is_not_changed():
    fields = [{"name": "a.b", "type": "keyword"}, {"name": "a", "type": "object", "object_type": "long"}]
    before = json.dumps(fields)
    fleet_mappings(fields)
    assert json.dumps(fields) == before


# -- one field's mapping: mappings.ts, field_type_registry.ts --------------------------------------


def test_a_field_without_type_is_a_keyword():
    # mappings_builder.ts processField: "const type = field.type || 'keyword';"
    assert props([{"name": "a"}]) == {"a": {"type": "keyword", "ignore_above": 1024}}


@pytest.mark.parametrize(
    ("field", "mapping"),
    [
        # mappings.ts keyword(): "fieldProps.ignore_above = DEFAULT_IGNORE_ABOVE" unless "field.ignore_above"
        ({"type": "keyword"}, {"type": "keyword", "ignore_above": 1024}),
        ({"type": "keyword", "ignore_above": 256}, {"type": "keyword", "ignore_above": 256}),
        # "if (field.index === false || field.doc_values === false) { delete fieldProps.ignore_above"
        ({"type": "keyword", "index": False, "doc_values": False}, {"type": "keyword", "index": False, "doc_values": False}),
        ({"type": "keyword", "doc_values": False, "ignore_above": 10}, {"type": "keyword", "doc_values": False}),
        # "if (field.dimension) { delete fieldProps.ignore_above", "fieldProps.normalizer = field.normalizer"
        ({"type": "keyword", "dimension": True, "normalizer": "lowercase"}, {"type": "keyword", "normalizer": "lowercase"}),
        # field_type_registry.ts: "integer: numericType('long', 'long'), // integer maps to long"
        ({"type": "integer"}, {"type": "long"}),
        ({"type": "unsigned_long"}, {"type": "unsigned_long"}),
        ({"type": "half_float", "doc_values": False}, {"type": "half_float", "doc_values": False}),
        # mappings.ts scaledFloat(): "field.scaling_factor || DEFAULT_SCALING_FACTOR"
        ({"type": "scaled_float"}, {"type": "scaled_float", "scaling_factor": 1000}),
        ({"type": "scaled_float", "scaling_factor": 100}, {"type": "scaled_float", "scaling_factor": 100}),
        # field_type_registry.ts wildcardType: "ignore_above: DEFAULT_IGNORE_ABOVE" then "if (field.ignore_above)"
        ({"type": "wildcard"}, {"type": "wildcard", "ignore_above": 1024}),
        ({"type": "wildcard", "ignore_above": 8191}, {"type": "wildcard", "ignore_above": 8191}),
        # textLikeType: "...buildTextExtras(field, { isDynamic: false })": analyzers, null_value, ignore_above
        ({"type": "text", "analyzer": "simple", "norms": False}, {"type": "text", "analyzer": "simple"}),
        ({"type": "match_only_text"}, {"type": "match_only_text"}),
        # constantKeywordType: "if (field.value) props.value = field.value;"
        ({"type": "constant_keyword", "value": "logs"}, {"type": "constant_keyword", "value": "logs"}),
        ({"type": "constant_keyword", "value": ""}, {"type": "constant_keyword"}),
        # buildDateMapping: "if (field.date_format) mapping.format = field.date_format;"
        ({"type": "date", "date_format": "epoch_second"}, {"type": "date", "format": "epoch_second"}),
        # objectType: "...generateDynamicAndEnabled(field), type: 'object'"
        ({"type": "object", "enabled": False}, {"type": "object", "enabled": False}),
        # flattenedType: "if (field.ignore_above) props.ignore_above = field.ignore_above;"
        ({"type": "flattened", "ignore_above": 512}, {"type": "flattened", "ignore_above": 512}),
        # anything else (ip, geo_point, boolean...): "fieldProps = { ...getDefaultProperties(field), type }"
        ({"type": "geo_point", "store": True, "copy_to": "x"}, {"type": "geo_point", "store": True, "copy_to": "x"}),
        # applyCommonProps: "if ('unit' in field) meta.unit = field.unit; fieldProps.meta = meta;"
        ({"type": "long", "unit": "byte", "metric_type": "counter"}, {"type": "long", "meta": {"unit": "byte"}}),
        ({"type": "double", "metric_type": "gauge"}, {"type": "double", "meta": {}}),
    ],
)
def test_each_type_maps_as_fleets_handler_says(field, mapping):
    assert props([{"name": "f", **field}]) == {"f": mapping}


def test_timestamp_never_ignores_a_malformed_value():
    # field_type_registry.ts buildDateMapping: "if (field.name === '@timestamp') mapping.ignore_malformed = false;"
    assert props([{"name": "@timestamp", "type": "date"}]) == {"@timestamp": {"type": "date", "ignore_malformed": False}}


def test_multi_fields_of_the_types_fleet_honours_and_no_others():
    # field_type_registry.ts generateMultiFields: "const mapped = handler?.multiFieldMapping?.(f);" (keyword,
    # text, match_only_text and the numbers have one; wildcard, ip, date... do not)
    field = {"name": "f", "type": "keyword", "multi_fields": [
        {"name": "text", "type": "match_only_text"},
        {"name": "kw", "type": "keyword"},
        {"name": "n", "type": "integer"},
        {"name": "wc", "type": "wildcard"},
        {"name": "addr", "type": "ip"},
    ]}  # fmt: skip
    assert props([field])["f"]["fields"] == {"text": {"type": "match_only_text"}, "kw": {"type": "keyword", "ignore_above": 1024}, "n": {"type": "long"}}


# -- groups, objects and dynamic templates: mappings_builder.ts ---------------------------------------


def test_object_type_becomes_a_dynamic_template_and_a_dynamic_parent():
    # mappings_builder.ts addObjectAsDynamicMapping: "dynamicPathMatch(path)" ("path.*"), then
    # addParentObjectAsStaticProperty: "context.properties[field.name] = dynamicObjectParentProps(...)"
    out = fleet_mappings([{"name": "labels", "type": "object", "object_type": "keyword"}, {"name": "n.counts", "type": "object", "object_type": "long"}])
    assert out["properties"] == {
        "labels": {"type": "object", "dynamic": True},
        "n": {"properties": {"counts": {"type": "object", "dynamic": True}}, "type": "object", "dynamic": True},
    }
    # keywordType.dynamicMapping: "keyword(field, true)": no default ignore_above in a dynamic template
    assert out["dynamic_templates"] == [
        {"labels": {"mapping": {"type": "keyword"}, "match_mapping_type": "string", "path_match": "labels.*"}},
        {"n.counts": {"mapping": {"type": "long"}, "match_mapping_type": "long", "path_match": "n.counts.*"}},
    ]


@pytest.mark.parametrize(
    ("field", "template"),
    [
        # numericType('double', 'double') / numericType('float', 'double'): the default match_mapping_type
        ({"object_type": "float"}, {"mapping": {"type": "float"}, "match_mapping_type": "double"}),
        ({"object_type": "unsigned_long"}, {"mapping": {"type": "unsigned_long"}, "match_mapping_type": "long"}),
        # "matchingType: field.object_type_mapping_type ?? 'string'"
        ({"object_type": "keyword", "object_type_mapping_type": "*", "ignore_above": 1024}, {"mapping": {"type": "keyword", "ignore_above": 1024}, "match_mapping_type": "*"}),
        ({"object_type": "scaled_float"}, {"mapping": {"type": "scaled_float", "scaling_factor": 1000}, "match_mapping_type": "*"}),
        ({"object_type": "boolean"}, {"mapping": {"type": "boolean"}, "match_mapping_type": "boolean"}),
    ],
)
def test_dynamic_template_of_each_object_type(field, template):
    out = fleet_mappings([{"name": "o", "type": "object", **field}])
    assert out["dynamic_templates"] == [{"o": {**template, "path_match": "o.*"}}]


def test_an_object_type_without_a_dynamic_mapping_is_refused():
    # mappings_builder.ts: "throw new PackageInvalidArchiveError(`No dynamic mapping generated for field ${path} of type ${objectType}`)"
    with pytest.raises(FleetTemplateError, match=r"No dynamic mapping generated for field a\.o of type date"):
        fleet_mappings([{"name": "a.o", "type": "object", "object_type": "date"}])


def test_a_wildcard_name_is_an_object_type_with_its_intermediate_objects():
    # field.ts processFieldWithoutObjectType: "return { ...field, type: 'object', object_type: field.type };"
    # mappings_builder.ts addDynamicMappingWithIntermediateObjects: "if (!name.includes('*')) continue;"
    out = fleet_mappings([{"name": "k8s.*.count", "type": "long"}])
    assert out["dynamic_templates"] == [
        {"k8s.*.count": {"mapping": {"type": "long"}, "match_mapping_type": "long", "path_match": "k8s.*.count"}},
        {"k8s.*": {"mapping": {"type": "object", "dynamic": True}, "match_mapping_type": "object", "path_match": "k8s.*"}},
    ]
    # groupType.mapGroup: only dynamic children: "fieldProps: dynamicObjectParentProps(mappings.subobjects)"
    assert out["properties"] == {"k8s": {"type": "object", "dynamic": True}}


def test_a_group_with_static_and_dynamic_children_is_a_dynamic_object():
    # groupType.mapGroup: "if (mappings.hasDynamicTemplateMappings) { fieldProps.type = 'object'; fieldProps.dynamic = true; }"
    out = props([{"name": "j.gid", "type": "long"}, {"name": "j.custom", "type": "object", "object_type": "keyword"}])
    assert out == {"j": {"properties": {"gid": {"type": "long"}, "custom": {"type": "object", "dynamic": True}}, "type": "object", "dynamic": True}}


def test_an_empty_group_maps_nothing():
    # groupType.mapGroup: "return undefined;" when the group has no mappings to emit
    assert props([{"name": "g", "type": "group", "fields": []}, {"name": "x", "type": "long"}]) == {"x": {"type": "long"}}


def test_runtime_fields_are_refused_not_guessed():
    with pytest.raises(FleetTemplateError, match="runtime"):
        fleet_mappings([{"name": "r", "type": "keyword", "runtime": True}])


def test_count_fields_counts_groups_and_multi_fields():
    # install.ts countFields: "let subCount = 1; if (field.fields) ...; if (field.multi_fields) ..."
    processed = process_fields([{"name": "a.b", "type": "keyword", "multi_fields": [{"name": "text", "type": "text"}]}, {"name": "a.c"}])
    assert count_fields(processed) == 4


# -- the bodies: install.ts, template.ts, default_settings.ts -------------------------------------


def test_fleet_templates_names_composition_and_settings():
    bodies = fleet_templates("wireguard.status", "1.2.3", [{"name": "a", "type": "long"}], retention="30d")
    components, indices = split_templates(bodies)
    assert list(components) == ["logs-wireguard.status@package"]
    assert list(indices) == ["logs-wireguard.status"]
    meta = {"managed_by": "fleet", "managed": True, "package": {"name": "wireguard"}}
    # install.ts buildComponentTemplates: default_pipeline, "total_fields: { limit: getFieldsLimit(...) }";
    # default_settings.ts: "lifecycle: { name: ilmPolicy ? ilmPolicy : getILMPolicyName(type) }"
    assert components["logs-wireguard.status@package"] == {
        "template": {
            "settings": {"index": {"lifecycle": {"name": "logs"}, "default_pipeline": "logs-wireguard.status-1.2.3", "mapping": {"total_fields": {"limit": 1000}}}},
            "mappings": {"properties": {"a": {"type": "long"}}},
        },
        "_meta": meta,
    }
    # template.ts getTemplate: "...esBaseComponents, ...(template.composed_of || []), STACK_COMPONENT_TEMPLATE_ECS_MAPPINGS,
    # FLEET_GLOBALS_COMPONENT_TEMPLATE_NAME, ...(agentIdVerificationEnabled ? [FLEET_AGENT_ID_VERIFY...] : [])";
    # "ignore_missing_component_templates = template.composed_of.filter(isUserSettingsTemplate)"
    assert indices["logs-wireguard.status"] == {
        "priority": 200,
        "index_patterns": ["logs-wireguard.status-*"],
        "template": {"settings": {"index": {}}, "mappings": {"_meta": meta}},
        "data_stream": {},
        "composed_of": [
            "logs@mappings", "logs@settings", "logs-wireguard.status@package", "logs@custom", "wireguard@custom",
            "logs-wireguard.status@custom", "ecs@mappings", ".fleet_globals-1", ".fleet_agent_id_verification-1",
        ],
        "_meta": meta,
        "ignore_missing_component_templates": ["logs@custom", "wireguard@custom", "logs-wireguard.status@custom"],
    }  # fmt: skip


def test_retention_is_written_only_where_ilm_policies_are_disabled():
    # install.ts prepareTemplate: "const lifecyle = isILMPolicyDisabled && dataStream.lifecycle ? dataStream.lifecycle : undefined;"
    serverless = fleet_templates("w.s", "1.0.0", [], retention="7d", config=FleetConfig(ilm_disabled=True))["logs-w.s@package"]["template"]
    assert serverless["lifecycle"] == {"data_retention": "7d"}
    assert "lifecycle" not in serverless["settings"]["index"]
    stateful = fleet_templates("w.s", "1.0.0", [], retention="7d")["logs-w.s@package"]["template"]
    assert "lifecycle" not in stateful and stateful["settings"]["index"]["lifecycle"] == {"name": "logs"}


def test_the_field_limit_follows_the_field_count_unless_the_manifest_sets_one():
    # install.ts getFieldsLimit: "if (explicitLimit) return explicitLimit; ... fieldCount > FIELD_LIMIT_THRESHOLD ? MAX_FIELD_LIMIT"
    many = [{"name": f"f{i}", "type": "long"} for i in range(501)]
    limit = fleet_templates("w.s", "1", many, retention=None)["logs-w.s@package"]["template"]["settings"]["index"]["mapping"]["total_fields"]
    assert limit == {"limit": 10000}
    manifest = {"elasticsearch": {"index_template": {"settings": {"index.mapping.total_fields.limit": 2000, "index.codec": "best_compression"}}}}
    index = fleet_templates("w.s", "1", many, retention=None, manifest=manifest)["logs-w.s@package"]["template"]["settings"]["index"]
    assert index["mapping"]["total_fields"] == {"limit": 2000} and index["codec"] == "best_compression"


def test_the_manifests_mappings_join_the_generated_ones():
    # install.ts buildComponentTemplates: "uniqBy(concat(mappings.dynamic_templates ?? [], indexTemplateMappings.dynamic_templates ?? []), ...)"
    # and "...omit(indexTemplateMappings, 'properties', 'dynamic_templates', 'runtime')"
    mine = {"a": {"mapping": {"type": "keyword"}, "match_mapping_type": "string"}}
    theirs = {"labels": {"mapping": {"type": "text"}, "match_mapping_type": "string"}}
    manifest = {"elasticsearch": {"index_template": {"mappings": {"dynamic": False, "dynamic_templates": [{"labels": theirs["labels"]}, mine]}}}}
    fields = [{"name": "labels", "type": "object", "object_type": "keyword"}]
    mappings = fleet_templates("w.s", "1", fields, retention=None, manifest=manifest)["logs-w.s@package"]["template"]["mappings"]
    assert [next(iter(t)) for t in mappings["dynamic_templates"]] == ["labels", "a"]
    assert mappings["dynamic_templates"][0]["labels"]["path_match"] == "labels.*"  # the generated one wins
    assert mappings["dynamic"] is False


def test_prefix_datasets_hidden_streams_and_kibanas_settings():
    # template.ts generateTemplateIndexPattern: "isPrefix ? `${baseName}.*-${tail}`"; getTemplatePriority: 150
    bodies = fleet_templates("w.s", "1", [], retention=None, manifest={"dataset_is_prefix": True, "hidden": True},
                             config=FleetConfig(agent_id_verification=False, event_ingested=True))  # fmt: skip
    index = bodies[".logs-w.s"]
    assert index["index_patterns"] == [".logs-w.s.*-*"] and index["priority"] == 150
    assert index["data_stream"] == {"hidden": True}
    # "...(!config?.agentIdVerificationEnabled && config?.eventIngestedEnabled ? [FLEET_EVENT_INGESTED_COMPONENT_TEMPLATE_NAME] : [])"
    assert index["composed_of"][-2:] == [".fleet_globals-1", ".fleet_event_ingested-1"]
    assert bodies[".logs-w.s@package"]["template"]["settings"]["index"]["default_pipeline"] == "logs-w.s-1"


def test_metrics_streams_compose_metrics_settings_and_the_ilm_policy_follows_the_type():
    bodies = fleet_templates("w.m", "1", [], retention=None, stream_type="metrics", manifest={"ilm_policy": "custom-policy"})
    assert bodies["metrics-w.m"]["composed_of"][0] == "metrics@settings"
    assert bodies["metrics-w.m@package"]["template"]["settings"]["index"]["lifecycle"] == {"name": "custom-policy"}
    traces = fleet_templates("w.t", "1", [], retention=None, stream_type="traces")
    assert traces["traces-w.t@package"]["template"]["settings"]["index"]["lifecycle"] == {"name": "traces@lifecycle"}


def test_time_series_data_streams_are_refused_not_guessed():
    with pytest.raises(FleetTemplateError, match="index_mode"):
        fleet_templates("w.s", "1", [], retention=None, manifest={"elasticsearch": {"index_mode": "time_series"}})


def test_expand_dotted():
    assert expand_dotted({"index.mapping.total_fields.limit": 5, "index": {"codec": "x"}}) == {"index": {"mapping": {"total_fields": {"limit": 5}}, "codec": "x"}}


# -- our fields as package fields --------------------------------------------------------------------

FIELDS = load_fields()
SPEC = load_spec()

# The keys package-spec 3.x allows in a field entry (spec/integration/data_stream/fields/fields.spec.yml),
# restated here: the tests do not read the spec.
SPEC_KEYS = {
    "name", "type", "description", "value", "example", "external", "fields", "doc_values", "index", "ignore_above",
    "multi_fields", "object_type", "scaling_factor", "normalize", "pattern", "dimension", "metric_type", "unit",
}  # fmt: skip
SPEC_NAME = re.compile(r"^[\-*_\/@A-Za-z0-9]+(\.[\-*_\/@A-Za-z0-9]+)*$")


def test_ecs_fields_are_external_in_the_source_and_whole_in_the_built_package():
    ip = FIELDS["source.ip"]
    assert is_ecs(ip) and not is_ecs(FIELDS["wireguard.peer.name"]) and not is_ecs(FIELDS["input.type"])
    assert package_field(ip, resolved=False) == {"name": "source.ip", "external": "ecs", "description": ip.description, "example": "198.51.100.2"}
    assert package_field(ip, resolved=True) == {"name": "source.ip", "type": "ip", "description": ip.description, "example": "198.51.100.2"}
    original = package_field(FIELDS["event.original"], resolved=True)
    assert original["index"] is False and original["doc_values"] is False and "ignore_above" not in original
    user = package_field(FIELDS["user.name"], resolved=True)
    assert user["multi_fields"] == [{"name": "text", "type": "match_only_text"}]


def test_our_own_arrays_are_normalized_and_objects_get_a_member_type():
    allowed = package_field(FIELDS["wireguard.peer.allowed_ips"], resolved=True)
    assert allowed["normalize"] == ["array"]
    assert "normalize" not in package_field(FIELDS["event.category"], resolved=True)  # ECS says so itself
    assert package_field(FIELDS["journald.custom"], resolved=False) == {
        "name": "journald.custom", "type": "object", "description": FIELDS["journald.custom"].description,
        "object_type": "keyword", "ignore_above": 1024,
    }  # fmt: skip


@pytest.mark.parametrize("resolved", [False, True])
@pytest.mark.parametrize("dataset", [d.dataset for d in SPEC.datasets])
def test_package_fields_follow_the_field_spec(dataset, resolved):
    files = data_stream_fields(SPEC, FIELDS, dataset, resolved=resolved)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]+[a-z0-9]\.yml", name) for name in files)
    entries = [e for es in files.values() for e in es]
    for e in entries:
        assert set(e) <= SPEC_KEYS, e
        assert SPEC_NAME.match(e["name"]), e
        if e.get("type") == "object":
            assert e.get("object_type") or e.get("enabled") is False, e  # package-spec 3: object needs object_type
        if "external" in e:
            assert e["external"] == "ecs" and "type" not in e
    yaml.safe_dump(files)  # plain data, ready to be written
    wanted = {n for d in SPEC.datasets if d.dataset == dataset for n, f in FIELDS.items() if f.file in (*SPEC.shared_files, *d.files)}
    assert {e["name"] for e in entries} == wanted


def test_the_built_fields_map_every_field_with_its_declared_type():
    for d in SPEC.datasets:
        entries = [e for es in data_stream_fields(SPEC, FIELDS, d.dataset, resolved=True).values() for e in es]
        mapped = mapped_types(props(entries))
        for name in (n for n, f in FIELDS.items() if f.file in (*SPEC.shared_files, *d.files)):
            assert mapped[name] == FIELDS[name].type, name


def test_unresolved_ecs_fields_would_be_keywords_to_fleet():
    """Why the built package must carry full definitions: Fleet reads `external` as nothing."""
    entry = package_field(FIELDS["source.ip"], resolved=False)
    assert props([entry]) == {"source": {"properties": {"ip": {"type": "keyword", "ignore_above": 1024}}}}


# -- ours against Fleet's -----------------------------------------------------------------------------


@cache
def built_package() -> Package:
    return assemble()


def fleets_templates(dataset: str) -> dict[str, dict[str, Any]]:
    """What Fleet PUTs for the data stream, from the built package's own files: the data
    stream's fields/*.yml (in the zip's order, as Fleet reads them), its manifest and its
    lifecycle.yml."""
    package = built_package()
    folder = next(f for f, d in DATA_STREAMS.items() if d == dataset)
    base = f"data_stream/{folder}"
    fields = [e for name, data in package.files.items() if name.startswith(f"{base}/fields/") for e in yaml.safe_load(data)]
    manifest = yaml.safe_load(package.files[f"{base}/manifest.yml"])
    retention = yaml.safe_load(package.files[f"{base}/lifecycle.yml"])["data_retention"]
    return fleet_templates(dataset, package.version, fields, retention=retention, manifest=manifest)


def ours(dataset: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(mappings, settings) of `templates install`'s templates for the dataset, composed."""
    bodies = component_templates()
    d = next(d for d in SPEC.datasets if d.dataset == dataset)
    mappings = compose_mappings(bodies[SPEC.shared]["template"]["mappings"], bodies[d.package]["template"].get("mappings", {}))
    return mappings, bodies[d.package]["template"]["settings"]


def all_differences() -> list[Difference]:
    found = []
    for d in SPEC.datasets:
        mappings, settings = ours(d.dataset)
        package = fleets_templates(d.dataset)[f"logs-{d.dataset}@package"]["template"]
        found += compare_mappings(mappings, package["mappings"]) + compare_settings(settings, package["settings"])
    return found


def test_fleets_mappings_equal_ours_but_for_the_differences_with_a_reason():
    unexplained = [str(d) for d in all_differences() if d.reason is None]
    assert not unexplained, "\n".join(unexplained)


def test_every_reason_in_the_table_is_still_needed():
    stale = unused(known_differences(), all_differences())
    assert not stale, stale


def test_every_field_of_both_datasets_is_compared():
    """No field escapes the comparison by being absent on both sides' walk."""
    for d in SPEC.datasets:
        mapped = field_mappings(fleets_templates(d.dataset)[f"logs-{d.dataset}@package"]["template"]["mappings"])
        mine = field_mappings(ours(d.dataset)[0])
        assert set(mapped) == set(mine)
        assert {n for n, f in FIELDS.items() if f.file in (*SPEC.shared_files, *d.files)} <= set(mapped)


def test_the_comparison_names_each_difference_and_only_known_ones_have_a_reason():
    a = {"properties": {"x": {"type": "keyword", "ignore_above": 1024, "fields": {"t": {"type": "text"}}}, "only": {"type": "long"}}, "dynamic": True}
    b = {"properties": {"x": {"type": "keyword", "fields": {"t": {"type": "match_only_text"}}}}, "dynamic_templates": [{"d": {"mapping": {"type": "long"}}}]}
    known = [Known(field="x", aspect="ignore_above", ours=1024, fleet=None, why="because")]
    found = {(d.field, d.aspect): d for d in compare_mappings(a, b, known)}
    assert set(found) == {("x", "ignore_above"), ("x", "fields.t.type"), ("only", WHOLE_FIELD), (MAPPING, "dynamic"), (DYNAMIC_TEMPLATES, "d")}
    assert found["x", "ignore_above"].reason == "because"
    assert found["x", "fields.t.type"] == Difference("x", "fields.t.type", "text", "match_only_text")
    assert unused(known + [Known(field="y", aspect="type", why="gone")], found.values())[0].field == "y"
    (setting,) = compare_settings({"index.codec": "default"}, {"index": {"codec": "best_compression"}}, known=())
    assert setting == Difference(SETTINGS, "index.codec", "default", "best_compression")


def test_compose_mappings_merges_objects_and_replaces_fields():
    first = {"properties": {"a": {"properties": {"b": {"type": "long"}, "c": {"type": "keyword"}}}}, "dynamic_templates": [{"x": {"mapping": {"type": "long"}}}, {"y": {}}]}
    second = {"properties": {"a": {"properties": {"b": {"type": "keyword"}}}}, "dynamic_templates": [{"x": {"mapping": {"type": "text"}}}], "dynamic": False}
    assert compose_mappings(first, second) == {
        "properties": {"a": {"properties": {"b": {"type": "keyword"}, "c": {"type": "keyword"}}}},
        "dynamic_templates": [{"x": {"mapping": {"type": "text"}}}, {"y": {}}],
        "dynamic": False,
    }


# -- fitted to a node without modules -----------------------------------------------------------------


def test_fitting_to_a_bare_node_uses_stand_ins_and_says_so():
    templates = {**fleets_templates("wireguard.status"), **fleets_templates("wireguard.log")}
    fitted = fit_fleet_templates(templates, modules=["x-pack-core"], available=[], prefix="t-")
    assert list(fitted.component_templates) == ["t-logs@settings", "t-.fleet_globals-1", "logs-wireguard.status@package", "logs-wireguard.log@package"]
    status = fitted.index_templates["logs-wireguard.status"]
    assert status["composed_of"] == [
        "t-logs@settings", "logs-wireguard.status@package", "logs@custom", "wireguard@custom", "logs-wireguard.status@custom", "t-.fleet_globals-1",
    ]  # fmt: skip
    package = fitted.component_templates["logs-wireguard.status@package"]["template"]
    assert "default_pipeline" not in package["settings"]["index"] and "lifecycle" not in package["settings"]["index"]
    properties = package["mappings"]["properties"]
    assert properties["wireguard"]["properties"]["peer"]["properties"]["rx_bytes"] == {"type": "double"}
    assert properties["process"]["properties"]["command_line"] == {"type": "keyword", "ignore_above": 1024, "fields": {"text": {"type": "text"}}}
    settings = fitted.component_templates["t-logs@settings"]["template"]["settings"]["index"]
    assert settings == {"codec": "best_compression", "mapping": LOGS_SETTINGS_COMPONENT_TEMPLATE["template"]["settings"]["index"]["mapping"]}
    notes = "\n".join(fitted.notes)
    for left_out in ("logs@mappings", "ecs@mappings", ".fleet_agent_id_verification-1"):
        assert f"no component template {left_out}: left out" in notes
    assert "unsigned_long fields are mapped as double" in notes


def test_a_full_cluster_takes_fleets_templates_as_they_are():
    templates = fleets_templates("wireguard.log")
    modules = ["mapper-extras", "constant-keyword", "wildcard", "unsigned-long", "ingest-common", "ingest-geoip", "lang-painless", "x-pack-ilm"]
    available = ["logs@mappings", "logs@settings", "ecs@mappings", ".fleet_globals-1", ".fleet_agent_id_verification-1"]
    fitted = fit_fleet_templates(templates, modules=modules, available=available)
    components, indices = split_templates(templates)
    assert fitted.component_templates == components and fitted.index_templates == indices and not fitted.notes


# -- on the real test node ----------------------------------------------------------------------------


def _client(url: str):  # noqa: ANN202
    from wgsiem.adapters.elasticsearch import EsSettings, connect

    return connect(EsSettings(url))


@pytest.fixture(scope="module")
def fleet_node(es_url: str) -> tuple[str, str, Any]:
    """es_url with Fleet's templates of both data streams installed, fitted to the node, under
    names of their own and for namespaces starting with a prefix of their own (priority 201,
    so they are chosen over `templates install`'s, which other tests put on the same node,
    for those namespaces only). (url, namespace prefix, NodeFit)."""
    from wgsiem.adapters.elasticsearch import node_modules, request

    client = _client(es_url)
    modules = node_modules(client)
    available = [t["name"] for t in request(client, "GET", "/_component_template").get("component_templates", [])]
    tag = "fm" + secrets.token_hex(4)
    templates = {name: body for dataset in DATA_STREAMS.values() for name, body in fleets_templates(dataset).items()}
    fitted = fit_fleet_templates(templates, modules, available, prefix=f"{tag}-")
    renamed = {name: f"{tag}-{name}" for name in fitted.component_templates if not name.startswith(tag)}
    for name, body in fitted.component_templates.items():
        body = json.loads(json.dumps(body))
        # The documents are what the ingest pipeline produced (fixtures): none runs again.
        body.get("template", {}).get("settings", {}).get("index", {}).pop("default_pipeline", None)
        request(client, "PUT", f"/_component_template/{renamed.get(name, name)}", body)
    for name, body in fitted.index_templates.items():
        body = json.loads(json.dumps(body))
        body["composed_of"] = [renamed.get(n, n) for n in body["composed_of"]]
        body["index_patterns"] = [p.replace("-*", f"-{tag}*") for p in body["index_patterns"]]
        body["priority"] += 1
        request(client, "PUT", f"/_index_template/{tag}-{name}", body)
    return es_url, tag, fit_to_modules(modules)


@pytest.mark.es
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_fleets_templates_take_every_event_with_its_declared_type(fleet_node, scenario):
    from wgsiem.adapters.elasticsearch import request

    url, tag, fit = fleet_node
    client = _client(url)
    events = [json.loads(line) for line in (scenario / "events.ndjson").read_text().splitlines() if line]
    docs = in_namespace(events, f"{tag}{SCENARIOS.index(scenario)}")
    results = bulk_create(client, docs)
    failed = [r for r in results if r.get("status") != 201 or r.get("failure_store") == "used"]
    assert not failed, failed[:3]
    streams = sorted({data_stream_index(d) for d in docs})
    pattern = ",".join(streams)
    assert request(client, "GET", f"/{pattern}/_count")["count"] == len(docs)
    ignored = request(client, "POST", f"/{pattern}/_search", {"query": {"exists": {"field": "_ignored"}}, "size": 3})
    assert ignored["hits"]["total"]["value"] == 0, [(h["_id"], h.get("_ignored")) for h in ignored["hits"]["hits"]]

    declared = {name: fit.substitutes.get(t, t) for name, t in field_types().items()}
    mapped: dict[str, str] = {}
    for body in request(client, "GET", f"/{pattern}/_mapping").values():
        assert body["mappings"]["_meta"]["managed_by"] == "fleet"  # Fleet's index template made these indices
        mapped.update(mapped_types(body["mappings"]["properties"]))
    seen = {name for doc in docs for name, _ in leaves(doc)}
    wrong = {name: (mapped.get(name), declared.get(name)) for name in seen if mapped.get(name) != declared.get(name)}
    assert not wrong, wrong


@pytest.mark.es
def test_a_malformed_timestamp_is_refused_and_other_malformed_values_kept_both_ways(fleet_node, es_templates):
    """What the table says of @timestamp's ignore_malformed and of index.mapping.ignore_malformed.
    (On a cluster whose failure store is on, as logs@settings asks, Fleet's data stream keeps
    the refused document in its failure store: a 201 that says so. The test node refuses it.)"""
    from wgsiem.adapters.elasticsearch import request

    url, tag, _ = fleet_node
    client = _client(url)
    for namespace in (f"{tag}malformed", "t" + secrets.token_hex(6)):  # Fleet's templates, then ours
        stream = {"type": "logs", "dataset": "wireguard.status", "namespace": namespace}
        bad_time = {"@timestamp": "not a date", "event": {"id": "bad-time"}, "data_stream": stream}
        bad_port = {"@timestamp": "2026-11-22T00:32:18.000Z", "event": {"id": "bad-port"}, "source": {"port": "eighty"}, "data_stream": stream}
        time_result, port_result = bulk_create(client, [bad_time, bad_port])
        refused = time_result["status"] == 400 and "@timestamp" in json.dumps(time_result["error"])
        assert refused or time_result.get("failure_store") == "used", time_result
        assert port_result["status"] == 201 and port_result.get("failure_store") != "used", port_result
        hit = request(client, "POST", f"/logs-wireguard.status-{namespace}/_search", {"query": {"ids": {"values": ["bad-port"]}}})
        assert hit["hits"]["hits"][0]["_ignored"] == ["source.port"]
