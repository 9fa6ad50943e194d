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


class Builder:
    """What processors may need while they are built: other pipelines, GeoIP databases, and
    the folders of user_agent `regex_file`s (Elasticsearch's config/user-agent)."""

    def __init__(
        self,
        pipelines: PipelineSet | None = None,
        geoip_dirs: list[Path] | None = None,
        user_agent_dirs: list[Path] | None = None,
    ) -> None:
        self.pipelines = pipelines if pipelines is not None else PipelineSet()
        self.geoip_dirs = list(geoip_dirs or [])
        self.user_agent_dirs = list(user_agent_dirs or [])
        self._geoip: Any = None
        self._user_agents: Any = None

    @property
    def geoip(self) -> Any:
        if self._geoip is None:
            from wgsiem.ingest.geoip_databases import GeoIpDatabases

            self._geoip = GeoIpDatabases(self.geoip_dirs)
        return self._geoip

    @property
    def user_agents(self) -> Any:
        if self._user_agents is None:
            from wgsiem.ingest.formats.user_agent import UserAgentParsers

            self._user_agents = UserAgentParsers(self.user_agent_dirs)
        return self._user_agents

    # --- pipelines ------------------------------------------------------------------------

    def pipeline(self, pipeline_id: str, body: Any) -> Pipeline:
        """Pipeline.create: the pipeline's own keys read in its order, then every processor."""
        if not isinstance(body, dict):
            raise PipelineConfigError(f"pipeline [{pipeline_id}] must be an object, not [{java_type(body)}]")
        opts = Options(None, body)
        description = opts.string("description", None)
        version = opts.integer("version", None)
        meta = opts.map("_meta", None)
        opts.boolean("deprecated", False)
        access = opts.string("field_access_pattern", "classic")
        processors = self.steps(opts.list("processors"))
        on_failure_configs = opts.list("on_failure", None)
        on_failure = self.steps(on_failure_configs or [])
        if opts.config:
            unknown = ", ".join(opts.config)
            raise PipelineConfigError(f"pipeline [{pipeline_id}] doesn't support one or more provided configuration parameters [{unknown}]")
        if on_failure_configs is not None and not on_failure:
            raise PipelineConfigError(f"pipeline [{pipeline_id}] cannot have an empty on_failure option defined")
        if access != "classic":
            raise PipelineConfigError(
                f"field_access_pattern [{access}] is not supported by the offline engine (only classic)",
                property_name="field_access_pattern",
            )
        return Pipeline(pipeline_id, processors, on_failure, description=description, version=version, meta=meta, body=body)

    def steps(self, configs: list[Any]) -> list[Step]:
        """ConfigurationUtils.readProcessorConfigs: each key of each entry is a processor; all
        are built, and the first failure is thrown with the later ones suppressed in it."""
        steps: list[Step] = []
        first: PipelineConfigError | None = None
        for config in configs:
            if not isinstance(config, dict):
                # The list is taken unchecked; iterating a non-map entry throws before any
                # processor is read, an exception the REST layer answers with status 500.
                if config is None:
                    reason = 'Cannot invoke "java.util.Map.entrySet()" because "processorConfigWithKey" is null'
                    raise PipelineConfigError(reason, error_type="null_pointer_exception", status=500)
                cls = java_type(config)
                reason = (
                    f"class {cls} cannot be cast to class java.util.Map ({cls} and java.util.Map are in module "
                    "java.base of loader 'bootstrap')"
                )
                raise PipelineConfigError(reason, error_type="class_cast_exception", status=500)
            for processor_type, options in config.items():
                try:
                    steps.append(self.step({processor_type: options}))
                except PipelineConfigError as error:
                    if first is None:
                        first = error
                    else:
                        first.suppressed.append(error)
        if first is not None:
            raise first
        return steps

    # --- processors -----------------------------------------------------------------------

    def step(self, config: dict[str, Any]) -> Step:
        """ConfigurationUtils.readProcessor, for a config of one key (the processor type)."""
        from wgsiem.ingest.processors import REGISTRY

        ((processor_type, options),) = config.items()
        if options is None:
            raise PipelineConfigError("processor config cannot be [null]", processor_type=processor_type)
        if not isinstance(options, dict):
            raise PipelineConfigError(
                f"property isn't a map, but of type [{java_type(options)}]", processor_type=processor_type
            )
        # tag, description and ignore_failure / on_failure are read without the processor's type
        # (an error there names only the property), the processor's own options with it.
        common = Options(None, options)
        tag = common.string("tag", None)
        description = Options(None, common.config, tag).string("description", None)
        if processor_type not in REGISTRY:
            if processor_type in KNOWN_ELSEWHERE:
                reason = (
                    f"processor type [{processor_type}] is not supported by the offline engine; "
                    f"supported: {', '.join(sorted(REGISTRY))}"
                )
            else:
                reason = f"No processor type exists with name [{processor_type}]"
            raise PipelineConfigError(reason, processor_type=processor_type, processor_tag=tag)
        rest = {key: value for key, value in options.items() if key not in ("tag", "description")}
        # extractConditional takes `if` out before the factory sees the options.
        conditional = Options(processor_type, {"if": rest.pop("if")} if "if" in rest else {}, tag)
        unscoped = Options(None, {k: rest.pop(k) for k in ("ignore_failure", "on_failure") if k in rest})
        ignore_failure = unscoped.boolean("ignore_failure", False)
        on_failure_configs = unscoped.list("on_failure", None)
        on_failure = self.steps(on_failure_configs or [])
        opts = Options(processor_type, rest, tag)
        if on_failure_configs is not None and not on_failure:
            raise opts.error("processors list cannot be empty", "on_failure")
        try:
            processor = REGISTRY[processor_type](opts, self)
            opts.finish()
            condition, condition_source = self._condition(conditional)
        except PipelineConfigError as error:
            # readProcessor wraps what the factory throws with the processor's type and tag.
            error.processor_type, error.processor_tag = processor_type, tag
            raise
        return Step(
            processor,
            tag=tag,
            description=description,
            condition=condition,
            condition_source=condition_source,
            ignore_failure=ignore_failure,
            on_failure=on_failure,
        )

    def _condition(self, opts: Options) -> tuple[Any, str | None]:
        """ConfigurationUtils.extractConditional: a string is the source, an object is read
        as Script.parse reads it (source or id, lang, params, options); compiled as the
        ConditionalProcessor does (see script_config.py for the errors)."""
        from wgsiem.ingest.script_config import compile_spec, parse_script, stored_condition

        script = opts.raw("if", None)
        if script is None:
            return None, None
        if isinstance(script, str):
            script = {"source": script}
        if not isinstance(script, dict):
            raise opts.error(f"property isn't a map or string, but of type [{java_type(script)}]", "if")
        spec = parse_script(script)
        compiled = compile_spec(spec, "condition")
        if compiled is None:
            return stored_condition(spec), spec.stored_id
        return compiled.condition(spec.params or None), spec.source


# Processors of Elasticsearch's other modules and plugins (attachment, spatial, enrich, ML,
# security, ip_location) that this engine leaves out: a clear error, not "unknown".
KNOWN_ELSEWHERE = frozenset(
    {"attachment", "circle", "enrich", "geo_grid", "inference", "ip_location", "set_security_user"}
)
