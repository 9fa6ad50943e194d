"""The script processor: a Painless script run on the document (ScriptProcessor).

The definition is read as Script.parse reads it and compiled when the pipeline is built,
as ScriptProcessor.Factory does, so a compile error refuses the pipeline (a
`script_exception` with `script_stack` and `position`). Each document then runs the
compiled closures with `ctx` (its source and metadata) and `params`; a failure is the
document's `script_exception`. Stored scripts (`id`) do not exist offline: the pipeline is
refused as Elasticsearch refuses one naming a script it cannot find.

The `Processors.*` helpers of Painless run this engine's processors; this module hands the
Painless package the means to (so that package does not import the processors when it loads).
"""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import IngestError, PipelineConfigError
from wgsiem.ingest.options import Options
from wgsiem.ingest.painless import PainlessRuntimeError, register_processor_runner
from wgsiem.ingest.pipeline import Processor, Trace
from wgsiem.ingest.script_config import compile_spec, parse_script, runtime_failure

_SCRIPT_KEYS = ("id", "source", "inline", "lang", "params", "options")


class ScriptProcessor(Processor):
    type = "script"

    def __init__(self, opts: Options, builder: Any) -> None:
        # Script.parse sees every option the processor was given: an unknown one is its error.
        spec = parse_script(dict(opts.config))
        for key in _SCRIPT_KEYS:
            opts.config.pop(key, None)
        self.params = spec.params
        script = compile_spec(spec, "script")
        assert script is not None
        self.script = script

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        try:
            self.script.run(doc.ctx, self.params, doc.ingest)
        except PainlessRuntimeError as error:
            raise runtime_failure(error) from None


def _run_processor(processor_type: str, options: dict[str, Any], document: dict[str, Any]) -> None:
    """How a Processors.* helper runs a processor: built from options, executed on a map as
    the document's ctx; its failure becomes the Java exception the helper throws."""
    from wgsiem.ingest.build import Builder
    from wgsiem.ingest.processors import REGISTRY

    try:
        processor = REGISTRY[processor_type](Options(processor_type, options), Builder())
        processor.execute(IngestDocument(document, {}), None)
    except IngestError as error:
        raise PainlessRuntimeError(error.reason, _java_name(error.error_type), es_exception=error.error_type) from None
    except PipelineConfigError as error:
        raise PainlessRuntimeError(error.reason, _java_name(error.error_type), es_exception=error.error_type) from None


def _java_name(error_type: str) -> str:
    if error_type == "parse_exception":
        return "ElasticsearchParseException"
    return "".join(part.capitalize() for part in error_type.split("_"))


def _available(processor_type: str) -> bool:
    from wgsiem.ingest.processors import REGISTRY

    return processor_type in REGISTRY


register_processor_runner(_run_processor, _available)
