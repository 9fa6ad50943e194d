"""`pipelines validate`: what building a pipeline does not check by itself.

Building already refuses bad structure and anything outside the engine's subset. Here:
the pipelines a `pipeline` processor calls exist, and every field a processor writes is
defined in ecs_mappings/ (scratch fields under `_`, and fields renamed away later, aside).
"""

from __future__ import annotations

from collections.abc import Mapping

from wgsiem.ingest.pipeline import Pipeline


def _is_defined(name: str, types: Mapping[str, str]) -> bool:
    if name in types:
        return True
    prefix = name + "."
    return any(field.startswith(prefix) for field in types)  # an object holding defined fields


def validate_pipelines(pipelines: Mapping[str, Pipeline], types: Mapping[str, str] | None = None) -> list[str]:
    if types is None:
        from wgsiem.mappings.fields import field_types

        types = field_types()
    problems: list[str] = []
    for pipeline_id, pipeline in sorted(pipelines.items()):
        steps = pipeline.all_steps()
        renamed_away = {
            step.processor.field.source for step in steps if step.type == "rename" and step.processor.field.static
        }
        for step in steps:
            where = f"{pipeline_id}: processor [{step.type}]" + (f" tag [{step.tag}]" if step.tag else "")
            for name in step.processor.referenced_pipelines():
                if "{{" not in name and name not in pipelines:
                    problems.append(f"{where}: calls pipeline [{name}], which is not in the directory")
            for name in step.processor.produced_fields():
                if name.startswith("_") or "{{" in name or name in renamed_away:
                    continue
                if not _is_defined(name, types):
                    problems.append(f"{where}: writes [{name}], which ecs_mappings/ does not define")
    return problems
