"""The error bodies of pipelines Elasticsearch refuses, and of `_simulate` requests it refuses.

Each test names what it follows: server's ConfigurationUtils (readProcessorConfigs,
readProcessor, newConfigurationException), Pipeline.create, ElasticsearchException's
toXContent (root_cause, caused_by, suppressed), SimulatePipelineRequest.parseDocs, and the
REST suites 20_crud.yml, 50_on_failure.yml, 90_simulate.yml, 120_grok.yml,
200_dissect_processor.yml.
"""

from __future__ import annotations

from typing import Any

import pytest

from wgsiem.ingest.build import Builder
from wgsiem.ingest.errors import PipelineConfigError
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def refused(pipeline: Any, docs: Any = None, status: int = 400) -> dict[str, Any]:
    body = {"pipeline": pipeline, "docs": docs if docs is not None else [{"_source": {}}]}
    answer_status, response = simulate(body, PipelineSet())
    assert answer_status == status and response["status"] == status, response
    assert set(response) == {"error", "status"}
    return response["error"]


def processors(*configs: Any) -> dict[str, Any]:
    return {"processors": list(configs)}


def test_every_failing_processor_is_reported_the_later_ones_suppressed() -> None:
    # ConfigurationUtils.readProcessorConfigs builds them all and throws the first failure with
    # ExceptionsHelper.useOrSuppress; toXContent prints "suppressed" in the root cause too
    err = refused(processors({"set": {"field": "a"}}, {"set": {"value": 1}}, {"sett": {}}))
    assert err["reason"] == "[value] required property is missing"
    suppressed = [(s["reason"], s["processor_type"]) for s in err["suppressed"]]
    assert suppressed == [("[field] required property is missing", "set"), ("No processor type exists with name [sett]", "sett")]
    assert err["root_cause"][0]["suppressed"] == err["suppressed"]


def test_one_entry_with_two_keys_is_two_processors() -> None:
    # readProcessorConfigs reads every entry of each processor map
    status, response = simulate(
        {"pipeline": processors({"set": {"field": "a", "value": 1}, "append": {"field": "b", "value": 2}}), "docs": [{"_source": {}}]},
        PipelineSet(),
    )
    assert status == 200 and response["docs"][0]["doc"]["_source"] == {"a": 1, "b": [2]}


def test_processor_entries_that_are_not_objects() -> None:
    # readProcessorConfigs iterates each entry as a map: a string is Java's ClassCastException
    # and null its NullPointerException, both let through (HTTP 500); a null processor config
    # and a non-map one are parse_exceptions naming the processor type
    err = refused(processors("set"), status=500)
    assert err["type"] == "class_cast_exception" and "java.lang.String cannot be cast to class java.util.Map" in err["reason"]
    assert refused(processors(None), status=500)["type"] == "null_pointer_exception"
    err = refused(processors({"set": None}))
    assert (err["reason"], err["processor_type"]) == ("processor config cannot be [null]", "set")
    err = refused(processors({"set": 3}))
    assert (err["reason"], err["processor_type"]) == ("property isn't a map, but of type [java.lang.Integer]", "set")


def test_common_options_are_read_without_the_processor_type() -> None:
    # ConfigurationUtils.readProcessor reads tag and ignore_failure with no type, description
    # with the tag only; the processor's own options carry type and tag
    err = refused(processors({"set": {"tag": 5, "field": "a", "value": 1}}))
    assert err["root_cause"][0] == {
        "type": "parse_exception",
        "reason": "[tag] property isn't a string, but of type [java.lang.Integer]",
        "property_name": "tag",
    }
    err = refused(processors({"set": {"tag": "t", "description": [], "field": "a", "value": 1}}))
    assert err["processor_tag"] == "t" and "processor_type" not in err and err["property_name"] == "description"
    err = refused(processors({"set": {"ignore_failure": "yes", "field": "a", "value": 1}}))
    assert err["reason"] == "[ignore_failure] property isn't a boolean, but of type [java.lang.String]" and "processor_type" not in err
    err = refused(processors({"set": {"tag": "t", "field": 1, "value": 1}}))
    assert (err["processor_type"], err["processor_tag"], err["property_name"]) == ("set", "t", "field")


def test_unknown_processor_names_its_tag() -> None:
    # readProcessor: "No processor type exists with name [x]" with the type and the tag
    err = refused(processors({"sett": {"tag": "mine"}}))
    assert err["root_cause"][0] == {
        "type": "parse_exception",
        "reason": "No processor type exists with name [sett]",
        "processor_type": "sett",
        "processor_tag": "mine",
    }


def test_empty_on_failure_of_a_processor_and_of_the_pipeline() -> None:
    # 50_on_failure.yml: "[on_failure] processors list cannot be empty" with type, tag and
    # property; the pipeline's own: Pipeline.create's message, nothing else
    err = refused({**processors({"fail": {"tag": "emptyfail", "message": "_message", "on_failure": []}}), "on_failure": [{"set": {"field": "x", "value": 1}}]})
    assert err["root_cause"][0] == {
        "type": "parse_exception",
        "reason": "[on_failure] processors list cannot be empty",
        "processor_type": "fail",
        "processor_tag": "emptyfail",
        "property_name": "on_failure",
    }
    err = refused({**processors({"set": {"field": "foo", "value": "_message"}}), "on_failure": []})
    assert err["root_cause"][0] == {"type": "parse_exception", "reason": "pipeline [_simulate_pipeline] cannot have an empty on_failure option defined"}


def test_pipeline_keys_are_read_as_pipeline_create_reads_them() -> None:
    # Pipeline.create: version with readIntProperty, _meta a map, processors before the unknown
    # keys check
    assert refused({**processors(), "version": "x"})["reason"] == "[version] property cannot be converted to an int [x]"
    assert refused({**processors(), "version": 2**40})["reason"] == f"[version] property cannot be converted to an int [{2**40}]"
    assert refused({**processors(), "_meta": "m"})["reason"] == "[_meta] property isn't a map, but of type [java.lang.String]"
    err = refused({**processors({"set": {}}), "bogus": 1})
    assert err["reason"] == "[field] required property is missing"
    err = refused({**processors(), "bogus": 1})
    assert err["reason"] == "pipeline [_simulate_pipeline] doesn't support one or more provided configuration parameters [bogus]"
    assert refused({"description": "d"})["reason"] == "[processors] required property is missing"
    status, _ = simulate({"pipeline": {**processors(), "version": "7", "deprecated": True}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 200


def test_factory_exceptions_are_wrapped_as_readprocessor_wraps_them() -> None:
    # 200_dissect_processor.yml "Test fail to create dissect processor": DissectParser's exception
    # escapes the factory and readProcessor wraps it (type `exception`, cause's toString)
    err = refused(processors({"dissect": {"field": "message", "pattern": "bad pattern"}}))
    assert err["type"] == "exception" and err["processor_type"] == "dissect"
    assert err["reason"].startswith("org.elasticsearch.dissect.DissectException$PatternParse: Unable to parse pattern: bad pattern Reason: ")
    assert err["caused_by"]["type"] == "pattern_parse"


def test_grok_pattern_errors_name_the_patterns() -> None:
    # 120_grok.yml "Test simulate with invalid GROK pattern"
    err = refused(processors({"grok": {"field": "field", "patterns": ["%{INVALID_PATTERN:field}"]}}))
    assert err["reason"] == (
        "[patterns] Invalid regex pattern found in: [%{INVALID_PATTERN:field}]. Unable to find pattern [INVALID_PATTERN] in Grok's pattern dictionary"
    )
    assert (err["property_name"], err["processor_type"]) == ("patterns", "grok")


def test_nested_processor_errors_take_the_outer_type() -> None:
    # readProcessor wraps what a factory throws with its own type and tag: a foreach whose
    # inner processor is invalid reports the foreach, keeping the inner property
    err = refused(processors({"foreach": {"tag": "loop", "field": "l", "processor": {"set": {"field": "a"}}}}))
    assert (err["processor_type"], err["processor_tag"], err["property_name"]) == ("foreach", "loop", "value")
    # on_failure processors are built outside that wrapping: theirs keep their own type
    err = refused(processors({"set": {"field": "a", "value": 1, "on_failure": [{"uppercase": {}}]}}))
    assert (err["processor_type"], err["property_name"]) == ("uppercase", "field")


def test_docs_errors() -> None:
    # SimulatePipelineRequest.parseDocs: IllegalArgumentExceptions for the docs list, parse
    # exceptions for a document's fields
    err = refused(processors(), docs=[])
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "must specify at least one document in [docs]")
    err = refused(processors(), docs=["x"])
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "malformed [docs] section, should include an inner object")
    assert refused(processors(), docs=[{}])["reason"] == "[_source] required property is missing"
    assert refused(processors(), docs=[{"_source": {}, "_index": 1.5}])["reason"] == "[_index] property isn't a string or int, but of type [java.lang.Double]"
    err = refused(processors(), docs=[{"_source": {}, "_version": None}])
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "[_version] cannot be null")
    status, response = simulate({"pipeline": processors(), "docs": [{"_source": {}, "_index": 7, "_id": 8, "_version": "12"}]}, PipelineSet())
    doc = response["docs"][0]["doc"]
    assert status == 200 and (doc["_index"], doc["_id"], doc["_version"]) == ("7", "8", "12")


def test_simulate_by_id_of_a_pipeline_that_did_not_build_answers_its_error() -> None:
    # A pipeline Elasticsearch refused at PUT was never stored: its id answers that PUT's error
    # (the engine's reading of a --pipeline-dir pipeline that does not build)
    pipelines = PipelineSet()
    with pytest.raises(PipelineConfigError) as refusal:
        Builder(pipelines).pipeline("broken", processors({"set": {"field": "a"}}))
    pipelines.failed["broken"] = refusal.value
    status, response = simulate({"pipeline_id": "broken", "docs": [{"_source": {}}]}, pipelines)
    assert status == 400 and response["error"]["reason"] == "[value] required property is missing"
    status, response = simulate({"pipeline_id": "never", "docs": [{"_source": {}}]}, pipelines)
    assert status == 400 and response["error"]["type"] == "illegal_argument_exception"
    assert response["error"]["reason"] == "pipeline [never] does not exist"
