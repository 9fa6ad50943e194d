"""Pipelines and the steps that run processors, with Elasticsearch's failure handling.

A step is one processor with what Elasticsearch wraps around it when it builds a
pipeline: the `if` condition (ConditionalProcessor), and `ignore_failure` / `on_failure`
(a CompoundProcessor of its own). A pipeline's own `on_failure` catches what no step
handled, after which the rest of its processors is skipped but the document is kept.

A rerouted document (the `reroute` processor) runs no further step of any pipeline on its
call stack: CompoundProcessor checks IngestDocument.isReroute before each processor, and
the flag stays set when a `pipeline` processor returns. Handlers of an `on_failure` list
and the iterations of a `foreach` are not such a loop, and still run after a reroute,
except the steps that are CompoundProcessors themselves (see Step.run). The `terminate`
processor stops its own pipeline the same way; Pipeline.execute clears the flag on return,
so a calling pipeline goes on.

`trace` is None on the fast path; `_simulate?verbose` passes a list and receives one
result per processor run, in Elasticsearch's `processor_results` shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import DropDocument, IngestError, PipelineConfigError
from wgsiem.ingest.painless import PainlessRuntimeError
from wgsiem.ingest.script_config import condition_failure

FAILURE_KEYS = ("on_failure_message", "on_failure_processor_type", "on_failure_processor_tag", "on_failure_pipeline")
SIMULATE_PIPELINE_ID = "_simulate_pipeline"
MAX_PIPELINES = 100  # IngestDocument.MAX_PIPELINES (es.ingest.max_pipelines)

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
        if (doc.rerouted or doc.terminated) and (self.ignore_failure or self.on_failure):
            # Elasticsearch wraps such a step in an OnFailureProcessor, a CompoundProcessor,
            # which runs nothing once the document is rerouted or terminated. Only reached
            # where steps run outside a pipeline's loop: an on_failure list, a foreach.
            return
        try:
            condition = self.condition
            if condition is not None:
                try:
                    passed = condition(doc.ctx)
                except PainlessRuntimeError as error:
                    raise condition_failure(error, self.tag, pipeline_id) from None
                if not passed:
                    if trace is not None:
                        trace.append(self._result("skipped"))
                    return
            if trace is None:
                self.processor.execute(doc, None)
                return
            if self.type == "pipeline":
                # TrackingResultProcessor: the pipeline processor records its own results.
                self.processor.execute_traced(doc, trace, self)  # type: ignore[attr-defined]
                return
            self.processor.execute(doc, trace)
            trace.append(self._result("success", doc=doc.snapshot().to_simulate()))
        except DropDocument:
            if trace is not None:
                trace.append(self._result("dropped"))
            raise
        except IngestError as error:
            self.failed(doc, trace, error, pipeline_id)

    def failed(self, doc: IngestDocument, trace: Trace, error: IngestError, pipeline_id: str) -> None:
        """The processor failed: ignored, handed to this step's on_failure, or raised on."""
        if error.processor_type is None:
            error.processor_type, error.processor_tag, error.pipeline = self.type, self.tag, pipeline_id
        # A pipeline processor's results are its own (PipelineCall.execute_traced).
        traced = trace is not None and self.type != "pipeline"
        if self.ignore_failure:
            if traced:
                trace.append(self._result("error_ignored", ignored_error={"error": error.body()}, doc=doc.snapshot().to_simulate()))  # type: ignore[union-attr]
            return
        if traced:
            trace.append(self._result("error", error=error.body()))  # type: ignore[union-attr]
        if not self.on_failure:
            raise error
        handle_failure(self.on_failure, doc, trace, error, pipeline_id)


def handle_failure(handlers: list[Step], doc: IngestDocument, trace: Trace, error: IngestError, pipeline_id: str) -> None:
    """Run `on_failure` steps with the failure described in `_ingest.on_failure_*`."""
    ingest = doc.ingest
    ingest["on_failure_message"] = error.root_message
    ingest["on_failure_processor_type"] = error.processor_type
    ingest["on_failure_processor_tag"] = error.processor_tag  # put even when null, as ES does
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
        """Run on `doc` in place, as IngestDocument.executePipeline does: a pipeline without
        processors is skipped outright; then the nesting limit, the cycle check and
        `_ingest.pipeline`; the `terminate` flag ends this pipeline only."""
        steps = self.steps
        if not steps:
            return
        executed = doc.executed
        if len(executed) >= MAX_PIPELINES:
            raise IngestError(
                f"Too many nested pipelines. Cannot have more than {MAX_PIPELINES} nested pipelines", "graph_structure_exception"
            )
        if self.id in executed:
            raise IngestError(f"Cycle detected for pipeline: {self.id}", "graph_structure_exception")
        executed.append(self.id)
        ingest = doc.ingest
        previous = ingest.get("pipeline")
        ingest["pipeline"] = self.id
        try:
            try:
                if trace is None:
                    self._run_fast(doc)
                else:
                    for step in steps:
                        if doc.rerouted or doc.terminated:
                            break
                        step.run(doc, trace, self.id)
            except IngestError as error:
                if not self.on_failure:
                    raise
                handle_failure(self.on_failure, doc, trace, error, self.id)
        finally:
            executed.pop()
            doc.terminated = False  # Pipeline.execute resets it: an outer pipeline goes on
            if previous is None:
                ingest.pop("pipeline", None)
            else:
                ingest["pipeline"] = previous

    def _run_fast(self, doc: IngestDocument) -> None:
        """The steps without a trace: Step.run inlined, as most documents take this path."""
        ctx = doc.ctx
        pipeline_id = self.id
        for step in self.steps:
            if doc.rerouted or doc.terminated:
                break
            try:
                condition = step.condition
                if condition is not None:
                    try:
                        if not condition(ctx):
                            continue
                    except PainlessRuntimeError as error:
                        raise condition_failure(error, step.tag, pipeline_id) from None
                step.processor.execute(doc, None)
            except IngestError as error:
                step.failed(doc, None, error, pipeline_id)

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
    """Pipelines by id, for the `pipeline` processor (resolved when it runs, as in Elasticsearch).

    `failed` holds the definitions that do not build, with their error: Elasticsearch would
    have refused to store them, so they are not pipelines here either; `_simulate` by such an
    id answers the error their PUT would have had."""

    def __init__(self) -> None:
        self._pipelines: dict[str, Pipeline] = {}
        self.failed: dict[str, PipelineConfigError] = {}

    def add(self, pipeline: Pipeline) -> None:
        self._pipelines[pipeline.id] = pipeline

    def __getitem__(self, key: str) -> Pipeline:
        return self._pipelines[key]

    def get(self, key: str, default: Any = None) -> Any:  # the pipeline processor's lookup, per document
        return self._pipelines.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._pipelines)

    def __len__(self) -> int:
        return len(self._pipelines)
