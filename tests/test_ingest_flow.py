"""pipeline, foreach, terminate, fail, drop and on_failure, with and without `verbose`.

Each test names what it follows: server's IngestDocument.executePipeline, Pipeline,
CompoundProcessor, TrackingResultProcessor and SimulateProcessorResult; the processors of
modules/ingest-common (PipelineProcessor, ForEachProcessor, TerminateProcessor); and the
REST suites 210_pipeline_processor.yml, 330_terminate_processor.yml, 80_foreach.yml,
90_simulate.yml, 50_on_failure.yml.
"""

from __future__ import annotations

from typing import Any

from tests.support.ingest import stored_pipelines as stored
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def answer(processors: list[dict[str, Any]], doc: dict[str, Any] | None = None, *, verbose: bool = False, pipelines: PipelineSet | None = None) -> Any:
    body = {"pipeline": {"processors": processors}, "docs": [{"_index": "i", "_id": "1", "_source": doc or {}}]}
    status, response = simulate(body, pipelines or PipelineSet(), verbose=verbose)
    assert status == 200, response
    return response["docs"][0]


def results(processors: list[dict[str, Any]], doc: dict[str, Any] | None = None, **kw: Any) -> list[dict[str, Any]]:
    return answer(processors, doc, verbose=True, **kw)["processor_results"]


# --- pipeline processor ---------------------------------------------------------------


def test_missing_pipeline_is_an_illegal_state_without_verbose() -> None:
    # PipelineProcessor: IllegalStateException; 210_pipeline_processor.yml "with templating"
    err = answer([{"pipeline": {"name": "{{org}}-department"}}], {"org": "legal"})["error"]
    assert err["type"] == "illegal_state_exception"
    assert err["reason"] == "Pipeline processor configured for non-existent pipeline [legal-department]"
    assert answer([{"pipeline": {"name": "nope", "ignore_missing_pipeline": True}}], {"a": 1})["doc"]["_source"] == {"a": 1}


def test_missing_pipeline_in_verbose_is_the_steps_error_not_a_success() -> None:
    # TrackingResultProcessor: the missing pipeline is recorded as an IllegalArgumentException
    # (90_simulate.yml "Test simulate with provided pipeline that does not exist"); with
    # ignore_missing_pipeline the result carries the error and the document (error_ignored)
    (only,) = results([{"pipeline": {"name": "____pipeline_doesnot_exist___"}}])
    assert only["status"] == "error" and only["processor_type"] == "pipeline"
    assert only["error"]["root_cause"][0] == {
        "type": "illegal_argument_exception",
        "reason": "Pipeline processor configured for non-existent pipeline [____pipeline_doesnot_exist___]",
    }
    ignored, after = results([{"pipeline": {"name": "nope", "ignore_missing_pipeline": True}}, {"set": {"field": "a", "value": 1}}])
    assert ignored["status"] == "error_ignored" and ignored["ignored_error"]["error"]["type"] == "illegal_argument_exception"
    assert ignored["doc"]["_source"] == {} and after["doc"]["_source"] == {"a": 1}


def test_missing_pipeline_in_verbose_still_reaches_on_failure() -> None:
    # The recorded error is then handled as any processor failure (CompoundProcessor)
    steps = [{"pipeline": {"name": "nope", "on_failure": [{"set": {"field": "why", "value": "{{_ingest.on_failure_message}}"}}]}}]
    first, handler = results(steps)
    assert first["status"] == "error"
    assert handler["doc"]["_source"]["why"] == "Pipeline processor configured for non-existent pipeline [nope]"


def test_cycle_is_a_graph_structure_exception() -> None:
    # IngestDocument.executePipeline: GraphStructureException (Elasticsearch 8.13 on)
    cycle = stored(outer={"processors": [{"pipeline": {"name": "inner"}}]}, inner={"processors": [{"pipeline": {"name": "outer"}}]})
    err = answer([{"pipeline": {"name": "outer"}}], pipelines=cycle)["error"]
    assert err["root_cause"][0] == {"type": "graph_structure_exception", "reason": "Cycle detected for pipeline: outer"}


def test_cycle_in_verbose_is_the_first_pipeline_steps_only_result() -> None:
    # TrackingResultProcessor's cycle check runs the called pipeline on a copy first; 90_simulate.yml
    # "Test verbose simulate with Pipeline Processor with Circular Pipelines": one result
    cycle = stored(outer={"processors": [{"set": {"field": "x", "value": 1}}, {"pipeline": {"name": "inner"}}]}, inner={"processors": [{"pipeline": {"name": "outer"}}]})
    (only,) = results([{"pipeline": {"name": "outer"}}], pipelines=cycle)
    assert only["status"] == "error" and only["error"]["reason"] == "Cycle detected for pipeline: outer"
    ignored, after = results([{"pipeline": {"name": "outer", "ignore_failure": True}}, {"set": {"field": "y", "value": 2}}], pipelines=cycle)
    assert ignored["status"] == "error_ignored" and ignored["doc"]["_source"] == {}
    assert after["doc"]["_source"] == {"y": 2}  # the copy's changes never reach the document


def test_nested_pipeline_limit() -> None:
    # IngestDocument.MAX_PIPELINES: the 101st nested pipeline fails, before any cycle check
    bodies = {f"p{i}": {"processors": [{"pipeline": {"name": f"p{i + 1}"}}]} for i in range(101)}
    bodies["p101"] = {"processors": [{"set": {"field": "deep", "value": True}}]}
    err = answer([{"pipeline": {"name": "p0"}}], pipelines=stored(**bodies))["error"]
    assert err["type"] == "graph_structure_exception"
    assert err["reason"] == "Too many nested pipelines. Cannot have more than 100 nested pipelines"


def test_empty_pipeline_is_skipped_without_touching_ingest_metadata() -> None:
    # IngestDocument.executePipeline: a pipeline without processors returns at once (so not even
    # its on_failure runs, and _ingest.pipeline stays the caller's)
    pipelines = stored(empty={"processors": [], "on_failure": [{"set": {"field": "f", "value": 1}}]})
    out = answer([{"pipeline": {"name": "empty"}}, {"set": {"field": "p", "value": "{{_ingest.pipeline}}"}}], pipelines=pipelines)
    assert out["doc"]["_source"] == {"p": "_simulate_pipeline"}


def test_ignored_failure_inside_a_called_pipeline_adds_no_result_for_the_pipeline_step() -> None:
    # TrackingResultProcessor: a pipeline step's failure is recorded by the failing processor
    # inside; the pipeline step itself has its one success result
    pipelines = stored(inner={"processors": [{"fail": {"message": "boom"}}]})
    steps = [{"pipeline": {"name": "inner", "ignore_failure": True}}, {"set": {"field": "a", "value": 1}}]
    assert [(r["processor_type"], r["status"]) for r in results(steps, pipelines=pipelines)] == [
        ("pipeline", "success"),
        ("fail", "error"),
        ("set", "success"),
    ]


def test_on_failure_metadata_names_the_pipeline_and_puts_a_null_tag() -> None:
    # CompoundProcessor.putFailureMetadata: the tag is put even when null; pipeline_origin is
    # the innermost pipeline
    steps = [{"rename": {"field": "a", "target_field": "b", "on_failure": [{"set": {"field": "seen", "value": 1}}]}}]
    _, handler = results(steps)
    ingest = handler["doc"]["_ingest"]
    assert ingest["on_failure_processor_tag"] is None and "on_failure_processor_tag" in ingest
    assert ingest["on_failure_processor_type"] == "rename" and ingest["on_failure_pipeline"] == "_simulate_pipeline"
    assert ingest["on_failure_message"] == "field [a] doesn't exist"


# --- terminate ------------------------------------------------------------------------


def test_terminate_ends_its_pipeline_only() -> None:
    # 330_terminate_processor.yml: the rest of the pipeline is skipped; a calling pipeline goes on
    inner = {"processors": [{"append": {"field": "steps", "value": "before"}}, {"terminate": {"if": "ctx.number < 50"}}, {"append": {"field": "steps", "value": "after"}}]}
    pipelines = stored(inner=inner)
    outer = [{"pipeline": {"name": "inner"}}, {"append": {"field": "steps", "value": "outer"}}]
    assert answer(outer, {"number": 40, "steps": []}, pipelines=pipelines)["doc"]["_source"]["steps"] == ["before", "outer"]
    assert answer(outer, {"number": 60, "steps": []}, pipelines=pipelines)["doc"]["_source"]["steps"] == ["before", "after", "outer"]


def test_terminate_in_verbose_and_its_options() -> None:
    # TerminateProcessor: a success result; the factory takes no option of its own
    first, terminated = results([{"set": {"field": "a", "value": 1}}, {"terminate": {"tag": "t"}}, {"set": {"field": "b", "value": 1}}])
    assert terminated == {"processor_type": "terminate", "status": "success", "tag": "t", "doc": terminated["doc"]}
    assert terminated["doc"]["_source"] == {"a": 1}
    status, response = simulate({"pipeline": {"processors": [{"terminate": {"x": 1}}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400 and response["error"]["reason"] == "processor [terminate] doesn't support one or more provided configuration parameters [x]"


def test_terminate_skips_a_later_step_with_on_failure_even_in_a_handler_list() -> None:
    # CompoundProcessor.innerExecute checks isTerminate, and a step with on_failure is a
    # CompoundProcessor of its own; a plain handler step is not
    handlers = [{"terminate": {}}, {"set": {"field": "plain", "value": 1}}, {"set": {"field": "wrapped", "value": 1, "ignore_failure": True}}]
    out = answer([{"fail": {"message": "x", "on_failure": handlers}}])["doc"]["_source"]
    assert out == {"plain": 1}


# --- foreach --------------------------------------------------------------------------


def test_foreach_list_and_map_leave_value_and_key_null() -> None:
    # ForEachProcessor puts the previous _value/_key back (null included: HashMap.put), so
    # _ingest shows them as null afterwards; 80_foreach.yml for the list
    out = answer([{"foreach": {"field": "values", "processor": {"uppercase": {"field": "_ingest._value"}}}}], {"values": ["foo", "bar", "baz"]})
    assert out["doc"]["_source"]["values"] == ["FOO", "BAR", "BAZ"]
    assert out["doc"]["_ingest"]["_value"] is None
    renamed = answer([{"foreach": {"field": "m", "processor": {"set": {"field": "_ingest._key", "value": "{{_ingest._key}}_x"}}}}], {"m": {"a": 1, "b": 2}})
    assert renamed["doc"]["_source"]["m"] == {"a_x": 1, "b_x": 2}
    assert renamed["doc"]["_ingest"]["_key"] is None


def test_foreach_drops_map_entries_whose_key_is_blank() -> None:
    # ForEachProcessor.innerExecuteMap keeps an entry only when Strings.hasText(_key)
    out = answer([{"foreach": {"field": "m", "processor": {"set": {"field": "_ingest._key", "value": " ", "if": "ctx.m.a == 1"}}}}], {"m": {"a": 1}})
    assert out["doc"]["_source"]["m"] == {}


def test_foreach_failure_leaves_the_list_as_it_was() -> None:
    # ForEachProcessor sets the collected values only after the last element: a failure on
    # the way leaves the field unchanged for on_failure
    steps = [{"foreach": {"field": "l", "processor": {"uppercase": {"field": "_ingest._value"}}, "on_failure": [{"set": {"field": "failed", "value": True}}]}}]
    out = answer(steps, {"l": ["a", 5]})["doc"]["_source"]
    assert out == {"l": ["a", 5], "failed": True}


def test_foreach_null_and_wrong_type() -> None:
    # ForEachProcessor's two messages, and ignore_missing for null and missing alike
    step = {"foreach": {"field": "l", "processor": {"uppercase": {"field": "_ingest._value"}}}}
    assert answer([step], {"l": None})["error"]["reason"] == "field [l] is null, cannot loop over its elements."
    assert answer([step], {"l": 5})["error"]["reason"] == "field [l] of type [java.lang.Integer] cannot be cast to a list or map"
    ignoring = {"foreach": {**step["foreach"], "ignore_missing": True}}
    assert answer([ignoring], {"l": None})["doc"]["_source"] == {"l": None}
    assert answer([ignoring], {})["doc"]["_source"] == {}


def test_foreach_in_verbose_is_one_result() -> None:
    # TrackingResultProcessor.decorate does not look inside a foreach: its processor runs undecorated
    (only,) = results([{"foreach": {"field": "l", "processor": {"uppercase": {"field": "_ingest._value"}}}}], {"l": ["a", "b"]})
    assert only["processor_type"] == "foreach" and only["doc"]["_source"] == {"l": ["A", "B"]}


# --- fail and drop --------------------------------------------------------------------


def test_fail_message_template_and_type() -> None:
    # FailProcessor: the rendered message, as fail_processor_exception; 60_fail.yml with on_failure
    err = answer([{"fail": {"message": "bad {{who}}"}}], {"who": "doc"})["error"]
    assert err["type"] == "fail_processor_exception" and err["reason"] == "bad doc"
    out = answer([{"fail": {"message": "error", "on_failure": [{"set": {"field": "error_message", "value": "fail_processor_ran"}}]}}])
    assert out["doc"]["_source"] == {"error_message": "fail_processor_ran"}


def test_drop_in_on_failure_drops_the_document() -> None:
    # 220_drop_processor.yml "Test Drop Processor On Failure": the answer for it is null
    assert answer([{"fail": {"message": "failed", "on_failure": [{"drop": {}}]}}], {"foo": "bar"}) is None
