"""set, append, remove, rename and dot_expander against Elasticsearch's classes and suites.

Each test names what it follows: the processor classes of modules/ingest-common
(SetProcessor, AppendProcessor, RemoveProcessor, RenameProcessor, DotExpanderProcessor),
server's IngestDocument / ValueSource, and the REST suites under
modules/ingest-common/src/yamlRestTest/resources/rest-api-spec/test/ingest/.
"""

from __future__ import annotations

from tests.support.ingest import answer
from tests.support.ingest import config_error as refused
from tests.support.ingest import error as failure
from tests.support.ingest import output as source

# --- append ---------------------------------------------------------------------------


def test_append_copy_from_into_absent_scalar_and_list() -> None:
    # 350_append_copy_from.yml: into an absent field, a scalar, a list; a list copied in is spread
    copy = [{"append": {"field": "dest", "copy_from": "src"}}]
    assert source(copy, {"src": 1})["dest"] == [1]
    assert source(copy, {"src": 2, "dest": 1})["dest"] == [1, 2]
    assert source(copy, {"src": 3, "dest": [1, 2]})["dest"] == [1, 2, 3]
    assert source(copy, {"src": [1, 2]}) == {"src": [1, 2], "dest": [1, 2]}
    assert source(copy, {"src": [2], "dest": [1]})["dest"] == [1, 2]


def test_append_copy_from_copies_rather_than_shares() -> None:
    # AppendProcessor copies the copy_from value (IngestDocument.deepCopy): changing the copy
    # afterwards leaves the source alone
    out = source([{"append": {"field": "dest", "copy_from": "src"}}, {"set": {"field": "dest.0.x", "value": 9}}], {"src": {"x": 1}})
    assert out == {"src": {"x": 1}, "dest": [{"x": 9}]}


def test_append_copy_from_and_value_together_are_refused() -> None:
    # 350_append_copy_from.yml "It is not permitted to have both copy_from and value"
    err = refused({"append": {"tag": "some_tag", "field": "dest", "copy_from": "src", "value": "uh_oh"}})
    assert err["reason"] == "[copy_from] cannot set both `copy_from` and `value` in the same processor"
    assert (err["property_name"], err["processor_type"], err["processor_tag"]) == ("copy_from", "append", "some_tag")


def test_append_copy_from_missing_field_fails_unless_empty_values_are_ignored() -> None:
    # AppendProcessor reads copy_from with getFieldValue(..., ignoreEmptyValues): missing is an
    # error only when empty values are not ignored (370_append_ignore_empty_values.yml)
    err = failure([{"append": {"field": "dest", "copy_from": "src"}}], {"dest": [1]})
    assert err["reason"] == "field [src] not present as part of path [src]"
    ignore = [{"append": {"field": "dest", "copy_from": "src", "ignore_empty_values": True}}]
    assert source(ignore, {"dest": [1]}) == {"dest": [1]}


def test_append_ignore_empty_values() -> None:
    # 370_append_ignore_empty_values.yml: null, "", [] add nothing; inside a list they are dropped
    ignore = [{"append": {"field": "dest", "copy_from": "src", "ignore_empty_values": True}}]
    for empty in (None, "", []):
        assert source(ignore, {"src": empty, "dest": [1]})["dest"] == [1]
    assert source(ignore, {"src": 2, "dest": [1]})["dest"] == [1, 2]
    assert source(ignore, {"src": ["", 2, None, 3], "dest": [1]})["dest"] == [1, 2, 3]


def test_append_that_adds_nothing_changes_nothing() -> None:
    # 380_append_edge_cases.yml: a scalar stays a scalar, and an absent field stays absent,
    # when duplicates or empty values leave nothing to append; templating renders "" for a
    # missing field, which ignore_empty_values skips
    dedupe = {"append": {"field": "foo", "copy_from": "bar", "allow_duplicates": False, "ignore_empty_values": True}}
    templated = {"append": {"field": "foo", "value": "{{bar}}", "allow_duplicates": True, "ignore_empty_values": True}}
    assert source([dedupe], {"foo": "2", "bar": "3"})["foo"] == ["2", "3"]
    assert source([templated], {"foo": "2", "bar": "2"})["foo"] == ["2", "2"]
    assert source([dedupe], {"foo": "2", "bar": "2"})["foo"] == "2"
    assert source([dedupe], {"foo": "2", "bar": ""})["foo"] == "2"
    assert source([templated], {"foo": "2", "bar": ""})["foo"] == "2"
    assert "foo" not in source([dedupe], {"bar": ""})
    assert "foo" not in source([templated], {})


def test_append_without_duplicates_compares_rendered_strings() -> None:
    # 360_append_allow_duplicates.yml: templates render strings, so "3" dedupes against "3"
    # but not against the number 3 (Object.equals)
    step = {"append": {"field": "dest", "value": ["{{three}}", "{{three}}"], "allow_duplicates": False}}
    assert source([step], {"three": 3, "dest": ["3"]})["dest"] == ["3"]
    assert source([step], {"three": 3, "dest": [3]})["dest"] == [3, "3"]
    assert source([step], {"three": 3, "dest": []})["dest"] == ["3"]
    assert source([step], {"three": 3})["dest"] == ["3"]  # "... with a missing array and templating"
    copy = {"append": {"field": "dest", "copy_from": "src", "allow_duplicates": False}}
    assert source([copy], {"src": [3, 3, 3]})["dest"] == [3]


def test_append_media_type_is_checked_before_value() -> None:
    # AppendProcessor.Factory reads media_type (readMediaTypeProperty) before `value`
    err = refused({"append": {"field": "a", "media_type": "text/html"}})
    assert err["reason"] == "[media_type] property does not contain a supported media type [text/html]"


# --- set ------------------------------------------------------------------------------


def test_set_ignore_empty_value_skips_only_templates_and_copies() -> None:
    # IngestDocument.setFieldValue(path, ValueSource, ignoreEmptyValue) skips an empty value
    # only for a TemplatedValue (ValueSource.wrap: a string holding "{{"); a literal "" is set.
    # 270_set_processor.yml "Test set processor with template value"
    step = {"set": {"field": "foo", "value": "{{bar}}", "ignore_empty_value": True}}
    assert source([step], {"foo": "hello"})["foo"] == "hello"
    assert source([step], {"foo": "hello", "bar": ""})["foo"] == "hello"
    assert source([{"set": {"field": "foo", "value": "", "ignore_empty_value": True}}], {"foo": "hello"})["foo"] == ""
    copy = {"set": {"field": "foo", "copy_from": "bar", "ignore_empty_value": True}}
    assert source([copy], {"foo": "x", "bar": ""})["foo"] == "x"
    assert source([copy], {"foo": "x"})["foo"] == "x"  # missing copy_from: read with ignoreMissing
    assert source([copy], {"foo": "x", "bar": []})["foo"] == []  # only null and "" are empty


def test_set_copy_from_kinds_and_nochange() -> None:
    # 270_set_processor.yml "Test set processor with copy_from"
    steps = [
        {"set": {"field": "copied_object", "copy_from": "foo_object"}},
        {"set": {"field": "copied_array", "copy_from": "foo_array"}},
        {"set": {"field": "foo_nochange", "copy_from": "foo_none", "ignore_empty_value": True}},
    ]
    out = source(steps, {"foo_object": {"hello": "world"}, "foo_array": [1, 2, 3], "foo_nochange": "no change"})
    assert out["copied_object"] == {"hello": "world"} and out["copied_array"] == [1, 2, 3]
    assert out["foo_nochange"] == "no change"


def test_set_override_false_fills_only_missing_or_null_through_a_template() -> None:
    # SetProcessor.execute: override false sets when hasField is false or the value is null,
    # with the field name rendered first
    step = {"set": {"field": "{{name}}", "value": 1, "override": False}}
    assert source([step], {"name": "a", "a": 0})["a"] == 0
    assert source([step], {"name": "a", "a": None})["a"] == 1
    assert source([step], {"name": "a"})["a"] == 1


# --- remove ---------------------------------------------------------------------------


def test_remove_field_templates_and_missing() -> None:
    # RemoveProcessor: every field rendered; a missing one fails unless ignore_missing
    assert source([{"remove": {"field": ["{{which}}", "b"]}}], {"which": "a", "a": 1, "b": 2}) == {"which": "a"}
    err = failure([{"remove": {"field": "x.y"}}], {"x": {}})
    assert err["reason"] == "field [y] not present as part of path [x.y]"
    assert source([{"remove": {"field": ["x.y", "z"], "ignore_missing": True}}], {"x": {}, "z": 1}) == {"x": {}}


def test_remove_empty_rendered_name_is_an_invalid_path_even_when_ignoring_missing() -> None:
    # RemoveProcessor.removeWhenPresent calls hasField(""), and FieldPath refuses it
    err = failure([{"remove": {"field": "{{nothing}}", "ignore_missing": True}}], {})
    assert err["reason"] == "path cannot be null nor empty"


def test_remove_ignore_missing_through_lists_and_nested_names() -> None:
    # hasField resolves list indexes; the engine's fast walk hands such paths to the general one
    step = {"remove": {"field": ["a.0.b", "a.1.b", "c", "c.d"], "ignore_missing": True}}
    assert source([step], {"a": [{"b": 1, "k": 1}, {"k": 2}], "c": {"d": 1}}) == {"a": [{"k": 1}, {"k": 2}]}


def test_remove_keep_follows_fields_to_keep_processor() -> None:
    # RemoveProcessor.fieldsToKeepProcessor / shouldKeep: a field is kept when it is a kept
    # path, lies under one, or leads to one (whatever its value); metadata always stays;
    # keep names are templates
    out = answer([{"remove": {"keep": ["a.b", "{{k}}"]}}], {"a": 5, "k": "z", "z": {"q": 1}, "drop": {"me": 1}})
    assert out["doc"]["_source"] == {"a": 5, "z": {"q": 1}}
    assert out["doc"]["_index"] == "i" and out["doc"]["_id"] == "1"
    nested = source([{"remove": {"keep": ["a.b"]}}], {"a": {"b": {"c": 1}, "x": 2}, "y": 3})
    assert nested == {"a": {"b": {"c": 1}}}


def test_remove_options_refused_as_the_factory_refuses_them() -> None:
    # RemoveProcessor.Factory: neither or both of field/keep; a key given as null is required
    # (readObject); a non-string is Java's ClassCastException, wrapped by readProcessor
    assert refused({"remove": {}})["reason"] == "[keep] or [field] must be specified"
    assert refused({"remove": {"field": []}})["reason"] == "[keep] or [field] must be specified"
    assert refused({"remove": {"field": "a", "keep": "b"}})["reason"] == "[keep] and [field] cannot both be used in the same processor"
    assert refused({"remove": {"field": None}})["reason"] == "[field] required property is missing"
    err = refused({"remove": {"field": ["a", 3]}})
    assert err["type"] == "exception" and err["processor_type"] == "remove"
    assert err["reason"] == (
        "java.lang.ClassCastException: class java.lang.Integer cannot be cast to class java.lang.String "
        "(java.lang.Integer and java.lang.String are in module java.base of loader 'bootstrap')"
    )
    assert err["caused_by"]["type"] == "class_cast_exception"
    assert "caused_by" not in err["root_cause"][0]  # a root cause is printed without its cause


# --- rename ---------------------------------------------------------------------------


def test_rename_templated_names_and_missing_fields() -> None:
    # RenameProcessor.execute: an empty rendered name is a missing field; 280_rename.yml
    # "Test Rename Processor with template snippets and ignore_missing"
    assert source([{"rename": {"field": "{{foo}}", "target_field": "bar", "ignore_missing": True}}], {"message": "test"}) == {
        "message": "test"
    }
    assert failure([{"rename": {"field": "{{foo}}", "target_field": "bar"}}], {})["reason"] == "field [] doesn't exist"
    assert source([{"rename": {"field": "{{from}}", "target_field": "{{to}}"}}], {"from": "a", "to": "b", "a": 1})["b"] == 1
    # The name renders to the field's value, as RenameProcessor's renderTemplate does; the two
    # other 280_rename.yml sections expect otherwise (left out as disputed, see the suite file).
    renamed = [{"rename": {"field": "{{message}}", "target_field": "event.original"}}]
    assert failure(renamed, {"message": "test"})["reason"] == "field [test] doesn't exist"


def test_rename_override_and_existing_target() -> None:
    # RenameProcessor: an existing target fails unless override; the check comes first so a
    # failure leaves the document as it was
    err = failure([{"rename": {"field": "a", "target_field": "b"}}], {"a": 1, "b": 2})
    assert err["reason"] == "field [b] already exists"
    assert source([{"rename": {"field": "a", "target_field": "b", "override": True}}], {"a": 1, "b": 2}) == {"b": 1}
    err = failure([{"rename": {"field": "a", "target_field": "l.5"}}], {"a": 1, "l": [0]})
    assert err["reason"] == "[5] is out of bounds for array with length [1] as part of path [l.5]"


# --- dot_expander ---------------------------------------------------------------------


def test_dot_expander_wildcard_override_and_merge() -> None:
    # 130_escape_dot.yml; DotExpanderProcessor.expandDot: an existing path is appended to,
    # or replaced with override
    assert source([{"dot_expander": {"field": "foo.bar"}}], {"foo.bar": "baz"}) == {"foo": {"bar": "baz"}}
    out = source([{"dot_expander": {"field": "*", "override": True}}], {"foo.bar": "baz", "foo": {"bar": "override_me", "qux": "quux"}})
    assert out == {"foo": {"bar": "baz", "qux": "quux"}}
    assert source([{"dot_expander": {"field": "a.b"}}], {"a.b": 2, "a": {"b": 1}}) == {"a": {"b": [1, 2]}}


def test_dot_expander_wildcard_leaves_keys_starting_with_a_dot() -> None:
    # DotExpanderProcessor: the wildcard expands keys whose first dot is after position 0
    assert source([{"dot_expander": {"field": "*"}}], {".hidden": 1, "a.b": 2}) == {".hidden": 1, "a": {"b": 2}}


def test_dot_expander_value_field_on_the_way_fails_with_the_key_taken_out() -> None:
    # DotExpanderProcessor.expandDot removes the dotted key before it checks the path, so the
    # document an on_failure handler sees has lost it
    steps = [{"dot_expander": {"field": "a.b", "on_failure": [{"set": {"field": "seen", "value": "{{_ingest.on_failure_message}}"}}]}}]
    out = source(steps, {"a": "value", "a.b": 1})
    assert out == {"a": "value", "seen": "cannot expand [a.b], because [a] is not an object field, but a value field"}


def test_dot_expander_path_option() -> None:
    # DotExpanderProcessor: `path` names the object holding the dotted keys; a null one is
    # the map lookup's NullPointerException
    assert source([{"dot_expander": {"field": "x.y", "path": "o"}}], {"o": {"x.y": 1}}) == {"o": {"x": {"y": 1}}}
    err = failure([{"dot_expander": {"field": "x.y", "path": "o"}}], {"o": None})
    assert err["type"] == "null_pointer_exception"
    err = failure([{"dot_expander": {"field": "x.y", "path": "o"}}], {"o": 5})
    assert err["reason"] == "field [o] of type [java.lang.Integer] cannot be cast to [java.util.Map]"


def test_dot_expander_field_checks() -> None:
    # DotExpanderProcessor.Factory's three field checks, reported with the processor's type
    assert refused({"dot_expander": {"field": "plain"}})["reason"] == "[field] field does not contain a dot and is not a wildcard"
    assert refused({"dot_expander": {"field": ".a"}})["reason"] == "[field] Field can't start or end with a dot"
    err = refused({"dot_expander": {"field": "a..b"}})
    assert err["reason"] == "[field] No space between dots" and err["processor_type"] == "dot_expander"
