"""Pipelines as files: `<id>.yml` (or .yaml / .json) in a folder, installed as JSON.

YAML and JSON errors name the file and line; a pipeline that does not build names the
file, the processor and the option (or, for `pipelines simulate`, is kept aside with the
error Elasticsearch would have answered its PUT with).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from wgsiem.ingest.build import Builder
from wgsiem.ingest.errors import PipelineConfigError
from wgsiem.ingest.pipeline import PipelineSet

from ..errors import WgsiemError

SUFFIXES = (".yml", ".yaml", ".json")


class PipelineFileError(WgsiemError):
    """A pipeline file that cannot be read or built; the message starts with the file."""


def pipeline_files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        raise PipelineFileError(f"{directory}: not a directory of pipelines")
    files: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix in SUFFIXES and path.is_file():
            if path.stem in files:
                raise PipelineFileError(f"{path}: pipeline [{path.stem}] is also defined in {files[path.stem].name}")
            files[path.stem] = path
    return files


def read_body(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        body = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise PipelineFileError(f"{path}:{error.lineno}: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PipelineFileError(f"{path}{line}: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(body, dict):
        raise PipelineFileError(f"{path}: a pipeline file holds one object (description, processors, ...)")
    return body


def read_bodies(directory: Path) -> dict[str, dict[str, Any]]:
    return {pipeline_id: read_body(path) for pipeline_id, path in pipeline_files(directory).items()}


def load_pipelines(
    directory: Path, geoip_dirs: list[Path] | None = None, *, keep_failed: bool = False, user_agent_dirs: list[Path] | None = None
) -> PipelineSet:
    """Every pipeline of a folder, built with one another in reach (the `pipeline` processor).

    A file that cannot be read or parsed is an error naming it (and its line). A definition
    that does not build is too, unless `keep_failed`: then, as Elasticsearch would never have
    stored it, it is left out of the set (a `pipeline` processor naming it finds it missing)
    and its error kept in `failed`, for `_simulate` by its id to answer."""
    pipelines = PipelineSet()
    builder = Builder(pipelines, geoip_dirs, user_agent_dirs)
    for pipeline_id, path in pipeline_files(directory).items():
        body = read_body(path)
        try:
            pipelines.add(builder.pipeline(pipeline_id, body))
        except PipelineConfigError as error:
            if keep_failed:
                pipelines.failed[pipeline_id] = error
                continue
            where = error.where()
            raise PipelineFileError(f"{path}: {where + ': ' if where else ''}{error.message}") from error
    return pipelines
