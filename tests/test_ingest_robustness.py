"""`pipelines simulate` answers every request as Elasticsearch would, and never crashes.

Property tests: random pipelines built from every registered processor type, with options
that are right, of the wrong type, missing, templated, null or unknown, random `if`
conditions and small Painless scripts (valid and garbage), on random documents (nested
maps and lists, unicode, big numbers, nulls, metadata keys), verbose and not. Whatever the
input, `simulate` answers: 200 with one result per document, or Elasticsearch's error body
with 400/404/500 (RestController answers any exception with its status and body, never a
dropped connection), and the answer is plain JSON.

The regression tests below the properties each pin one input that used to escape as a
Python exception, with the Elasticsearch source whose answer it now gives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import GeoWorld
from tests.support.ingest import stored_pipelines
from wgsiem.cli import app
from wgsiem.ingest.processors import REGISTRY
from wgsiem.ingest.simulate import deep_documents, simulate

STATUSES = {200, 400, 404, 500}
FIELDS = ["a", "b", "msg", "n", "ip", "list", "obj", "obj.x", "obj.y.z", "_index", "_id", "_routing", "_version",
          "_ingest.timestamp", "_source.a", "a.b", "*", "", " ", "{{a}}", "{{{b}}}", "a..b", ".a", "é", "list.0", "list.-1"]  # fmt: skip
WORDS = ["", " ", "a", "x y", "\u00e9t\u00e9", "\U0001f600", "{{a}}", "{{#x}}y{{/x}}", "{{", "%{a}", "%{a} %{b}", "\\", "'",
         "ISO8601", "UNIX", "UNIX_MS", "TAI64N", "yyyy-MM-dd", "dd/MMM/yyyy:HH:mm:ss Z", "d", "M", "y", "w", "h", "m", "s",
         "private", "public", "10.0.0.0/8", "::1", "1.2.3.4", "not-an-ip", "tcp", "udp", "icmp", "6", "MD5", "SHA-1",
         "SHA-256", "MurmurHash3", "asc", "desc", "integer", "long", "float", "double", "boolean", "ip", "auto", "string",
         "replace", "merge", "text/plain", "application/x-www-form-urlencoded", "Europe/Amsterdam", "+05:00", "en-US",
         "bash", "cmd", "powershell", "windows", "%{IP:ip}", "%{WORD:w} %{NUMBER:n:int}", "%{NOPE:x}", "[", "(?<a>b)",
         "*.example.com", "https://u:p@www.example.co.uk:8080/p/a.php?q=1#f", "Mozilla/5.0 (X11; Linux x86_64)",
         "a=1 b=2", "<b>x</b>&amp;", "%zz%41", "logs-a-b", "{{{data_stream.dataset}}}", "painless", "mustache"]  # fmt: skip
OPTION_NAMES = [
    "field", "target_field", "value", "copy_from", "override", "ignore_missing", "ignore_empty_value", "ignore_empty_values",
    "allow_duplicates", "media_type", "keep", "path", "separator", "preserve_trailing", "type", "pattern", "replacement",
    "patterns", "pattern_definitions", "trace_match", "ecs_compatibility", "formats", "timezone", "locale", "output_format",
    "date_rounding", "index_name_prefix", "index_name_format", "date_formats", "append_separator", "field_split",
    "value_split", "include_keys", "exclude_keys", "trim_key", "trim_value", "strip_brackets", "prefix", "suffix",
    "add_to_root", "add_to_root_conflict_strategy", "allow_duplicate_keys", "strict_json_parsing", "processor", "name",
    "ignore_missing_pipeline", "message", "destination", "dataset", "namespace", "fields", "method", "salt", "order",
    "target_fields", "quote", "trim", "empty_value", "source_ip", "destination_ip", "source_port", "destination_port",
    "iana_number", "icmp_type", "icmp_code", "transport", "seed", "internal_networks", "internal_networks_field",
    "keep_original", "remove_if_successful", "regex_file", "extract_device_type", "properties", "database_file",
    "first_only", "shell", "skip_if_unlicensed", "trace_redact", "source", "lang", "params", "options", "id", "inline",
]  # fmt: skip
SCRIPTS = [
    "ctx.a = 1", "ctx.b = ctx.a", "ctx.n += 1", "ctx.list.add(ctx.msg)", "ctx.obj.x = params.p", "ctx.remove('a')",
    "def x = ctx.a; if (x != null) { ctx.b = x.toString() }", "for (int i = 0; i < 3; i++) { ctx.n = i }",
    "ctx.list?.removeIf(v -> v == null)", "ctx.obj?.forEach((k, v) -> ctx[k] = v)", "return ctx.a",
    "ctx.a = ctx.msg.substring(1, 3)", "ctx.a = ctx.msg =~ /a+/", "ctx.a = Math.max(ctx.n, 2)", "ctx._index = 'x'",
    "ctx.a = ctx.n / 0", "ctx.a = ctx.list[10]", "ctx.a = (int) ctx.msg", "throw new IllegalArgumentException('x')",
    "while (true) {}", "ctx.a = Processors.lowercase(ctx.msg)", "ctx.a = params['_source']", "ctx.a = ctx._ingest",
    "ctx.x = [1, 2, 3].stream().mapToInt(i -> i).sum()", "ctx.a = 1 << 40", "ctx.a = 9223372036854775807L + 1",
    "ctx.a = 'x' * 3", "String s = null; s.length()", "ctx.a = new HashMap()", "ctx.a = ctx.msg.split(',')",
    "ctx.a = ctx['obj']['y']['z']", "ctx.a = /[/", "ctx.a = ", "}", "ctx.", "1 +", "def", "ctx.a = 1;;; ctx.b = 2",
    "ctx.a = \"\\u00e9\"", "ctx.a = 0x7fffffff + 1", "ctx.a = 1e400", "ctx.a = (long) 1e30", "ctx.a = -2147483648 / -1",
]  # fmt: skip
CONDITIONS = [
    "ctx.a == 1", "ctx.a != null", "ctx?.obj?.x == 'y'", "ctx.msg?.contains('a') == true", "ctx.n > 5", "ctx.list.size() > 0",
    "ctx.a", "true", "false", "null", "1", "ctx.msg =~ /x/", "ctx.a instanceof String", "ctx.n / 0 == 1", "ctx.", "((",
    "ctx['obj']['y'] == null", "ctx.tags?.contains('x')", "return ctx.a == 1", "ctx.a = 1", "params.p == 1",
]  # fmt: skip


# A valid configuration of each processor type (ES's documentation examples, on this
# module's document fields), which the strategies below break in one place or more.
BASES: dict[str, dict[str, Any]] = {
    "append": {"field": "list", "value": ["x", "{{msg}}"], "allow_duplicates": False},
    "bytes": {"field": "msg", "target_field": "n2"},
    "command_line_args": {"field": "msg", "target_field": "args"},
    "community_id": {"source_ip": "ip", "destination_ip": "obj.x", "source_port": "n", "destination_port": "n", "transport": "msg"},
    "convert": {"field": "msg", "type": "integer"},
    "csv": {"field": "msg", "target_fields": ["c1", "c2"]},
    "date": {"field": "msg", "formats": ["ISO8601", "UNIX", "yyyy-MM-dd"], "timezone": "{{obj.x}}"},
    "date_index_name": {"field": "msg", "date_rounding": "d", "date_formats": ["ISO8601", "UNIX_MS"]},
    "dissect": {"field": "msg", "pattern": "%{a} %{+a} %{*k}=%{&k}"},
    "dot_expander": {"field": "*"},
    "drop": {},
    "fail": {"message": "failed on {{msg}}"},
    "fingerprint": {"fields": ["a", "obj", "list"], "method": "MurmurHash3"},
    "foreach": {"field": "list", "processor": {"uppercase": {"field": "_ingest._value"}}},
    "geoip": {"field": "ip", "target_field": "geo"},
    "grok": {"field": "msg", "patterns": ["%{IP:ip}", "%{WORD:w} %{NUMBER:n:int}"]},
    "gsub": {"field": "msg", "pattern": "[a-z]+", "replacement": "$0-"},
    "html_strip": {"field": "msg"},
    "join": {"field": "list", "separator": ","},
    "json": {"field": "msg", "add_to_root": True},
    "kv": {"field": "msg", "field_split": " ", "value_split": "=", "strip_brackets": True},
    "lowercase": {"field": "msg"},
    "network_direction": {"source_ip": "ip", "destination_ip": "a", "internal_networks": ["private", "{{obj.x}}"]},
    "pipeline": {"name": "{{msg}}", "ignore_missing_pipeline": True},
    "recover_failure_document": {},
    "redact": {"field": "msg", "patterns": ["%{IP:client}", "%{EMAILADDRESS:email}"]},
    "registered_domain": {"field": "msg", "target_field": "url"},
    "remove": {"field": ["a", "{{msg}}"], "ignore_missing": True},
    "rename": {"field": "a", "target_field": "obj.y"},
    "reroute": {"dataset": ["{{msg}}", "x"], "namespace": "{{a}}"},
    "script": {"source": "ctx.a = params.p", "params": {"p": 1}},
    "set": {"field": "{{msg}}", "copy_from": "obj"},
    "sort": {"field": "list", "order": "desc"},
    "split": {"field": "msg", "separator": "\\s+"},
    "terminate": {},
    "trim": {"field": "msg"},
    "uppercase": {"field": "list"},
    "uri_parts": {"field": "msg", "keep_original": False},
    "urldecode": {"field": "msg"},
    "user_agent": {"field": "msg", "extract_device_type": True},
}


def _json_values(depth: int = 2) -> st.SearchStrategy[Any]:
    """Document and option values: what JSON can carry, with Java's edge numbers."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 2**64]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(WORDS),
        st.text(max_size=12),
    )
    if depth <= 0:
        return scalars
    inner = _json_values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "x", "y", "z", "msg", "n", "", "a.b", "_id", "\u00e9"]), inner, max_size=4),
    )


VALUES = _json_values()


def _option_value(name: str) -> st.SearchStrategy[Any]:
    """A value of the kind the option takes (right or wrong for the processor at hand)."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "field": st.sampled_from(FIELDS),
        "target_field": st.sampled_from(FIELDS),
        "copy_from": st.sampled_from(FIELDS),
        "path": st.sampled_from(FIELDS),
        "keep": st.lists(st.sampled_from(FIELDS), max_size=3),
        "fields": st.lists(st.sampled_from(FIELDS), max_size=3),
        "target_fields": st.lists(st.sampled_from(FIELDS), max_size=3),
        "internal_networks": st.lists(st.sampled_from(WORDS), max_size=3),
        "formats": st.lists(st.sampled_from(WORDS), max_size=3),
        "date_formats": st.lists(st.sampled_from(WORDS), max_size=3),
        "patterns": st.lists(st.sampled_from(WORDS), max_size=3),
        "include_keys": st.lists(st.sampled_from(WORDS), max_size=3),
        "exclude_keys": st.lists(st.sampled_from(WORDS), max_size=3),
        "properties": st.lists(st.sampled_from(["ip", "name", "version", "os", "device", "original", "city_name", "x"]), max_size=3),
        "pattern_definitions": st.dictionaries(st.sampled_from(["A", "B", "IP"]), st.sampled_from(WORDS), max_size=2),
        "params": st.dictionaries(st.sampled_from(["p", "q"]), VALUES, max_size=2),
        "source": st.sampled_from(SCRIPTS),
        "seed": st.integers(-(2**17), 2**17),
        "processor": st.deferred(lambda: PROCESSOR),
    }
    flags = {"override", "ignore_missing", "ignore_empty_value", "ignore_empty_values", "allow_duplicates", "preserve_trailing",
             "trace_match", "strip_brackets", "add_to_root", "allow_duplicate_keys", "strict_json_parsing",
             "ignore_missing_pipeline", "trim", "keep_original", "remove_if_successful", "extract_device_type",
             "first_only", "skip_if_unlicensed", "trace_redact"}  # fmt: skip
    right = plausible.get(name)
    if right is None:
        right = st.booleans() if name in flags else st.sampled_from(WORDS)
    return right


@st.composite
def _wild(draw: st.DrawFn) -> dict[str, Any]:
    """A processor broken anywhere: options removed, of the wrong type, unknown, null."""
    processor_type = draw(st.sampled_from([*sorted(REGISTRY), "nope", "attachment"]))
    options: dict[str, Any] = dict(BASES.get(processor_type, {}))
    own = sorted(options) or ["field"]
    for name in draw(st.lists(st.sampled_from(own), max_size=2)):
        options.pop(name, None)
    for name in draw(st.lists(st.sampled_from(own), max_size=2)):
        options[name] = draw(_option_value(name) | VALUES)
    for name in draw(st.lists(st.sampled_from(OPTION_NAMES), max_size=3, unique=True)):
        options[name] = draw(_option_value(name) | VALUES)
    if draw(st.integers(0, 3)) == 0:
        condition = draw(st.sampled_from(CONDITIONS) | st.text(max_size=8))
        options["if"] = condition if draw(st.booleans()) else {"source": condition, "params": {"p": draw(VALUES)}}
    if draw(st.integers(0, 3)) == 0:
        options["ignore_failure"] = draw(st.booleans() | VALUES)
    if draw(st.integers(0, 3)) == 0:
        options["on_failure"] = draw(st.lists(st.deferred(lambda: PROCESSOR), max_size=2) | VALUES)
    if draw(st.integers(0, 3)) == 0:
        options["tag"] = draw(st.sampled_from(WORDS) | VALUES)
    if draw(st.integers(0, 10)) == 0:
        return {processor_type: draw(VALUES)}
    return {processor_type: options}


@st.composite
def _tame(draw: st.DrawFn) -> dict[str, Any]:
    """A processor Elasticsearch mostly accepts (its base, values changed to ones of the
    right kind), so that documents run through it."""
    processor_type = draw(st.sampled_from(sorted(REGISTRY)))
    options: dict[str, Any] = dict(BASES[processor_type])
    for name in draw(st.lists(st.sampled_from(sorted(options) or ["field"]), max_size=2)):
        if name in options:
            options[name] = draw(_option_value(name))
    if draw(st.integers(0, 3)) == 0:
        options["if"] = draw(st.sampled_from(CONDITIONS[:14]))
    if draw(st.integers(0, 3)) == 0:
        options["ignore_failure"] = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        options["on_failure"] = [draw(st.deferred(lambda: TAME))]
    if draw(st.integers(0, 4)) == 0:
        options["tag"] = draw(st.sampled_from(WORDS))
    return {processor_type: options}


TAME = _tame()
PROCESSOR = st.one_of(TAME, TAME, _wild())


@st.composite
def _document(draw: st.DrawFn) -> Any:
    source = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "a": VALUES,
                "b": VALUES,
                "msg": st.sampled_from(WORDS) | st.text(max_size=20),
                "n": st.integers(-(2**64), 2**64) | st.floats(allow_nan=False, allow_infinity=False),
                "ip": st.sampled_from(["1.2.3.4", "10.0.0.1", "::1", "fe80::1%eth0", "300.1.1.1", "x"]),
                "list": st.lists(VALUES, max_size=4),
                "obj": st.dictionaries(st.sampled_from(["x", "y", "z"]), VALUES, max_size=3),
                "_index": VALUES,
                "_id": VALUES,
                "_version": VALUES,
                "_routing": VALUES,
                "_ingest": VALUES,
                "_source": VALUES,
            },
        )
    )
    doc: dict[str, Any] = {"_source": source}
    wild = draw(st.integers(0, 4)) == 0
    for key in ("_index", "_id", "_routing", "_version", "_version_type", "_if_seq_no", "_if_primary_term"):
        if draw(st.integers(0, 3)) == 0:
            right = st.sampled_from([1, 2**40, "7"] if key == "_version" else ["i", "1", 1, "\u00e9", "external"])
            doc[key] = draw(right | VALUES if wild else right)
    if wild and draw(st.integers(0, 4)) == 0:
        return draw(VALUES)
    return doc


@st.composite
def _request(draw: st.DrawFn) -> Any:
    body: dict[str, Any] = {
        "pipeline": {"processors": draw(st.lists(TAME, min_size=1, max_size=4) | st.lists(PROCESSOR, min_size=1, max_size=3))},
        "docs": draw(st.lists(_document(), min_size=1, max_size=3)),
    }
    if draw(st.integers(0, 5)) == 0:
        body["pipeline"]["on_failure"] = draw(st.lists(TAME, max_size=2))
    if draw(st.integers(0, 20)) == 0:
        body[draw(st.sampled_from(["pipeline_id", "pipeline", "docs", "extra"]))] = draw(VALUES)
    return body


def check_answer(status: int, answer: Any) -> None:
    """What every answer must be: JSON, a known status, and error bodies with their strings."""
    json.dumps(answer, allow_nan=False)  # valid JSON: no bare NaN or Infinity either
    assert status in STATUSES
    if status == 200:
        assert isinstance(answer["docs"], list)
        for entry in answer["docs"]:
            for error in _errors(entry):
                check_error(error)
    else:
        assert answer["status"] == status
        check_error(answer["error"])


def _errors(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "error" and isinstance(inner, dict) and "root_cause" in inner:
                found.append(inner)
            else:
                found.extend(_errors(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_errors(inner))
    return found


def check_error(error: dict[str, Any]) -> None:
    assert isinstance(error["type"], str) and isinstance(error["reason"], str), error
    assert error["root_cause"], error
    for cause in error["root_cause"]:
        assert isinstance(cause["type"], str) and isinstance(cause["reason"], str), cause


# One stored pipeline, for `pipeline` processors and `pipeline_id` requests to find.
PIPELINES = stored_pipelines(a={"processors": [{"set": {"field": "called", "value": True}}]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=_request(), verbose=st.booleans())
def test_any_request_gets_an_elasticsearch_answer(body: Any, verbose: bool, geoip_world: GeoWorld) -> None:
    status, answer = simulate(body, PIPELINES, verbose=verbose, geoip_dirs=[geoip_world.city.parent])
    check_answer(status, answer)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(processor=PROCESSOR, docs=st.lists(_document(), min_size=1, max_size=3), verbose=st.booleans())
def test_any_single_processor_gets_an_elasticsearch_answer(
    processor: dict[str, Any], docs: list[Any], verbose: bool, geoip_world: GeoWorld
) -> None:
    body = {"pipeline": {"processors": [processor]}, "docs": docs}
    status, answer = simulate(body, PIPELINES, verbose=verbose, geoip_dirs=[geoip_world.city.parent])
    check_answer(status, answer)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=st.sampled_from(SCRIPTS) | st.text(max_size=30), condition=st.sampled_from(CONDITIONS) | st.text(max_size=12),
       doc=_document(), verbose=st.booleans())  # fmt: skip
def test_any_script_and_condition_gets_an_elasticsearch_answer(source: str, condition: str, doc: Any, verbose: bool) -> None:
    processors = [{"script": {"source": source, "params": {"p": 1}}}, {"set": {"if": condition, "field": "c", "value": 1}}]
    status, answer = simulate({"pipeline": {"processors": processors}, "docs": [doc]}, PIPELINES, verbose=verbose)
    check_answer(status, answer)


RUNNER = CliRunner()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=_request(), verbose=st.booleans())
def test_the_cli_answers_any_request(body: Any, verbose: bool, geoip_world: GeoWorld) -> None:
    # Exit 0 with Elasticsearch's 200 answer, 1 with its error body; never a traceback.
    args = ["pipelines", "simulate", *(["--verbose"] if verbose else []), "--geoip-dir", str(geoip_world.city.parent)]
    result = RUNNER.invoke(app, args, input=json.dumps(body))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    answer = json.loads(result.stdout)
    assert result.exit_code == (0 if "docs" in answer else 1), result.stdout
    check_answer(200 if result.exit_code == 0 else answer["status"], answer)


def test_every_registered_type_has_a_valid_base() -> None:
    # The strategies start from a pipeline Elasticsearch accepts, or they would test little
    # but option checks.
    assert set(BASES) == set(REGISTRY)
    for processor_type, options in BASES.items():
        status, answer = simulate({"pipeline": {"processors": [{processor_type: options}]}, "docs": [{"_source": {}}]}, PIPELINES)
        assert status == 200, (processor_type, answer)


# --- regressions: inputs that once escaped as Python exceptions ----------------------------


def test_a_script_nesting_deeper_than_the_compilers_stack_is_a_compile_error() -> None:
    # PainlessScriptEngine.compile catches StackOverflowError with the other compile failures
    # (convertToScriptException): a "compile error" script_exception, caused by
    # stack_overflow_error, with an empty script_stack and no position (no frame of the
    # script's class in the trace). How deep is too deep differs between the JVM and here.
    source = "ctx.a = " + "(" * 5000 + "1" + ")" * 5000
    for processor in ({"script": {"source": source}}, {"set": {"field": "b", "value": 1, "if": source.replace("ctx.a =", "ctx.a ==")}}):
        status, answer = simulate({"pipeline": {"processors": [processor]}, "docs": [{"_source": {}}]}, PIPELINES)
        assert status == 400, answer
        error = answer["error"]
        assert error["type"] == "script_exception" and error["reason"] == "compile error"
        assert error["script_stack"] == [] and "position" not in error
        assert error["caused_by"] == {"type": "stack_overflow_error", "reason": None}
    # Some hundreds of levels still compile and run, as a long flat condition does.
    deep = {"script": {"source": "ctx.b = " + "(" * 400 + "1" + ")" * 400}}
    assert simulate({"pipeline": {"processors": [deep]}, "docs": [{"_source": {}}]}, PIPELINES)[1]["docs"][0]["doc"]["_source"]["b"] == 1
    flat = " || ".join(f"ctx.a == 'v{i}'" for i in range(600))
    body = {"pipeline": {"processors": [{"set": {"field": "b", "value": 1, "if": flat}}]}, "docs": [{"_source": {"a": "v599"}}]}
    assert simulate(body, PIPELINES)[1]["docs"][0]["doc"]["_source"]["b"] == 1


def test_a_document_made_to_contain_itself_fails_as_in_ingest_service() -> None:
    # A script aliases two fields (Painless assigns references, as Java does), a rename then
    # puts the map inside itself. IngestService answers such a document with an
    # IllegalArgumentException "Failed to generate the source document for ingest pipeline
    # [..] for document [index/id]" caused by CollectionUtils.ensureNoSelfReferences's
    # "Iterable object is self-referencing itself".
    processors = [{"script": {"source": "ctx.b = ctx.a"}}, {"rename": {"field": "a", "target_field": "b.y"}}]
    body = {"pipeline": {"processors": processors}, "docs": [{"_index": "i", "_id": "1", "_source": {"a": {"x": 1}}}]}
    status, answer = simulate(body, PIPELINES)
    check_answer(status, answer)
    (error,) = [doc["error"] for doc in answer["docs"]]
    assert error["reason"] == "Failed to generate the source document for ingest pipeline [_simulate_pipeline] for document [i/1]"
    assert error["caused_by"] == {"type": "illegal_argument_exception", "reason": "Iterable object is self-referencing itself"}
    status, answer = simulate(body, PIPELINES, verbose=True)
    check_answer(status, answer)
    results = answer["docs"][0]["processor_results"]
    assert [r["status"] for r in results] == ["success", "error"] and results[1]["processor_type"] == "rename"
    # Without a script too: a foreach moving its own list into the element it is on.
    inside = {"foreach": {"field": "l", "processor": {"rename": {"field": "l", "target_field": "_ingest._value.x"}}}}
    status, answer = simulate({"pipeline": {"processors": [inside]}, "docs": [{"_source": {"l": [{"k": 1}]}}]}, PIPELINES)
    check_answer(status, answer)
    assert answer["docs"][0]["error"]["caused_by"]["reason"] == "Iterable object is self-referencing itself"
    # Shared values that are not their own ancestors are fine.
    shared = {"pipeline": {"processors": [{"script": {"source": "ctx.b = ctx.a; ctx.c = [ctx.a, ctx.a]"}}]}, "docs": [{"_source": {"a": {"x": 1}}}]}
    assert simulate(shared, PIPELINES)[1]["docs"][0]["doc"]["_source"]["c"] == [{"x": 1}, {"x": 1}]


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def test_documents_as_deep_as_elasticsearch_parses_run_and_deeper_requests_are_refused() -> None:
    # Jackson's StreamReadConstraints (maxNestingDepth 1000) bounds what Elasticsearch parses;
    # up to there a document runs through any processor. Deeper is the parser's 400.
    processors = [{"set": {"field": "z", "copy_from": "d"}}, {"fingerprint": {"fields": ["d"]}}, {"set": {"field": "t", "value": "{{d}}"}}]
    for verbose in (False, True):
        status, answer = simulate({"pipeline": {"processors": processors}, "docs": [{"_source": {"d": _nested(990)}}]}, PIPELINES, verbose=verbose)
        with deep_documents():  # as the CLI writes it
            assert status == 200 and "error" not in json.dumps(answer)[-2000:]
    status, answer = simulate({"pipeline": {"processors": processors}, "docs": [{"_source": {"d": _nested(5000)}}]}, PIPELINES)
    assert status == 400 and answer["error"]["type"] == "x_content_parse_exception"


def test_the_cli_takes_deep_documents_and_refuses_json_too_deep_to_read() -> None:
    # Exit 0 with the answer for a document Elasticsearch would take; stdin nesting beyond
    # what can be read is the CLI's own error (exit 2), never a traceback.
    body = {"pipeline": {"processors": [{"set": {"field": "z", "value": 1}}]}, "docs": [{"_source": {"d": _nested(990)}}]}
    with deep_documents():
        request = json.dumps(body)
    result = RUNNER.invoke(app, ["pipelines", "simulate", "--geoip-dir", "."], input=request)
    with deep_documents():
        answer = json.loads(result.stdout)
    assert result.exit_code == 0 and answer["docs"][0]["doc"]["_source"]["z"] == 1
    result = RUNNER.invoke(app, ["pipelines", "simulate", "--geoip-dir", "."], input="[" * 200_000 + "]" * 200_000)
    assert result.exit_code == 2 and "stdin: the JSON nests too deeply" in result.stderr


def test_ingest_timestamp_copied_into_the_source_is_written_as_in_ingest() -> None:
    # IngestDocument.deepCopy keeps _ingest.timestamp a ZonedDateTime when set's copy_from
    # (SetProcessor) puts it in the source; XContent writes it there as in `_ingest`.
    from datetime import UTC, datetime

    body = {"pipeline": {"processors": [{"set": {"field": "a", "copy_from": "_ingest.timestamp"}}]}, "docs": [{"_source": {}}]}
    for verbose in (False, True):
        status, answer = simulate(body, PIPELINES, verbose=verbose, now=datetime(2024, 1, 1, tzinfo=UTC))
        check_answer(status, answer)
        doc = answer["docs"][0]["processor_results"][0]["doc"] if verbose else answer["docs"][0]["doc"]
        assert doc["_source"]["a"] == doc["_ingest"]["timestamp"] == "2024-01-01T00:00:00.000000Z"


def test_nan_and_infinities_are_written_as_jackson_writes_them() -> None:
    # Jackson's QUOTE_NON_NUMERIC_NUMBERS (on by default, and XContent keeps it) writes a
    # double that is not a number as a string, so the answer stays valid JSON.
    body = {"pipeline": {"processors": [{"script": {"source": "ctx.a = 10.0 / 0; ctx.b = -1.0 / 0; ctx.c = 0.0 / 0"}}]}, "docs": [{"_source": {}}]}
    result = CliRunner().invoke(app, ["pipelines", "simulate"], input=json.dumps(body))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"bare {name} in the answer"))
    assert answer["docs"][0]["doc"]["_source"] == {"a": "Infinity", "b": "-Infinity", "c": "NaN"}
