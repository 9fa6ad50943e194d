"""One processor run through the offline engine's `_simulate`, for the processor tests:
what the document became, the error it failed with, or the 400 its definition gets."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def results(processor: dict[str, Any], *sources: dict[str, Any]) -> list[dict[str, Any]]:
    body = {"pipeline": {"processors": [processor]}, "docs": [{"_index": "index", "_id": f"id{i}", "_source": s} for i, s in enumerate(sources)]}
    status, response = simulate(body, PipelineSet())
    assert status == 200, response
    return response["docs"]


def document(processor: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The `doc` of the answer: `_source`, `_index` and the rest of the metadata."""
    (result,) = results(processor, source)
    assert "doc" in result, result
    return result["doc"]


def output(processor: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    return document(processor, source)["_source"]


def failure(processor: dict[str, Any], source: dict[str, Any]) -> tuple[str, str]:
    """(Elasticsearch exception type, reason) of the document's error."""
    (result,) = results(processor, source)
    assert "error" in result, result
    return result["error"]["type"], result["error"]["reason"]


def config_error(processor: dict[str, Any]) -> dict[str, Any]:
    """The error object of the 400 answer to a pipeline holding this processor."""
    status, response = simulate({"pipeline": {"processors": [processor]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400, response
    return response["error"]
