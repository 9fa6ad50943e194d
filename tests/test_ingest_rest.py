"""Elasticsearch's ingest-common REST YAML suites, run through `wgsiem pipelines simulate`.

Each tests/ingest_rest/<stem>.yaml encodes, in our own format (tests/ingest_rest/README.md),
the requests and expectations of Elasticsearch's
modules/ingest-common/src/yamlRestTest/resources/rest-api-spec/test/ingest/<stem>.yml.
Every section runs the real CLI (typer's CliRunner on wgsiem.cli's app, in-process for
speed; one test runs a few through the installed entry point as a subprocess) with the
section's stored pipelines in a temporary --pipeline-dir, and checks the exit status and
the JSON answer the way Elasticsearch's YAML runner checks a response (match, is_false,
length, regex).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from wgsiem.cli import app

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "tests" / "ingest_rest"
ES_SUITE_DIR = "modules/ingest-common/src/yamlRestTest/resources/rest-api-spec/test/ingest/"
STATUS_EXIT = {200: 0, 400: 1}  # the CLI's exit status for each HTTP status it answers

# Every section title of the Elasticsearch suites this harness accounts for, written from
# the suites as read in elastic/elasticsearch (commit in each file's header comment). A
# section that is neither encoded nor in `left_out` fails test_every_es_section_is_accounted_for.
ES_SECTIONS: dict[str, list[str]] = {
    "10_basic": ["Ingest common installed"],
    "15_info_ingest": [
        "Cluster ingest information",
        "Test bytes_produced not increased when pipeline fails",
        "Test drop processor",
        "Test that pipeline processor has byte stats recorded in first pipeline",
        "Test that final pipeline has byte stats recorded in first pipeline",
        "Test that reroute processor has byte stats recorded in first pipeline",
        "Test human readable byte stat fields",
    ],
    "20_crud": [
        "Test basic pipeline crud",
        "Test wildcard pipeline delete",
        "Test Get All Pipelines",
        "Test invalid config",
        "Test invalid processor config",
        "Test basic pipeline with on_failure in processor",
        "Test processor with description",
    ],
    "25_pipeline_limits": [
        "Pipeline exceeding max_pipeline_size is rejected",
        "Number of pipelines is bounded by max_pipelines",
        "Aggregate pipeline metadata size is bounded by max_total_metadata_size",
    ],
    "30_date_processor": [
        "Test date processor",
        "Test date processor timezone calculations",
        "Test date processor with no timezone configured",
        "Test week based date parsing",
    ],
    "40_mutate": ["Test mutate processors", "Test metadata"],
    "50_on_failure": [
        "Test Pipeline With On Failure Block",
        "Test Pipeline With Nested Processor On Failures",
        "Test pipeline with empty on_failure in a processor",
        "Test pipeline with empty on_failure in pipeline",
        "Test pipeline with ignore_failure in a processor",
    ],
    "60_fail": ["Test Fail Processor", "Test fail with on_failure"],
    "70_bulk": [
        "Test bulk request without default pipeline",
        "Test bulk request with default pipeline",
        "Test bulk request with _none request pipeline and default pipeline",
        "Update with pipeline",
        "Test bulk request with list_executed_pipelines",
    ],
    "80_foreach": ["Test foreach Processor"],
    "90_simulate": [
        "Test simulate with stored ingest pipeline",
        "Test simulate with provided pipeline definition",
        "Test simulate with provided invalid pipeline definition",
        "Test simulate without id",
        "Test simulate with provided pipeline definition with on_failure block",
        "Test simulate with no provided pipeline or pipeline_id",
        "Test simulate with invalid processor config",
        "Test simulate with verbose flag",
        "Test simulate with exception thrown",
        "Test verbose simulate with exception thrown",
        "Test verbose simulate with error in pipeline",
        "Test verbose simulate with on_failure",
        "Test verbose simulate with ignore_failure and thrown exception",
        "Test verbose simulate with ignore_failure and no exception thrown",
        "Test verbose simulate with Pipeline Processor with Circular Pipelines",
        "Test verbose simulate with Pipeline Processor with Multiple Pipelines",
        "Test verbose simulate with true conditional and on failure",
        "Test simulate with pipeline with conditional and skipped and dropped",
        "Test simulate with provided pipeline that does not exist",
    ],
    "100_date_index_name_processor": ["Test date index name processor with defaults"],
    "110_sort": ["Test sort Processor"],
    "120_grok": [
        "Test Grok Pipeline",
        "Test Grok Pipeline With Custom Pattern",
        "Test Grok Pipeline With Custom Pattern Sharing Same Name As Another",
        "Test simulate with grok debugging enabled",
        "Test Grok Patterns Retrieval",
        "Test simulate with invalid GROK pattern",
    ],
    "130_escape_dot": ["Test escape_dot processor", "Test escape_dot processor with override and wildcard"],
    "140_json": [
        "Test JSON Processor",
        "Test JSON Processor duplicate keys",
        "Test JSON Processor recursive merge strategy",
        "Test JSON Processor lenient parsing",
    ],
    "150_kv": ["Test KV Processor", "Test KV Processor with template snippets"],
    "160_urldecode": ["Test KV Processor"],
    "170_version": ["Test set document version & version type"],
    "180_bytes_processor": ["Test bytes processor"],
    "190_script_processor": [
        "Test invoke bytes processor",
        "Test invoke lowercase processor",
        "Test invoke uppercase processor",
        "Test invoke json processor, assign to field",
        "Test invoke json processor, assign to root",
        "Test invoke urlDecode processor",
        "Test invoke community_id processor",
        "Test invoke uri_parts processor",
        "Test adding circular references fails pipeline",
        "Test metadata",
    ],
    "200_default_pipeline": ["Test index with default pipeline"],
    "200_dissect_processor": ["Test dissect processor match", "Test dissect processor mismatch", "Test fail to create dissect processor"],
    "210_conditional_processor": ["Test conditional processor fulfilled condition", "Test conditional processor unfulfilled condition", "Test conditional processor with dotted field"],
    "210_pipeline_processor": ["Test Pipeline Processor with Simple Inner Pipeline", "Test Pipeline Processor with Circular Pipelines", "Test Pipeline Processor with templating", "Test _ingest.pipeline metadata", "Test ignore_missing_pipeline parameter"],
    "220_drop_processor": ["Test Drop Processor", "Test Drop Processor On Failure"],
    "230_change_target_index": ["Test Change Target Index with Explicit Pipeline", "Test Change Target Index with Default Pipeline"],
    "240_required_pipeline": ["Test index with final pipeline", "Test final pipeline when target index is changed"],
    "250_csv": ["Test CSV Processor defaults", "Test CSV Processor quote and separator", "Test CSV Processor trim", "Test CSV Processor trim log"],
    "260_seq_no": ["Test set _if_seq_no & _if_primary_term"],
    "270_set_processor": ["Test set processor with template value", "Test set processor with index change and require_alias", "Test set processor with copy_from"],
    "280_rename": ["Test Rename Processor with template snippets and ignore_missing", "Test Rename Processor with template snippets", "Test Rename Processor with template snippets and override"],
    "290_versioned_update": ["Test pipeline versioned updates"],
    "300_redact_processor": ["Test put redact pipeline", "Test redact", "Test ignore missing", "Test custom start and end tokens"],
    "300_stats": ["Test processor names and types from the node stats", "Test processor call count from the cluster stats"],
    "310_data_stream_router_processor": ["Test first matching router terminates pipeline", "Test two stage routing"],
    "310_reroute_processor": ["Test first matching router terminates pipeline", "Test two stage routing", "Test pipeline run after reroute", "Test data stream with lazy rollover obtains pipeline from template", "Test remove then add reroute processor with and without lazy rollover"],
    "320_uri_parts_processor": ["Test URI parts Processor"],
    "330_terminate_processor": ["Test pipeline including conditional terminate pipeline", "Test pipeline with terminate invoked from an outer pipeline"],
    "340_apache_access_log": ["Test Apache access log parsing"],
    "340_flexible_access_pattern": ["Test dotted field name writes", "Test dotted field name retrieval", "Test dotted field name exists", "Test dotted field removal"],
    "340_recover_failure_document_processor": ["Test recover_failure_document processor with data stream failure store", "Test recover_failure_document processor error handling - missing document field", "Test recover_failure_document processor error handling - missing source field"],
    "340_remediate_processor": ["Test remediate processor with data stream failure store", "Test remediate processor error handling - missing document field", "Test remediate processor error handling - missing source field"],
    "350_append_copy_from": ["It is not permitted to have both copy_from and value", "Simple value into an absent value", "Simple value into a present simple value", "Simple value into a present array", "Array into an absent value", "Array into a present array"],
    "350_flexible_access_arrays": ["Test array writes", "Test array index retrieval", "Test array index removal"],
    "350_nginx_access_log": ["Test Nginx access log parsing"],
    "350_recover_failure_document_processor": ["Test recover_failure_document processor with data stream failure store", "Test recover_failure_document processor error handling - missing document field", "Test recover_failure_document processor error handling - missing source field"],
    "360_append_allow_duplicates": ["allow_duplicates (false) removes duplicates with a present array and copy_from", "allow_duplicates (false) removes duplicates with an empty array and copy_from", "allow_duplicates (false) removes duplicates with a missing array and copy_from", "allow_duplicates (false) removes duplicates with a present array and templating", "allow_duplicates (false) removes duplicates with an empty array and templating", "allow_duplicates (false) removes duplicates with a missing array and templating"],
    "370_append_ignore_empty_values": ["A missing copy_from value is ignored", "A null copy_from value is ignored", "An empty string copy_from value is ignored", "An empty array copy_from value is ignored", "A non-null value is copied", "Empty strings and nulls are ignored in an array"],
    "380_append_edge_cases": ["scalar values will become a list if necessary", "if a value doesn't change because of ignoring duplicates or empty values, it doesn't become a list", "an absent value isn't added in the absence of change"],
    "390_registered_domain_processor": ["Registered Domain Processor: Valid FQDN", "Registered Domain Processor: Valid Domain Only (no subdomain)", "Registered Domain Processor: Valid TLD Only", "Registered Domain Processor: Complex FQDN", "Registered Domain Processor: Unmatchable FQDN", "Registered Domain Processor: Invalid input", "Registered Domain Processor: Field missing with ignore_missing true", "Registered Domain Processor: Field missing with ignore_missing false causes error"],
    "400_command_line_args": ["Test command_line_args processor with bash shell", "Test command_line_args processor with cmd shell", "Test command_line_args processor with powershell shell", "Test command_line_args processor defaults to bash", "Test command_line_args processor with ignore_missing", "Test command_line_args processor fails on missing field"],
    "420_useragent_custom_regex_legacy": ["Test user agent processor with custom regex file in legacy ingest-user-agent directory"],
    "430_ingest_document_size_limit": ["Test simulate rejects a pipeline that copies an oversized field into many other fields", "Test simulate still succeeds for a pipeline well within the size limit"],
}


# --- the suite files ------------------------------------------------------------------


class SuiteFileError(Exception):
    """A suite file that does not follow the format; the message names file, line and section."""


@dataclass
class Run:
    request: dict[str, Any]
    verbose: bool
    status: int
    match: dict[str, Any]
    absent: list[str]
    length: dict[str, int]
    regex: dict[str, str]


@dataclass
class Section:
    suite: str  # the file stem
    name: str
    pipelines: dict[str, dict[str, Any]]
    runs: list[Run]
    line: int
    # Files the node would hold in config/ingest-user-agent: given with --user-agent-dir.
    user_agent_files: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.suite}::{self.name}"


@dataclass
class Suite:
    path: Path
    suite: str
    left_out: dict[str, str]
    sections: list[Section] = field(default_factory=list)


_FILE_KEYS = {"suite", "left_out", "sections"}
_SECTION_KEYS = {"name", "pipelines", "runs", "user_agent_files"}
_RUN_KEYS = {"request", "verbose", "status", "match", "absent", "length", "regex"}


def _lines(node: yaml.Node | None, *steps: str | int) -> list[int]:
    """1-based lines of the items of the sequence reached by `steps` (mapping keys, sequence
    indexes) in a composed document; [] where there is none."""
    for step in steps:
        if isinstance(step, str) and isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(step, int) and isinstance(node, yaml.SequenceNode) and step < len(node.value):
            node = node.value[step]
        else:
            return []
    return [item.start_mark.line + 1 for item in node.value] if isinstance(node, yaml.SequenceNode) else []


def _string_keys(value: Any, where: str) -> None:
    """YAML 1.1 reads `on:` or `1:` as a bool or int key, which JSON cannot carry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SuiteFileError(f"{where}: key {key!r} is a {type(key).__name__}, not a string (quote it)")
            _string_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _string_keys(item, f"{where}[{i}]")


def _mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SuiteFileError(f"{where}: {what} must be a mapping, not {type(value).__name__}")
    return value


def _run(raw: Any, where: str) -> Run:
    raw = _mapping(raw, where, "a run")
    unknown = sorted(set(raw) - _RUN_KEYS)
    if unknown:
        raise SuiteFileError(f"{where}: unknown key(s) {unknown} (known: {sorted(_RUN_KEYS)})")
    request = _mapping(raw.get("request"), f"{where}: request", "the request")
    _string_keys(request, f"{where}: request")
    verbose = raw.get("verbose", False)
    status = raw.get("status", 200)
    if not isinstance(verbose, bool):
        raise SuiteFileError(f"{where}: verbose must be true or false")
    if status not in STATUS_EXIT:
        raise SuiteFileError(f"{where}: status must be one of {sorted(STATUS_EXIT)}, not {status!r}")
    match = _mapping(raw.get("match", {}), f"{where}: match", "match")
    length = _mapping(raw.get("length", {}), f"{where}: length", "length")
    regex = _mapping(raw.get("regex", {}), f"{where}: regex", "regex")
    absent = raw.get("absent", [])
    if not isinstance(absent, list) or not all(isinstance(p, str) for p in absent):
        raise SuiteFileError(f"{where}: absent must be a list of paths")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in length.values()):
        raise SuiteFileError(f"{where}: length values must be integers")
    if not all(isinstance(p, str) for p in regex.values()):
        raise SuiteFileError(f"{where}: regex values must be strings")
    for path in [*match, *length, *regex, *absent]:
        if not isinstance(path, str) or not path:
            raise SuiteFileError(f"{where}: path {path!r} must be a non-empty string")
    if not (match or length or regex or absent):
        raise SuiteFileError(f"{where}: a run must check something (match, absent, length or regex)")
    return Run(request, verbose, status, match, absent, length, regex)


def load_suite(path: Path) -> Suite:
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SuiteFileError(f"{path}:{mark.line + 1 if mark else '?'}: {getattr(error, 'problem', error)}") from None
    raw = _mapping(raw, str(path), "the file")
    unknown = sorted(set(raw) - _FILE_KEYS)
    if unknown:
        raise SuiteFileError(f"{path}: unknown top-level key(s) {unknown} (known: {sorted(_FILE_KEYS)})")
    expected_suite = f"{ES_SUITE_DIR}{path.stem}.yml"
    if raw.get("suite") != expected_suite:
        raise SuiteFileError(f"{path}: suite must be {expected_suite!r}, not {raw.get('suite')!r}")
    left_out = _mapping(raw.get("left_out") or {}, f"{path}: left_out", "left_out")
    for left, reason in left_out.items():
        if not isinstance(reason, str) or not reason.strip():
            raise SuiteFileError(f"{path}: left_out [{left}] needs a reason")
    sections_raw = raw.get("sections") or []
    if not isinstance(sections_raw, list):
        raise SuiteFileError(f"{path}: sections must be a list")
    lines = _lines(root, "sections")
    suite = Suite(path, path.stem, left_out)
    seen: set[str] = set()
    for i, item in enumerate(sections_raw):
        line = lines[i] if i < len(lines) else 0
        where = f"{path}:{line}: section {i}"
        item = _mapping(item, where, "a section")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise SuiteFileError(f"{where}: name must be the Elasticsearch section title")
        where = f"{path}:{line}: section [{name}]"
        unknown = sorted(set(item) - _SECTION_KEYS)
        if unknown:
            raise SuiteFileError(f"{where}: unknown key(s) {unknown} (known: {sorted(_SECTION_KEYS)})")
        if name in seen or name in left_out:
            raise SuiteFileError(f"{where}: encoded twice, or both encoded and left out")
        seen.add(name)
        pipelines = _mapping(item.get("pipelines") or {}, f"{where}: pipelines", "pipelines")
        for pipeline_id, body in pipelines.items():
            _mapping(body, f"{where}: pipeline [{pipeline_id}]", "a pipeline")
        _string_keys(pipelines, f"{where}: pipelines")
        runs_raw = item.get("runs")
        if not isinstance(runs_raw, list) or not runs_raw:
            raise SuiteFileError(f"{where}: runs must be a non-empty list")
        run_lines = _lines(root, "sections", i, "runs")
        runs = [
            _run(run, f"{path}:{run_lines[n] if n < len(run_lines) else line}: section [{name}]: run {n}")
            for n, run in enumerate(runs_raw)
        ]
        user_agent_files = _mapping(item.get("user_agent_files") or {}, f"{where}: user_agent_files", "user_agent_files")
        if not all(isinstance(text, str) for text in user_agent_files.values()):
            raise SuiteFileError(f"{where}: user_agent_files maps file names to their text")
        suite.sections.append(Section(path.stem, name, pipelines, runs, line, user_agent_files))
    return suite


def _load_all() -> tuple[list[Suite], list[tuple[Path, str]]]:
    suites, broken = [], []
    for path in sorted(SUITES.glob("*.yaml")):
        try:
            suites.append(load_suite(path))
        except SuiteFileError as error:
            broken.append((path, str(error)))
    return suites, broken


SUITE_FILES, BROKEN_FILES = _load_all()
SECTIONS = [section for suite in SUITE_FILES for section in suite.sections]


# --- checking an answer the way Elasticsearch's YAML runner does -------------------------

_MISSING = object()


def lookup(answer: Any, path: str) -> Any:
    """The value at a dotted path (numbers index lists, `\\.` is a literal dot), or _MISSING."""
    here = answer
    for part in re.split(r"(?<!\\)\.", path):
        part = part.replace("\\.", ".")
        if isinstance(here, dict) and part in here:
            here = here[part]
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            return _MISSING
    return here


def same(expected: Any, got: Any) -> bool:
    """JSON equality that keeps JSON's types apart: true is not 1, 5 is not 5.0 or "5"."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, dict):
        return isinstance(got, dict) and expected.keys() == got.keys() and all(same(v, got[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and all(same(e, g) for e, g in zip(expected, got, strict=True))
    return type(expected) is type(got) and expected == got


def is_false(value: Any) -> bool:
    """Elasticsearch's is_false: missing, null, false, empty string, "false" or 0."""
    return value is _MISSING or value is None or value is False or value in ("", "false") or (type(value) is int and value == 0)


def show(value: Any) -> str:
    return "(missing)" if value is _MISSING else json.dumps(value, ensure_ascii=False)


def check(run: Run, exit_code: int, answer: Any, raw: str) -> list[str]:
    problems = []
    want_exit = STATUS_EXIT[run.status]
    if exit_code != want_exit:
        problems.append(f"exit status: expected {want_exit} (HTTP {run.status}), got {exit_code}")
    if answer is _MISSING:
        problems.append(f"the answer is not JSON: {raw!r}")
        return problems
    if run.status == 400 and isinstance(answer, dict) and answer.get("status") != 400:
        problems.append(f"status: expected 400 in the error body, got {show(answer.get('status', _MISSING))}")
    for path, expected in run.match.items():
        got = lookup(answer, path)
        if got is _MISSING or not same(expected, got):
            problems.append(f"match {path}: expected {show(expected)}, got {show(got)}")
    for path in run.absent:
        got = lookup(answer, path)
        if not is_false(got):
            problems.append(f"absent {path}: expected missing (or null/false/\"\"/0), got {show(got)}")
    for path, size in run.length.items():
        got = lookup(answer, path)
        if not isinstance(got, (list, dict, str)) or len(got) != size:
            have = len(got) if isinstance(got, (list, dict, str)) else show(got)
            problems.append(f"length {path}: expected {size}, got {have}")
    for path, pattern in run.regex.items():
        got = lookup(answer, path)
        text = got if isinstance(got, str) else show(got)
        if got is _MISSING or not re.search(pattern, text, re.VERBOSE):
            problems.append(f"regex {path}: expected /{pattern}/, got {show(got)}")
    return problems


# --- running a section ------------------------------------------------------------------

# (exit status, stdout, stderr) of one `wgsiem pipelines simulate` call
Invoke = Callable[[list[str], str], tuple[int, str, str]]


def invoke_in_process(args: list[str], stdin: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def invoke_subprocess(args: list[str], stdin: str) -> tuple[int, str, str]:
    installed = REPO / ".venv" / "bin" / "wgsiem"
    command = [str(installed)] if installed.exists() else [sys.executable, "-m", "wgsiem"]
    done = subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)
    return done.returncode, done.stdout, done.stderr


def run_section(section: Section, folder: Path, invoke: Invoke) -> tuple[list[str], list[Any]]:
    """(the failure report, or [] if every run passed; each run's answer)."""
    folder.mkdir(parents=True, exist_ok=True)
    for pipeline_id, body in section.pipelines.items():
        (folder / f"{pipeline_id}.json").write_text(json.dumps(body), encoding="utf-8")
    extra: list[str] = []
    if section.user_agent_files:
        regexes = folder.parent / f"{folder.name}-user-agent"
        regexes.mkdir(exist_ok=True)
        for name, text in section.user_agent_files.items():
            (regexes / name).write_text(text, encoding="utf-8")
        extra = ["--user-agent-dir", str(regexes)]
    report, answers = [], []
    for n, run in enumerate(section.runs):
        args = ["pipelines", "simulate", "--pipeline-dir", str(folder), *extra, *(["--verbose"] if run.verbose else [])]
        code, out, err = invoke(args, json.dumps(run.request))
        try:
            answer = json.loads(out)
        except json.JSONDecodeError:
            answer = _MISSING
        answers.append(answer)
        problems = check(run, code, answer, out)
        if problems:
            report.append(f"run {n} (wgsiem {' '.join(args[:2])}{' --verbose' if run.verbose else ''}):")
            report.extend(f"  {p}" for p in problems)
            report.append("  request: " + json.dumps(run.request, ensure_ascii=False))
            if section.pipelines:
                report.append("  stored pipelines: " + json.dumps(section.pipelines, ensure_ascii=False))
            report.append("  answer: " + (json.dumps(answer, indent=2, ensure_ascii=False) if answer is not _MISSING else repr(out)))
            if err.strip():
                report.append("  stderr: " + err.strip())
    return report, answers


@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_es_rest_section(section: Section, tmp_path: Path) -> None:
    """One section of an Elasticsearch ingest-common REST suite (named in the test id)."""
    report, _ = run_section(section, tmp_path, invoke_in_process)
    assert not report, f"{section.id} (tests/ingest_rest/{section.suite}.yaml:{section.line})\n" + "\n".join(report)


def _without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timestamps(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [_without_timestamps(v) for v in value]
    return value


# Sections that pass through the in-process CLI today; the installed entry point must
# give the same answers (timestamps aside).
ENTRY_POINT_SECTIONS = ["90_simulate::Test simulate with verbose flag", "90_simulate::Test simulate with invalid processor config"]


def test_installed_entry_point_answers_like_the_in_process_cli(tmp_path: Path) -> None:
    by_id = {s.id: s for s in SECTIONS}
    missing = [name for name in ENTRY_POINT_SECTIONS if name not in by_id]
    assert not missing, f"the sections this test runs were renamed or removed: {missing}"
    chosen = [by_id[name] for name in ENTRY_POINT_SECTIONS]
    for section in chosen:
        report, answers = run_section(section, tmp_path / "sub" / section.suite, invoke_subprocess)
        assert not report, f"{section.id} through the installed command\n" + "\n".join(report)
        _, in_process = run_section(section, tmp_path / "in" / section.suite, invoke_in_process)
        assert _without_timestamps(answers) == _without_timestamps(in_process)


# --- the files themselves ------------------------------------------------------------------


@pytest.mark.parametrize("path,error", BROKEN_FILES or [(None, None)], ids=[p.name for p, _ in BROKEN_FILES] or ["none"])
def test_suite_files_are_well_formed(path: Path | None, error: str | None) -> None:
    assert SUITE_FILES, f"no suite files under {SUITES}"
    assert error is None, error


def test_every_es_section_is_accounted_for() -> None:
    files = {suite.suite: suite for suite in SUITE_FILES}
    broken = {path.stem for path, _ in BROKEN_FILES}
    problems = []
    for stem, titles in ES_SECTIONS.items():
        if stem in broken:
            continue  # test_suite_files_are_well_formed reports it
        suite = files.get(stem)
        if suite is None:
            problems.append(f"{stem}: no tests/ingest_rest/{stem}.yaml")
            continue
        encoded = [s.name for s in suite.sections]
        for title in titles:
            if title not in encoded and title not in suite.left_out:
                problems.append(f"{stem}: section [{title}] is neither encoded nor left_out")
        for name in [*encoded, *suite.left_out]:
            if name not in titles:
                problems.append(f"{stem}: [{name}] is not a section of the Elasticsearch suite")
    assert not problems, "\n".join(problems)


def test_every_suite_file_is_in_the_es_section_list() -> None:
    """A suite file whose Elasticsearch sections are not listed in ES_SECTIONS could drop a
    section unnoticed."""
    stems = {path.stem for path in SUITES.glob("*.yaml")}
    unlisted = sorted(stems - set(ES_SECTIONS))
    assert not unlisted, f"add these suites' section titles to ES_SECTIONS: {unlisted}"


def test_a_malformed_file_names_file_line_and_section(tmp_path: Path) -> None:
    path = tmp_path / "120_grok.yaml"
    path.write_text(
        f"suite: {ES_SUITE_DIR}120_grok.yml\nsections:\n  - name: Test Grok Pipeline\n"
        "    runs:\n      - request: {docs: []}\n        status: 201\n        match: {docs: []}\n"
    )
    with pytest.raises(SuiteFileError, match=r"120_grok.yaml:5: section \[Test Grok Pipeline\]: run 0: status must be"):
        load_suite(path)
    path.write_text(f"suite: {ES_SUITE_DIR}120_grok.yml\nsections:\n  - name: X\n    runs:\n      - request: {{on: 1}}\n        match: {{a: 1}}\n")
    with pytest.raises(SuiteFileError, match=r"key True is a bool, not a string"):
        load_suite(path)


def test_the_checks_fail_on_a_wrong_answer() -> None:
    """The checker itself: each kind of check catches a difference, and reports it readably."""
    run = Run({}, False, 200, {"docs.0.doc._source.n": 5}, ["docs.0.doc._source.gone"], {"docs": 1}, {"docs.0.doc._id": "^a"})
    good = {"docs": [{"doc": {"_id": "abc", "_source": {"n": 5, "gone": None}}}]}
    assert check(run, 0, good, "") == []
    bad = {"docs": [{"doc": {"_id": "xbc", "_source": {"n": 5.0, "gone": "here"}}}, None]}
    problems = check(run, 1, bad, "")
    assert problems == [
        "exit status: expected 0 (HTTP 200), got 1",
        "match docs.0.doc._source.n: expected 5, got 5.0",
        'absent docs.0.doc._source.gone: expected missing (or null/false/""/0), got "here"',
        "length docs: expected 1, got 2",
        'regex docs.0.doc._id: expected /^a/, got "xbc"',
    ]
    assert lookup({"a.b": {"c": [1]}}, "a\\.b.c.0") == 1
