"""Pipeline tests in the elastic-package style, run offline or through a cluster's `_simulate`.

Layout: `<pipelines>/_dev/test/pipeline/<pipeline-id>/`
  test-<name>.json                {"events": [document, ...]}
  test-<name>.log                 one raw line per event (becomes {"message": line})
  test-<name>.<ext>-expected.json {"expected": [document or null (dropped), ...]}
  test-common-config.yml          optional: `fields` added to every event, `dynamic_fields`
                                  (field → regex: the value must match, but may change per run)
  test-<name>.<ext>-config.yml    the same, for one test
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import DropDocument, IngestError
from wgsiem.ingest.pipeline import PipelineSet

from ..errors import WgsiemError

TESTS_SUBDIR = Path("_dev/test/pipeline")


@dataclass
class PipelineTest:
    pipeline_id: str
    path: Path
    events: list[dict[str, Any]]
    dynamic_fields: dict[str, str]

    @property
    def expected_path(self) -> Path:
        return self.path.with_name(self.path.name + "-expected.json")

    @property
    def name(self) -> str:
        return f"{self.pipeline_id}/{self.path.name}"


@dataclass
class TestResult:
    test: PipelineTest
    problems: list[str] = field(default_factory=list)
    actual: list[Any] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


class PipelineTestError(WgsiemError):
    pass


def _config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(data) - {"fields", "dynamic_fields"}
    if unknown:
        raise PipelineTestError(f"{path}: unknown keys {sorted(unknown)} (fields, dynamic_fields)")
    return data


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into.setdefault(key, copy.deepcopy(value))


def discover(pipelines_dir: Path) -> list[PipelineTest]:
    """The tests of every pipeline of a pipelines folder (one subfolder per pipeline id)."""
    root = pipelines_dir / TESTS_SUBDIR
    if not root.is_dir():
        return []
    return [test for folder in sorted(p for p in root.iterdir() if p.is_dir()) for test in discover_in(folder, folder.name)]


def discover_in(folder: Path, pipeline_id: str) -> list[PipelineTest]:
    """The tests in one folder, all of pipeline `pipeline_id` (an integration package's data
    stream keeps the tests of its pipeline in `_dev/test/pipeline/` itself)."""
    tests: list[PipelineTest] = []
    if folder.is_dir():
        common = _config(folder / "test-common-config.yml")
        for path in sorted(folder.glob("test-*")):
            if path.name.endswith(("-expected.json", "-config.yml")) or path.name == "test-common-config.yml":
                continue
            own = _config(path.with_name(path.name + "-config.yml"))
            fields = {**common.get("fields", {}), **own.get("fields", {})}
            dynamic = {**common.get("dynamic_fields", {}), **own.get("dynamic_fields", {})}
            if path.suffix == ".json":
                try:
                    events = json.loads(path.read_text(encoding="utf-8"))["events"]
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise PipelineTestError(f"{path}: expected {{\"events\": [...]}} ({error})") from None
            elif path.suffix == ".log":
                events = [{"message": line} for line in path.read_text(encoding="utf-8").splitlines() if line]
            else:
                raise PipelineTestError(f"{path}: a pipeline test is .json or .log")
            for event in events:
                _merge(event, fields)
            tests.append(PipelineTest(pipeline_id, path, events, dynamic))
    return tests


def run_offline(pipelines: PipelineSet, test: PipelineTest) -> list[Any]:
    """The documents the pipeline makes of the test's events (None where one was dropped)."""
    if test.pipeline_id not in pipelines:
        raise PipelineTestError(f"{test.path}: no pipeline [{test.pipeline_id}] in the pipelines directory")
    pipeline = pipelines[test.pipeline_id]
    out: list[Any] = []
    for event in test.events:
        doc = IngestDocument.from_source(copy.deepcopy(event), index="test")
        try:
            pipeline.execute(doc)
        except DropDocument:
            out.append(None)
            continue
        except IngestError as error:
            out.append({"error": error.body()})
            continue
        out.append(doc.source())
    return out


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaf name → value; an empty object is a value of its own."""
    if not isinstance(doc, dict):
        return {prefix: doc}
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def compare(test: PipelineTest, actual: list[Any], expected: list[Any]) -> list[str]:
    problems: list[str] = []
    if len(actual) != len(expected):
        return [f"{len(actual)} documents came out, {len(expected)} expected"]
    for index, (got, want) in enumerate(zip(actual, expected, strict=False)):
        if (got is None) != (want is None):
            problems.append(f"event {index}: {'dropped' if got is None else 'kept'}, expected {'dropped' if want is None else 'kept'}")
            continue
        if got is None:
            continue
        flat_got, flat_want = flatten(got), flatten(want)
        for name in sorted(set(flat_got) | set(flat_want)):
            pattern = test.dynamic_fields.get(name)
            if pattern is not None:
                value = flat_got.get(name)
                if value is None or not re.fullmatch(pattern, str(value)):
                    problems.append(f"event {index}: {name} = {value!r} does not match the dynamic pattern {pattern!r}")
                continue
            if name not in flat_got:
                problems.append(f"event {index}: {name} missing (expected {flat_want[name]!r})")
            elif name not in flat_want:
                problems.append(f"event {index}: {name} = {flat_got[name]!r} not expected")
            elif flat_got[name] != flat_want[name] or type(flat_got[name]) is not type(flat_want[name]):
                problems.append(f"event {index}: {name} = {flat_got[name]!r}, expected {flat_want[name]!r}")
    return problems


def run_tests(
    tests: list[PipelineTest],
    execute: Callable[[PipelineTest], list[Any]],
    *,
    update: bool = False,
) -> list[TestResult]:
    results = []
    for test in tests:
        result = TestResult(test)
        try:
            result.actual = execute(test)
        except PipelineTestError as error:
            result.problems.append(str(error))
            results.append(result)
            continue
        if update:
            test.expected_path.write_text(json.dumps({"expected": result.actual}, indent=2, ensure_ascii=False) + "\n")
        elif not test.expected_path.is_file():
            result.problems.append(f"{test.expected_path.name} is missing (run with --update to write it)")
        else:
            expected = json.loads(test.expected_path.read_text(encoding="utf-8"))["expected"]
            result.problems.extend(compare(test, result.actual, expected))
        results.append(result)
    return results
