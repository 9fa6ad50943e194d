"""Field types for KQL: ecs_mappings/ by default, schema files (--schema FIELDS.json) on top."""

from __future__ import annotations

import json

import pytest

from wgsiem.kql import FieldTypes, KqlFieldError, KqlSchemaError, compile_query, load_schema
from wgsiem.mappings.fields import field_types


def write(tmp_path, content, name="fields.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_default_types_are_ecs_mappings_with_multi_fields():
    types = FieldTypes.default()
    for name, es_type in field_types().items():
        assert types[name] == es_type
    assert types["user.name.text"] == "match_only_text"
    assert types.info("user.name.text").source == "user.name"
    assert types.info("host.name").ignore_above == 1024
    assert types.info("event.original").searchable is False


def test_load_schema_reads_a_json_object(tmp_path):
    path = write(tmp_path, {"wg.extra": "keyword", "wg.count": "long"})
    assert load_schema(path) == {"wg.extra": "keyword", "wg.count": "long"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["keyword"]', "expected a JSON object"),
        ('{"a": 5}', "the type must be a string"),
        ('{"a": {"type": "keyword"}}', "the type must be a string"),
        ('{"a": "strng"}', "unknown Elasticsearch type 'strng'"),
        ('{"a..b": "keyword"}', "is not a dotted field name"),
    ],
)
def test_schema_errors_name_the_file(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(KqlSchemaError, match=message) as info:
        load_schema(path)
    assert str(path) in str(info.value)


def test_missing_schema_file(tmp_path):
    with pytest.raises(KqlSchemaError, match="cannot read") as info:
        load_schema(tmp_path / "nope.json")
    assert "nope.json" in str(info.value)


def test_with_schema_makes_fields_queryable(tmp_path):
    path = write(tmp_path, {"journald.custom.unit": "keyword", "svc.latency": "double"})
    with pytest.raises(KqlFieldError, match="unknown field"):
        compile_query("svc.latency > 5")
    types = FieldTypes.default().with_schema(path)
    assert compile_query("svc.latency > 5", types).matches({"svc": {"latency": 7.5}})
    assert compile_query("journald.custom.unit: x", types).matches({"journald": {"custom": {"unit": "x"}}})


def test_schema_sub_field_of_a_leaf_is_a_multi_field():
    types = FieldTypes.default().with_types({"host.name.text": "text"})
    assert types.info("host.name.text").source == "host.name"
    assert compile_query("host.name.text: gateway", types).matches({"host": {"name": "Main Gateway"}})


def test_schema_overrides_a_type():
    types = FieldTypes.default().with_types({"host.name": "text"})
    assert compile_query("host.name: gateway", types).matches({"host": {"name": "Main Gateway"}})


def test_a_schema_that_contradicts_itself_is_refused():
    with pytest.raises(KqlSchemaError, match="multi-field can only be one level below"):
        FieldTypes.default().with_types({"host.name": "keyword", "host.name.a.b": "keyword"})
    with pytest.raises(KqlSchemaError, match="flattened"):
        FieldTypes.default().with_types({"labels": "flattened", "labels.x": "keyword"})


def test_the_schema_wins_where_ecs_mappings_disagree():
    # A field below host.name makes it an object: the keyword host.name goes.
    types = FieldTypes.default().with_types({"host.name.a.b": "keyword"})
    assert "host.name" not in types and types.info("host.name.a.b").source == "host.name.a.b"
    # wireguard.interface as a leaf: the fields ecs_mappings/ has under it go.
    types = FieldTypes.default().with_types({"wireguard.interface": "keyword"})
    assert types["wireguard.interface"] == "keyword" and types.children("wireguard.interface") == []
    assert compile_query("wireguard.interface: wg0", types).matches({"wireguard": {"interface": "wg0"}})
    # A leaf turned into another leaf keeps its multi-fields; into an object, loses them.
    assert FieldTypes.default().with_types({"user.name": "text"}).info("user.name.text").source == "user.name"
    as_object = FieldTypes.default().with_types({"user.name": "object"})
    assert "user.name.text" not in as_object and as_object["user.name"] == "object"
