"""A data stream's ingest pipelines (elasticsearch/ingest_pipeline/*.yml, *.json): they
parse, fit schemas/ingest-pipeline.schema.json, build in the offline ingest engine
(wgsiem.ingest), and every pipeline they call is one of the data stream's.

How Fleet installs them (x-pack/platform/plugins/shared/fleet/server/services/epm/
elasticsearch/ingest_pipeline/): a file's pipeline name is its name up to the first dot;
the data stream's main pipeline, `default`, is installed as `<type>-<dataset>-<version>`
and every other as `<type>-<dataset>-<version>-<name>`. A pipeline calls a sibling as
`{{ IngestPipeline "<name>" }}` (the convention of elastic/integrations, e.g.
fortinet_fortigate's log data stream), which Fleet rewrites to the sibling's installed
name before installing; a reference to a name the data stream has no file for is left as
it is, and the `pipeline` processor then fails on every document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from wgsiem.ingest.build import Builder
from wgsiem.ingest.errors import PipelineConfigError
from wgsiem.ingest.pipeline import PipelineSet

from .files import Document, PackageFolder
from .problems import Problem, key_path
from .schema_checks import schema_problems

MAIN_PIPELINE = "default"
# Fleet's two spellings of the Go template call: {{ IngestPipeline "x" }} and {< ... >}.
INGEST_PIPELINE_CALL = re.compile(r"""\{\{\s?IngestPipeline\s+['"]([^'"]+)['"]\s?\}\}|\{<\s?IngestPipeline\s+['"]([^'"]+)['"]\s?>\}""")
_CALL_OF = (r"""\{{\{{\s?IngestPipeline\s+['"]{}['"]\s?\}}\}}""", r"""\{{<\s?IngestPipeline\s+['"]{}['"]\s?>\}}""")


def fleet_rewrite(text: str, names: Iterable[str], installed: Callable[[str], str]) -> str:
    """A pipeline file's text as Fleet installs it (ingest_pipeline/helpers.ts
    rewriteIngestPipeline): for each of the data stream's pipelines, the first call of it
    in each spelling replaced by its installed name. A second call of the same pipeline in
    one file is left as written (and fails on every document), which validation reports."""
    for name in names:
        for spelling in _CALL_OF:
            text = re.sub(spelling.format(re.escape(name)), lambda _m, n=name: installed(n), text, count=1)
    return text


@dataclass(frozen=True)
class DataStreamId:
    """What Fleet's pipeline names are made of."""

    folder: str
    type: str
    dataset: str
    version: str

    def pipeline_name(self, name: str) -> str:
        base = f"{self.type}-{self.dataset}-{self.version}"
        return base if name == MAIN_PIPELINE else f"{base}-{name}"


def pipeline_problems(package: PackageFolder, stream: DataStreamId) -> list[Problem]:
    folder = f"data_stream/{stream.folder}/elasticsearch/ingest_pipeline"
    files = package.files(folder, (".yml", ".json"))
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for rel in files:
        name = rel.rsplit("/", 1)[1].split(".")[0]
        if name in names:
            problems.append(Problem(rel, None, f"pipeline {name} is also {names[name]}: Fleet names a pipeline by its file name up to the first dot"))
        names.setdefault(name, rel)
    docs: dict[str, Document] = {}
    for name, rel in names.items():
        doc, load_problems = package.load(rel)
        problems += load_problems
        if doc is None:
            continue
        shape = schema_problems("ingest-pipeline", doc)
        problems += shape + _original_message_problems(doc) + _call_problems(doc, stream, set(names))
        problems += _dashes_problems(package, rel) + _repeated_call_problems(doc)
        if not shape:  # what package-spec refuses is said once, not again by the engine
            docs[name] = doc
    problems += _build_problems(docs, stream, set(names))
    return problems


# -- the pipelines it calls ----------------------------------------------------------------


def processors(body: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """(path, type, options) of every processor: in processors and on_failure, in a
    processor's own on_failure, and inside foreach."""
    if not isinstance(body, dict):
        return
    for section in ("processors", "on_failure"):
        items = body.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((kind, options),) = item.items()
            here = (*path, section, i, kind)
            yield here, kind, options
            yield from processors(options, here)
            if kind == "foreach" and isinstance(options, dict) and isinstance(options.get("processor"), dict):
                yield from processors({"processors": [options["processor"]]}, (*here, "processor"))


def _call_problems(doc: Document, stream: DataStreamId, names: set[str]) -> list[Problem]:
    """Every `pipeline` processor calls one of the data stream's pipelines, by the template
    call; a literal name is only for a pipeline the package does not own, and then only
    with ignore_missing_pipeline (as Fleet's own calls to the @custom pipelines are)."""
    problems = []
    for path, kind, options in processors(doc.data):
        if kind != "pipeline" or not isinstance(options, dict) or not isinstance(options.get("name"), str):
            continue
        at = (*path, "name")
        for message in _call_messages(options["name"], options.get("ignore_missing_pipeline") is True, stream, names):
            problems.append(doc.problem(at, key_path(at), message))
    return problems


def _repeated_call_problems(doc: Document) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for path, kind, options in processors(doc.data):
        if kind != "pipeline" or not isinstance(options, dict) or not isinstance(options.get("name"), str):
            continue
        for name in (a or b for a, b in INGEST_PIPELINE_CALL.findall(options["name"])):
            if name in seen:
                at = (*path, "name")
                message = f"calls pipeline {name!r} a second time in this file: Fleet fills in only the first call of each pipeline"
                problems.append(doc.problem(at, key_path(at), message))
            seen.add(name)
    return problems


def _dashes_problems(package: PackageFolder, rel: str) -> list[Problem]:
    """package-spec marks pipeline YAML `require-document-dashes`: the first line is `---`."""
    if not rel.endswith(".yml"):
        return []
    try:
        first = package.path(rel).read_text(encoding="utf-8").split("\n", 1)[0]
    except UnicodeDecodeError:
        return []  # load() reports it
    if first.rstrip() == "---":
        return []
    return [Problem(rel, None, "a YAML pipeline file begins with a `---` line (package-spec: require-document-dashes)", 1)]


def _call_messages(target: str, optional: bool, stream: DataStreamId, names: set[str]) -> list[str]:
    called = [a or b for a, b in INGEST_PIPELINE_CALL.findall(target)]
    siblings = ", ".join(sorted(names))
    if called:
        return [
            f"calls pipeline {name!r}, but the data stream has no {name}.yml or {name}.json in elasticsearch/ingest_pipeline/ (it has {siblings})"
            for name in called
            if name not in names
        ]
    installed = {stream.pipeline_name(n): n for n in names}
    if target in installed:
        return [
            f"names {target} literally, which changes with every package version; "
            f"write '{{{{ IngestPipeline \"{installed[target]}\" }}}}' and Fleet fills it in"
        ]
    if "{{" in target or optional:
        return []  # a name made per document, or a pipeline that may be absent
    return [
        f"calls pipeline {target}, which the package does not install (Fleet installs this data stream's {siblings} "
        f"as {stream.pipeline_name(MAIN_PIPELINE)}[-<name>]); call a sibling as '{{{{ IngestPipeline \"<name>\" }}}}', "
        "or set ignore_missing_pipeline for one the package does not own"
    ]


def _original_message_problems(doc: Document) -> list[Problem]:
    """package-spec 3.1: a pipeline renaming message to event.original does it only when
    event.original is not set yet, and then removes message when it is (so a document
    that comes with event.original, e.g. from Logstash, keeps both as they were)."""
    body = doc.data
    steps = body.get("processors") if isinstance(body, dict) else None
    if not isinstance(steps, list):
        return []
    problems = []
    for i, step in enumerate(steps):
        rename = step.get("rename") if isinstance(step, dict) else None
        if not (isinstance(rename, dict) and rename.get("field") == "message" and rename.get("target_field") == "event.original"):
            continue
        at = ("processors", i, "rename")
        if rename.get("if") != "ctx.event?.original == null":
            why = "renaming message to event.original needs `if: ctx.event?.original == null` (package-spec 3.1)"
            problems.append(doc.problem((*at, "if"), key_path((*at, "if")), why))
        if not any(_removes_message(s) for s in steps):
            problems.append(doc.problem(at, key_path(at), (
                "renaming message to event.original needs a remove of message with `ignore_missing: true` "
                "and `if: ctx.event?.original != null` in the same processors (package-spec 3.1)"
            )))  # fmt: skip
    return problems


def _removes_message(step: Any) -> bool:
    remove = step.get("remove") if isinstance(step, dict) else None
    if not isinstance(remove, dict):
        return False
    target = remove.get("field")
    names = target if isinstance(target, list) else [target]
    return "message" in names and remove.get("ignore_missing") is True and remove.get("if") == "ctx.event?.original != null"


# -- building ------------------------------------------------------------------------------


def _build_problems(docs: dict[str, Document], stream: DataStreamId, names: set[str]) -> list[Problem]:
    """Each pipeline built as Fleet installs it (calls rewritten to installed names), all of
    them into one set, in the offline engine; a failure names the processor's key."""
    pipelines = PipelineSet()
    builder = Builder(pipelines)
    problems = []
    for name, doc in docs.items():
        body = _rewrite(doc.data, stream, names)
        if not isinstance(body, dict):
            continue
        try:
            pipelines.add(builder.pipeline(stream.pipeline_name(name), body))
        except PipelineConfigError as error:
            path = _failing_processor(builder, body)
            reason = f"{error.where()}: {error.reason}" if error.where() else error.reason
            problems.append(doc.problem(path, key_path(path) or None, f"does not build in the offline ingest engine: {reason}"))
    return problems


def _rewrite(value: Any, stream: DataStreamId, names: set[str]) -> Any:
    """`{{ IngestPipeline "x" }}` replaced by x's installed name, for every x the data
    stream has (what Fleet does to the file's text before installing it)."""
    if isinstance(value, str):
        return INGEST_PIPELINE_CALL.sub(lambda m: stream.pipeline_name(n) if (n := m.group(1) or m.group(2)) in names else m.group(0), value)
    if isinstance(value, list):
        return [_rewrite(item, stream, names) for item in value]
    if isinstance(value, dict):
        return {key: _rewrite(item, stream, names) for key, item in value.items()}
    return value


def _failing_processor(builder: Builder, body: dict[str, Any]) -> tuple[str | int, ...]:
    """The path of the first processor that does not build on its own (or () when the
    pipeline's own keys are at fault)."""
    for section in ("processors", "on_failure"):
        items = body.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            try:
                builder.step(item)
            except PipelineConfigError as error:
                kind = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else None
                path: tuple[str | int, ...] = (section, i) if kind is None else (section, i, kind)
                return (*path, error.property_name) if error.property_name and kind else path
    return ()
