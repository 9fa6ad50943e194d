"""Turning pipeline definitions (parsed JSON/YAML) into runnable pipelines.

The common processor options are read here, as Elasticsearch's ConfigurationUtils reads
them: `tag`, `description`, `if`, `ignore_failure`, `on_failure`; each processor's own
options are read by its class. Anything the engine does not support is a PipelineConfigError
naming the processor and option, never a silent pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wgsiem.ingest.document import java_type
from wgsiem.ingest.errors import PipelineConfigError
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Pipeline, PipelineSet, Step

_PIPELINE_KEYS = {"description", "processors", "on_failure", "version", "_meta", "deprecated", "field_access_pattern"}


class Builder:
    """What processors may need while they are built: other pipelines and GeoIP databases."""

    def __init__(self, pipelines: PipelineSet | None = None, geoip_dirs: list[Path] | None = None) -> None:
        self.pipelines = pipelines if pipelines is not None else PipelineSet()
        self.geoip_dirs = list(geoip_dirs or [])
        self._geoip: Any = None

    @property
    def geoip(self) -> Any:
        if self._geoip is None:
            from wgsiem.ingest.geoip_databases import GeoIpDatabases

            self._geoip = GeoIpDatabases(self.geoip_dirs)
        return self._geoip

    # --- pipelines ------------------------------------------------------------------------

    def pipeline(self, pipeline_id: str, body: Any) -> Pipeline:
        if not isinstance(body, dict):
            raise PipelineConfigError(f"pipeline [{pipeline_id}] must be an object, not [{java_type(body)}]")
        processors = Options(None, body).list("processors")
        unknown = sorted(set(body) - _PIPELINE_KEYS)
        if unknown:
            raise PipelineConfigError(f"pipeline [{pipeline_id}] doesn't support one or more provided configuration parameters [{', '.join(unknown)}]")
        access = body.get("field_access_pattern", "classic")
        if access != "classic":
            raise PipelineConfigError(
                f"field_access_pattern [{access}] is not supported by the offline engine (only classic)",
                property_name="field_access_pattern",
            )
        on_failure = body.get("on_failure")
        if on_failure is not None and (not isinstance(on_failure, list) or not on_failure):
            raise PipelineConfigError("processors list cannot be empty", property_name="on_failure")
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise PipelineConfigError(f"property isn't an int, but of type [{java_type(version)}]", property_name="version")
        return Pipeline(
            pipeline_id,
            self.steps(processors),
            self.steps(on_failure or []),
            description=body.get("description"),
            version=version,
            meta=body.get("_meta"),
            body=body,
        )

    def steps(self, configs: list[Any]) -> list[Step]:
        return [self.step(config) for config in configs]

    # --- processors -----------------------------------------------------------------------

    def step(self, config: Any) -> Step:
        from wgsiem.ingest.processors import REGISTRY

        if not isinstance(config, dict) or len(config) != 1:
            raise PipelineConfigError(f"a processor must be an object with exactly one key (its type), not {str(config)[:80]}")
        ((processor_type, options),) = config.items()
        if processor_type not in REGISTRY:
            if processor_type in KNOWN_ELSEWHERE:
                reason = (
                    f"processor type [{processor_type}] is not supported by the offline engine; "
                    f"supported: {', '.join(sorted(REGISTRY))}"
                )
            else:
                reason = f"No processor type exists with name [{processor_type}]"
            raise PipelineConfigError(reason, processor_type=processor_type)
        if not isinstance(options, dict):
            raise PipelineConfigError(
                f"processor [{processor_type}] options must be an object, not [{java_type(options)}]",
                processor_type=processor_type,
            )
        tag = options.get("tag")
        opts = Options(processor_type, options, tag if isinstance(tag, str) else None)
        opts.string("tag", None)
        description = opts.string("description", None)
        condition, condition_source = self._condition(opts)
        ignore_failure = opts.boolean("ignore_failure", False)
        on_failure_configs = opts.list("on_failure", None)
        if on_failure_configs is not None and not on_failure_configs:
            raise opts.error("processors list cannot be empty", "on_failure")
        on_failure = self.steps(on_failure_configs or [])
        processor = REGISTRY[processor_type](opts, self)
        opts.finish()
        return Step(
            processor,
            tag=opts.tag,
            description=description,
            condition=condition,
            condition_source=condition_source,
            ignore_failure=ignore_failure,
            on_failure=on_failure,
        )

    def _condition(self, opts: Options) -> tuple[Any, str | None]:
        script = opts.raw("if", None)
        if script is None:
            return None, None
        if isinstance(script, dict):
            lang = script.get("lang", "painless")
            if lang != "painless" or set(script) - {"source", "lang"} or not isinstance(script.get("source"), str):
                raise opts.error("only inline painless conditions ({source, lang: painless}) are supported", "if")
            script = script["source"]
        if not isinstance(script, str):
            raise opts.error(f"property isn't a string or script object, but of type [{java_type(script)}]", "if")
        from wgsiem.ingest.painless import PainlessCompileError, compile_condition

        try:
            return compile_condition(script), script
        except PainlessCompileError as error:
            raise PipelineConfigError(
                f"compile error: {error}",
                processor_type=opts.type,
                processor_tag=opts.tag,
                property_name="if",
                error_type="script_exception",
            ) from None


# Elasticsearch processors this engine deliberately leaves out: a clear error, not "unknown".
KNOWN_ELSEWHERE = frozenset(
    {
        "attachment", "bytes", "circle", "community_id", "csv", "date_index_name", "enrich", "fingerprint",
        "html_strip", "inference", "ip_location", "network_direction", "redact", "registered_domain", "script",
        "set_security_user", "sort", "terminate", "uri_parts", "urldecode", "user_agent",
    }
)  # fmt: skip
