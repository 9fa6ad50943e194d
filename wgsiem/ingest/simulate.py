"""`POST _ingest/pipeline/_simulate`, offline: the request body in, Elasticsearch's answer out."""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from wgsiem.ingest.build import Builder
from wgsiem.ingest.document import INT_MAX, INT_MIN, IngestDocument, java_type
from wgsiem.ingest.errors import DropDocument, IngestError, PipelineConfigError
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import SIMULATE_PIPELINE_ID, Pipeline, PipelineSet

MATCH_ANY_VERSION = -3  # what Elasticsearch puts in _version when the request gives none
RECURSION_LIMIT = 10_000
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
    with deep_documents():
        try:
            pipeline = _pipeline(body, pipelines, pipeline_id, Builder(pipelines, geoip_dirs, user_agent_dirs))
            docs = _documents(body, now)
        except PipelineConfigError as error:
            return error.status, error.body()
        except RecursionError:
            # Elasticsearch's parser (Jackson's StreamReadConstraints) refuses more than 1000 levels.
            refused = PipelineConfigError("the request nests too deeply (more than 1000 levels)", error_type="x_content_parse_exception")
            return refused.status, refused.body()
        return 200, {"docs": [_run_guarded(pipeline, doc, verbose) for doc in docs]}


@contextmanager
def deep_documents() -> Iterator[None]:
    """Room for documents as deep as Elasticsearch's parser takes (1000 levels): copying,
    walking and writing them costs a few Python frames a level, more than the default limit."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def _run_guarded(pipeline: Pipeline, doc: IngestDocument, verbose: bool) -> dict[str, Any] | None:
    """run_one, with the engine's stack limit as the document's clear failure: Elasticsearch
    would overflow its own stack there (a StackOverflowError), only deeper."""
    try:
        return run_one(pipeline, doc, verbose)
    except RecursionError:
        reason = "the document nests too deeply for the offline engine's stack (StackOverflowError in Elasticsearch)"
        return {"error": IngestError(reason, "stack_overflow_error").body()}


def run_one(pipeline: Pipeline, doc: IngestDocument, verbose: bool) -> dict[str, Any] | None:
    if verbose:
        trace: list[dict[str, Any]] = []
        try:
            pipeline.execute(doc, trace)
        except (IngestError, DropDocument):
            pass  # the trace already ends with the failing (or dropping) processor
        for i, result in enumerate(trace):
            if "doc" in result and _references_itself(result["doc"]):
                failed = {k: v for k, v in result.items() if k not in ("doc", "status")}
                return {"processor_results": [*trace[:i], {**failed, "status": "error", "error": _self_referencing(pipeline, doc)}]}
        return {"processor_results": trace}
    try:
        pipeline.execute(doc)
    except DropDocument:
        return None
    except IngestError as error:
        return {"error": error.body()}
    if _references_itself(doc.ctx):
        return {"error": _self_referencing(pipeline, doc)}
    return {"doc": doc.to_simulate()}


def _references_itself(value: Any) -> bool:
    """CollectionUtils.ensureNoSelfReferences: a map or list found inside itself (a script
    aliased two fields, then a rename put one inside the other). Shared values that are not
    their own ancestors are fine."""
    path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, leaving = stack.pop()
        if leaving:
            path.discard(id(item))
            continue
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if id(item) in path:
            return True
        path.add(id(item))
        stack.append((item, True))
        stack.extend((child, False) for child in children if isinstance(child, (dict, list)))
    return False


def _self_referencing(pipeline: Pipeline, doc: IngestDocument) -> dict[str, Any]:
    """What IngestService answers for such a document once its pipeline has run: its source
    cannot be written (_simulate itself has no answer: copying the document for the response
    overflows the stack)."""
    meta = doc.metadata()
    reason = (
        f"Failed to generate the source document for ingest pipeline [{pipeline.id}] for document "
        f"[{meta.get('_index')}/{meta.get('_id')}]"
    )
    cause = {"type": "illegal_argument_exception", "reason": "Iterable object is self-referencing itself"}
    return IngestError(reason, caused_by=cause).body()


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
