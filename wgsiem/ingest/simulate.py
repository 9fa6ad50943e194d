"""`POST _ingest/pipeline/_simulate`, offline: the request body in, Elasticsearch's answer out."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from wgsiem.ingest.build import Builder
from wgsiem.ingest.document import IngestDocument, java_type
from wgsiem.ingest.errors import DropDocument, IngestError, PipelineConfigError
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import SIMULATE_PIPELINE_ID, Pipeline, PipelineSet

_DOC_METADATA = ("_routing", "_version", "_version_type", "_if_seq_no", "_if_primary_term")
MATCH_ANY_VERSION = -3  # what Elasticsearch puts in _version when the request gives none


def simulate(
    body: Any,
    pipelines: PipelineSet,
    *,
    verbose: bool = False,
    pipeline_id: str | None = None,
    geoip_dirs: list[Path] | None = None,
    now: datetime | None = None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body). 400 answers carry Elasticsearch's error body."""
    try:
        pipeline = _pipeline(body, pipelines, pipeline_id, geoip_dirs)
        docs = _documents(body, now)
    except PipelineConfigError as error:
        return 400, error.body()
    return 200, {"docs": [run_one(pipeline, doc, verbose) for doc in docs]}


def run_one(pipeline: Pipeline, doc: IngestDocument, verbose: bool) -> dict[str, Any] | None:
    if verbose:
        trace: list[dict[str, Any]] = []
        try:
            pipeline.execute(doc, trace)
        except (IngestError, DropDocument):
            pass  # the trace already ends with the failing (or dropping) processor
        return {"processor_results": trace}
    try:
        pipeline.execute(doc)
    except DropDocument:
        return None
    except IngestError as error:
        return {"error": error.body()}
    return {"doc": doc.to_simulate()}


def _pipeline(body: Any, pipelines: PipelineSet, pipeline_id: str | None, geoip_dirs: list[Path] | None) -> Pipeline:
    if not isinstance(body, dict):
        raise PipelineConfigError(f"request body must be an object, not [{java_type(body)}]")
    pipeline_id = pipeline_id or body.get("pipeline_id")
    if pipeline_id is not None:
        if "pipeline" in body:
            raise PipelineConfigError("give either [pipeline] or [pipeline_id], not both")
        if pipeline_id not in pipelines:
            raise PipelineConfigError(f"pipeline [{pipeline_id}] does not exist", error_type="illegal_argument_exception")
        return pipelines[pipeline_id]
    definition = Options(None, body).map("pipeline")
    return Builder(pipelines, geoip_dirs).pipeline(SIMULATE_PIPELINE_ID, definition)


def _documents(body: dict[str, Any], now: datetime | None) -> list[IngestDocument]:
    unknown = sorted(set(body) - {"pipeline", "pipeline_id", "docs"})
    if unknown:
        raise PipelineConfigError(f"unknown request keys [{', '.join(unknown)}]")
    docs = Options(None, body).list("docs")
    if not docs:
        raise PipelineConfigError("must specify at least one document in [docs]")
    out = []
    for entry in docs:
        if not isinstance(entry, dict):
            raise PipelineConfigError(f"a document must be an object, not [{java_type(entry)}]", property_name="docs")
        ctx = copy.deepcopy(Options(None, entry).map("_source"))
        ctx["_index"] = _text(entry, "_index", "_index")
        ctx["_id"] = _text(entry, "_id", "_id")
        ctx["_version"] = entry.get("_version", MATCH_ANY_VERSION)
        for key in _DOC_METADATA:
            if key != "_version" and entry.get(key) is not None:
                ctx[key] = entry[key]
        out.append(IngestDocument(ctx, now=now))
    return out


def _text(entry: dict[str, Any], key: str, default: str) -> str:
    value = entry.get(key, default)
    return value if isinstance(value, str) else str(value)
