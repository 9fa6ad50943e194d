"""`POST _ingest/pipeline/_simulate`, offline: the request body in, Elasticsearch's answer out."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from wgsiem.ingest.build import Builder
from wgsiem.ingest.document import INT_MAX, INT_MIN, IngestDocument, java_type
from wgsiem.ingest.errors import DropDocument, IngestError, PipelineConfigError
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import SIMULATE_PIPELINE_ID, Pipeline, PipelineSet

MATCH_ANY_VERSION = -3  # what Elasticsearch puts in _version when the request gives none
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")


def simulate(
    body: Any,
    pipelines: PipelineSet,
    *,
    verbose: bool = False,
    pipeline_id: str | None = None,
    geoip_dirs: list[Path] | None = None,
    user_agent_dirs: list[Path] | None = None,
    now: datetime | None = None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body). A request Elasticsearch refuses gets its error body and
    status (400; 500 where ES lets a Java exception through)."""
    try:
        pipeline = _pipeline(body, pipelines, pipeline_id, Builder(pipelines, geoip_dirs, user_agent_dirs))
        docs = _documents(body, now)
    except PipelineConfigError as error:
        return error.status, error.body()
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


def _pipeline(body: Any, pipelines: PipelineSet, pipeline_id: str | None, builder: Builder) -> Pipeline:
    if not isinstance(body, dict):
        raise PipelineConfigError(f"request body must be an object, not [{java_type(body)}]")
    pipeline_id = pipeline_id or body.get("pipeline_id")
    if pipeline_id is not None:
        if "pipeline" in body:
            raise PipelineConfigError("give either [pipeline] or [pipeline_id], not both")
        failed = pipelines.failed.get(pipeline_id)
        if failed is not None:
            raise failed  # the answer its PUT would have had: it was never stored
        if pipeline_id not in pipelines:
            raise PipelineConfigError(f"pipeline [{pipeline_id}] does not exist", error_type="illegal_argument_exception")
        return pipelines[pipeline_id]
    definition = Options(None, body).map("pipeline")
    return builder.pipeline(SIMULATE_PIPELINE_ID, definition)


def _documents(body: dict[str, Any], now: datetime | None) -> list[IngestDocument]:
    """SimulatePipelineRequest.parseDocs."""
    unknown = sorted(set(body) - {"pipeline", "pipeline_id", "docs"})
    if unknown:
        raise PipelineConfigError(f"unknown request keys [{', '.join(unknown)}]")
    docs = Options(None, body).list("docs")
    if not docs:
        raise PipelineConfigError("must specify at least one document in [docs]", error_type="illegal_argument_exception")
    out = []
    for entry in docs:
        if not isinstance(entry, dict):
            raise PipelineConfigError("malformed [docs] section, should include an inner object", error_type="illegal_argument_exception")
        read = Options(None, entry)
        ctx = copy.deepcopy(read.map("_source"))
        ctx["_index"] = _string_or_int(read, "_index", "_index")
        ctx["_id"] = _string_or_int(read, "_id", "_id")
        routing = _string_or_int(read, "_routing", None)
        if routing is not None:
            ctx["_routing"] = routing
        ctx["_version"] = _version(entry)
        for key in ("_version_type", "_if_seq_no", "_if_primary_term"):
            if entry.get(key) is not None:
                ctx[key] = entry[key]
        out.append(IngestDocument(ctx, now=now))
    return out


def _string_or_int(read: Options, key: str, default: str | None) -> str | None:
    """readStringOrIntProperty: a string, or an int (not a long, nor anything else) as text."""
    value = read.raw(key, None)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX:
        return str(value)
    raise read.error(f"property isn't a string or int, but of type [{java_type(value)}]", key)


def _version(entry: dict[str, Any]) -> int:
    """`_version`, when the key is there: a string or a long, read with Long.valueOf."""
    if "_version" not in entry:
        return MATCH_ANY_VERSION
    value = entry["_version"]
    if value is None:
        raise PipelineConfigError("[_version] cannot be null", error_type="illegal_argument_exception")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PipelineConfigError(f"property isn't a string or long, but of type [{java_type(value)}]", property_name="_version")
    text = str(value)
    if not _JAVA_LONG.fullmatch(text) or not -(2**63) <= int(text) < 2**63:
        raise PipelineConfigError(f'For input string: "{text}"', error_type="number_format_exception")
    return int(text)
