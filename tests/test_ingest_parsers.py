"""kv, json, split, convert and the string processors: lookups, templates and failures.

Each test names what it follows: KeyValueProcessor, JsonProcessor, SplitProcessor,
ConvertProcessor and AbstractStringProcessor of modules/ingest-common, and the REST suites
150_kv.yml and 140_json.yml.
"""

from __future__ import annotations

from typing import Any

from tests.support.ingest import answer
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def kv(**options: Any) -> dict[str, Any]:
    return {"kv": {"field_split": " ", "value_split": "=", **options}}


# --- kv -------------------------------------------------------------------------------


def test_kv_templated_field_and_target() -> None:
    # 150_kv.yml "Test KV Processor with template snippets"
    doc = {"origin": "field1", "field1": "goodbye=everybody hello=world", "target": "bar"}
    steps = [kv(field="{{origin}}", target_field="{{target}}"), kv(field="{{origin}}"), kv(field="{{origin1}}", ignore_missing=True)]
    out = answer(steps, doc)["doc"]["_source"]
    assert out["bar"] == {"goodbye": "everybody", "hello": "world"}
    assert (out["goodbye"], out["hello"]) == ("everybody", "world")


def test_kv_missing_empty_and_null_fields() -> None:
    # KeyValueProcessor: an empty rendered name or an absent field "doesn't exist"; null has its
    # own message; ignore_missing skips all three; a target rendering empty means the root
    assert answer([kv(field="{{nope}}")], {})["error"]["reason"] == "field [] doesn't exist"
    assert answer([kv(field="msg")], {})["error"]["reason"] == "field [msg] doesn't exist"
    assert answer([kv(field="msg")], {"msg": None})["error"]["reason"] == "field [msg] is null, cannot extract key-value pairs."
    for doc in ({}, {"msg": None}):
        assert answer([kv(field="msg", ignore_missing=True)], doc)["doc"]["_source"] == doc
    assert answer([kv(field="msg", target_field="{{t}}")], {"msg": "a=1"})["doc"]["_source"] == {"msg": "a=1", "a": "1"}


def test_kv_non_string_and_partial_pairs() -> None:
    # getFieldValue(path, String.class): the cast message; a piece without value_split fails
    # after the pairs before it were set (they stay when the failure is ignored)
    err = answer([kv(field="msg")], {"msg": 5})["error"]
    assert err["reason"] == "field [msg] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
    out = answer([kv(field="msg", ignore_failure=True)], {"msg": "a=1 broken c=3"})["doc"]["_source"]
    assert out == {"msg": "a=1 broken c=3", "a": "1"}


# --- json -----------------------------------------------------------------------------


def test_json_values_of_every_kind() -> None:
    # 140_json.yml "Test JSON Processor": the field's text (String.valueOf) parsed; null stays null
    steps = [{"json": {"field": name}} for name in ("foo_object", "foo_array", "foo_null", "foo_string", "foo_number", "foo_boolean")]
    doc = {"foo_object": '{"hello": "world"}', "foo_array": "[1, 2, 3]", "foo_null": None, "foo_string": '"bla bla"', "foo_number": 3, "foo_boolean": "true"}
    out = answer(steps, doc)["doc"]["_source"]
    assert out == {"foo_object": {"hello": "world"}, "foo_array": [1, 2, 3], "foo_null": None, "foo_string": "bla bla", "foo_number": 3, "foo_boolean": True}


def test_json_strict_and_lenient_trailing_content() -> None:
    # JsonProcessor.apply: strict parsing refuses anything after the first value with its own
    # message; lenient keeps the first value (140_json.yml "Test JSON Processor lenient parsing")
    err = answer([{"json": {"field": "message"}}], {"message": "123 foo"})["error"]
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "The input 123 foo is not valid JSON and the strict_json_parsing parameter is true")
    assert answer([{"json": {"field": "message", "strict_json_parsing": False}}], {"message": "123 foo"})["doc"]["_source"]["message"] == 123


def test_json_text_the_parser_itself_refuses() -> None:
    # A first token the parser refuses fails in the parser (x_content_parse_exception), strict
    # or not: Jackson wants a space after a root-level number; it has no NaN
    for text in ("{foo", "123abc", "NaN"):
        err = answer([{"json": {"field": "m", "strict_json_parsing": False}}], {"m": text})["error"]
        assert err["type"] == "x_content_parse_exception", text


def test_json_blank_text_is_null() -> None:
    # JsonProcessor.apply: no token at all is a null value
    assert answer([{"json": {"field": "m"}}], {"m": "  "})["doc"]["_source"] == {"m": None}


def test_json_duplicate_keys_and_add_to_root() -> None:
    # 140_json.yml "duplicate keys" and "recursive merge strategy"; add_to_root reads the field
    # as a key of the root map (a dotted name is not a path there)
    out = answer([{"json": {"field": "json", "add_to_root": True, "allow_duplicate_keys": True}}], {"json": '{"dupe": 1, "dupe": 2}'})
    assert out["doc"]["_source"]["dupe"] == 2
    err = answer([{"json": {"field": "json"}}], {"json": '{"dupe": 1, "dupe": 2}'})["error"]
    assert err["type"] == "x_content_parse_exception" and "Duplicate field 'dupe'" in err["reason"]
    merge = {"json": {"field": "json", "add_to_root": True, "add_to_root_conflict_strategy": "Merge"}}
    out = answer([merge], {"json": '{"foo": {"bar": "baz"}}', "foo": {"bar": "override_me", "qux": "quux"}})["doc"]["_source"]
    assert out["foo"] == {"bar": "baz", "qux": "quux"}
    err = answer([{"json": {"field": "a.b", "add_to_root": True}}], {"a": {"b": '{"x": 1}'}})["error"]
    assert err["reason"] == "cannot add non-map fields to root of document"


def test_json_option_checks_in_the_factorys_order() -> None:
    # JsonProcessor.Factory: the strategy is parsed first, then the two combinations refused
    def reason(options: dict[str, Any]) -> str:
        status, response = simulate({"pipeline": {"processors": [{"json": {"field": "f", **options}}]}, "docs": [{"_source": {}}]}, PipelineSet())
        assert status == 400
        return response["error"]["reason"]

    assert reason({"add_to_root_conflict_strategy": "bogus", "target_field": "t", "add_to_root": True}) == (
        "[add_to_root_conflict_strategy] conflict strategy [bogus] not supported, cannot convert field."
    )
    assert reason({"target_field": "t", "add_to_root": True}) == "[target_field] Cannot set a target field while also setting `add_to_root` to true"
    assert reason({"add_to_root_conflict_strategy": "merge"}) == (
        "[add_to_root_conflict_strategy] Cannot set `add_to_root_conflict_strategy` if `add_to_root` is false"
    )


# --- split ----------------------------------------------------------------------------


def test_split_bad_separator_fails_each_document_not_the_pipeline() -> None:
    # SplitProcessor hands the separator to String.split per document: a bad regex is a
    # PatternSyntaxException there, and the factory accepts it
    out = answer([{"split": {"field": "f", "separator": "("}}], {"f": "a(b"})
    assert out["error"]["type"] == "pattern_syntax_exception"
    assert answer([{"split": {"field": "f", "separator": "(", "ignore_missing": True}}], {})["doc"]["_source"] == {}


# --- convert and the string processors -----------------------------------------------


def test_convert_unknown_type_keeps_the_given_spelling() -> None:
    # ConvertProcessor.Type.fromString: valueOf(upper case), the message quoting the option as given
    status, response = simulate({"pipeline": {"processors": [{"convert": {"field": "f", "type": "Integr"}}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400 and response["error"]["reason"] == "[type] type [Integr] not supported, cannot convert field."
    assert answer([{"convert": {"field": "f", "type": "INTEGER"}}], {"f": "5"})["doc"]["_source"] == {"f": 5}


def test_string_processor_null_in_a_list() -> None:
    # AbstractStringProcessor builds its message with value.getClass(): a null element is
    # Java's NullPointerException, any other non-string the cast message
    assert answer([{"uppercase": {"field": "l"}}], {"l": ["a", None]})["error"]["type"] == "null_pointer_exception"
    err = answer([{"uppercase": {"field": "l"}}], {"l": ["a", 1]})["error"]
    assert err["reason"] == "value [1] of type [java.lang.Integer] in list field [l] cannot be cast to [java.lang.String]"
