"""Pipelines and the steps that run processors, with Elasticsearch's failure handling.

A step is one processor with what Elasticsearch wraps around it when it builds a
pipeline: the `if` condition (ConditionalProcessor), and `ignore_failure` / `on_failure`
(a CompoundProcessor of its own). A pipeline's own `on_failure` catches what no step
handled, after which the rest of its processors is skipped but the document is kept.

A rerouted document (the `reroute` processor) runs no further step of any pipeline on its
call stack: CompoundProcessor checks IngestDocument.isReroute before each processor, and
the flag stays set when a `pipeline` processor returns. Handlers of an `on_failure` list
and the iterations of a `foreach` are not such a loop, and still run after a reroute,
except the steps that are CompoundProcessors themselves (see Step.run).

`trace` is None on the fast path; `_simulate?verbose` passes a list and receives one
result per processor run, in Elasticsearch's `processor_results` shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import DropDocument, IngestError
from wgsiem.ingest.painless import PainlessRuntimeError

FAILURE_KEYS = ("on_failure_message", "on_failure_processor_type", "on_failure_processor_tag", "on_failure_pipeline")
SIMULATE_PIPELINE_ID = "_simulate_pipeline"

Trace = list[dict[str, Any]] | None


class Processor:
    """One processor's action. Subclasses read their options in `__init__` and act in `execute`."""

    type: str = ""

    def execute(self, doc: IngestDocument, trace: Trace) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def produced_fields(self) -> list[str]:
        """Fields this processor writes, when known statically (for `pipelines validate`)."""
        return []

    def referenced_pipelines(self) -> list[str]:
        return []


class Step:
    __slots__ = ("processor", "type", "tag", "description", "condition", "condition_source", "ignore_failure", "on_failure")

    def __init__(
        self,
        processor: Processor,
        *,
        tag: str | None,
        description: str | None,
        condition: Callable[[Mapping[str, Any]], bool] | None,
        condition_source: str | None,
        ignore_failure: bool,
        on_failure: list[Step],
    ) -> None:
        self.processor = processor
        self.type = processor.type
        self.tag = tag
        self.description = description
        self.condition = condition
        self.condition_source = condition_source
        self.ignore_failure = ignore_failure
        self.on_failure = on_failure

    def _result(self, status: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = {"processor_type": self.type, "status": status}
        if self.description is not None:
            result["description"] = self.description
        if self.tag is not None:
            result["tag"] = self.tag
        if self.condition_source is not None:
            result["if"] = {"condition": self.condition_source, "result": status != "skipped"}
        result.update(extra)
        return result

    def run(self, doc: IngestDocument, trace: Trace, pipeline_id: str) -> None:
        if doc.rerouted and (self.ignore_failure or self.on_failure):
            # Elasticsearch wraps such a step in an OnFailureProcessor, a CompoundProcessor,
            # which runs nothing once the document is rerouted. Only reached where steps run
            # outside a pipeline's loop: an on_failure list, a foreach's iterations.
            return
        try:
            condition = self.condition
            if condition is not None:
                try:
                    passed = condition(doc.ctx)
                except PainlessRuntimeError as error:
                    raise IngestError(f"runtime error: {error}", "script_exception") from None
                if not passed:
                    if trace is not None:
                        trace.append(self._result("skipped"))
                    return
            if trace is None:
                self.processor.execute(doc, None)
                return
            if self.type == "pipeline":
                # Elasticsearch lists the pipeline processor before what the pipeline ran.
                trace.append(self._result("success"))
                self.processor.execute(doc, trace)
                return
            self.processor.execute(doc, trace)
            trace.append(self._result("success", doc=doc.snapshot().to_simulate()))
        except DropDocument:
            if trace is not None:
                trace.append(self._result("dropped"))
            raise
        except IngestError as error:
            if error.processor_type is None:
                error.processor_type, error.processor_tag, error.pipeline = self.type, self.tag, pipeline_id
            if self.ignore_failure:
                if trace is not None:
                    trace.append(self._result("error_ignored", ignored_error={"error": error.body()}, doc=doc.snapshot().to_simulate()))
                return
            if trace is not None and self.type != "pipeline":
                trace.append(self._result("error", error=error.body()))
            if not self.on_failure:
                raise
            handle_failure(self.on_failure, doc, trace, error, pipeline_id)


def handle_failure(handlers: list[Step], doc: IngestDocument, trace: Trace, error: IngestError, pipeline_id: str) -> None:
    """Run `on_failure` steps with the failure described in `_ingest.on_failure_*`."""
    ingest = doc.ingest
    ingest["on_failure_message"] = error.reason
    ingest["on_failure_processor_type"] = error.processor_type
    if error.processor_tag is not None:
        ingest["on_failure_processor_tag"] = error.processor_tag
    if error.pipeline is not None:
        ingest["on_failure_pipeline"] = error.pipeline
    try:
        for step in handlers:
            step.run(doc, trace, pipeline_id)
    finally:
        for key in FAILURE_KEYS:
            ingest.pop(key, None)


class Pipeline:
    def __init__(
        self,
        pipeline_id: str,
        steps: list[Step],
        on_failure: list[Step],
        *,
        description: str | None = None,
        version: int | None = None,
        meta: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.id = pipeline_id
        self.steps = steps
        self.on_failure = on_failure
        self.description = description
        self.version = version
        self.meta = meta
        self.body = body or {}

    def execute(self, doc: IngestDocument, trace: Trace = None) -> None:
        """Run on `doc` in place, as IngestDocument.executePipeline does (cycle check, `_ingest.pipeline`)."""
        if not self.steps and not self.on_failure:
            return
        if self.id in doc.executed:
            raise IngestError(f"Cycle detected for pipeline: {self.id}", "graph_structure_exception")
        if len(doc.executed) >= 100:
            raise IngestError("Too many nested pipelines. Cannot have more than 100 nested pipelines", "graph_structure_exception")
        doc.executed.append(self.id)
        previous = doc.ingest.get("pipeline")
        doc.ingest["pipeline"] = self.id
        try:
            try:
                for step in self.steps:
                    if doc.rerouted:
                        break
                    step.run(doc, trace, self.id)
            except IngestError as error:
                if not self.on_failure:
                    raise
                handle_failure(self.on_failure, doc, trace, error, self.id)
        finally:
            doc.executed.pop()
            if previous is None:
                doc.ingest.pop("pipeline", None)
            else:
                doc.ingest["pipeline"] = previous

    def all_steps(self) -> list[Step]:
        """Every step, nested ones (on_failure, foreach) included."""
        found: list[Step] = []

        def walk(steps: list[Step]) -> None:
            for step in steps:
                found.append(step)
                walk(step.on_failure)
                inner = getattr(step.processor, "inner", None)
                if inner is not None:
                    walk([inner])

        walk(self.steps)
        walk(self.on_failure)
        return found


class PipelineSet(Mapping[str, "Pipeline"]):
    """Pipelines by id, for the `pipeline` processor (resolved when it runs, as in Elasticsearch)."""

    def __init__(self) -> None:
        self._pipelines: dict[str, Pipeline] = {}

    def add(self, pipeline: Pipeline) -> None:
        self._pipelines[pipeline.id] = pipeline

    def __getitem__(self, key: str) -> Pipeline:
        return self._pipelines[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pipelines)

    def __len__(self) -> int:
        return len(self._pipelines)
