"""The folders and files of a package, as package-spec 3.x lays them out.

The tree below is package-spec's folder specs (spec/integration/spec.yml and the spec.yml
of each folder under it: data_stream/, data_stream/fields/, data_stream/agent/,
data_stream/_dev/test/pipeline/, docs/, kibana/, _dev/) in our own words: which entries a
folder must have, which it may have, and whether it may hold anything else. The package
root may (package-spec's `additionalContents: true`), so only its named entries are
checked there; data_stream/, a data stream's folder, docs/ and kibana/ may not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .files import PackageFolder
from .problems import Problem

PACKAGE_NAME = "[a-z0-9_]+"


@dataclass(frozen=True)
class Entry:
    """A file or folder a folder may hold: its name (a regular expression), what it is,
    whether one must exist, and for a folder what it may hold in turn."""

    pattern: str
    what: str
    folder: bool = False
    required: bool = False
    contents: Folder | None = None  # a folder's rules; None: anything
    forbidden: str | None = None  # names the pattern matches that are still refused

    def matches(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name) is not None and not (self.forbidden and re.fullmatch(self.forbidden, name))


@dataclass(frozen=True)
class Folder:
    entries: tuple[Entry, ...]
    open: bool = False  # may hold entries not listed


def _files(pattern: str, what: str, *, required: bool = False, forbidden: str | None = None) -> Entry:
    return Entry(pattern, what, required=required, forbidden=forbidden)


def _folder(pattern: str, what: str, contents: Folder | None, *, required: bool = False, forbidden: str | None = None) -> Entry:
    return Entry(pattern, what, folder=True, required=required, contents=contents, forbidden=forbidden)


def _kibana(name: str) -> Folder:
    own = rf"{re.escape(name)}-.+\.json"
    named = Folder((_files(own, f"a Kibana asset named {name}-<id>.json", forbidden=r".+-(ecs|ECS)\.json"),))
    any_json = Folder((_files(r".+\.json", "a Kibana asset (.json)"),))
    return Folder((
        *(_folder(folder, f"the {folder} assets", named) for folder in (
            "dashboard", "visualization", "search", "map", "lens", "ml_module", "tag", "osquery_pack_asset", "osquery_saved_query",
        )),
        *(_folder(folder, f"the {folder} assets", any_json) for folder in (
            "index_pattern", "security_rule", "csp_rule_template", "alerting_rule_template", "slo_template",
        )),
        _files(r"tags\.yml", "the tags of the package's assets"),
    ))  # fmt: skip


PIPELINE_TESTS = Folder((
    _files(r"test-[a-z0-9-]+\.(json|log)", "a pipeline test (test-<name>.json or .log)"),
    _files(r"test-[a-z0-9-]+\.(json|log)-config\.yml", "a pipeline test's configuration"),
    _files(r"test-common-config\.yml", "the configuration common to the pipeline tests"),
    _files(r"test-[a-z0-9-]+\.(json|log)-expected\.json", "a pipeline test's expected documents"),
))  # fmt: skip

DATA_STREAM_DEV = Folder((
    _folder("test", "the data stream's tests", Folder((
        _folder("pipeline", "the pipeline tests", PIPELINE_TESTS),
        *(_folder(kind, f"the {kind} tests", None) for kind in ("static", "system", "policy", "scripts")),
    ))),
    _folder("deploy", "what the tests deploy", None),
    _folder("benchmark", "the benchmarks", None),
))  # fmt: skip

PIPELINE_FILES = Folder((_files(r".+\.(yml|json)", "an ingest pipeline (.yml or .json)"),))

DATA_STREAM = Folder((
    _files(r"manifest\.yml", "the data stream's manifest", required=True),
    _folder("fields", "the field definitions", Folder((
        _files(r"[a-z0-9][a-z0-9_-]+[a-z0-9]\.yml", "a field definition file (lowercase name, .yml)", required=True),
    )), required=True),
    _folder("agent", "the agent's stream templates", Folder((
        _folder("stream", "the stream templates", Folder((_files(r".+\.yml\.hbs", "a stream template (.yml.hbs)", required=True),)), required=True),
    ))),
    _folder("elasticsearch", "the data stream's Elasticsearch assets", Folder((
        _folder("ingest_pipeline", "the ingest pipelines", PIPELINE_FILES),
        _folder("ilm", "the ILM policies", PIPELINE_FILES),
    ))),
    _files(r"sample_event(_[a-z0-9]+)?\.json", "a sample event"),
    _folder("test", "test files", None),
    _folder("_dev", "the data stream's development files", DATA_STREAM_DEV),
    _files(r"routing_rules\.yml", "the routing rules"),
    _files(r"lifecycle\.yml", "the data stream lifecycle"),
))  # fmt: skip

DOCS = Folder((
    _files(r"README\.md", "the package's README", required=True),
    _files(r".+\.md", "a README (.md)"),
    _folder("knowledge_base", "the AI assistant's knowledge base", Folder((_files(r".+\.md", "a knowledge base page (.md)"),))),
))  # fmt: skip

PACKAGE_DEV = Folder(tuple(_folder(name, f"the {name} files", None) for name in ("build", "benchmark", "deploy", "test", "shared", "scripts")))


def package_layout(name: str = PACKAGE_NAME) -> Folder:
    """The layout of an integration package named `name` (asset names begin with it)."""
    return Folder((
        _files(r"manifest\.yml", "the package manifest", required=True),
        _files(r"changelog\.yml", "the changelog", required=True),
        _files(r"NOTICE\.txt", "the NOTICE file"),
        _files(r"LICENSE\.txt", "the licence"),
        _files(r"validation\.yml", "the validation settings"),
        _folder("data_stream", "the data streams", Folder((
            _folder(r"[a-z0-9]{2}|[a-z0-9][a-z0-9_]+[a-z0-9]", "a data stream (lowercase letters, digits and _)", DATA_STREAM,
                    required=True, forbidden="integration"),
        ))),
        _folder("docs", "the documentation", DOCS, required=True),
        _folder("agent", "the agent's input templates", None),
        _folder("kibana", "the Kibana assets", _kibana(name)),
        _folder("elasticsearch", "the package's Elasticsearch assets", None),
        _folder("img", "the images", None),
        _folder("_dev", "the development files", PACKAGE_DEV),
    ), open=True)  # fmt: skip


def layout_problems(package: PackageFolder, name: str = PACKAGE_NAME) -> list[Problem]:
    """Every entry missing, unexpected, or of the wrong kind, from the package root down."""
    return _check(package, package.root, package_layout(name))


def _check(package: PackageFolder, folder: Path, rules: Folder) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[Entry] = set()
    for path in sorted(folder.iterdir()):
        rel = package.rel(path)
        entry = next((e for e in rules.entries if e.matches(path.name)), None)
        if entry is None:
            if not rules.open:
                problems.append(Problem(rel, None, f"not expected here: {_allowed(rules)}"))
            continue
        seen.add(entry)
        if entry.folder != path.is_dir():
            kind = "folder" if entry.folder else "file"
            problems.append(Problem(rel, None, f"expected {entry.what}, a {kind}"))
        elif entry.folder and entry.contents is not None:
            problems += _check(package, path, entry.contents)
    for entry in rules.entries:
        if entry.required and entry not in seen:
            where = package.rel(folder) if folder != package.root else ""
            name = entry.pattern.replace("\\", "") if re.escape(entry.pattern.replace("\\", "")) == entry.pattern else None
            rel = f"{where}/{name}" if where and name else (name or where)
            problems.append(Problem(rel, None, f"missing: {entry.what}, which package-spec requires"))
    return problems


def _allowed(rules: Folder) -> str:
    return "package-spec allows only " + "; ".join(entry.what for entry in rules.entries) + " here"
