"""Processors that steer execution: pipeline, foreach, drop, fail."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument, java_type
from wgsiem.ingest.errors import DropDocument, IngestError, invalid
from wgsiem.ingest.mustache import template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


class PipelineCall(Processor):
    type = "pipeline"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.name = template(opts.string("name"))
        self.ignore_missing_pipeline = opts.boolean("ignore_missing_pipeline", False)
        self.pipelines = builder.pipelines

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        name = self.name.render(doc)
        pipeline = self.pipelines.get(name)
        if pipeline is None:
            if self.ignore_missing_pipeline:
                return
            raise IngestError(f"Pipeline processor configured for non-existent pipeline [{name}]", "illegal_state_exception")
        pipeline.execute(doc, trace)

    def referenced_pipelines(self) -> list[str]:
        return [self.name.source]


class Foreach(Processor):
    type = "foreach"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        inner = opts.map("processor")
        if len(inner) != 1:
            raise opts.error("Must specify exactly one processor type", "processor")
        self.inner = builder.step(inner)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.subject(self.field, "cannot loop over its elements.", ignore_missing=self.ignore_missing)
        if value is None:
            return
        ingest = doc.ingest
        saved = {k: ingest[k] for k in ("_key", "_value") if k in ingest}
        pipeline_id = ingest.get("pipeline", "")
        try:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    ingest["_value"] = item
                    self.inner.run(doc, trace, pipeline_id)
                    value[index] = ingest.get("_value")
            elif isinstance(value, dict):
                result: dict[str, Any] = {}
                for key, item in list(value.items()):
                    ingest["_key"], ingest["_value"] = key, item
                    self.inner.run(doc, trace, pipeline_id)
                    result[ingest.get("_key")] = ingest.get("_value")
                value.clear()
                value.update(result)
            else:
                raise invalid(f"field [{self.field}] of type [{java_type(value)}] cannot be cast to a list or map")
        finally:
            ingest.pop("_key", None)
            ingest.pop("_value", None)
            ingest.update(saved)


class Drop(Processor):
    type = "drop"

    def __init__(self, opts: Options, builder: Any) -> None:
        pass

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        raise DropDocument


class Fail(Processor):
    type = "fail"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.message = template(opts.string("message"))

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        raise IngestError(self.message.render(doc), "fail_processor_exception")
