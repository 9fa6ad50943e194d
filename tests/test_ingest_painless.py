"""Painless in ingest `if` conditions: parsing, Java semantics, what is refused.

The script processor's side (statements, loops, lambdas, ctx writes, the processor's
options and error bodies) is tests/test_ingest_script.py.

Sources for the expected behaviour, cited per test as `# pins: ...`:
- ES docs "Conditionally run a processor" (docs-content,
  manage-data/ingest/transform-enrich/ingest-pipelines.md);
- Painless docs "Operators: Boolean" / "Operators: General" / "Operators: Reference"
  (elasticsearch docs/reference/scripting-languages/painless/);
- Painless sources: DefMath.eq/lt (def operators), Def.lookupGetter (getter before the
  Map/List shortcut), the NullSafeSubNode writer (`?.` guards one link), PainlessLexer.g4.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.ingest.painless import (
    JLong,
    PainlessCompileError,
    PainlessRuntimeError,
    compile_condition,
    compile_script,
)


def run(source: str, ctx: dict[str, Any] | None = None) -> bool:
    return compile_condition(source)(ctx if ctx is not None else {})


def compile_error(source: str) -> PainlessCompileError:
    with pytest.raises(PainlessCompileError) as info:
        compile_condition(source)
    error = info.value
    assert "\n" not in str(error)
    assert error.source == source
    return error


def runtime_error(source: str, ctx: dict[str, Any]) -> PainlessRuntimeError:
    condition = compile_condition(source)
    with pytest.raises(PainlessRuntimeError) as info:
        condition(ctx)
    assert "\n" not in str(info.value)
    return info.value


# --- Elasticsearch's documented examples ---------------------------------------------------


def test_doc_drop_guest_network_null_safe():
    # pins: ES docs "Conditionally run a processor": `ctx?.network?.name == 'Guest'` drops
    # documents whose network.name is Guest; ?. avoids an NPE when network is missing.
    condition = compile_condition("ctx?.network?.name == 'Guest'")
    assert condition({"network": {"name": "Guest"}}) is True
    assert condition({"network": {"name": "Corp"}}) is False
    assert condition({"network": {}}) is False
    assert condition({"message": "no network at all"}) is False


def test_doc_without_null_safe_throws_when_parent_missing():
    # pins: ES docs "Conditionally run a processor": accessing a field whose parent object
    # does not exist returns a NullPointerException.
    condition = compile_condition("ctx.network.name == 'Guest'")
    assert condition({"network": {"name": "Guest"}}) is True
    error = runtime_error("ctx.network.name == 'Guest'", {"foo": "bar"})
    assert error.java_exception == "NullPointerException"
    assert "[ctx.network.name]" in str(error)


def test_doc_equals_ignore_case_is_not_null_safe():
    # pins: ES docs "Conditionally run a processor": `ctx.network?.name.equalsIgnoreCase('Guest')`
    # is not null safe, since `ctx.network?.name` can return null.
    source = "ctx.network?.name.equalsIgnoreCase('Guest')"
    assert run(source, {"network": {"name": "GUEST"}}) is True
    assert runtime_error(source, {"network": {}}).java_exception == "NullPointerException"
    assert runtime_error(source, {}).java_exception == "NullPointerException"


def test_doc_equals_ignore_case_rewritten_null_safe():
    # pins: ES docs "Conditionally run a processor": `'Guest'.equalsIgnoreCase(ctx.network?.name)`
    # is null safe because 'Guest' is always non-null.
    condition = compile_condition("'Guest'.equalsIgnoreCase(ctx.network?.name)")
    assert condition({"network": {"name": "gUeSt"}}) is True
    assert condition({"network": {"name": "Corp"}}) is False
    assert condition({"network": {}}) is False
    assert condition({}) is False


def test_doc_explicit_null_check_then_contains():
    # pins: ES docs "Conditionally run a processor": an explicit null check,
    # `ctx.network?.name != null && ctx.network.name.contains('Guest')`.
    condition = compile_condition("ctx.network?.name != null && ctx.network.name.contains('Guest')")
    assert condition({"network": {"name": "Guest-5GHz"}}) is True
    assert condition({"network": {"name": "Corp"}}) is False
    assert condition({"network": {}}) is False  # && short-circuits: no NPE on .contains
    assert condition({}) is False


def test_doc_conditionally_apply_pipelines():
    # pins: ES docs "Conditionally apply pipelines": service.name picks a pipeline, the fail
    # processor runs when it is neither apache_httpd nor syslog (also when it is missing).
    httpd = compile_condition("ctx.service?.name == 'apache_httpd'")
    syslog = compile_condition("ctx.service?.name == 'syslog'")
    fail = compile_condition("ctx.service?.name != 'apache_httpd' && ctx.service?.name != 'syslog'")
    assert (httpd({"service": {"name": "apache_httpd"}}), syslog({"service": {"name": "apache_httpd"}})) == (True, False)
    assert (httpd({"service": {"name": "syslog"}}), syslog({"service": {"name": "syslog"}})) == (False, True)
    assert fail({"service": {"name": "apache_httpd"}}) is False
    assert fail({"service": {"name": "nginx"}}) is True
    assert fail({}) is True


def test_doc_regex_condition():
    # pins: ES docs "Conditionally run a processor": `ctx.url?.scheme =~ /^http[^s]/` runs
    # processors for http but not https URLs. Elasticsearch 9's default regex setting
    # (script.painless.regex.enabled: limited) allows regex literals.
    condition = compile_condition("ctx.url?.scheme =~ /^http[^s]/")
    assert condition({"url": {"scheme": "http:"}}) is True
    assert condition({"url": {"scheme": "https"}}) is False
    # =~ is Matcher.find(), which needs a String: a missing scheme is a null.
    assert runtime_error("ctx.url?.scheme =~ /^http[^s]/", {}).java_exception == "NullPointerException"


def test_doc_multi_statement_condition():
    # pins: ES docs "Conditionally run a processor": the `Collection tags = ctx.tags; for ...`
    # condition drops documents tagged prod; a script of statements, with a return.
    source = """
        Collection tags = ctx.tags;
        if(tags != null){
          for (String tag : tags) {
            if (tag.toLowerCase().contains('prod')) {
              return false;
            }
          }
        }
        return true;
    """
    condition = compile_condition(source)
    assert condition({"tags": ["dev", "Prod-eu"]}) is False
    assert condition({"tags": ["dev"]}) is True
    assert condition({}) is True
    # `String tag` casts each element: a number in tags is a ClassCastException.
    assert runtime_error(source, {"tags": [1]}).java_exception == "ClassCastException"


def test_tags_contains_null_safe_idiom():
    # pins: the elastic/integrations idiom `ctx.tags?.contains('preserve_original_event')`:
    # null when tags is missing, so it is compared with == true or != true.
    assert run("ctx.tags?.contains('preserve_original_event') == true", {"tags": ["preserve_original_event"]}) is True
    assert run("ctx.tags?.contains('preserve_original_event') == true", {}) is False
    assert run("ctx.tags?.contains('preserve_original_event') != true", {}) is True
    # Used bare, the null result cannot be cast to boolean: Painless throws.
    assert runtime_error("ctx.tags?.contains('x')", {}).java_exception == "NullPointerException"


# --- parse errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position", "expected"),
    [
        ("ctx.a == (1))", 12, "';' or end of input"),
        ("ctx.a ==", 8, "an expression"),
        ("", 0, "an expression"),
        ("ctx[0", 5, "']'"),
        ("(ctx.a == 1", 11, "')'"),
        ("ctx.a == 1 ctx.b", 11, "';' or end of input"),
        ("ctx.", 4, "a field or method name right after '.'"),
        ("ctx. a == 1", 4, "a field or method name right after '.'"),  # Painless: no whitespace after a dot
        ("ctx?.", 5, "a field or method name right after '?.'"),
        ("'abc", 0, "a closing '"),
        ('ctx.a == "abc', 9, 'a closing "'),
        ("ctx.a == 'x\\n'", 11, "\\' or \\\\"),
        ('ctx.a == "it\\\'s"', 12, '\\" or \\\\'),
        ("ctx.a ? true", 12, "':'"),
        ("ctx.a instanceof 1", 17, "a type"),
        ("ctx.a @ 1", 6, "an expression or operator"),
        ("ctx.a // trailing comment without a line break", 6, "a line break"),
        ("ctx.a /* unclosed", 6, "'*/'"),
        ("ctx.a =~ /unclosed", 9, "'/'"),
        ("if (ctx.a) { return true", 24, "';' or '}'"),
    ],
)
def test_parse_error_names_position_and_expectation(source, position, expected):
    error = compile_error(source)
    assert error.position == position
    assert error.expected == expected
    assert f"(at position {position}, line 1, column {position + 1} of [" in str(error)
    assert error.reason.endswith(f"expected {expected}")


def test_parse_error_message_shape():
    error = compile_error("ctx.a == (1))")
    assert str(error) == "unexpected ')': expected ';' or end of input (at position 12, line 1, column 13 of [ctx.a == (1))])"


def test_multiline_source_names_line_and_column():
    error = compile_error("ctx.a == 1 &&\n  ctx.b ==")
    assert error.position == len("ctx.a == 1 &&\n  ctx.b ==")
    assert (error.line, error.column) == (2, 11)
    assert str(error) == "unexpected end of input: expected an expression (at position 24, line 2, column 11 of [ctx.a == 1 &&   ctx.b ==])"


# --- refused constructs ------------------------------------------------------------------------
# What the offline engine does not implement is a compile error naming the construct and where
# it is, never a condition that runs differently.


@pytest.mark.parametrize(
    ("source", "construct", "position"),
    [
        ("ctx.a === ctx.b", "reference equality [===]", 6),
        ("ctx.a !== ctx.b", "reference equality [!==]", 6),
        ("ZonedDateTime.parse(ctx.a) != null", "type [ZonedDateTime]", 0),
        ("ctx.a instanceof Instant", "type [Instant]", 17),
        ("byte b = 1; return b == 1", "type [byte]", 0),
        ("new int[2][2].length == 2", "a multi-dimensional array", 0),
        ("'x'.charAt(0) == 'x'", "comparing a char with a String", 14),
        ("ctx.a instanceof LinkedList", "type [LinkedList]", 17),
    ],
)
def test_refused_constructs_are_named_with_position(source, construct, position):
    error = compile_error(source)
    assert error.reason.startswith(construct)
    assert "is not supported by the offline engine" in error.reason
    assert error.position == position


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        # pins: Painless's whitelists: no type has these methods (name and argument count).
        ("ctx.a.matches('x')", "unknown method [matches/1] with 1 argument(s): no type this engine supports has it", 5),
        ("ctx.a.startsWith('x', 1, 2)", "unknown method [startsWith/3] with 3 argument(s)", 5),
        # The ingest script context's API is not the condition's (org.elasticsearch.script.ingest.txt).
        ("Processors.lowercase(ctx.a) == 'x'", "cannot resolve symbol [Processors]", 0),
        ("metadata().index == 'x'", "unknown function [metadata/0]", 0),
        ("ctx.a.sha1() == 'x'", "unknown method [sha1/0] in a condition", 5),
        # Lambdas are only arguments of calls (PainlessParser: lambda is an `argument`).
        ("def f = x -> x; return true", "unexpected '->'", 10),
        # Painless regexes are Java's: what Python's re cannot do is refused, not approximated.
        ("ctx.a =~ /\\p{L}+/", "invalid regular expression", 9),
    ],
)
def test_unknown_api_is_a_compile_error(source, message, position):
    error = compile_error(source)
    assert error.reason.startswith(message)
    assert error.position == position


def test_unknown_variable_and_type():
    # Painless: "cannot resolve symbol"; ctx and params are a condition's only variables.
    error = compile_error("foo == 1")
    assert error.position == 0 and error.reason == "cannot resolve symbol [foo]"
    error = compile_error("ctx.a instanceof Foo")
    assert error.position == 17 and error.reason == "cannot resolve type [Foo]"


# --- static typing: Painless rejects these at compile time ----------------------------------


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        # pins: the condition's value is cast to boolean; a literal String/int cannot be.
        ("'a'", "Cannot cast from [java.lang.String] to [boolean]", 0),
        ("1", "Cannot cast from [int] to [boolean]", 0),
        ("null", "Cannot cast from [null] to [boolean]", 0),
        ("ctx", "Cannot cast from [java.util.Map] to [boolean]", 0),
        ("!'a'", "Cannot cast from [java.lang.String] to [boolean]", 1),
        ("ctx.a && 1", "Cannot cast from [int] to [boolean]", 9),
        ("'x' ? true : false", "Cannot cast from [java.lang.String] to [boolean]", 0),
        ("ctx.a ? 'x' : 'y'", "Cannot cast from [java.lang.String] to [boolean]", 0),
        # pins: Painless's conditional promotion: a String branch and null give a String.
        ("ctx.a ? 'x' : null", "Cannot cast from [java.lang.String] to [boolean]", 0),
        # pins: Painless docs "Operators: Boolean", equality errors: boolean against numeric.
        ("true == 1", "cannot compare [boolean] with [int]", 5),
        ("1.0 != false", "cannot compare [double] with [boolean]", 4),
        ("null == null", "extraneous comparison of null constants", 5),
        # pins: Painless docs "Operators: Boolean", `<`: non-numeric operands are errors.
        ("'a' < 1", "Cannot apply [<] to a value of type [java.lang.String]", 0),
        ("1 >= true", "Cannot apply [>=] to a value of type [boolean]", 5),
        ("null < 1", "Cannot apply [<] to a value of type [null]", 0),
        # ctx is a Map: its methods resolve at compile time (the error points at the call's dot).
        ("ctx.contains('a')", "member method [java.util.Map, contains/1] not found", 3),
        ("'abc'.size() == 3", "member method [java.lang.String, size/0] not found", 5),
        ("'abc'.contains(1)", "Cannot cast from [int] to [java.lang.String]", 15),
        ("'abc'.foo == 1", "unknown field [foo] for type [java.lang.String]", 5),
        ("(1).foo == 1", "cannot access field [foo] of a value of type [int]", 3),
        ("'abc'[0] == 'a'", "Attempting to address a non-array-like type [java.lang.String] as an array.", 5),
        # pins: Painless "Result of null safe operator must be nullable" for primitive results.
        ("ctx?.isEmpty()", "result of null safe operator must be nullable", 3),
        ("'abc'?.length() == 3", "result of null safe operator must be nullable", 5),
        # pins: Painless AnalyzerCaster: no implicit narrowing, no String to int.
        ("int x = 1.5; return x == 1", "Cannot cast from [double] to [int].", 8),
        ("String s = 1; return s == '1'", "Cannot cast from [int] to [java.lang.String].", 11),
        ("Map m = [1, 2]; return m.isEmpty()", "Cannot cast from [java.util.ArrayList] to [java.util.Map].", 8),
        ("def x = 1; def x = 2; return true", "variable [x] is already defined", 15),
        ("break; return true", "invalid break statement: not in a loop", 0),
        ("ctx.a == 1; return true", "not a statement", 0),
        ("return true; ctx.a == 1", "unreachable statement", 13),
    ],
)
def test_static_type_errors(source, message, position):
    error = compile_error(source)
    assert error.reason.startswith(message)
    assert error.position == position


def test_conditional_with_null_branch_unboxes_at_run_time():
    # pins: Painless's conditional promotion: `ctx.a != null ? true : null` is a Boolean, cast
    # to boolean when the condition returns it: null there is a NullPointerException.
    assert run("ctx.a != null ? true : null", {"a": 1}) is True
    assert runtime_error("ctx.a != null ? true : null", {}).java_exception == "NullPointerException"
    # A Map branch and null are a Map: `.x` is a map get, on null a NullPointerException.
    assert run("(ctx.a ? ctx : null).x == 1", {"a": True, "x": 1}) is True
    assert runtime_error("(ctx.a ? ctx : null).x == 1", {"a": False}).java_exception == "NullPointerException"


def test_elvis_on_primitive_or_null_is_refused():
    assert "extraneous elvis operator" in str(compile_error("1 ?: 2 == 1"))
    assert "extraneous elvis operator" in str(compile_error("null ?: true"))


# --- literals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "ctx"),
    [
        ("ctx.s == 'it\\'s'", {"s": "it's"}),
        ('ctx.s == "say \\"hi\\""', {"s": 'say "hi"'}),
        ("ctx.s == 'back\\\\slash'", {"s": "back\\slash"}),
        ("ctx.s == \"back\\\\slash\"", {"s": "back\\slash"}),
        ("ctx.s == 'say \"hi\"'", {"s": 'say "hi"'}),  # the other quote needs no escape
        ("ctx.s == \"it's\"", {"s": "it's"}),
        ("ctx.s == 'line\nbreak'", {"s": "line\nbreak"}),  # a raw newline inside a string is kept
        ("ctx.n == 42", {"n": 42}),
        ("ctx.n == 0", {"n": 0}),
        ("ctx.n == -7", {"n": -7}),
        ("ctx.n == -2147483648", {"n": -(2**31)}),  # the sign folds into the literal
        ("ctx.n == 2147483647", {"n": 2**31 - 1}),
        ("ctx.n == 9007199254740993L", {"n": 9007199254740993}),
        ("ctx.n == 0x1F", {"n": 31}),
        ("ctx.n == 0x1FL", {"n": 31}),
        ("ctx.n == 017", {"n": 15}),  # a leading 0 is octal, as in Java
        ("ctx.n == 1.5", {"n": 1.5}),
        ("ctx.n == 1.5d", {"n": 1.5}),
        ("ctx.n == 2d", {"n": 2.0}),
        ("ctx.n == 1e3", {"n": 1000}),
        ("ctx.n == 2.5e-1", {"n": 0.25}),
        ("ctx.n == 0.5f", {"n": 0.5}),  # exactly representable in 32 bits
        ("ctx.n == -(3)", {"n": -3}),
        ("ctx.b == true", {"b": True}),
        ("ctx.b == false", {"b": False}),
        ("ctx.x == null", {}),
    ],
)
def test_literals(source, ctx):
    assert run(source, ctx) is True


def test_float_literal_is_rounded_to_32_bits():
    # pins: Painless def `==` promotes Double vs Float to double: (double)1.1f != 1.1.
    assert run("ctx.n == 1.1f", {"n": 1.1}) is False
    assert run("ctx.n == 1.1", {"n": 1.1}) is True


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("ctx.n == 2147483648", "invalid int constant [2147483648]"),
        ("ctx.n == -2147483649", "invalid int constant [-2147483649]"),
        ("ctx.n == 0xFFFFFFFF", "invalid int constant [0xFFFFFFFF]"),
        ("ctx.n == 9223372036854775808L", "invalid long constant"),
        ("ctx.n == 1.5L", "invalid number literal [1.5L]"),
    ],
)
def test_number_literal_out_of_range(source, fragment):
    error = compile_error(source)
    assert fragment in str(error)
    assert error.position == 9


def test_comments_and_whitespace():
    assert run("/* drop guests */ ctx.network?.name == 'Guest' // by name\n", {"network": {"name": "Guest"}}) is True
    assert run("\n  ctx.a\n    == 1\n", {"a": 1}) is True


def test_return_and_semicolon_forms():
    # pins: elastic/integrations pipelines write `return ctx.x != null;` as well as the bare expression.
    for source in ("ctx.x != null", "ctx.x != null;", "return ctx.x != null", "return ctx.x != null;"):
        assert run(source, {"x": 1}) is True
        assert run(source, {}) is False


# --- field access --------------------------------------------------------------------------------


def test_dot_bracket_and_mixed_access():
    ctx = {"a": {"b": {"c": "deep"}}, "dotted.key": 7, "@timestamp": "t"}
    assert run("ctx.a.b.c == 'deep'", ctx)
    assert run("ctx['a']['b']['c'] == 'deep'", ctx)
    assert run('ctx["a"][\'b\'].c == \'deep\'', ctx)
    assert run("ctx.a['b'].c == 'deep'", ctx)
    assert run("ctx['dotted.key'] == 7", ctx)  # a bracket key is one key, dots and all
    assert run("ctx['@timestamp'] == 't'", ctx)
    assert run("ctx.a.missing == null", ctx)
    assert run("ctx['a'][1] == null", ctx)  # an Integer key never equals a String key


def test_metadata_fields_are_plain_keys():
    ctx = {"_index": "logs-wireguard", "_id": "1", "_ingest": {"timestamp": "2024-01-01T00:00:00Z"}}
    assert run("ctx._index == 'logs-wireguard' && ctx._id == '1'", ctx)
    assert run("ctx._ingest?.timestamp != null", ctx)


def test_list_index():
    ctx = {"tags": ["a", "b", "c"]}
    assert run("ctx.tags[0] == 'a'", ctx)
    assert run("ctx.tags[2] == 'c'", ctx)
    # pins: Painless Def index normalization: a negative brace index on a def List counts from the end.
    assert run("ctx.tags[-1] == 'c'", ctx)
    # pins: Painless list shortcut `list.0` (DOTINTEGER after a dot) is list.get(0).
    assert run("ctx.tags.1 == 'b'", ctx)
    error = runtime_error("ctx.tags[3] == 'x'", ctx)
    assert error.java_exception == "IndexOutOfBoundsException"
    assert str(error) == "Index 3 out of bounds for length 3 (at [ctx.tags[3]])"
    assert runtime_error("ctx.tags[-4] == 'x'", ctx).java_exception == "IndexOutOfBoundsException"
    assert runtime_error("ctx.tags.5 == 'x'", ctx).java_exception == "IndexOutOfBoundsException"
    assert runtime_error("ctx.tags['a'] == 'x'", ctx).java_exception == "ClassCastException"
    assert runtime_error("ctx.tags[1L] == 'x'", ctx).java_exception == "ClassCastException"


def test_field_on_non_map_throws():
    # pins: ctx values are def, so `.x` on a String or number is a failed dynamic getter.
    error = runtime_error("ctx.s.x == 1", {"s": "text"})
    assert error.java_exception == "IllegalArgumentException"
    assert str(error) == "dynamic getter [java.lang.String, x] not found (at [ctx.s.x])"
    assert runtime_error("ctx.n.x == 1", {"n": 5}).java_exception == "IllegalArgumentException"
    assert runtime_error("ctx.b.x == 1", {"b": True}).java_exception == "IllegalArgumentException"
    assert runtime_error("ctx.l.x == 1", {"l": [1]}).java_exception == "IllegalArgumentException"
    assert runtime_error("ctx.s[0] == 't'", {"s": "text"}).java_exception == "IllegalArgumentException"


def test_getters_win_over_map_keys():
    # pins: Painless Def.lookupGetter tries whitelisted getters (isEmpty -> `empty`,
    # List.getLength -> `length`) before the Map/List shortcut.
    assert run("ctx.m.empty == false", {"m": {"empty": True}}) is True
    assert run("ctx.m.empty", {"m": {}}) is True
    assert run("ctx.l.empty", {"l": []}) is True
    assert run("ctx.l.length == 2", {"l": [1, 2]}) is True
    assert run("ctx.s.empty", {"s": ""}) is True
    assert run("ctx.empty == false", {"x": 1}) is True
    assert run("ctx.m.length == 3", {"m": {"length": 3}}) is True  # a Map has no length getter


# --- null safety -------------------------------------------------------------------------------


def test_npe_without_null_safe():
    # pins: DefBootstrap.PIC.checkNull: "cannot access method/field [x] from a null def reference".
    error = runtime_error("ctx.foo.bar == 1", {})
    assert str(error) == "cannot access method/field [bar] from a null def reference (at [ctx.foo.bar])"
    assert error.java_exception == "NullPointerException"
    error = runtime_error("ctx.foo.contains('x')", {})
    assert str(error) == "cannot access method/field [contains] from a null def reference (at [ctx.foo.contains('x')])"
    assert runtime_error("ctx.foo[0] == 1", {}).java_exception == "NullPointerException"


def test_null_safe_chains():
    assert run("ctx.a?.b == null", {}) is True
    assert run("ctx?.a?.b?.c == null", {}) is True
    assert run("ctx?.a?.b?.c == 1", {"a": {"b": {"c": 1}}}) is True
    assert run("ctx.a?.b?.c == null", {"a": {}}) is True
    assert run("ctx.a?.size() == null", {}) is True
    assert run("ctx.a?.size() == 2", {"a": [1, 2]}) is True


def test_null_safe_guards_only_its_own_link():
    # pins: Painless NullSafeSubNode writer (dup; ifnull end; <this access>; end:) and the
    # Painless docs "Null Safe" operator: null is returned for that access only, so the next
    # plain `.c` runs on null and throws. Write `?.` on every link that may be missing.
    error = runtime_error("ctx.a?.b.c == 1", {})
    assert error.java_exception == "NullPointerException"
    assert str(error) == "cannot access method/field [c] from a null def reference (at [ctx.a?.b.c])"
    assert runtime_error("ctx.a?.b.contains('x')", {}).java_exception == "NullPointerException"
    assert run("ctx.a?.b.c == 1", {"a": {"b": {"c": 1}}}) is True


def test_null_safe_call_skips_its_arguments():
    # The arguments sit inside the guarded access: with a null receiver they never run.
    assert run("ctx.a?.contains(ctx.missing.x) == null", {}) is True
    # Without ?. the arguments run before the call reaches the null receiver.
    assert str(runtime_error("ctx.a.contains(ctx.missing.x)", {})).startswith("cannot access method/field [x] from a null def reference")


# --- equality ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "ctx", "expected"),
    [
        # pins: Painless DefMath.eq: boxed numbers compare by promoted value.
        ("ctx.a == 1", {"a": 1}, True),
        ("ctx.a == 1", {"a": 1.0}, True),
        ("ctx.a == 1.0", {"a": 1}, True),
        ("ctx.a == 1L", {"a": 1}, True),
        ("ctx.a == ctx.b", {"a": 1, "b": 1.0}, True),
        ("ctx.a == ctx.b", {"a": 2**40, "b": float(2**40)}, True),
        ("ctx.a == 2", {"a": 1}, False),
        ("ctx.a != 2", {"a": 1}, True),
        # A Boolean is never a Number.
        ("ctx.a == 1", {"a": True}, False),
        ("ctx.a == 0", {"a": False}, False),
        ("ctx.a == true", {"a": 1}, False),
        ("ctx.a == ctx.b", {"a": True, "b": 1}, False),
        ("ctx.a != 1", {"a": True}, True),
        ("ctx.a == true", {"a": True}, True),
        ("ctx.a == false", {"a": False}, True),
        # Strings by content, never against other types.
        ("ctx.a == 'x'", {"a": "x"}, True),
        ("ctx.a == ctx.b", {"a": "x" * 3, "b": "".join(["x", "x", "x"])}, True),
        ("ctx.a == '1'", {"a": 1}, False),
        ("ctx.a == 1", {"a": "1"}, False),
        # pins: Painless docs "Operators: Boolean", equality is null-safe.
        ("ctx.a == null", {}, True),
        ("ctx.a == null", {"a": None}, True),
        ("ctx.a == null", {"a": 0}, False),
        ("ctx.a == ctx.b", {}, True),
        ("null != ctx.a", {"a": "x"}, True),
        # Map/List: equals, deeply, with Java's element equals (no numeric promotion inside).
        ("ctx.a == ctx.b", {"a": {"x": [1, "y"]}, "b": {"x": [1, "y"]}}, True),
        ("ctx.a == ctx.b", {"a": {"x": 1}, "b": {"x": 2}}, False),
        ("ctx.a == ctx.b", {"a": [1], "b": [1.0]}, False),
        ("ctx.a == ctx.b", {"a": [True], "b": [1]}, False),
        ("ctx.a == ctx.b", {"a": [], "b": {}}, False),
        ("ctx.a == ctx.b", {"a": [1, 2], "b": [2, 1]}, False),
        # Static types: both literals.
        ("1 == 1L", {}, True),
        ("1 == 1.0", {}, True),
        ("'a' == 'a'", {}, True),
        ("'1' == 1", {}, False),
        ("true == true", {}, True),
        ("true != false", {}, True),
    ],
)
def test_equality(source, ctx, expected):
    assert run(source, ctx) is expected


def test_equality_results_are_real_booleans():
    assert run("ctx.a == 1", {"a": 1}) is True
    assert run("ctx.a != 1", {"a": 1}) is False


# --- relational --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "ctx", "expected"),
    [
        ("ctx.a < 2", {"a": 1}, True),
        ("ctx.a <= 1", {"a": 1}, True),
        ("ctx.a > 1", {"a": 1}, False),
        ("ctx.a >= 1", {"a": 1}, True),
        ("ctx.a > 0.5", {"a": 1}, True),
        ("ctx.a < ctx.b", {"a": 1.5, "b": 2}, True),
        ("ctx.a > 2147483647", {"a": 2**40}, True),
        ("ctx.a > 1L", {"a": 2}, True),
        ("-1 < 0", {}, True),
        ("1 < 2.5", {}, True),
        ("ctx.a >= -0.0", {"a": 0.0}, True),
    ],
)
def test_relational(source, ctx, expected):
    assert run(source, ctx) is expected


@pytest.mark.parametrize(
    ("ctx", "exception"),
    [
        # pins: Painless docs "Operators: Boolean", `<`: non-numeric values are errors;
        # DefMath.lt throws ClassCastException for them and NullPointerException for null.
        ({"a": "1"}, "ClassCastException"),
        ({"a": True}, "ClassCastException"),
        ({"a": [1]}, "ClassCastException"),
        ({"a": None}, "NullPointerException"),
        ({}, "NullPointerException"),
    ],
)
def test_relational_needs_numbers(ctx, exception):
    assert runtime_error("ctx.a < 5", ctx).java_exception == exception


def test_relational_with_a_def_side_fails_at_run_time():
    # pins: Painless AnalyzerCaster.promoteNumeric: a def operand makes the comparison def,
    # so a non-numeric static side compiles and throws when evaluated.
    assert runtime_error("ctx.a >= true", {"a": 1}).java_exception == "ClassCastException"
    assert runtime_error("ctx.a < 'x'", {"a": 1}).java_exception == "ClassCastException"
    assert runtime_error("ctx.a < null", {"a": 1}).java_exception == "NullPointerException"


def test_relational_error_message():
    # pins: DefMath's message for operands it cannot compare.
    error = runtime_error("ctx.a < 'b'.length()", {"a": "a"})
    assert str(error) == "Cannot apply [<] operation to types [java.lang.String] and [java.lang.Integer]. (at [ctx.a < 'b'.length()])"


# --- boolean operators -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true && true", True),
        ("true && false", False),
        ("false || true", True),
        ("false || false", False),
        ("!false", True),
        ("!!true", True),
        ("!(1 < 2)", False),
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("1 < 2 == true", True),  # relational binds tighter than ==
        ("false ? false : true", True),
        ("true ? false : true", False),
        ("false ? true : false ? false : true", True),  # ?: is right-associative
    ],
)
def test_boolean_operators(source, expected):
    assert run(source) is expected


def test_boolean_operators_short_circuit():
    # The right side would throw (NPE on ctx.a.b); it must not run.
    assert run("ctx.a != null && ctx.a.b == 1", {}) is False
    assert run("ctx.a == null || ctx.a.b == 1", {}) is True
    assert run("ctx.a == null ? true : ctx.a.b == 1", {}) is True


@pytest.mark.parametrize(
    ("source", "ctx", "exception"),
    [
        # pins: Painless casts def operands of &&, ||, ! to boolean: ClassCastException for
        # another type, NullPointerException for null (it is an unboxing).
        ("ctx.a && true", {"a": 1}, "ClassCastException"),
        ("ctx.a && true", {"a": "true"}, "ClassCastException"),
        ("ctx.a && true", {}, "NullPointerException"),
        ("true && ctx.a", {"a": 0}, "ClassCastException"),
        ("false || ctx.a", {"a": None}, "NullPointerException"),
        ("!ctx.a", {"a": 1}, "ClassCastException"),
        ("!ctx.a", {}, "NullPointerException"),
        ("ctx.a ? true : false", {"a": "yes"}, "ClassCastException"),
        # The whole condition is cast to boolean the same way.
        ("ctx.a", {"a": "x"}, "ClassCastException"),
        ("ctx.a", {"a": 1}, "ClassCastException"),
        ("ctx.a", {}, "NullPointerException"),
        ("ctx.a ?: false", {"a": "x"}, "ClassCastException"),
    ],
)
def test_boolean_operands_must_be_booleans(source, ctx, exception):
    assert runtime_error(source, ctx).java_exception == exception


def test_def_boolean_result():
    assert run("ctx.flag", {"flag": True}) is True
    assert run("ctx.flag", {"flag": False}) is False
    assert run("!ctx.flag", {"flag": False}) is True
    assert run("ctx.a && ctx.b", {"a": True, "b": True}) is True
    # The JDK's checkcast message (a def cast to boolean is a cast to Boolean).
    assert str(runtime_error("ctx.foo", {"foo": "x"})) == (
        "class java.lang.String cannot be cast to class java.lang.Boolean (java.lang.String and java.lang.Boolean are in "
        "module java.base of loader 'bootstrap') (at [ctx.foo])"
    )


def test_conditional_promotes_numeric_branches():
    # pins: Painless docs "Operators: General", conditional: mixed numeric branches are promoted.
    assert run("(ctx.a ? 1 : 2.0) instanceof Double", {"a": True}) is True
    assert run("(ctx.a ? 1 : 2L) instanceof Long", {"a": True}) is True
    assert run("(ctx.a ? 1 : 2) instanceof Integer", {"a": True}) is True
    assert run("(ctx.a ? 'x' : null) == null", {"a": False}) is True


def test_elvis():
    assert run("(ctx.a ?: 'none') == 'none'", {}) is True
    assert run("(ctx.a ?: 'none') == 'x'", {"a": "x"}) is True
    assert run("ctx.flag ?: false", {}) is False


# --- instanceof --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "true_for"),
    [
        ("text", {"String", "CharSequence", "Object"}),
        ({"k": 1}, {"Map", "Object"}),
        ([1, 2], {"List", "Collection", "Object"}),
        (True, {"Boolean", "Object"}),  # a Boolean is not a Number
        (1, {"Integer", "Number", "Object"}),
        (2**31, {"Long", "Number", "Object"}),  # past 32 bits Elasticsearch holds a Long
        (1.5, {"Double", "Number", "Object"}),
        (None, set()),  # null is an instance of nothing
    ],
)
def test_instanceof(value, true_for):
    types = ["String", "CharSequence", "Map", "List", "Collection", "Number", "Integer", "Long", "Double", "Float", "Boolean", "Object"]
    for name in types:
        assert run(f"ctx.v instanceof {name}", {"v": value}) is (name in true_for), name


def test_instanceof_literals_and_precedence():
    assert run("1L instanceof Long") is True
    assert run("1 instanceof Integer") is True
    assert run("1.5f instanceof Float") is True
    assert run("ctx instanceof Map") is True
    # instanceof binds looser than < and tighter than ==.
    assert run("ctx.a instanceof String == true", {"a": "x"}) is True
    assert run("!(ctx.a instanceof List)", {"a": "x"}) is True
    assert run("ctx.a != null && ctx.a instanceof String && ctx.a.length() > 0", {"a": "x"}) is True


# --- methods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "ctx", "expected"),
    [
        # String
        ("ctx.s.contains('ell')", {"s": "hello"}, True),
        ("ctx.s.contains('xyz')", {"s": "hello"}, False),
        ("ctx.s.startsWith('he')", {"s": "hello"}, True),
        ("ctx.s.endsWith('lo')", {"s": "hello"}, True),
        ("ctx.s.isEmpty()", {"s": ""}, True),
        ("ctx.s.equals('hello')", {"s": "hello"}, True),
        ("ctx.s.equals(null)", {"s": "hello"}, False),
        ("ctx.s.equalsIgnoreCase('HeLLo')", {"s": "hello"}, True),
        ("ctx.s.equalsIgnoreCase(null)", {"s": "hello"}, False),
        ("ctx.s.length() == 5", {"s": "hello"}, True),
        ("ctx.s.length() == 2", {"s": "\U0001F600"}, True),  # Java counts UTF-16 units
        ("ctx.s.toLowerCase() == 'hello'", {"s": "HeLLo"}, True),
        ("ctx.s.toUpperCase() == 'HELLO'", {"s": "HeLLo"}, True),
        ("ctx.s.trim() == 'x'", {"s": " \t x\n "}, True),
        ("ctx.s.trim() == '\u00a0x'", {"s": "\u00a0x "}, True),  # trim() keeps non-ASCII spaces
        ("ctx.s.indexOf('l') == 2", {"s": "hello"}, True),
        ("ctx.s.indexOf('z') == -1", {"s": "hello"}, True),
        ("'abc'.contains(ctx.s)", {"s": "b"}, True),
        ("'prod-eu'.startsWith('prod')", {}, True),
        # List
        ("ctx.l.contains('b')", {"l": ["a", "b"]}, True),
        ("ctx.l.contains('c')", {"l": ["a", "b"]}, False),
        ("ctx.l.contains(null)", {"l": ["a", None]}, True),
        ("ctx.l.size() == 2", {"l": ["a", "b"]}, True),
        ("ctx.l.isEmpty()", {"l": []}, True),
        ("ctx.l.get(1) == 'b'", {"l": ["a", "b"]}, True),
        ("ctx.l.indexOf('b') == 1", {"l": ["a", "b"]}, True),
        ("ctx.l.indexOf('z') == -1", {"l": ["a", "b"]}, True),
        ("ctx.l.equals(ctx.m)", {"l": ["a"], "m": ["a"]}, True),
        # Map
        ("ctx.m.containsKey('k')", {"m": {"k": None}}, True),
        ("ctx.m.containsKey('z')", {"m": {"k": None}}, False),
        ("ctx.m.containsKey(1)", {"m": {"1": 1}}, False),
        ("ctx.m.containsValue(2)", {"m": {"k": 2}}, True),
        ("ctx.m.get('k') == 2", {"m": {"k": 2}}, True),
        ("ctx.m.get('z') == null", {"m": {"k": 2}}, True),
        ("ctx.m.size() == 1", {"m": {"k": 2}}, True),
        ("ctx.m.isEmpty()", {"m": {}}, True),
        ("ctx.m.equals(ctx.n)", {"m": {"k": [1]}, "n": {"k": [1]}}, True),
        # ctx itself is a Map
        ("ctx.containsKey('event')", {"event": {}}, True),
        ("ctx.get('event') != null", {"event": {}}, True),
        ("ctx.size() == 1", {"event": {}}, True),
        # equals on any value: Java equals, no promotion
        ("ctx.n.equals(1)", {"n": 1}, True),
        ("ctx.n.equals(1L)", {"n": 1}, False),
        ("ctx.n.equals(1.0)", {"n": 1}, False),
        ("ctx.b.equals(true)", {"b": True}, True),
    ],
)
def test_methods(source, ctx, expected):
    assert run(source, ctx) is expected


@pytest.mark.parametrize(
    ("element", "needle", "expected"),
    [
        # pins: List.contains uses equals: same boxed class and value, never Python's 1 == True.
        ("1", "1", True),
        ("1", "1L", False),  # Integer.equals(Long) is false...
        ("1", "1.0", False),
        ("1.0", "1.0", True),
        ("true", "1", False),  # ...and a Boolean never equals a number
        ("1", "true", False),
        ("'1'", "1", False),
    ],
)
def test_list_contains_uses_java_equals(element, needle, expected):
    ctx = {"l": [{"1": 1, "1.0": 1.0, "true": True, "'1'": "1"}[element]]}
    assert run(f"ctx.l.contains({needle})", ctx) is expected


def test_list_contains_long_element():
    assert run("ctx.l.contains(4294967296L)", {"l": [2**32]}) is True  # both Long
    assert run("ctx.l.contains(ctx.x)", {"l": [[1, 2]], "x": [1, 2]}) is True


@pytest.mark.parametrize(
    ("source", "ctx", "exception", "message"),
    [
        # pins: def method calls dispatch on the runtime class; a missing one is an IllegalArgumentException
        # naming the class (a JSON object is a HashMap, an array an ArrayList).
        ("ctx.m.contains('a')", {"m": {}}, "IllegalArgumentException", "dynamic method [java.util.HashMap, contains/1] not found"),
        ("ctx.l.startsWith('a')", {"l": []}, "IllegalArgumentException", "dynamic method [java.util.ArrayList, startsWith/1] not found"),
        ("ctx.s.size() == 1", {"s": "a"}, "IllegalArgumentException", "dynamic method [java.lang.String, size/0] not found"),
        ("ctx.n.contains('1')", {"n": 1}, "IllegalArgumentException", "dynamic method [java.lang.Integer, contains/1] not found"),
        # Arguments are cast to the parameter type; the JDK's messages (checked with OpenJDK 25).
        ("ctx.s.contains(1)", {"s": "a1"}, "ClassCastException", "class java.lang.Integer cannot be cast to class java.lang.CharSequence"),
        ("ctx.s.contains(ctx.x)", {"s": "a"}, "NullPointerException", 'Cannot invoke "java.lang.CharSequence.toString()" because "s" is null'),
        ("ctx.s.startsWith(null)", {"s": "a"}, "NullPointerException", 'Cannot invoke "String.length()" because "prefix" is null'),
        ("ctx.l.get(5) == 1", {"l": [1]}, "IndexOutOfBoundsException", "Index 5 out of bounds for length 1"),
        ("ctx.l.get(-1) == 1", {"l": [1]}, "IndexOutOfBoundsException", "Index -1 out of bounds for length 1"),
        ("ctx.l.get('0') == 1", {"l": [1]}, "ClassCastException", "class java.lang.String cannot be cast to class java.lang.Integer"),
        ("ctx.x.equals(1)", {}, "NullPointerException", "cannot access method/field [equals] from a null def reference"),
        ("ctx.x.isEmpty()", {}, "NullPointerException", "cannot access method/field [isEmpty] from a null def reference"),
    ],
)
def test_method_runtime_errors(source, ctx, exception, message):
    error = runtime_error(source, ctx)
    assert error.java_exception == exception
    assert str(error).startswith(message)


def test_string_contains_on_tags_that_is_a_string():
    # A malformed document with tags as one string: Painless dispatches String.contains.
    assert run("ctx.tags?.contains('prod') == true", {"tags": "my-prod-host"}) is True


# --- compiled closures -------------------------------------------------------------------------


def test_compile_is_cached_by_source():
    assert compile_condition("ctx.a == 1") is compile_condition("ctx.a == 1")


def test_condition_does_not_modify_ctx():
    ctx = {"a": {"b": [1, 2]}, "tags": ["x"]}
    before = repr(ctx)
    run("ctx.a?.b?.contains(2) && ctx.tags.size() == 1 && ctx.missing?.x == null", ctx)
    assert repr(ctx) == before


def test_jlong_is_a_long_but_equals_an_int():
    assert JLong(5) == 5 and repr(JLong(5)) == "5L"
    assert run("ctx.n == 5L", {"n": 5}) is True


# --- properties ----------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from([0, 1, -1, 0.0, 1.0, -0.0, "", "1", "true", "a"]),
    st.text(max_size=3),
)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(a=_JSON, b=_JSON)
def test_def_equality_is_symmetric_and_negates(a, b):
    ctx = {"a": a, "b": b}
    equal = run("ctx.a == ctx.b", ctx)
    assert equal is run("ctx.b == ctx.a", ctx)
    assert run("ctx.a != ctx.b", ctx) is (not equal)


_LITERALS = {"'a'": "a", "'1'": "1", "null": None, "true": True, "false": False, "1": 1, "1.0": 1.0, "1L": JLong(1), "0": 0}


@settings(max_examples=200, deadline=None)
@given(value=_SCALARS)
def test_literal_on_either_side_agrees(value):
    # The constant fast paths (str, null, boolean) must agree with the general def comparison.
    for literal, literal_value in _LITERALS.items():
        left = run(f"ctx.v == {literal}", {"v": value})
        right = run(f"{literal} == ctx.v", {"v": value})
        general = run("ctx.v == ctx.w", {"v": value, "w": literal_value})
        assert left is right is general, literal


@settings(max_examples=200, deadline=None)
@given(flag=st.booleans(), number=st.one_of(st.integers(min_value=-2, max_value=2), st.floats(min_value=-2, max_value=2)))
def test_boolean_never_equals_a_number(flag, number):
    # pins: Painless DefMath.eq: a Boolean is not a Number (Python's True == 1 must not leak).
    ctx = {"flag": flag, "n": number}
    assert run("ctx.flag == ctx.n", ctx) is False
    assert run("ctx.l.contains(ctx.n)", {"l": [flag], "n": number}) is False
    assert run("ctx.flag instanceof Number", ctx) is False


# --- more of the language in conditions -----------------------------------------------------------


def test_slash_divides_after_a_value_and_starts_a_regex_elsewhere():
    # pins: EnhancedPainlessLexer.isSlashRegex: after a name, a number, `)` or `]` a slash
    # divides; after an operator or a keyword (return) it opens a regex literal.
    assert run("ctx.a / 2 == 3", {"a": 7}) is True  # int division
    assert run("(ctx.a) / 2.0 == 3.5", {"a": 7}) is True
    assert run("ctx.l[0] / 2 == 1", {"l": [3]}) is True
    assert run("return /^a/.matcher(ctx.s).find()", {"s": "abc"}) is True
    assert run("ctx.s ==~ /a.c/", {"s": "abc"}) is True


def test_condition_with_statements_and_params():
    # pins: IngestConditionalScript has `params` (the `if` object's) and the whole language; the
    # last expression statement is the result.
    script = compile_script("def level = ctx.log?.level; if (level == null) { return false } level.toLowerCase() == params.level", "condition")
    condition = script.condition({"level": "warn"})
    assert condition({"log": {"level": "WARN"}}) is True
    assert condition({"log": {"level": "info"}}) is False
    assert condition({}) is False
    # Falling off the end without a value returns false (Painless's default return).
    assert compile_condition("if (ctx.a == 1) { return true }")({"a": 2}) is False


def test_condition_arithmetic_and_lambdas():
    # Conditions are full Painless: arithmetic with Java's int semantics, lambdas, streams.
    assert run("ctx.bytes / 1024 > 1", {"bytes": 2047}) is False  # 2047 / 1024 is 1 in int arithmetic
    assert run("ctx.tags.stream().anyMatch(t -> t.startsWith('prod'))", {"tags": ["dev", "prod-eu"]}) is True
    assert run("ctx.tags.any(t -> t == 'x')", {"tags": ["x"]}) is True
