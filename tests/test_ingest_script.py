"""Painless scripts in the `script` processor, and the processor itself.

Each test names what it pins, cited as `# pins: ...`:
- Painless: the grammar (PainlessParser.g4), the whitelists (lang-painless spi/java.lang.txt,
  java.util.txt, java.util.regex.txt, the Augmentation class), DefMath and Def (def
  operators and casts), DefBootstrap (null def receivers), CompilerSettings (loop counter);
- Elasticsearch: ScriptProcessor(.Factory), Script.parse, ScriptService.compile,
  ScriptProcessorFactoryTests, IngestCtxMapTests / IngestDocMetadata (ctx's metadata rules),
  WriteField (field()), ConditionalProcessor, CompoundProcessor (on_failure metadata),
  PainlessScriptEngine / PainlessScript (script_exception bodies), the REST suites
  190_script_processor.yml and 210_conditional_processor.yml;
- Java itself, for values: printed forms, HashMap order, integer arithmetic, exception
  messages. Those expectations were checked by running the same Java (OpenJDK 25).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from wgsiem.ingest.build import Builder
from wgsiem.ingest.errors import PipelineConfigError
from wgsiem.ingest.painless import JLong, PainlessCompileError, PainlessRuntimeError, compile_condition, compile_script
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def run(source: str, ctx: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ctx after the script ran (as the script processor leaves it)."""
    ctx = {} if ctx is None else ctx
    compile_script(source).run(ctx, params, {"timestamp": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)})
    return ctx


def out(source: str, ctx: dict[str, Any] | None = None) -> Any:
    """What the script put in ctx.out."""
    return run(source, ctx)["out"]


def fails(source: str, ctx: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> PainlessRuntimeError:
    with pytest.raises(PainlessRuntimeError) as info:
        run(source, ctx, params)
    return info.value


def refused(source: str, context: str = "script") -> PainlessCompileError:
    with pytest.raises(PainlessCompileError) as info:
        compile_script(source, context)
    return info.value


def simulate_docs(processors: list[dict[str, Any]], *sources: dict[str, Any], on_failure: list[Any] | None = None) -> list[dict[str, Any]]:
    pipeline: dict[str, Any] = {"processors": processors}
    if on_failure:
        pipeline["on_failure"] = on_failure
    body = {"pipeline": pipeline, "docs": [{"_index": "index", "_id": f"id{i}", "_source": s} for i, s in enumerate(sources)]}
    status, response = simulate(body, PipelineSet())
    assert status == 200, response
    return response["docs"]


def build_error(processor: dict[str, Any]) -> PipelineConfigError:
    with pytest.raises(PipelineConfigError) as info:
        Builder().pipeline("p", {"processors": [processor]})
    return info.value


# --- values and operators ------------------------------------------------------------------------


def test_int_and_long_wrap_and_divide_as_java():
    # pins: Java integer arithmetic (Painless's int/long are Java's): overflow wraps, / truncates
    # toward zero, % takes the dividend's sign, shifts mask their count.
    ctx = run(
        "int x = 2147483647; ctx.a = x + 1; long y = 9223372036854775807L; ctx.b = y + 1;"
        "ctx.c = 7 / 2; ctx.d = -7 / 2; ctx.e = -7 % 2; ctx.f = -1 >>> 28; ctx.g = ~5; ctx.h = 1L << 40; ctx.i = 1 << 33"
    )
    assert (ctx["a"], ctx["b"], ctx["c"], ctx["d"], ctx["e"]) == (-(2**31), -(2**63), 3, -3, -1)
    assert (ctx["f"], ctx["g"], ctx["h"], ctx["i"]) == (15, -6, 2**40, 2)
    assert isinstance(ctx["b"], JLong) and isinstance(ctx["h"], JLong)  # long results stay Longs


def test_division_by_zero():
    # pins: Java: integer division by zero throws ArithmeticException "/ by zero"; a double gives Infinity.
    error = fails("ctx.a = 1 / 0")
    assert (error.java_exception, error.message) == ("ArithmeticException", "/ by zero")
    assert run("ctx.a = 1.0 / 0; ctx.b = -1 / 0.0; ctx.c = 7.5 % -2")["a"] == float("inf")
    assert run("ctx.b = -1 / 0.0; ctx.c = 7.5 % -2") | {} == {"b": float("-inf"), "c": 1.5}


def test_numeric_promotion_and_types():
    # pins: Painless AnalyzerCaster.promoteNumeric: int op double is a double, int op long a long;
    # instanceof sees the boxed class.
    ctx = run(
        "def a = 1 + 2L; def b = 1 + 2.0; def c = 1 + 2; def d = 1.5f + 1;"
        "ctx.types = [a instanceof Long, b instanceof Double, c instanceof Integer, d instanceof Float]; ctx.f = 1 / 2.0"
    )
    assert ctx["types"] == [True, True, True, True]
    assert ctx["f"] == 0.5


def test_string_concatenation_prints_java_values():
    # pins: Java String.valueOf for `+` with a String: 1.0, 1.0E20, null, [1, 2], a HashMap in
    # bucket order {a=2, b=1}, a float's short digits 1.1, a char, true (checked with Java).
    assert out("ctx.out = 'a' + 1.0 + ' ' + 1e20 + ' ' + null + ' ' + [1, 2] + ' ' + ['b': 1, 'a': 2] + ' ' + 1.1f + ' ' + 5L + ' ' + true + 'x'.charAt(0)") == (
        "a1.0 1.0E20 null [1, 2] {a=2, b=1} 1.1 5 truex"
    )
    assert out("String x = 'a'; x += 1; x += null; ctx.out = x") == "a1null"
    assert out("ctx.out = '' + 12345678.9 + ' ' + 0.001 + ' ' + 100.0") == "1.23456789E7 0.001 100.0"


def test_compound_assignment_narrows_and_increments():
    # pins: Java's compound assignment casts back to the variable's type; ++/-- pre and post.
    ctx = run("int i = 1; i += 1.5; ctx.i = i; i++; ctx.j = i; ctx.k = i--; ctx.l = --i; ctx.n = 1; ctx.n += 2; ctx.n *= 3")
    assert (ctx["i"], ctx["j"], ctx["k"], ctx["l"], ctx["n"]) == (2, 3, 3, 1, 9)
    # pins: DefMath: ++ on a missing field adds to null, a NullPointerException.
    assert fails("ctx.count++").java_exception == "NullPointerException"


def test_casts():
    # pins: Java's narrowing: (int) truncates toward zero and saturates; (int) of a Long wraps;
    # Painless's implicit def-to-int takes an Integer only (Def.defTointImplicit).
    ctx = run("ctx.a = (int) 3.9; ctx.b = (int) -3.9; ctx.c = (long) 1e20; ctx.d = (int) ctx.big; ctx.e = (int) 1e20", {"big": 2**40 + 5})
    assert (ctx["a"], ctx["b"], ctx["c"], ctx["d"], ctx["e"]) == (3, -3, 2**63 - 1, 5, 2**31 - 1)
    error = fails("int x = ctx.big", {"big": 2**40})
    assert error.java_exception == "ClassCastException"
    assert error.message.startswith("class java.lang.Long cannot be cast to class java.lang.Integer")
    assert fails("String s = ctx.n", {"n": 5}).java_exception == "ClassCastException"
    assert fails("Map m = ctx.l", {"l": []}).java_exception == "ClassCastException"
    assert out("long l = 5; ctx.out = l instanceof Long") is True


# --- statements -------------------------------------------------------------------------------------


def test_loops_break_continue_and_return():
    # pins: PainlessParser.g4: for (init; cond; update), while, do-while, for-each over a List,
    # break, continue; a bare `return;` ends an ingest script (its execute() is void).
    ctx = run(
        "for (int i = 0; i < 4; i++) { if (i == 1) continue; if (i == 3) break; ctx.l.add(i) }"
        "def i = 0; while (true) { i++; if (i > 5) break; } ctx.i = i; do { i-- } while (i > 0); ctx.j = i;"
        "for (def x : ctx.l) { ctx.sum = (ctx.sum ?: 0) + x } for (x in ctx.l) { ctx.last = x }"
        "if (ctx.i == 6) { return; } ctx.never = true",
        {"l": [10]},
    )
    assert ctx == {"l": [10, 0, 2], "i": 6, "j": 0, "sum": 12, "last": 2}


def test_loop_counter_stops_runaway_loops():
    # pins: CompilerSettings.MAX_LOOP_COUNTER (1,000,000 statements in loops): a PainlessError,
    # which a try/catch cannot catch.
    error = fails("try { while (true) {} } catch (Exception e) { ctx.caught = true }")
    assert error.java_exception == "PainlessError"
    assert error.message == "The maximum number of statements that can be executed in a loop has been reached."


def test_changing_a_list_while_iterating_fails_as_java():
    # pins: Java's ArrayList iterator: a structural change is a ConcurrentModificationException.
    assert fails("for (def x : ctx.l) { ctx.l.add(1) }", {"l": [1, 2]}).java_exception == "ConcurrentModificationException"
    # Removing through removeIf, or after the loop, is fine.
    assert run("ctx.l.removeIf(x -> x > 1)", {"l": [1, 2, 3]})["l"] == [1]


def test_user_functions_and_recursion():
    # pins: PainlessParser.g4 `function`: declared before the statements, recursive, without
    # access to ctx (functions see only their parameters).
    assert out("int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) } ctx.out = fib(15)") == 610
    assert "cannot resolve symbol [ctx]" in refused("void f() { ctx.a = 1 } f()").reason


def test_cloudtrail_drop_empty_values():
    # pins: the elastic/integrations aws cloudtrail pipeline's recursive "Drops null/empty
    # values" script: casts, instanceof, removeIf on a map's values() view, a recursive call.
    source = """
        boolean drop(Object o) {
          if (o == null || o == "") {
            return true;
          } else if (o instanceof Map) {
            ((Map) o).values().removeIf(v -> drop(v));
            return (((Map) o).size() == 0);
          } else if (o instanceof List) {
            ((List) o).removeIf(v -> drop(v));
            return (((List) o).length == 0);
          }
          return false;
        }
        drop(ctx);
    """
    ctx = run(source, {"a": {"b": None, "c": "", "d": [None, "", {"e": None}], "f": 1}, "g": [], "h": "x"})
    assert ctx == {"a": {"f": 1}, "h": "x"}


def test_try_catch_and_throw():
    # pins: Painless try/catch of java.lang exceptions (java.lang.txt), getMessage(); throw of a
    # whitelisted exception becomes the script's runtime error.
    assert run("try { Integer.parseInt('x') } catch (NumberFormatException e) { ctx.err = e.getMessage() }")["err"] == 'For input string: "x"'
    assert run("try { ctx.a.b.c = 1 } catch (Exception e) { ctx.err = e.getMessage() }")["err"] == (
        "cannot access method/field [b] from a null def reference"
    )
    error = fails("throw new IllegalArgumentException('bad value')")
    assert (error.java_exception, error.message) == ("IllegalArgumentException", "bad value")
    # A catch of another type lets the exception through.
    assert fails("try { Integer.parseInt('x') } catch (NullPointerException e) {}").java_exception == "NumberFormatException"


# --- collections, lambdas, streams -----------------------------------------------------------------


def test_map_api_and_views():
    # pins: java.util.txt Map: put/putIfAbsent/computeIfAbsent/getOrDefault; entrySet entries
    # write through with setValue; keySet()/values() removeIf remove entries.
    ctx = run(
        "Map m = [:]; m.put('x', 1); m.putIfAbsent('x', 2); m.computeIfAbsent('y', k -> k + '!'); ctx.g = m.getOrDefault('z', 'd');"
        "for (def e : m.entrySet()) { e.setValue(e.getValue() + '_') } ctx.m = m;"
        "ctx.n.keySet().removeIf(k -> k == 'a'); ctx.n.values().removeIf(v -> v == null)",
        {"n": {"a": 1, "b": None, "c": 3}},
    )
    assert ctx == {"g": "d", "m": {"x": "1_", "y": "y!_"}, "n": {"c": 3}}


def test_hash_map_iteration_order_is_javas():
    # pins: java.util.HashMap iterates by bucket (String.hashCode, spread, table size), which
    # scripts see in keySet loops, toString and new ArrayList(values()). Checked with Java:
    # {b, a, event, source} iterates [a, b, source, event].
    assert out("def o = []; for (def k : ['b': 1, 'a': 2, 'event': 3, 'source': 4].keySet()) { o.add(k) } ctx.out = o") == [
        "a", "b", "source", "event",
    ]  # fmt: skip
    request = {"bucketName": "x", "Host": "h", "acl": "", "n": 1.5, "l": [1, 2]}
    assert out("ctx.out = ctx.r.toString()", {"r": request}) == "{bucketName=x, Host=h, acl=, l=[1, 2], n=1.5}"
    # A LinkedHashMap keeps insertion order, a TreeMap sorts.
    assert out("Map m = new LinkedHashMap(); m.b = 1; m.a = 2; Map t = new TreeMap(m); ctx.out = m.toString() + t.toString()") == (
        "{b=1, a=2}{a=2, b=1}"
    )


def test_list_api():
    # pins: java.util.txt List/Collection, Collections.sort/max/reverse; List.remove(int) is by
    # index (Painless overloads by arity only, and the 1-argument remove is remove(int)).
    ctx = run(
        "ctx.l.add(0, 9); ctx.l.addAll([7, 8]); ctx.idx = ctx.l.indexOf(3); ctx.has = ctx.l.contains(8);"
        "ctx.first = ctx.l.remove(0); Collections.sort(ctx.l); ctx.max = Collections.max(ctx.l); ctx.r = new ArrayList(ctx.l);"
        "Collections.reverse(ctx.r); ctx.neg = ctx.l[-1]; ctx.len = ctx.l.length",
        {"l": [3, 1]},
    )
    assert ctx == {"l": [1, 3, 7, 8], "idx": 1, "has": True, "first": 9, "max": 8, "r": [8, 7, 3, 1], "neg": 8, "len": 4}
    assert fails("ctx.l.remove('a')", {"l": ["a"]}).java_exception == "ClassCastException"
    assert fails("ctx.l.get(5)", {"l": []}).message == "Index 5 out of bounds for length 0"


def test_lambdas_sort_foreach_replace():
    # pins: java.util.txt List.sort(Comparator), Map.forEach(BiConsumer), List.replaceAll(UnaryOperator);
    # a lambda reads the enclosing locals.
    ctx = run(
        "ctx.l.sort((a, b) -> b - a); List o = new ArrayList(); ctx.m.forEach((k, v) -> o.add(k + '=' + v)); ctx.o = o;"
        "def suffix = '!'; ctx.s.replaceAll(x -> x + suffix)",
        {"l": [3, 1, 2], "m": {"a": 1, "b": None}, "s": ["x", "y"]},
    )
    assert (ctx["l"], ctx["o"], ctx["s"]) == ([3, 2, 1], ["a=1", "b=null"], ["x!", "y!"])
    assert out("ctx.l.sort(Comparator.comparing(x -> x.n).reversed()); ctx.out = ctx.l", {"l": [{"n": 1}, {"n": 2}]}) == [{"n": 2}, {"n": 1}]


def test_streams_and_method_references():
    # pins: java.util.stream.txt Stream filter/map/collect/anyMatch/sorted/distinct/count,
    # Collectors toList/joining/toSet, method references Type::method and this::function.
    ctx = run(
        "ctx.a = ctx.l.stream().filter(x -> x > 1).map(x -> x * 2).collect(Collectors.toList());"
        "ctx.b = ctx.l.stream().map(String::valueOf).collect(Collectors.joining(','));"
        "ctx.c = ctx.l.stream().anyMatch(x -> x == 3); ctx.d = ctx.l.stream().sorted().distinct().count();"
        "ctx.e = ['1', '2'].stream().map(Integer::parseInt).collect(Collectors.toList());",
        {"l": [3, 1, 2, 3]},
    )
    assert (ctx["a"], ctx["b"], ctx["c"], ctx["d"], ctx["e"]) == ([6, 4, 6], "3,1,2,3", True, 3, [1, 2])
    assert out("boolean big(def x) { return x > 1 } ctx.out = ctx.l.stream().filter(this::big).count()", {"l": [1, 2, 3]}) == 2


def test_lambda_cannot_assign_a_captured_variable():
    # Painless copies captured variables into the lambda; writing one is refused here rather
    # than approximated.
    error = refused("def x = 1; ctx.l.forEach(v -> { x = v })")
    assert error.reason.startswith("assigning [x], a variable captured by a lambda")


def test_sets_and_collections_helpers():
    # pins: java.util.HashSet (equals-distinct, bucket order), Arrays.asList fixed size,
    # Collections.singletonList unmodifiable (UnsupportedOperationException).
    assert out("Set s = new HashSet(); s.add(2); s.add(1); s.add(2); ctx.out = s") == [1, 2]
    assert fails("List l = Arrays.asList('a', 'b'); l.add('c')").java_exception == "UnsupportedOperationException"
    assert fails("List l = Collections.singletonList(1); l.set(0, 2)").java_exception == "UnsupportedOperationException"


# --- Strings and static classes ----------------------------------------------------------------


def test_string_methods():
    # pins: java.lang.txt String (counted in UTF-16 units: an emoji is 2), the splitOnToken
    # augmentation (keeps empty parts), String.join/valueOf, and Java's messages.
    ctx = run(
        "ctx.a = 'héllo😀'.length(); ctx.b = '  x '.trim(); ctx.c = 'abc'.substring(1); ctx.d = 'abc'.indexOf('c');"
        "ctx.e = 'aXbX'.replace('X', '-'); ctx.f = String.join('|', ['a', 'b']); ctx.g = String.valueOf(1.0);"
        "ctx.h = 'a,b,,c,'.splitOnToken(','); ctx.i = 'AbC'.toLowerCase() + 'ß'.toUpperCase(); ctx.j = 'Hello'.equalsIgnoreCase('hELLO');"
        "ctx.k = 'abc'.startsWith('bc', 1); ctx.m = 'x'.charAt(0); ctx.n = 'abc'.compareTo('abd')"
    )
    assert ctx == {
        "a": 7, "b": "x", "c": "bc", "d": 2, "e": "a-b-", "f": "a|b", "g": "1.0", "h": ["a", "b", "", "c", ""],
        "i": "abcSS", "j": True, "k": True, "m": "x", "n": -1,
    }  # fmt: skip
    error = fails("ctx.a = 'abc'.substring(5)")
    assert (error.java_exception, error.message) == ("StringIndexOutOfBoundsException", "Range [5, 3) out of bounds for length 3")
    assert fails("ctx.a = 'abc'.indexOf(ctx.missing)").message == 'Cannot invoke "String.coder()" because "str" is null'


def test_static_classes():
    # pins: java.lang.txt: Math's methods take and return doubles (Math.max(1, 2) is 2.0),
    # Math.round returns a long; Integer/Long/Double parse with Java's NumberFormatException.
    ctx = run(
        "ctx.a = Math.max(1, 2); ctx.b = Math.round(2.5); ctx.c = Math.round(-2.5); ctx.d = Integer.parseInt('42') + 1;"
        "ctx.e = Long.parseLong('5'); ctx.f = Double.parseDouble('1.5'); ctx.g = Integer.MAX_VALUE; ctx.h = Math.PI > 3;"
        "ctx.i = String.format('%s-%05d-%.2f', 'a', 42, 3.14159); ctx.j = Integer.toHexString(-1); ctx.k = Character.isDigit('7'.charAt(0))"
    )
    assert ctx == {"a": 2.0, "b": 3, "c": -2, "d": 43, "e": 5, "f": 1.5, "g": 2**31 - 1, "h": True, "i": "a-00042-3.14", "j": "ffffffff", "k": True}
    assert isinstance(ctx["b"], JLong) and isinstance(ctx["a"], float)
    error = fails("ctx.a = Integer.parseInt('12a')")
    assert (error.java_exception, error.message) == ("NumberFormatException", 'For input string: "12a"')
    assert refused("int x = Math.max(1, 2)").reason == "Cannot cast from [double] to [int]."


def test_string_builder():
    # pins: java.lang.txt StringBuilder append(def)/length/toString.
    assert out("StringBuilder sb = new StringBuilder(); sb.append('a').append(1).append(2.0); ctx.out = sb.toString() + sb.length()") == "a12.05"


# --- regular expressions -----------------------------------------------------------------------------


def test_regex_find_match_groups_and_replace():
    # pins: Painless's =~ (Matcher.find) and ==~ (Matcher.matches), java.util.regex.txt Matcher
    # with the namedGroup augmentation, String.replaceAll(Pattern, Function), Pattern.split,
    # the i flag; Elasticsearch 9's default regex setting is `limited`, which allows them.
    ctx = run(
        "ctx.a = 'Hello World' =~ /o W/; ctx.b = 'abc' ==~ /a.c/; ctx.c = 'abcd' ==~ /a.c/; ctx.d = 'Ab' =~ /ab/i;"
        "def m = /(?<k>\\w+)=(\\d+)/.matcher('x=1 y=22'); List l = []; while (m.find()) { l.add(m.group(1) + m.group(2) + m.namedGroup('k')) } ctx.l = l;"
        "ctx.r = 'a-b-c'.replaceAll(/-/, x -> '+'); ctx.s = /,/.split('a,b,,c,,')"
    )
    assert ctx == {"a": True, "b": True, "c": False, "d": True, "l": ["x1x", "y22y"], "r": "a+b+c", "s": ["a", "b", "", "c"]}


def test_regex_is_java_not_python():
    # pins: java.util.regex.Pattern: \d and \w are ASCII without the U flag, `.` stops at \r,
    # \z is the end; Python spellings like (?P<x>) are errors, not features.
    ctx = run("ctx.a = ctx.digit ==~ /\\d/; ctx.b = ctx.digit ==~ /\\d/U; ctx.c = ctx.cr =~ /a.b/; ctx.d = ctx.cr =~ /a.b/s", {"digit": "٣", "cr": "a\rb"})
    assert ctx == {"digit": "٣", "cr": "a\rb", "a": False, "b": True, "c": False, "d": True}
    assert "invalid regular expression" in refused("ctx.a = 'x' =~ /(?P<n>x)/").reason


# --- ctx, params, metadata ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # pins: IngestCtxMapTests.testValidators / testRemove and IngestDocMetadata's rules.
        ("ctx._index = 555", "_index [555] is wrong type, expected assignable to [java.lang.String], not [java.lang.Integer]"),
        ("ctx._id = 555", "_id [555] is wrong type, expected assignable to [java.lang.String], not [java.lang.Integer]"),
        ("ctx._version = 'five'", "_version [five] is wrong type, expected assignable to [java.lang.Number], not [java.lang.String]"),
        ("ctx._version = 3.5", "_version may only be set to an int or a long but was [3.5] with type [java.lang.Double]"),
        ("ctx._version = null", "_version cannot be null"),
        ("ctx.remove('_version')", "_version cannot be removed"),
        ("ctx._version_type = 'vt'", "_version_type must be a null or one of [internal, external, external_gte] but was [vt] with type [java.lang.String]"),
        ("ctx._dynamic_templates = '5'", "_dynamic_templates [5] is wrong type, expected assignable to [java.util.Map], not [java.lang.String]"),
        # An alias of ctx is checked too (after the script, as the document leaves it).
        ("Map m = ctx; m._index = 1", "_index [1] is wrong type, expected assignable to [java.lang.String], not [java.lang.Integer]"),
    ],
)
def test_ctx_metadata_rules(source, message):
    error = fails(source, {"_index": "i", "_id": "1", "_version": -3})
    assert (error.java_exception, error.message) == ("IllegalArgumentException", message)


def test_ctx_metadata_can_change_within_the_rules():
    # pins: IngestDocMetadata: _index, _id, _routing are writable and nullable Strings.
    assert run("ctx._index = 'new'; ctx._id = null; ctx._routing = 'r'", {"_index": "i", "_version": 1}) == {
        "_index": "new", "_id": None, "_routing": "r", "_version": 1,
    }  # fmt: skip


def test_ingest_metadata_is_not_in_ctx():
    # pins: elastic/elasticsearch#60470: Elasticsearch 9 gives scripts no `_ingest` in ctx.
    assert out("ctx.out = ctx._ingest == null") is True


def test_params_are_read_only():
    # pins: Script keeps params unmodifiable; a script reads them as a Map.
    assert run("ctx.p = params.x + 1", {}, {"x": 41})["p"] == 42
    assert fails("params.x = 1", {}, {"x": 41}).java_exception == "UnsupportedOperationException"
    assert fails("params.put('y', 1)", {}, {"x": 41}).java_exception == "UnsupportedOperationException"


def test_metadata_api():
    # pins: 190_script_processor.yml "Test metadata" and org.elasticsearch.script.ingest.txt:
    # metadata() getters/setters write ctx's metadata keys; getNow is the ingest timestamp.
    ctx = run(
        "Metadata m = metadata(); m.index += '2'; m.id += 'extra'; m.routing = 'myRouting'; m.versionType = 'external'; m.version = 5;"
        "ctx.year = m.now.getYear()",
        {"_index": "test", "_id": "1", "_version": -3},
    )
    assert ctx == {"_index": "test2", "_id": "1extra", "_routing": "myRouting", "_version_type": "external", "_version": 5, "year": 2024}
    assert isinstance(ctx["_version"], JLong)


def test_field_api():
    # pins: WriteField: field(path) resolves through maps and then as a dotted key
    # (resolveDepthFlat), set creates the path, append makes a list; 210_conditional_processor.yml
    # reads `field('conditional.field').get('')` from a dotted key.
    ctx = run(
        "field('a.b').set(1); field('c.d').append('x'); field('c.d').append('y'); ctx.e = field('dotted.key').get('none');"
        "ctx.f = field('dotted.key').exists(); ctx.g = field('nope.x').get('none'); field('a.b').move('moved')",
        {"dotted.key": "v"},
    )
    assert ctx == {"dotted.key": "v", "a": {}, "c": {"d": ["x", "y"]}, "e": "v", "f": True, "g": "none", "moved": 1}


def test_json_api():
    # pins: org.elasticsearch.painless.api.Json load/dump; dump writes keys in HashMap order.
    ctx = run("ctx.j = Json.load('{\"a\": [1, 2.5, \"x\"]}'); ctx.s = Json.dump(['b': 1, 'a': [true, null, 1.0]])")
    assert ctx == {"j": {"a": [1, 2.5, "x"]}, "s": '{"a":[true,null,1.0],"b":1}'}


def test_values_left_in_ctx_are_json():
    # What Elasticsearch writes for a script's values: a float's short digits, a char as a
    # one-letter string, arrays and sets as lists.
    ctx = run("ctx.f = 1.1f; ctx.c = 'x'.charAt(0); ctx.arr = 'a b'.splitOnToken(' ')")
    assert ctx == {"f": 1.1, "c": "x", "arr": ["a", "b"]}
    assert all(type(v) in (float, str, list) for v in ctx.values())


# --- compile-time refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        # pins: Painless's function analysis: every path of a non-void function returns.
        ("boolean f(def x) { if (x > 1) { return true } } f(1)", "not all paths provide a return value for function [f]", 0),
        ("void f() { return 1 } f()", "cannot return a value from void function [f]", 11),
        # pins: IngestScript.execute() is void.
        ("return 1", "cannot return a value from an ingest script", 0),
        ("ctx = [:]", "variable [ctx] is read-only", 0),
        ("String s = null; ctx.n = s?.length()", "result of null safe operator must be nullable", 26),
        ("ctx.a = new Foo()", "cannot resolve type [Foo]", 8),
        ("ctx.a = new ArrayList(10)", "Cannot cast from [int] to [java.util.Collection].", 22),
        ("ctx.a = Instant.now()", "type [Instant] is not supported by the offline engine", 8),
        ("continue", "invalid continue statement: not in a loop", 0),
        ("ctx.a = 1\nctx.b = 2", "unexpected 'ctx': expected ';' or end of input", 10),
    ],
)
def test_script_compile_errors(source, message, position):
    error = refused(source)
    assert error.reason.startswith(message)
    assert error.position == position


def test_compile_error_names_line_and_column():
    error = refused("def a = 1;\nctx.b = a +;\n")
    assert (error.line, error.column, error.position) == (2, 12, 22)
    assert "line 2, column 12" in str(error)


# --- script_exception bodies ----------------------------------------------------------------------


def test_compile_error_body():
    # pins: PainlessScriptEngine.convertToScriptException: "compile error", a 25-character window
    # each side of the offset with "..." where cut, position {offset, start, end}, caused by the
    # IllegalArgumentException.
    source = "ctx.first_field = 1; ctx.second_field = undefined_name; ctx.third_field = 3;"
    body = refused(source).script_exception()
    offset = source.index("undefined_name")
    assert body == {
        "type": "script_exception",
        "reason": "compile error",
        "script_stack": ["... " + source[offset - 25 : offset + 25] + " ...", "    " + " " * 25 + "^---- HERE"],
        "script": source,
        "lang": "painless",
        "position": {"offset": offset, "start": offset - 25, "end": offset + 25},
        "caused_by": {"type": "illegal_argument_exception", "reason": "cannot resolve symbol [undefined_name]"},
    }


def test_runtime_error_body():
    # pins: PainlessScript.convertToScriptException: "runtime error", the statement the failing
    # node is in (from its start to the next statement's) with the offset Painless reports (the
    # `.` of the failing field access), caused by the Java exception (DefBootstrap's message).
    source = "ctx.a = 1;\nctx.b = ctx.missing.field;\nctx.c = 3;"
    body = fails(source).script_exception()
    dot = source.index(".field")
    start = source.index("ctx.b")
    assert body == {
        "type": "script_exception",
        "reason": "runtime error",
        "script_stack": [source[start : source.index("ctx.c")], " " * (dot - start) + "^---- HERE"],
        "script": source,
        "lang": "painless",
        "position": {"offset": dot, "start": start, "end": source.index("ctx.c")},
        "caused_by": {"type": "null_pointer_exception", "reason": "cannot access method/field [field] from a null def reference"},
    }


# --- the processor --------------------------------------------------------------------------------------


def test_processor_runs_with_params_and_each_document():
    # pins: ScriptProcessor.execute: the precompiled script runs with the processor's params and
    # each document's ctx.
    docs = simulate_docs(
        [{"script": {"lang": "painless", "source": "ctx.total = ctx.a * params.factor", "params": {"factor": 3}}}], {"a": 2}, {"a": 5}
    )
    assert [d["doc"]["_source"]["total"] for d in docs] == [6, 15]


def test_processor_compiles_once():
    # pins: ScriptProcessor.Factory compiles when the pipeline is created; the same source is
    # not compiled again (the compiled script is shared, the document only runs closures).
    first = Builder().pipeline("p", {"processors": [{"script": {"source": "ctx.x = 1"}}]})
    second = Builder().pipeline("q", {"processors": [{"script": {"source": "ctx.x = 1"}}]})
    assert first.steps[0].processor.script is second.steps[0].processor.script  # type: ignore[attr-defined]


def test_processor_runtime_failure_body_and_on_failure_message():
    # pins: a document's script_exception (caused_by the Java exception), and CompoundProcessor's
    # `_ingest.on_failure_message`, which is the root cause's message.
    (failed,) = simulate_docs([{"script": {"source": "ctx.b = ctx.a.b"}}], {})
    error = failed["error"]
    assert (error["type"], error["reason"], error["lang"]) == ("script_exception", "runtime error", "painless")
    assert error["caused_by"] == {"type": "null_pointer_exception", "reason": "cannot access method/field [b] from a null def reference"}
    assert error["root_cause"][0]["type"] == "script_exception" and "caused_by" not in error["root_cause"][0]
    (handled,) = simulate_docs(
        [{"script": {"source": "ctx.b = ctx.a.b", "on_failure": [{"set": {"field": "why", "value": "{{ _ingest.on_failure_message }}"}}]}}], {}
    )
    assert handled["doc"]["_source"]["why"] == "cannot access method/field [b] from a null def reference"


def test_processor_compile_error_refuses_the_pipeline():
    # pins: ScriptProcessor.Factory: a ScriptException at compile time refuses the pipeline,
    # with the processor's type and tag (readProcessor's newConfigurationException).
    error = build_error({"script": {"tag": "t", "source": "ctx.a = "}})
    body = error.body()
    assert body["status"] == 400
    cause = body["error"]
    assert (cause["type"], cause["reason"], cause["processor_type"], cause["processor_tag"]) == ("script_exception", "compile error", "script", "t")
    assert cause["caused_by"]["type"] == "illegal_argument_exception"
    assert cause["position"] == {"offset": 8, "start": 0, "end": 8}
    assert "line 1, column 9" in str(error)


@pytest.mark.parametrize(
    ("options", "error_type", "reason", "caused_by_reason"),
    [
        # pins: ScriptProcessorFactoryTests.testFactoryValidationAtLeastOneScriptingType.
        ({"lang": "painless"}, "exception", "java.lang.IllegalArgumentException: must specify either [source] for an inline script or [id] for a stored script", None),
        # pins: ScriptService.getEngine: an unknown lang.
        ({"source": "x", "lang": "groovy"}, "exception", "java.lang.IllegalArgumentException: script_lang not supported [groovy]", None),
        # pins: Script.Builder.build: a stored script takes no lang.
        ({"id": "s", "lang": "painless"}, "exception", "java.lang.IllegalArgumentException: illegally specified <lang> for a stored script", None),
        ({"source": "x", "options": {"foo": "bar"}}, "exception", "java.lang.IllegalArgumentException: illegal compiler options [{foo=bar}] specified", None),
        # pins: Script's ObjectParser: an unknown field, at its [line:column] in the re-serialized config.
        ({"source": "x", "foo": 1}, "exception", "org.elasticsearch.xcontent.XContentParseException: [1:2] [script] unknown field [foo]", "[1:2] [script] unknown field [foo]"),
        # pins: ScriptProcessorFactoryTests.testFactoryValidationForMultipleScriptingTypes; Java's
        # HashMap orders the keys [id, source, lang], so source's value is at column 22.
        ({"id": "foo", "source": "bar", "lang": "mockscript"}, "exception", "org.elasticsearch.xcontent.XContentParseException: [1:22] [script] failed to parse field [source]", None),
    ],
)
def test_processor_option_errors(options, error_type, reason, caused_by_reason):
    error = build_error({"script": options})
    body = error.body()["error"]
    assert (body["type"], body["reason"]) == (error_type, reason)
    assert body["processor_type"] == "script"
    if caused_by_reason is not None:
        assert body["caused_by"]["reason"] == caused_by_reason


def test_stored_script_is_missing():
    # pins: ScriptService.compile of a stored script not in the cluster state: a 404
    # resource_not_found_exception; offline there is no script store.
    body = build_error({"script": {"id": "my_script"}}).body()
    assert body["status"] == 404
    assert (body["error"]["type"], body["error"]["reason"]) == ("resource_not_found_exception", "unable to find script [my_script] in cluster state")


def test_inline_is_the_deprecated_source():
    # pins: ScriptProcessorFactoryTests.testInlineBackcompat.
    (doc,) = simulate_docs([{"script": {"inline": "ctx.x = 1"}}], {})
    assert doc["doc"]["_source"] == {"x": 1}


# --- conditions --------------------------------------------------------------------------------------


def test_condition_object_with_params():
    # pins: ConfigurationUtils.extractConditional reads `if` with Script.parse: params included.
    docs = simulate_docs(
        [{"set": {"field": "hit", "value": True, "if": {"source": "ctx.level == params.level", "params": {"level": "warn"}}}}],
        {"level": "warn"},
        {"level": "info"},
    )
    assert [d["doc"]["_source"].get("hit") for d in docs] == [True, None]


def test_condition_cannot_mutate_the_document():
    # pins: ConditionalProcessor wraps ctx read-only (UnmodifiableIngestData); what a condition
    # builds itself stays writable.
    condition = compile_condition("ctx.a.b = 1; return true")
    with pytest.raises(PainlessRuntimeError) as info:
        condition({"a": {}})
    assert (info.value.java_exception, info.value.message) == ("UnsupportedOperationException", "Mutating ingest documents in conditionals is not supported")
    assert compile_condition("List l = new ArrayList(ctx.tags); l.add('x'); return l.size() == 2")({"tags": ["a"]}) is True


def test_condition_failure_is_reported_as_conditional():
    # pins: a ConditionalProcessor whose condition throws: on_failure sees the processor type
    # `conditional` and the root cause's message.
    (doc,) = simulate_docs(
        [{"set": {"field": "x", "value": 1, "tag": "t", "if": "ctx.a.b == 1"}}],
        {},
        on_failure=[{"set": {"field": "why", "value": "{{ _ingest.on_failure_processor_type }}: {{ _ingest.on_failure_message }}"}}],
    )
    assert doc["doc"]["_source"]["why"] == "conditional: cannot access method/field [b] from a null def reference"


def test_condition_stored_script_fails_per_document():
    # pins: ConditionalProcessor compiles only inline scripts up front; a stored one is looked up
    # per document, and there is none offline.
    (doc,) = simulate_docs([{"set": {"field": "x", "value": 1, "if": {"id": "cond"}}}], {})
    assert doc["error"]["type"] == "resource_not_found_exception"


def test_condition_compile_error_is_the_pipelines():
    error = build_error({"set": {"field": "x", "value": 1, "if": "ctx.a =="}})
    body = error.body()["error"]
    assert (body["type"], body["processor_type"]) == ("script_exception", "set")
    assert body["script"] == "ctx.a =="


# --- what Fleet's pipelines use ----------------------------------------------------------------------


def test_cidr():
    # pins: org.elasticsearch.net.txt CIDR(String).contains(String), as the Apache integration's
    # "Get source address" script uses it: false for null or "", an IllegalArgumentException
    # for text that is not an address (which that script catches).
    ctx = run(
        "CIDR net = new CIDR('10.0.0.0/8'); ctx.a = net.contains('10.1.2.3'); ctx.b = net.contains('11.0.0.1');"
        "ctx.c = net.contains(''); ctx.d = net.contains('::1'); ctx.e = new CIDR('192.168.1.1').contains('192.168.1.1')"
    )
    assert ctx == {"a": True, "b": False, "c": False, "d": False, "e": True}
    error = fails("new CIDR('10.0.0.0/8').contains('not-an-ip')")
    assert (error.java_exception, error.message) == ("IllegalArgumentException", "'not-an-ip' is not an IP string literal.")


def test_string_tokenizer():
    # pins: java.util.StringTokenizer (java.util.txt), as the Nginx integration's isPrivate()
    # uses it; results checked with Java: "a,,b" with returned delimiters is [a, ",", ",", b].
    ctx = run(
        "StringTokenizer t = new StringTokenizer('10.1.2.3', '.'); ctx.n = t.countTokens(); ctx.first = Integer.parseInt(t.nextToken());"
        "StringTokenizer u = new StringTokenizer('a,,b', ',', true); List l = []; while (u.hasMoreTokens()) { l.add(u.nextToken()) } ctx.l = l;"
        "StringTokenizer w = new StringTokenizer('  x  y '); List m = []; while (w.hasMoreTokens()) { m.add(w.nextToken()) } ctx.m = m"
    )
    assert ctx == {"n": 4, "first": 10, "l": ["a", ",", ",", "b"], "m": ["x", "y"]}
    assert fails("new StringTokenizer('').nextToken()").java_exception == "NoSuchElementException"


def test_processors_helpers_run_the_processors():
    # pins: Processors.java (ProcessorsWhitelistExtension, script context only): each helper
    # applies the processor of that name; json(Map, String) parses into the map's root.
    ctx = run(
        "ctx.l = Processors.lowercase('FooBar'); ctx.u = Processors.uppercase('FooBar'); ctx.b = Processors.bytes('1kb');"
        "ctx.d = Processors.urlDecode('foo%20bar'); ctx.j = Processors.json('{\"foo\":\"bar\"}'); Processors.json(ctx, 'src')",
        {"src": '{"x": 1}'},
    )
    assert ctx == {"src": '{"x": 1}', "x": 1, "l": "foobar", "u": "FOOBAR", "b": 1024, "d": "foo bar", "j": {"foo": "bar"}}
    # A processor's failure is the helper's exception (bytes: ElasticsearchParseException).
    error = fails("ctx.b = Processors.bytes('lots')")
    assert error.es_exception == "parse_exception"


def test_pipeline_file_with_a_bad_script_names_line_and_column(tmp_path):
    # A pipeline file that does not compile is refused naming the file and where in the script.
    from wgsiem.pipelines.files import PipelineFileError, load_pipelines

    (tmp_path / "p.yml").write_text("processors:\n  - script:\n      source: |\n        def a = 1;\n        ctx.b = a +;\n")
    with pytest.raises(PipelineFileError) as info:
        load_pipelines(tmp_path)
    assert "processor [script]" in str(info.value)
    assert "line 2, column 12" in str(info.value)


def test_ctx_iterates_source_then_metadata():
    # pins: IngestCtxMap (CtxMap.entrySet): the source map's entries, then the metadata map's,
    # each a HashMap in its own bucket order.
    keys = out("List o = []; for (def k : ctx.keySet()) { o.add(k) } ctx.out = o", {"_index": "i", "b": 1, "_id": "1", "a": 2, "_version": -3})
    assert keys == ["a", "b", "_index", "_id", "_version"]


def test_script_processor_with_if_tag_and_ignore_failure():
    # pins: readProcessor takes `if`, `tag`, `ignore_failure` out before ScriptProcessor.Factory
    # reads the script's own options (Script.parse would call them unknown fields).
    docs = simulate_docs(
        [{"script": {"if": "ctx.a == 1", "tag": "t", "ignore_failure": True, "source": "ctx.b = ctx.a.c.d"}}], {"a": 1}, {"a": 3}
    )
    assert [d["doc"]["_source"] for d in docs] == [{"a": 1}, {"a": 3}]


def test_a_bad_group_in_a_replacement_is_the_exception_matcher_throws() -> None:
    # Matcher.appendReplacement: group(2) of a one-group pattern throws
    # IndexOutOfBoundsException "No group 2"; "$x" is IllegalArgumentException "Illegal group
    # reference". Both are runtime errors of the script, never a crash of the engine.
    error = fails("ctx.out = /(a)/.matcher(ctx.s).replaceAll('$2')", {"s": "abc"})
    assert (error.java_exception, error.message) == ("IndexOutOfBoundsException", "No group 2")
    error = fails("ctx.out = /a/.matcher(ctx.s).replaceFirst('$x')", {"s": "abc"})
    assert (error.java_exception, error.message) == ("IllegalArgumentException", "Illegal group reference")
    (result,) = simulate_docs([{"script": {"source": "ctx.out = /(a)/.matcher(ctx.s).replaceAll('$2')"}}], {"s": "abc"})
    assert result["error"]["type"] == "script_exception"
    assert result["error"]["caused_by"] == {"type": "index_out_of_bounds_exception", "reason": "No group 2"}
