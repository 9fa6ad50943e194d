"""Processors run through the offline engine's `_simulate`, for the processor tests: what
the document became, the error it failed with, or the 400 its definition gets."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.build import Builder
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate

Processors = dict[str, Any] | list[dict[str, Any]]  # one processor, or a pipeline's list


def stored_pipelines(**bodies: dict[str, Any]) -> PipelineSet:
    """Pipelines by id, built with one another in reach, as `--pipeline-dir` gives them."""
    pipelines = PipelineSet()
    builder = Builder(pipelines)
    for pipeline_id, body in bodies.items():
        pipelines.add(builder.pipeline(pipeline_id, body))
    return pipelines


def results(processors: Processors, *sources: dict[str, Any], **simulate_options: Any) -> list[dict[str, Any]]:
    listed = processors if isinstance(processors, list) else [processors]
    body = {"pipeline": {"processors": listed}, "docs": [{"_index": "i", "_id": str(n), "_source": s} for n, s in enumerate(sources, 1)]}
    simulate_options.setdefault("pipelines", PipelineSet())
    status, response = simulate(body, **simulate_options)
    assert status == 200, response
    return response["docs"]


def answer(processors: Processors, source: dict[str, Any], **simulate_options: Any) -> dict[str, Any]:
    """The one document's entry of the answer: `doc`, `error`, or None when dropped."""
    (result,) = results(processors, source, **simulate_options)
    return result


def document(processors: Processors, source: dict[str, Any], **simulate_options: Any) -> dict[str, Any]:
    """The `doc` of the answer: `_source`, `_index` and the rest of the metadata."""
    result = answer(processors, source, **simulate_options)
    assert "doc" in result, result
    return result["doc"]


def output(processors: Processors, source: dict[str, Any], **simulate_options: Any) -> dict[str, Any]:
    return document(processors, source, **simulate_options)["_source"]


def error(processors: Processors, source: dict[str, Any], **simulate_options: Any) -> dict[str, Any]:
    """The document's whole error object."""
    result = answer(processors, source, **simulate_options)
    assert "error" in result, result
    return result["error"]


def failure(processors: Processors, source: dict[str, Any]) -> tuple[str, str]:
    """(Elasticsearch exception type, reason) of the document's error."""
    found = error(processors, source)
    return found["type"], found["reason"]


def config_error(processors: Processors) -> dict[str, Any]:
    """The error object of the 400 answer to a pipeline holding these processors."""
    listed = processors if isinstance(processors, list) else [processors]
    status, response = simulate({"pipeline": {"processors": listed}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400 and response["status"] == 400, response
    return response["error"]
