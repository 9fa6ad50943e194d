"""The reroute processor and the halt it causes, against Elasticsearch 9's behaviour.

Everything runs as `POST _ingest/pipeline/_simulate` requests through the engine. Sources
named in the comments (paths under elastic/elasticsearch):
  REST    = modules/ingest-common/src/yamlRestTest/resources/rest-api-spec/test/ingest/310_reroute_processor.yml;
  ROUTER  = the same directory's 310_data_stream_router_processor.yml (the processor's pre-release name);
  UNIT    = modules/ingest-common/src/test/java/org/elasticsearch/ingest/common/RerouteProcessorTests.java
            (the 9.x version, with `type`: #122409, backported to 9.0 as #122892);
  FACTORY = the same directory's RerouteProcessorFactoryTests.java;
  RP      = modules/ingest-common/src/main/java/org/elasticsearch/ingest/common/RerouteProcessor.java
            (Factory, DataStreamValueSource);
  CU      = server/src/main/java/org/elasticsearch/ingest/ConfigurationUtils.java
            (readOptionalListOrString, readProcessor);
  CP      = server/src/main/java/org/elasticsearch/ingest/CompoundProcessor.java (the isReroute
            checks in innerExecute; none in executeOnFailure);
  OFP     = server/src/main/java/org/elasticsearch/ingest/OnFailureProcessor.java (a CompoundProcessor);
  FE      = modules/ingest-common/.../ForEachProcessor.java (no isReroute check);
  ID      = server/src/main/java/org/elasticsearch/ingest/IngestDocument.java (reroute, isReroute);
  DOC     = docs/reference/enrich-processor/reroute-processor.md.

Not ported: REST "Test data stream with lazy rollover obtains pipeline from template" and
"Test remove then add reroute processor with and without lazy rollover" are about which
default pipeline a data stream resolves after a rollover, a cluster matter `_simulate`
does not reach. REST's other sections run the new target's default pipeline after the
reroute (IngestService); here each pipeline is one `_simulate`, fed the previous answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.ingest import stored_pipelines as pipelines
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate

LOGS = "logs-generic-default"


def run(
    processors: list[dict[str, Any]], source: dict[str, Any], index: str = LOGS, *, verbose: bool = False, pipelines: PipelineSet | None = None, on_failure=None
) -> dict[str, Any]:
    pipeline: dict[str, Any] = {"processors": processors}
    if on_failure:
        pipeline["on_failure"] = on_failure
    body = {"pipeline": pipeline, "docs": [{"_index": index, "_id": "1", "_source": source}]}
    status, response = simulate(body, pipelines or PipelineSet(), verbose=verbose)
    assert status == 200, response
    (result,) = response["docs"]
    return result


def doc(processors: list[dict[str, Any]], source: dict[str, Any], index: str = LOGS, **kw: Any) -> dict[str, Any]:
    result = run(processors, source, index, **kw)
    assert "doc" in result, result
    return result["doc"]


def error(processors: list[dict[str, Any]], source: dict[str, Any], index: str = LOGS) -> dict[str, Any]:
    result = run(processors, source, index)
    assert "error" in result, result
    return result["error"]


def reroute(source: dict[str, Any], index: str = LOGS, **options: Any) -> dict[str, Any]:
    """The document after one reroute processor with these options."""
    return doc([{"reroute": options}], source, index)


def bad_request(options: Any) -> dict[str, Any]:
    status, response = simulate({"pipeline": {"processors": [{"reroute": options}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400, response
    return response["error"]


def data_stream(result: dict[str, Any]) -> tuple[str, Any]:
    return result["_index"], result["_source"].get("data_stream")


def stored(pipeline_id: str, found: PipelineSet, previous: dict[str, Any]) -> dict[str, Any]:
    """A stored pipeline run on the document another `_simulate` answered with, in the index it
    was rerouted to (what IngestService does next on a cluster)."""
    body = {"docs": [{"_index": previous["_index"], "_id": previous["_id"], "_source": previous["_source"]}]}
    status, response = simulate(body, found, pipeline_id=pipeline_id)
    assert status == 200, response
    return response["docs"][0]["doc"]


# --- REST: 310_reroute_processor.yml -----------------------------------------------------------


def test_rest_first_matching_router_terminates_pipeline() -> None:
    # REST "Test first matching router terminates pipeline" (awaits_fix upstream for a cluster
    # race, #102144; the routing it states is RP's): the first reroute wins, the second never runs
    result = doc([{"reroute": {"dataset": "first"}}, {"reroute": {"dataset": "second"}}], {"foo": "bar"})
    assert data_stream(result) == ("logs-first-default", {"type": "logs", "dataset": "first", "namespace": "default"})
    assert result["_source"]["foo"] == "bar"


def test_rest_two_stage_routing() -> None:
    # REST "Test two stage routing": logs-router sends nginx logs to logs-nginx-default, whose
    # pipeline sends the error log on to logs-nginx.error-default; both sets before each reroute ran
    found = pipelines(
        **{
            "logs-router": {
                "processors": [
                    {"set": {"field": "added-in-pipeline-before-first-reroute", "value": True}},
                    {"reroute": {"tag": "nginx", "if": "ctx?.log?.file?.path?.contains('nginx')", "dataset": "nginx"}},
                ]
            },
            "logs-nginx": {
                "processors": [
                    {"set": {"field": "added-in-pipeline-before-second-reroute", "value": True}},
                    {"reroute": {"tag": "nginx.access", "if": "ctx?.log?.file?.path?.contains('access')", "dataset": "nginx.access"}},
                    {"reroute": {"tag": "nginx.error", "if": "ctx?.log?.file?.path?.contains('error')", "dataset": "nginx.error"}},
                ]
            },
        }
    )
    first = stored(
        "logs-router",
        found,
        {
            "_index": "logs-router-default",
            "_id": "example-log",
            "_source": {"@timestamp": "2022-04-13", "message": "this is an error log", "log": {"file": {"path": "nginx-error.log"}}},
        },
    )
    assert first["_index"] == "logs-nginx-default"
    second = stored("logs-nginx", found, first)
    assert second["_index"] == "logs-nginx.error-default"
    assert second["_source"]["message"] == "this is an error log"
    assert second["_source"]["added-in-pipeline-before-first-reroute"] is True
    assert second["_source"]["added-in-pipeline-before-second-reroute"] is True
    assert second["_source"]["data_stream"] == {"type": "logs", "dataset": "nginx.error", "namespace": "default"}


def test_rest_pipeline_run_after_reroute() -> None:
    # REST "Test pipeline run after reroute": a destination reroute out of index-1; index-2's
    # pipeline then runs on the document (destination mode writes no data_stream fields)
    found = pipelines(
        **{
            "pipeline-1": {"processors": [{"set": {"field": "added-in-pipeline-before-reroute", "value": True}}, {"reroute": {"destination": "index-2"}}]},
            "pipeline-2": {"processors": [{"set": {"field": "added-in-pipeline-after-reroute", "value": True}}]},
        }
    )
    first = stored("pipeline-1", found, {"_index": "index-1", "_id": "1", "_source": {"existing-field": True}})
    assert first["_index"] == "index-2"
    second = stored("pipeline-2", found, first)
    assert second["_source"] == {"existing-field": True, "added-in-pipeline-before-reroute": True, "added-in-pipeline-after-reroute": True}


def test_router_pre_release_name_is_no_processor() -> None:
    # ROUTER: `data_stream_router` was the name before release; Elasticsearch 9 has no such processor
    status, response = simulate({"pipeline": {"processors": [{"data_stream_router": {"dataset": "first"}}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400
    assert response["error"]["reason"] == "No processor type exists with name [data_stream_router]"


# --- UNIT: RerouteProcessorTests ---------------------------------------------------------------


def test_unit_defaults_keep_the_current_data_stream() -> None:
    # UNIT testDefaults: no options, a document without data_stream: the parts of _index
    assert data_stream(reroute({})) == (LOGS, {"type": "logs", "dataset": "generic", "namespace": "default"})


def test_unit_route_on_type() -> None:
    # UNIT testRouteOnType (ES 9's `type` option)
    assert reroute({"event": {"type": "foo"}}, type="{{event.type}}")["_index"] == "foo-generic-default"


def test_unit_event_dataset_follows_the_dataset() -> None:
    # UNIT testEventDataset ("{{event.dataset }}": spaces inside the braces are trimmed) and
    # testNoDataset (event.dataset is not added when the document has none)
    result = reroute({"event": {"dataset": "foo"}}, dataset="{{event.dataset }}")
    assert result["_index"] == "logs-foo-default"
    assert result["_source"]["event"] == {"dataset": "foo"}
    result = reroute({"ds": "foo"}, dataset="{{ ds }}")
    assert result["_index"] == "logs-foo-default"
    assert "event" not in result["_source"]
    # RP: an event.dataset different from the new dataset is made equal to it
    assert reroute({"event": {"dataset": "old"}}, dataset="new")["_source"]["event"] == {"dataset": "new"}


def test_unit_dotted_field_names_are_read_and_kept_dotted() -> None:
    # UNIT testEventDatasetDottedFieldName: a top-level "event.dataset" key is read and updated as it is
    result = reroute({"event.dataset": "foo"}, dataset="{{ event.dataset}}")
    assert result["_index"] == "logs-foo-default"
    assert result["_source"]["event.dataset"] == "foo" and "event" not in result["_source"]
    # UNIT testDataStreamFieldsFromDocumentDottedNotation: the defaults read dotted keys too,
    # and the data_stream parts are written back where they were
    result = reroute({"data_stream.type": "eggplant", "data_stream.dataset": "foo", "data_stream.namespace": "bar"})
    assert result["_index"] == "eggplant-foo-bar"
    assert result["_source"] == {"data_stream.type": "eggplant", "data_stream.dataset": "foo", "data_stream.namespace": "bar"}


def test_unit_skipped_first_processor_and_unreached_last() -> None:
    # UNIT testSkipFirstProcessor (a skipped reroute does not route) and testSkipLastProcessor
    # (a reroute after the one that ran never runs)
    assert doc([{"reroute": {"if": "false", "dataset": "skip"}}, {"reroute": {"dataset": "executed"}}], {})["_index"] == "logs-executed-default"
    assert doc([{"reroute": {"dataset": "executed"}}, {"reroute": {"dataset": "skip"}}], {})["_index"] == "logs-executed-default"


def test_unit_data_stream_fields_from_document() -> None:
    # UNIT testDataStreamFieldsFromDocument: the defaults are the document's data_stream.*
    result = reroute({"data_stream": {"type": "eggplant", "dataset": "foo", "namespace": "bar"}})
    assert data_stream(result) == ("eggplant-foo-bar", {"type": "eggplant", "dataset": "foo", "namespace": "bar"})


def test_unit_invalid_data_stream_fields_from_document_are_sanitized() -> None:
    # UNIT testInvalidDataStreamFieldsFromDocument
    result = reroute({"data_stream": {"dataset": "foo-bar", "namespace": "baz#qux"}})
    assert data_stream(result) == ("logs-foo_bar-baz_qux", {"dataset": "foo_bar", "namespace": "baz_qux", "type": "logs"})


def test_unit_destination() -> None:
    # UNIT testDestination: the target as given, no data_stream fields
    result = reroute({}, destination="foo")
    assert result["_index"] == "foo" and "data_stream" not in result["_source"]


def test_unit_field_reference() -> None:
    # UNIT testFieldReference
    result = reroute({"service": {"name": "opbeans-java", "environment": "dev"}}, dataset="{{service.name}}", namespace="{{service.environment}}")
    assert result["_index"] == "logs-opbeans_java-dev"


def test_unit_reroute_to_current_target_still_ends_the_pipeline() -> None:
    # UNIT testRerouteToCurrentTarget and testFieldReferenceWithMissingReroutesToCurrentTarget
    after = {"set": {"field": "pipeline_is_continued", "value": True}}
    result = doc([{"reroute": {"dataset": "generic", "namespace": "default"}}, after], {})
    assert result["_index"] == LOGS and "pipeline_is_continued" not in result["_source"]
    result = doc([{"reroute": {"dataset": "{{service.name}}", "namespace": "{{service.environment}}"}}, after], {})
    assert data_stream(result) == (LOGS, {"type": "logs", "dataset": "generic", "namespace": "default"})
    assert "pipeline_is_continued" not in result["_source"]


def test_unit_field_references_with_fallbacks() -> None:
    # UNIT testDataStreamFieldReference, testDatasetFieldReferenceMissingValue, testDatasetFieldReference
    fallbacks = {"dataset": ["{{{data_stream.dataset}}}", "fallback"], "namespace": ["{{data_stream.namespace}}", "fallback"]}
    assert (
        reroute({"data_stream": {"dataset": "dataset_from_doc", "namespace": "namespace_from_doc"}}, **fallbacks)["_index"]
        == "logs-dataset_from_doc-namespace_from_doc"
    )
    assert reroute({}, **fallbacks)["_index"] == "logs-fallback-fallback"
    assert reroute({"data_stream": {"dataset": "generic", "namespace": "default"}}, **fallbacks)["_index"] == LOGS
    # DOC: a null value counts as missing too
    assert reroute({"service": {"name": None}}, dataset=["{{service.name}}", "generic"])["_index"] == LOGS


def test_unit_fallback_to_values_from_index() -> None:
    # UNIT testFallbackToValuesFrom_index: configured references replace the data_stream.* defaults
    result = reroute({"data_stream": {"dataset": "foo", "namespace": "bar"}}, dataset="{{foo}}", namespace="{{bar}}")
    assert data_stream(result) == (LOGS, {"dataset": "generic", "namespace": "default", "type": "logs"})


def test_unit_invalid_data_stream_name() -> None:
    # UNIT testInvalidDataStreamName: data stream mode needs <type>-<dataset>-<namespace>;
    # a destination does not
    assert error([{"reroute": {}}], {}, "foo")["reason"] == "invalid data stream name: [foo]; must follow naming scheme <type>-<dataset>-<namespace>"
    assert error([{"reroute": {}}], {}, "logs-foo")["reason"] == "invalid data stream name: [logs-foo]; must follow naming scheme <type>-<dataset>-<namespace>"
    assert error([{"reroute": {}}], {}, "foo")["type"] == "illegal_argument_exception"
    assert reroute({}, "foo", destination="bar")["_index"] == "bar"
    # _simulate's default _index, "_index", is no data stream name either
    status, response = simulate({"pipeline": {"processors": [{"reroute": {}}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert response["docs"][0]["error"]["reason"] == "invalid data stream name: [_index]; must follow naming scheme <type>-<dataset>-<namespace>"


def test_unit_route_on_non_string_field_fails_and_does_not_reroute() -> None:
    # UNIT testRouteOnNonStringFieldFails (and DOC: "If a field reference evaluates to a
    # non-string value, the processor fails"): no fallback, and the document keeps its target
    result = run(
        [
            {"reroute": {"dataset": ["{{numeric_field}}", "fallback"], "on_failure": [{"set": {"field": "handled", "value": True}}]}},
            {"set": {"field": "after", "value": True}},
        ],
        {"numeric_field": 42},
    )
    assert result["doc"]["_index"] == LOGS
    assert result["doc"]["_source"] == {"numeric_field": 42, "handled": True, "after": True}
    assert error([{"reroute": {"dataset": "{{numeric_field}}"}}], {"numeric_field": 42})["reason"] == (
        "field [numeric_field] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
    )
    # RP's dotted-name lookup casts as strictly
    assert (
        error([{"reroute": {"namespace": "{{a.b}}"}}], {"a.b": True})["reason"]
        == "field [a.b] of type [java.lang.Boolean] cannot be cast to [java.lang.String]"
    )
    assert error([{"reroute": {"dataset": "{{_ingest.timestamp}}"}}], {})["reason"] == (
        "field [_ingest.timestamp] of type [java.time.ZonedDateTime] cannot be cast to [java.lang.String]"
    )


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        # UNIT testTypeSanitization, testDatasetSanitization, testNamespaceSanitization
        ("type", '\\/*?"<>| ,#:-', "_" * 13),
        ("type", "foo*bar", "foo_bar"),
        ("dataset", '\\/*?"<>| ,#:-', "_" * 13),
        ("dataset", "foo*bar", "foo_bar"),
        ("namespace", '\\/*?"<>| ,#:-', "_" * 12 + "-"),
        ("namespace", "foo*bar", "foo_bar"),
        # RP: lowercased (Locale.ROOT) and cut to 100 characters before the replacement
        ("dataset", "Nginx.ACCESS", "nginx.access"),
        ("namespace", "x" * 99 + "-abc", "x" * 99 + "-"),
        ("dataset", "a" * 99 + "-abc", "a" * 99 + "_"),
    ],
)
def test_unit_sanitization(option: str, value: str, expected: str) -> None:
    result = reroute({"foo": value}, **{option: "{{foo}}"})
    assert result["_source"]["data_stream"][option] == expected


# --- FACTORY: RerouteProcessorFactoryTests, and what RP's Factory and CU refuse -------------


def test_factory_invalid_static_values() -> None:
    # FACTORY testInvalidDataset, testInvalidNamespace: a static value must already be sanitized
    err = bad_request({"dataset": "my-service"})
    assert err["root_cause"][0] == {
        "type": "parse_exception",
        "reason": "[dataset] 'my-service' contains disallowed characters",
        "processor_type": "reroute",
        "property_name": "dataset",
    }
    assert bad_request({"dataset": "generic", "namespace": "foo:bar"})["reason"] == "[namespace] 'foo:bar' contains disallowed characters"
    # RP: the same rule for `type`, for upper case and for more than 100 characters
    assert bad_request({"type": "Logs", "tag": "t"})["root_cause"][0]["processor_tag"] == "t"
    assert bad_request({"type": "Logs"})["reason"] == "[type] 'Logs' contains disallowed characters"
    assert bad_request({"namespace": "n" * 101})["reason"] == f"[namespace] '{'n' * 101}' contains disallowed characters"
    assert bad_request({"dataset": ["{{a}}", "b-c"]})["reason"] == "[dataset] 'b-c' contains disallowed characters"


def test_factory_destination_excludes_the_parts() -> None:
    # FACTORY testDestinationSuccess, testDestinationAndDataset (ES 9's message names `type` too)
    assert reroute({}, destination="foo")["_index"] == "foo"
    for part in ("type", "dataset", "namespace"):
        err = bad_request({"destination": "foo", part: "bar"})
        assert err["reason"] == "[destination] can only be set if type, dataset, and namespace are not set"
        assert err["property_name"] == "destination"
    # CU readOptionalListOrString: an empty list is no value, so it does not conflict
    assert reroute({}, destination="foo", dataset=[])["_index"] == "foo"


def test_factory_field_references() -> None:
    # FACTORY testFieldReference, testInvalidFieldReference: one whole reference, two or three braces
    assert reroute({"foo": "a", "bar": "b"}, dataset="{{foo}}", namespace="{{{bar}}}")["_index"] == "logs-a-b"
    assert bad_request({"dataset": "{{foo}}-{{bar}}", "namespace": "foo"})["reason"] == "[dataset] '{{foo}}-{{bar}}' is not a valid field reference"
    assert bad_request({"dataset": "{{{{foo}}}}", "namespace": "foo"})["reason"] == "[dataset] '{{{{foo}}}}' is not a valid field reference"
    assert bad_request({"namespace": "x{{foo}}"})["reason"] == "[namespace] 'x{{foo}}' is not a valid field reference"
    assert bad_request({"type": "{{foo}} "})["reason"] == "[type] '{{foo}} ' is not a valid field reference"


def test_factory_option_types() -> None:
    # CU readOptionalListOrString: a string or a list; anything else names the Java type
    assert bad_request({"dataset": 5})["reason"] == "[dataset] property isn't a list, but of type [java.lang.Integer]"
    assert bad_request({"namespace": {"a": 1}})["reason"] == "[namespace] property isn't a list, but of type [java.util.HashMap]"
    assert bad_request({"destination": ["a"]})["reason"] == "[destination] property isn't a string, but of type [java.util.ArrayList]"
    # CU readProcessor: an unknown option
    assert bad_request({"datset": "x"})["reason"] == "processor [reroute] doesn't support one or more provided configuration parameters [datset]"
    # CU takes the list unchecked; RP's mapping of a non-string entry throws, and readProcessor
    # wraps that exception as it is (type `exception`, no property name)
    err = bad_request({"dataset": ["ok", 7]})
    assert err["type"] == "exception" and err["processor_type"] == "reroute" and "property_name" not in err
    assert err["reason"] == (
        "java.lang.ClassCastException: class java.lang.Integer cannot be cast to class java.lang.String "
        "(java.lang.Integer and java.lang.String are in module java.base of loader 'bootstrap')"
    )


def test_options_given_as_null_or_empty_are_the_defaults() -> None:
    # CU: a null option is absent, an empty list is no value; both leave RP's defaults
    assert data_stream(reroute({"data_stream": {"dataset": "d"}}, dataset=None, namespace=[])) == (
        "logs-d-default",
        {"dataset": "d", "namespace": "default", "type": "logs"},
    )


def test_empty_static_value_is_accepted_and_used() -> None:
    # RP: "" is its own sanitized form, and a resolved "" is a value (only null falls through)
    assert reroute({}, dataset="")["_index"] == "logs--default"
    assert reroute({"d": ""}, dataset=["{{d}}", "x"])["_index"] == "logs--default"


# --- RP: the current target ------------------------------------------------------------------


def test_index_parts_are_used_as_they_are() -> None:
    # RP: the first two dashes split _index; the namespace keeps any further dash, and the
    # parts taken from _index are not sanitized
    assert data_stream(reroute({}, "logs-foo-bar-baz")) == ("logs-foo-bar-baz", {"type": "logs", "dataset": "foo", "namespace": "bar-baz"})
    assert reroute({}, "logs-Foo-Bar")["_index"] == "logs-Foo-Bar"
    assert reroute({}, "logs--")["_index"] == "logs--"


def test_failure_after_the_target_changed_still_ends_the_pipeline() -> None:
    # RP: IngestDocument.reroute runs before data_stream.* is written; a document whose
    # data_stream is not an object fails there, already rerouted (ignore_failure shows it)
    processors = [{"reroute": {"dataset": "new"}}, {"set": {"field": "after", "value": True}}]
    err = error(processors, {"data_stream": "oops"})
    assert err["reason"] == "cannot set [type] with parent object of type [java.lang.String] as part of path [data_stream.type]"
    processors[0]["reroute"]["ignore_failure"] = True
    result = doc(processors, {"data_stream": "oops"})
    assert result["_index"] == "logs-new-default" and "after" not in result["_source"]


# --- CP / ID: what the rest of the chain does after a reroute ---------------------------------


def test_reroute_ends_the_calling_pipelines_too() -> None:
    # DOC "Pipeline execution behavior", CP and ID: the flag stays set when the pipeline
    # processor returns, so the caller stops as well
    found = pipelines(
        inner={"processors": [{"set": {"field": "inner_before", "value": 1}}, {"reroute": {"destination": "x"}}, {"set": {"field": "inner_after", "value": 1}}]}
    )
    result = doc([{"pipeline": {"name": "inner"}}, {"set": {"field": "outer_after", "value": 1}}], {}, pipelines=found)
    assert result["_index"] == "x" and result["_source"] == {"inner_before": 1}
    verbose = run([{"pipeline": {"name": "inner"}}, {"set": {"field": "outer_after", "value": 1}}], {}, verbose=True, pipelines=found)
    steps = verbose["processor_results"]
    assert [(s["processor_type"], s["status"]) for s in steps] == [("pipeline", "success"), ("set", "success"), ("reroute", "success")]
    assert steps[-1]["doc"]["_index"] == "x"


def test_verbose_shows_the_rerouted_document_and_nothing_after() -> None:
    # CP: the processors after the reroute produce no result at all
    result = run(
        [{"reroute": {"tag": "r", "if": "ctx.go == true", "dataset": "routed"}}, {"set": {"field": "after", "value": 1}}],
        {"go": True},
        verbose=True,
    )
    (step,) = result["processor_results"]
    assert step["processor_type"] == "reroute" and step["tag"] == "r" and step["status"] == "success"
    assert step["if"] == {"condition": "ctx.go == true", "result": True}
    assert step["doc"]["_index"] == "logs-routed-default"
    assert step["doc"]["_source"]["data_stream"] == {"type": "logs", "dataset": "routed", "namespace": "default"}
    # a false condition neither routes nor stops
    result = doc([{"reroute": {"if": "ctx.go == true", "dataset": "routed"}}, {"set": {"field": "after", "value": 1}}], {"go": False})
    assert result["_index"] == LOGS and result["_source"] == {"go": False, "after": 1}


def test_on_failure_handlers_after_a_reroute() -> None:
    # CP executeOnFailure has no isReroute check: the handlers after the reroute still run,
    # except those that are CompoundProcessors themselves (OFP: with ignore_failure or
    # on_failure), which run nothing; then the pipeline stops
    processors = [
        {
            "fail": {
                "message": "boom",
                "on_failure": [
                    {"reroute": {"tag": "r", "destination": "x"}},
                    {"set": {"tag": "plain", "field": "plain", "value": 1}},
                    {"set": {"tag": "compound", "field": "compound", "value": 1, "ignore_failure": True}},
                ],
            }
        },
        {"set": {"field": "after", "value": 1}},
    ]
    result = doc(processors, {})
    assert result["_index"] == "x" and result["_source"] == {"plain": 1}
    steps = run(processors, {}, verbose=True)["processor_results"]
    assert [(s["processor_type"], s.get("tag"), s["status"]) for s in steps] == [
        ("fail", None, "error"),
        ("reroute", "r", "success"),
        ("set", "plain", "success"),
    ]
    # the pipeline's own on_failure likewise
    result = doc([{"fail": {"message": "boom"}}], {}, on_failure=[{"reroute": {"destination": "x"}}, {"set": {"field": "handled", "value": 1}}])
    assert result["_index"] == "x" and result["_source"] == {"handled": 1}


def test_foreach_keeps_iterating_after_a_reroute() -> None:
    # FE has no isReroute check: each element reroutes again, from the target the last one
    # chose; the pipeline stops after the foreach
    processors = [{"foreach": {"field": "parts", "processor": {"reroute": {"dataset": "{{_ingest._value}}"}}}}, {"set": {"field": "after", "value": 1}}]
    result = doc(processors, {"parts": ["a", "b"]}, "logs-generic-prod")
    assert data_stream(result) == ("logs-b-prod", {"type": "logs", "dataset": "b", "namespace": "prod"})
    assert "after" not in result["_source"]
    # OFP: an inner processor with ignore_failure is a CompoundProcessor, skipped once rerouted
    processors[0]["foreach"]["processor"]["reroute"]["ignore_failure"] = True
    assert doc(processors, {"parts": ["a", "b"]})["_index"] == "logs-a-default"


def test_a_pipeline_called_after_a_reroute_runs_nothing() -> None:
    # CP: a pipeline entered with the flag set returns at once (here from an on_failure handler)
    found = pipelines(later={"processors": [{"set": {"field": "later", "value": 1}}]})
    result = doc([{"fail": {"message": "boom", "on_failure": [{"reroute": {"destination": "x"}}, {"pipeline": {"name": "later"}}]}}], {}, pipelines=found)
    assert result["_index"] == "x" and "later" not in result["_source"]


def test_ignored_failure_does_not_reroute() -> None:
    # CP: a reroute that fails before IngestDocument.reroute leaves the flag unset
    result = doc([{"reroute": {"ignore_failure": True}}, {"set": {"field": "after", "value": 1}}], {}, "not_a_data_stream")
    assert result["_index"] == "not_a_data_stream" and result["_source"] == {"after": 1}


# --- wgsiem: the integration package's use ----------------------------------------------------


def test_wireguard_log_documents_leave_the_status_data_stream() -> None:
    # The package's case: wireguard.log documents shipped into logs-wireguard.status-<namespace>
    # go to logs-wireguard.log-<namespace>, the namespace kept; status documents stay
    processors = [{"reroute": {"tag": "wireguard.log", "if": "ctx.event?.dataset == 'wireguard.log'", "dataset": "wireguard.log"}}]
    shipped = {
        "event": {"module": "wireguard", "dataset": "wireguard.log"},
        "data_stream": {"type": "logs", "dataset": "wireguard.status", "namespace": "prod"},
    }
    result = doc(processors, shipped, "logs-wireguard.status-prod")
    assert data_stream(result) == ("logs-wireguard.log-prod", {"type": "logs", "dataset": "wireguard.log", "namespace": "prod"})
    assert result["_source"]["event"] == {"module": "wireguard", "dataset": "wireguard.log"}
    status = {
        "event": {"module": "wireguard", "dataset": "wireguard.status"},
        "data_stream": {"type": "logs", "dataset": "wireguard.status", "namespace": "prod"},
    }
    assert doc(processors, status, "logs-wireguard.status-prod")["_index"] == "logs-wireguard.status-prod"
