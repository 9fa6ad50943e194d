"""The offline ingest engine against Elasticsearch's stated behaviour.

Each test names what it pins and where Elasticsearch states it: the ingest REST tests
(modules/ingest-common/src/yamlRestTest/.../ingest/*.yml), the IngestDocument /
ConfigurationUtils / CompoundProcessor sources, or the processor reference pages.
"""

from __future__ import annotations

from typing import Any

import pytest

from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def run(processors: list[dict[str, Any]], *sources: dict[str, Any], verbose: bool = False, pipelines: PipelineSet | None = None, on_failure=None):
    pipeline: dict[str, Any] = {"processors": processors}
    if on_failure:
        pipeline["on_failure"] = on_failure
    body = {"pipeline": pipeline, "docs": [{"_index": "index", "_id": f"id{i}", "_source": s} for i, s in enumerate(sources)]}
    status, response = simulate(body, pipelines or PipelineSet(), verbose=verbose)
    assert status == 200, response
    return response["docs"]


def source(processors: list[dict[str, Any]], doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
    (result,) = run(processors, doc, **kw)
    assert "doc" in result, result
    return result["doc"]["_source"]


def error(processors: list[dict[str, Any]], doc: dict[str, Any]) -> dict[str, Any]:
    (result,) = run(processors, doc)
    assert "error" in result, result
    return result["error"]


def bad_request(pipeline: dict[str, Any]) -> dict[str, Any]:
    status, response = simulate({"pipeline": pipeline, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400
    assert response["status"] == 400
    assert response["error"]["root_cause"][0]["type"] == response["error"]["type"]
    return response["error"]


# --- _simulate: request and response shapes (90_simulate.yml) ---------------------------


def test_simulate_doc_shape_metadata_and_ingest_timestamp() -> None:
    # pins: 90_simulate.yml "Test simulate with provided pipeline definition": _source, one
    # _ingest key (timestamp); WriteableIngestDocument prints metadata as strings (_version -3)
    (result,) = run([{"set": {"field": "field2", "value": "_value"}}], {"foo": "bar"})
    doc = result["doc"]
    assert doc["_source"] == {"foo": "bar", "field2": "_value"}
    assert list(doc["_ingest"]) == ["timestamp"]
    assert doc["_index"] == "index" and doc["_id"] == "id0" and doc["_version"] == "-3"


def test_simulate_without_index_and_id_uses_placeholders() -> None:
    # pins: 90_simulate.yml "Test simulate without index type and id" (defaults _index/_id)
    status, response = simulate({"pipeline": {"processors": []}, "docs": [{"_source": {"a": 1}}]}, PipelineSet())
    assert status == 200
    assert response["docs"][0]["doc"]["_index"] == "_index"
    assert response["docs"][0]["doc"]["_id"] == "_id"


def test_invalid_pipeline_is_a_400_parse_exception_naming_processor_tag_and_property() -> None:
    # pins: 90_simulate.yml "Test simulate with provided invalid pipeline definition"
    err = bad_request({"processors": [{"set": {"tag": "fails", "value": "_value"}}]})
    cause = err["root_cause"][0]
    assert cause == {
        "type": "parse_exception",
        "reason": "[field] required property is missing",
        "processor_type": "set",
        "processor_tag": "fails",
        "property_name": "field",
    }


def test_invalid_processor_config_without_tag_has_no_tag() -> None:
    # pins: 90_simulate.yml "Test simulate with invalid processor config"
    err = bad_request({"processors": [{"set": {"field": "field2"}}]})
    assert err["reason"] == "[value] required property is missing"
    assert "processor_tag" not in err["root_cause"][0]


def test_no_pipeline_in_request_is_a_400_naming_pipeline() -> None:
    # pins: 90_simulate.yml "Test simulate with no provided pipeline or pipeline_id"
    status, response = simulate({"docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400
    assert response["error"]["reason"] == "[pipeline] required property is missing"
    assert response["error"]["root_cause"][0]["property_name"] == "pipeline"
    assert "processor_type" not in response["error"]["root_cause"][0]


def test_unknown_option_is_refused() -> None:
    # pins: ConfigurationUtils.readProcessor: leftover options are a parse_exception
    err = bad_request({"processors": [{"set": {"field": "a", "value": 1, "valeu": 2}}]})
    assert err["reason"] == "processor [set] doesn't support one or more provided configuration parameters [valeu]"


def test_unknown_processor_type() -> None:
    # pins: ConfigurationUtils.readProcessor "No processor type exists with name [...]"
    err = bad_request({"processors": [{"sett": {"field": "a", "value": 1}}]})
    assert err["reason"] == "No processor type exists with name [sett]"


def test_unsupported_processor_is_named_not_passed() -> None:
    # The engine's own rule: a real ES processor it does not run is an error naming it.
    # (`enrich` needs a cluster's enrich indices, which the engine has not.)
    err = bad_request({"processors": [{"enrich": {"policy_name": "p", "field": "a", "target_field": "b"}}]})
    assert "enrich" in err["reason"] and "not supported" in err["reason"]


def test_wrong_option_type_names_java_type() -> None:
    # pins: ConfigurationUtils.readBooleanProperty message
    err = bad_request({"processors": [{"remove": {"field": "a", "ignore_missing": "yes"}}]})
    assert err["reason"] == "[ignore_missing] property isn't a boolean, but of type [java.lang.String]"


def test_empty_on_failure_is_refused() -> None:
    # pins: ConfigurationUtils.readProcessor "processors list cannot be empty" for on_failure
    err = bad_request({"processors": [{"set": {"field": "a", "value": 1, "on_failure": []}}]})
    assert err["reason"] == "[on_failure] processors list cannot be empty"


def test_failing_document_gives_error_body_others_still_run() -> None:
    # pins: 90_simulate.yml "Test simulate with exception thrown": per-document error,
    # illegal_argument_exception, the other document processed
    docs = run([{"uppercase": {"field": "foo"}}], {"not_foo": "bar"}, {"foo": "bar"})
    assert docs[0]["error"]["type"] == "illegal_argument_exception"
    assert docs[0]["error"]["reason"] == "field [foo] not present as part of path [foo]"
    assert docs[0]["error"]["root_cause"][0]["reason"] == docs[0]["error"]["reason"]
    assert docs[1]["doc"]["_source"]["foo"] == "BAR"


def test_verbose_results_per_processor() -> None:
    # pins: 90_simulate.yml "Test simulate with verbose flag": one result per processor,
    # each with the document after it, tag kept, _ingest holding timestamp and pipeline
    (result,) = run(
        [
            {"set": {"tag": "processor[set]-0", "field": "field2.value", "value": "_value"}},
            {"set": {"field": "field3", "value": "third_val"}},
            {"uppercase": {"field": "field2.value"}},
            {"lowercase": {"field": "foo.bar.0.item"}},
        ],
        {"foo": {"bar": [{"item": "HELLO"}]}},
        verbose=True,
    )
    steps = result["processor_results"]
    assert len(steps) == 4
    assert steps[0]["tag"] == "processor[set]-0" and steps[0]["status"] == "success"
    assert steps[0]["doc"]["_source"] == {"foo": {"bar": [{"item": "HELLO"}]}, "field2": {"value": "_value"}}
    assert set(steps[0]["doc"]["_ingest"]) == {"timestamp", "pipeline"}
    assert steps[2]["doc"]["_source"]["field2"]["value"] == "_VALUE"
    assert steps[3]["doc"]["_source"]["foo"]["bar"][0]["item"] == "hello"


def test_verbose_error_stops_the_document() -> None:
    # pins: 90_simulate.yml "Test verbose simulate with exception thrown"
    docs = run([{"convert": {"field": "foo", "type": "integer"}}, {"uppercase": {"field": "bar"}}], {"foo": "bar", "bar": "hello"}, {"foo": "5", "bar": "hello"}, verbose=True)
    assert len(docs[0]["processor_results"]) == 1
    assert docs[0]["processor_results"][0]["error"]["type"] == "illegal_argument_exception"
    assert docs[1]["processor_results"][0]["doc"]["_source"]["foo"] == 5
    assert docs[1]["processor_results"][1]["doc"]["_source"]["bar"] == "HELLO"


def test_verbose_on_failure_chain() -> None:
    # pins: 90_simulate.yml "Test verbose simulate with on_failure": error result, then the
    # handlers' results; nested on_failure; the handlers change the document
    (result,) = run(
        [
            {"set": {"tag": "setstatus-1", "field": "status", "value": 200}},
            {
                "rename": {
                    "tag": "rename-1",
                    "field": "foofield",
                    "target_field": "field1",
                    "on_failure": [
                        {"set": {"tag": "set on_failure rename", "field": "foofield", "value": "exists"}},
                        {"rename": {"field": "foofield2", "target_field": "field1", "on_failure": [{"set": {"field": "foofield2", "value": "ran"}}]}},
                    ],
                }
            },
        ],
        {"field1": "123.42 400 <foo>"},
        verbose=True,
    )
    steps = result["processor_results"]
    assert len(steps) == 5
    assert steps[1]["tag"] == "rename-1" and steps[1]["error"]["reason"] == "field [foofield] doesn't exist"
    assert steps[2]["tag"] == "set on_failure rename"
    assert "tag" not in steps[3] and "tag" not in steps[4]
    assert steps[4]["doc"]["_source"] == {"field1": "123.42 400 <foo>", "status": 200, "foofield": "exists", "foofield2": "ran"}


def test_verbose_ignore_failure_reports_ignored_error_with_doc() -> None:
    # pins: 90_simulate.yml "Test verbose simulate with ignore_failure and thrown exception":
    # ignore_failure wins over on_failure; ignored_error.error plus the document
    (result,) = run(
        [
            {"set": {"tag": "setstatus-1", "field": "status", "value": 200}},
            {"rename": {"tag": "rename-1", "field": "foofield", "target_field": "field1", "ignore_failure": True, "on_failure": [{"set": {"field": "x", "value": 1}}]}},
        ],
        {"field1": "123.42 400 <foo>"},
        verbose=True,
    )
    steps = result["processor_results"]
    assert len(steps) == 2
    assert steps[1]["status"] == "error_ignored"
    assert steps[1]["ignored_error"]["error"]["reason"] == "field [foofield] doesn't exist"
    assert steps[1]["doc"]["_source"] == {"field1": "123.42 400 <foo>", "status": 200}


def test_verbose_pipeline_processor_and_nested_results() -> None:
    # pins: 90_simulate.yml "Test verbose simulate with Pipeline Processor with Multiple
    # Pipelines" (the pipeline processor's own result carries no document) and
    # "... with error in pipeline"
    from wgsiem.ingest.build import Builder

    pipelines = PipelineSet()
    builder = Builder(pipelines)
    pipelines.add(builder.pipeline("pipeline2", {"processors": [{"set": {"field": "pipeline2", "value": True}}]}))
    pipelines.add(builder.pipeline("pipeline1", {"processors": [{"set": {"field": "pipeline1", "value": True}}, {"pipeline": {"name": "pipeline2"}}]}))
    pipelines.add(builder.pipeline("broken", {"processors": [{"rename": {"field": "does_not_exist", "target_field": "_value"}}]}))
    (result,) = run([{"set": {"field": "pipeline0", "value": True}}, {"pipeline": {"name": "pipeline1"}}], {}, verbose=True, pipelines=pipelines)
    kinds = [(r["processor_type"], r["status"], "doc" in r) for r in result["processor_results"]]
    assert kinds == [("set", "success", True), ("pipeline", "success", False), ("set", "success", True), ("pipeline", "success", False), ("set", "success", True)]
    assert result["processor_results"][-1]["doc"]["_source"] == {"pipeline0": True, "pipeline1": True, "pipeline2": True}
    (result,) = run([{"pipeline": {"name": "broken"}}], {"foo": "bar"}, verbose=True, pipelines=pipelines)
    steps = result["processor_results"]
    assert [(s["processor_type"], s["status"]) for s in steps] == [("pipeline", "success"), ("rename", "error")]
    assert steps[1]["error"]["root_cause"][0]["reason"] == "field [does_not_exist] doesn't exist"


def test_pipeline_cycle_is_detected() -> None:
    # pins: 90_simulate.yml "... Pipeline Processor with Circular Pipelines"
    from wgsiem.ingest.build import Builder

    pipelines = PipelineSet()
    builder = Builder(pipelines)
    pipelines.add(builder.pipeline("outer", {"processors": [{"pipeline": {"name": "inner"}}]}))
    pipelines.add(builder.pipeline("inner", {"processors": [{"pipeline": {"name": "outer"}}]}))
    (result,) = run([{"pipeline": {"name": "outer"}}], {}, pipelines=pipelines)
    assert result["error"]["reason"] == "Cycle detected for pipeline: outer"


def test_verbose_condition_and_on_failure_metadata() -> None:
    # pins: 90_simulate.yml "Test verbose simulate with true conditional and on failure":
    # _ingest.on_failure_processor_tag is the failed processor's tag, nested too
    (result,) = run(
        [
            {
                "rename": {
                    "tag": "gunna_fail",
                    "if": "true",
                    "field": "foo1",
                    "target_field": "fieldA",
                    "on_failure": [
                        {"set": {"field": "failed1", "value": "failed1", "tag": "failed1"}},
                        {"rename": {"tag": "gunna_fail_again", "if": "true", "field": "foo2", "target_field": "fieldA", "on_failure": [{"set": {"field": "failed2", "value": "failed2", "tag": "failed2"}}]}},
                    ],
                }
            }
        ],
        {"foo": "bar"},
        verbose=True,
    )
    steps = result["processor_results"]
    assert [s["tag"] for s in steps] == ["gunna_fail", "failed1", "gunna_fail_again", "failed2"]
    assert steps[0]["if"] == {"condition": "true", "result": True}
    assert steps[1]["doc"]["_ingest"]["on_failure_processor_tag"] == "gunna_fail"
    assert steps[3]["doc"]["_ingest"]["on_failure_processor_tag"] == "gunna_fail_again"
    assert steps[3]["doc"]["_source"] == {"foo": "bar", "failed1": "failed1", "failed2": "failed2"}


def test_skipped_condition_in_verbose() -> None:
    # pins: SimulateProcessorResult.getStatus: a false condition is "skipped", no document
    (result,) = run([{"set": {"if": "ctx.x == 1", "field": "a", "value": 1}}], {"x": 2}, verbose=True)
    assert result["processor_results"] == [{"processor_type": "set", "status": "skipped", "if": {"condition": "ctx.x == 1", "result": False}}]


def test_on_failure_metadata_fields_and_cleanup() -> None:
    # pins: ingest docs "Handling pipeline failures": _ingest.on_failure_message,
    # _processor_type, _processor_tag, _pipeline; removed once the handler is done
    out = source(
        [{"rename": {"tag": "r", "field": "nope", "target_field": "x"}}],
        {},
        on_failure=[
            {"set": {"field": "m", "value": "{{{_ingest.on_failure_message}}}"}},
            {"set": {"field": "t", "value": "{{_ingest.on_failure_processor_type}}/{{_ingest.on_failure_processor_tag}}/{{_ingest.on_failure_pipeline}}"}},
        ],
    )
    assert out == {"m": "field [nope] doesn't exist", "t": "rename/r/_simulate_pipeline"}
    (result,) = run([{"rename": {"field": "nope", "target_field": "x", "on_failure": [{"set": {"field": "y", "value": 1}}]}}], {})
    assert set(result["doc"]["_ingest"]) == {"timestamp"}


def test_pipeline_on_failure_skips_the_rest() -> None:
    # pins: CompoundProcessor: the pipeline-level handler runs and the remaining processors do not
    out = source([{"fail": {"message": "boom"}}, {"set": {"field": "after", "value": 1}}], {}, on_failure=[{"set": {"field": "handled", "value": "{{ _ingest.on_failure_message }}"}}])
    assert out == {"handled": "boom"}


def test_fail_and_drop() -> None:
    # pins: fail processor docs (message template; fail_processor_exception) and
    # SimulateDocumentBaseResult: a dropped document is null
    err = error([{"fail": {"message": "no {{who}}"}}], {"who": "entry"})
    assert err["type"] == "fail_processor_exception" and err["reason"] == "no entry"
    (result,) = run([{"drop": {"if": "ctx.a == 1"}}], {"a": 1})
    assert result is None
    (result,) = run([{"drop": {}}], {"a": 1}, verbose=True)
    assert result["processor_results"][-1]["status"] == "dropped"


# --- field paths (IngestDocument) ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "doc", "reason"),
    [
        ("a.b", {"a": "x"}, "cannot resolve [b] from object of type [java.lang.String] as part of path [a.b]"),
        ("a.b", {"a": None}, "cannot resolve [b] from null as part of path [a.b]"),
        ("a.b", {"a": {}}, "field [b] not present as part of path [a.b]"),
        ("a.5", {"a": [1]}, "[5] is out of bounds for array with length [1] as part of path [a.5]"),
        ("a.x", {"a": [1]}, "[x] is not an integer, cannot be used as an index as part of path [a.x]"),
    ],
)
def test_path_errors(path: str, doc: dict[str, Any], reason: str) -> None:
    # pins: IngestDocument.Errors messages (cannotResolve, notPresent, outOfBounds, notInteger)
    assert error([{"uppercase": {"field": path}}], doc)["reason"] == reason


def test_set_creates_objects_and_indexes_lists() -> None:
    # pins: IngestDocument.setFieldValue: missing parents become maps; numeric segments index lists
    assert source([{"set": {"field": "a.b.c", "value": 1}}, {"set": {"field": "l.1", "value": "y"}}], {"l": ["x", "z"]}) == {
        "l": ["x", "y"],
        "a": {"b": {"c": 1}},
    }
    assert error([{"set": {"field": "a.b", "value": 1}}], {"a": "s"})["reason"] == (
        "cannot set [b] with parent object of type [java.lang.String] as part of path [a.b]"
    )


def test_dotted_names_are_paths_not_literal_keys() -> None:
    # pins: classic access: "a.b" walks into a, it does not read a key named "a.b"
    assert error([{"uppercase": {"field": "a.b"}}], {"a.b": "x"})["reason"] == "field [a] not present as part of path [a.b]"
    assert source([{"dot_expander": {"field": "a.b"}}, {"uppercase": {"field": "a.b"}}], {"a.b": "x"}) == {"a": {"b": "X"}}


def test_source_and_ingest_prefixes() -> None:
    # pins: FieldPath: "_source." reads the document, "_ingest." the ingest metadata
    out = source([{"set": {"field": "_source.x", "value": 1}}, {"set": {"field": "_ingest.tmp", "value": 2}}, {"set": {"field": "y", "copy_from": "_ingest.tmp"}}], {})
    assert out == {"x": 1, "y": 2}


# --- set / append / remove / rename ---------------------------------------------------


def test_set_override_false_only_fills_missing_or_null() -> None:
    # pins: set processor docs, override: "If false, the processor does not modify existing
    # non-null fields"
    out = source([{"set": {"field": "a", "value": 2, "override": False}}, {"set": {"field": "b", "value": 2, "override": False}}, {"set": {"field": "c", "value": 2, "override": False}}], {"a": 1, "b": None})
    assert out == {"a": 1, "b": 2, "c": 2}


def test_set_ignore_empty_value_and_copy_from() -> None:
    # pins: set processor docs: ignore_empty_value skips null or "" values (templates
    # rendering empty included); copy_from deep-copies; copy_from with value is refused
    out = source([{"set": {"field": "x", "value": "{{missing}}", "ignore_empty_value": True}}, {"set": {"field": "y", "copy_from": "o"}}, {"set": {"field": "o.k", "value": 2}}], {"o": {"k": 1}})
    assert out == {"o": {"k": 2}, "y": {"k": 1}}
    err = bad_request({"processors": [{"set": {"field": "x", "copy_from": "a", "value": 1}}]})
    assert err["reason"] == "[copy_from] cannot set both `copy_from` and `value` in the same processor"


def test_templates_escape_json_in_double_braces_not_triple() -> None:
    # pins: ValueSourceTests: {{x}} is JSON-escaped by default (media_type application/json),
    # {{{x}}} is not; media_type text/plain does not escape
    doc = {"line": 'say "hi"\\'}
    out = source(
        [
            {"set": {"field": "two", "value": "{{line}}"}},
            {"set": {"field": "three", "value": "{{{line}}}"}},
            {"set": {"field": "plain", "value": "{{line}}", "media_type": "text/plain"}},
        ],
        doc,
    )
    assert out["two"] == 'say \\"hi\\"\\\\'
    assert out["three"] == doc["line"] and out["plain"] == doc["line"]


def test_template_in_field_name_and_nested_value() -> None:
    # pins: set docs: "field" supports template snippets; ValueSource wraps maps and lists
    out = source([{"set": {"field": "{{k}}.x", "value": {"n": "{{v}}", "l": ["{{v}}", 3]}}}], {"k": "dyn", "v": 7})
    assert out["dyn"] == {"x": {"n": "7", "l": ["7", 3]}}


def test_append_semantics() -> None:
    # pins: IngestDocument.appendValues: a scalar becomes a list; allow_duplicates false
    # leaves the field untouched when nothing new is added (even a scalar), and dedupes a
    # new field too (360_append_allow_duplicates.yml "... with a missing array ...")
    out = source(
        [
            {"append": {"field": "s", "value": ["b", "c"]}},
            {"append": {"field": "same", "value": "a", "allow_duplicates": False}},
            {"append": {"field": "l", "value": ["a", "x"], "allow_duplicates": False}},
            {"append": {"field": "new", "value": ["z", "z"], "allow_duplicates": False}},
        ],
        {"s": "a", "same": "a", "l": ["a"]},
    )
    assert out == {"s": ["a", "b", "c"], "same": "a", "l": ["a", "x"], "new": ["z"]}


def test_append_duplicates_use_java_equality() -> None:
    # pins: List.contains uses equals: Boolean true is not Integer 1
    assert source([{"append": {"field": "l", "value": [True, 1.0], "allow_duplicates": False}}], {"l": [1]}) == {"l": [1, True, 1.0]}


def test_remove() -> None:
    # pins: remove processor docs: a list of fields; ignore_missing; a missing field fails
    assert source([{"remove": {"field": ["a", "b.c", "nope"], "ignore_missing": True}}], {"a": 1, "b": {"c": 2, "d": 3}}) == {"b": {"d": 3}}
    assert error([{"remove": {"field": "nope"}}], {})["reason"] == "field [nope] not present as part of path [nope]"
    assert source([{"remove": {"keep": ["b.c", "x"]}}], {"a": 1, "b": {"c": 2}, "x": 3}) == {"b": {"c": 2}, "x": 3}


def test_rename() -> None:
    # pins: RenameProcessor: missing source fails unless ignore_missing; an existing target
    # fails unless override; the value moves
    assert source([{"rename": {"field": "a", "target_field": "b.c"}}], {"a": 1}) == {"b": {"c": 1}}
    assert error([{"rename": {"field": "a", "target_field": "b"}}], {"a": 1, "b": 2})["reason"] == "field [b] already exists"
    assert source([{"rename": {"field": "a", "target_field": "b", "override": True}}], {"a": 1, "b": 2}) == {"b": 1}
    assert source([{"rename": {"field": "nope", "target_field": "b", "ignore_missing": True}}], {"x": 1}) == {"x": 1}


def test_dot_expander_merges_unless_override() -> None:
    # pins: dot_expander docs: a conflicting existing field is combined into an array unless
    # override; "*" expands every dotted top-level field; a value parent is an error
    assert source([{"dot_expander": {"field": "*"}}], {"a.b": 1, "a": {"b": 2}, "c.d": 3}) == {"a": {"b": [2, 1]}, "c": {"d": 3}}
    assert source([{"dot_expander": {"field": "a.b", "override": True}}], {"a.b": 1, "a": {"b": 2}}) == {"a": {"b": 1}}
    assert error([{"dot_expander": {"field": "a.b"}}], {"a.b": 1, "a": "v"})["reason"] == (
        "cannot expand [a.b], because [a] is not an object field, but a value field"
    )


# --- string processors ------------------------------------------------------------------


def test_string_processors_on_lists_and_wrong_types() -> None:
    # pins: AbstractStringProcessor: lists are processed element-wise; a non-string fails
    # with a cast message; null fails unless ignore_missing
    assert source([{"uppercase": {"field": "l"}}], {"l": ["a", "b"]}) == {"l": ["A", "B"]}
    assert error([{"lowercase": {"field": "n"}}], {"n": 1})["reason"] == "field [n] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
    assert error([{"trim": {"field": "n"}}], {"n": None})["reason"] == "field [n] is null, cannot process it."
    assert source([{"trim": {"field": "n", "ignore_missing": True}}], {"n": None}) == {"n": None}
    assert source([{"trim": {"field": "s", "target_field": "t"}}], {"s": "\t x \n"}) == {"s": "\t x \n", "t": "x"}


def test_gsub_java_replacement_groups() -> None:
    # pins: gsub docs (Java regex and $1 replacement references)
    assert source([{"gsub": {"field": "s", "pattern": r"(\d+)-(\d+)", "replacement": "$2:$1"}}], {"s": "10-20 x"}) == {"s": "20:10 x"}
    # GsubProcessor compiles with java.util.regex: the same translation Painless uses, so
    # Java's possessive quantifiers and \p{Alpha} work; Matcher.group(2) on a one-group
    # pattern throws IndexOutOfBoundsException for each document.
    assert source([{"gsub": {"field": "s", "pattern": r"\p{Alpha}++", "replacement": "w"}}], {"s": "ab 12 cd"}) == {"s": "w 12 w"}
    assert error([{"gsub": {"field": "s", "pattern": "(a)", "replacement": "$2"}}], {"s": "a"}) == {
        "root_cause": [{"type": "index_out_of_bounds_exception", "reason": "No group 2"}],
        "type": "index_out_of_bounds_exception",
        "reason": "No group 2",
    }
    # appendReplacement refuses "$x" with IllegalArgumentException, for each document.
    assert error([{"gsub": {"field": "s", "pattern": "a", "replacement": "$x"}}], {"s": "a"})["reason"] == "Illegal group reference"


def test_split_and_join() -> None:
    # pins: split docs (regex separator; trailing empty strings dropped unless
    # preserve_trailing) and join docs
    assert source([{"split": {"field": "s", "separator": r"\s*,\s*"}}], {"s": "a , b,c,,"}) == {"s": ["a", "b", "c"]}
    assert source([{"split": {"field": "s", "separator": ",", "preserve_trailing": True}}], {"s": "a,,"}) == {"s": ["a", "", ""]}
    assert source([{"join": {"field": "l", "separator": "-", "target_field": "j"}}], {"l": ["a", 1, True, 1.5]})["j"] == "a-1-true-1.5"
    assert error([{"join": {"field": "s", "separator": "-"}}], {"s": "x"})["reason"] == "field [s] of type [java.lang.String] cannot be cast to [java.util.List]"


def test_json_processor() -> None:
    # pins: json processor docs: parse into target_field (default: the field itself);
    # add_to_root merges into the document; target_field with add_to_root is refused
    assert source([{"json": {"field": "j", "target_field": "o"}}], {"j": '{"a": [1, {"b": null}]}'})["o"] == {"a": [1, {"b": None}]}
    assert source([{"json": {"field": "j", "add_to_root": True}}], {"j": '{"a": 1}'}) == {"j": '{"a": 1}', "a": 1}
    assert "Duplicate" in error([{"json": {"field": "j"}}], {"j": '{"a": 1, "a": 2}'})["reason"]
    err = bad_request({"processors": [{"json": {"field": "j", "target_field": "x", "add_to_root": True}}]})
    assert err["property_name"] == "target_field"


def test_foreach_over_list_and_map() -> None:
    # pins: foreach docs: _ingest._value for list elements; _ingest._key/_value for maps
    assert source([{"foreach": {"field": "l", "processor": {"uppercase": {"field": "_ingest._value"}}}}], {"l": ["a", "b"]}) == {"l": ["A", "B"]}
    out = source([{"foreach": {"field": "m", "processor": {"uppercase": {"field": "_ingest._key"}}}}], {"m": {"a": 1}})
    assert out == {"m": {"A": 1}}
    assert error([{"foreach": {"field": "s", "processor": {"uppercase": {"field": "_ingest._value"}}}}], {"s": "x"})["reason"] == (
        "field [s] of type [java.lang.String] cannot be cast to a list or map"
    )


def test_pipeline_processor_missing_pipeline() -> None:
    # pins: PipelineProcessor: non-existent pipeline fails unless ignore_missing_pipeline
    assert error([{"pipeline": {"name": "nope"}}], {})["reason"] == "Pipeline processor configured for non-existent pipeline [nope]"
    assert source([{"pipeline": {"name": "nope", "ignore_missing_pipeline": True}}], {"a": 1}) == {"a": 1}


def test_condition_runtime_error_fails_the_processor() -> None:
    # pins: ConditionalProcessor: a condition that throws fails the processor (on_failure
    # applies), and the failed processor is the ConditionalProcessor, type "conditional"
    out = source([{"set": {"if": "ctx.a.b == 1", "field": "x", "value": 1, "on_failure": [{"set": {"field": "failed", "value": "{{{_ingest.on_failure_processor_type}}}"}}]}}], {})
    assert out == {"failed": "conditional"}
