"""KQL parsing and translation to DSL, pinned to Kibana's sources and tests.

Sources (elastic/kibana, src/platform/packages/shared/kbn-es-query/src/kuery/):
grammar/grammar.peggy (+ grammar.peggy.config.json: peggy with `cache: true`),
kuery_syntax_error.ts and its test, functions/{is,range,nested,and,or,not}.ts and their
tests, node_types/{literal,wildcard}.ts; security_solution's
rule_types/utils/get_query_filter_load_fields.ts for the data view and options the
detection engine uses.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.errors import WgsiemError
from wgsiem.kql import (
    And,
    FieldTypes,
    Is,
    KqlFieldError,
    KqlSyntaxError,
    Literal,
    Nested,
    Not,
    Or,
    Range,
    Wildcard,
    compile_query,
    parse,
    to_kql,
)
from wgsiem.kql.ast import MATCH_ALL, WILDCARD_SYMBOL, term_to_kql

W = WILDCARD_SYMBOL


def lit(value, quoted=False):
    return Literal(value, quoted)


def is_(field, value, quoted=False):
    return Is(lit(field), value if isinstance(value, (Literal, Wildcard)) else lit(value, quoted))


# -- parsing -----------------------------------------------------------------------------------


def test_precedence_is_or_then_and_then_not():
    # grammar.peggy: OrQuery = AndQuery (Or AndQuery)+, AndQuery = NotQuery (And NotQuery)+,
    # NotQuery = Not SubQuery.
    assert parse("a:1 or b:2 and not c:3") == Or((is_("a", "1"), And((is_("b", "2"), Not(is_("c", "3"))))))


def test_parentheses_group():
    assert parse("(a:1 or b:2) and c:3") == And((Or((is_("a", "1"), is_("b", "2"))), is_("c", "3")))


def test_keywords_are_case_insensitive():
    # Or = Space+ 'or'i Space+, And = ... 'and'i ..., Not = 'not'i Space+
    assert parse("a:1 OR b:2 AnD NoT c:3") == parse("a:1 or b:2 and not c:3")


def test_unquoted_values_keep_inner_whitespace_but_are_trimmed():
    # UnquotedLiteral: chars.join('').trim(); a space only ends the literal before a keyword.
    assert parse("message:  peer  added  ") == is_("message", "peer  added")
    assert parse("message: peer added and x:1") == And((is_("message", "peer added"), is_("x", "1")))


def test_keyword_inside_a_word_is_not_a_keyword_but_not_followed_by_space_is():
    # Keyword = Space 'or'i Space / Space 'and'i Space / 'not'i Space
    assert parse("a: oregon") == is_("a", "oregon")
    assert parse("a: sandy") == is_("a", "sandy")
    with pytest.raises(KqlSyntaxError):
        parse("a: cannot b")  # "not " inside "cannot" ends the literal


def test_escapes_in_unquoted_values():
    # EscapedSpecialCharacter [\\():<>"*{}], EscapedWhitespace \t \r \n, EscapedUnicodeSequence,
    # EscapedKeyword.
    assert parse(r"a: \(x\)\:\<\>\"\*\{\}\\") == is_("a", '(x):<>"*{}\\')
    assert parse(r"a: x\ty\nz") == is_("a", "x\ty\nz")
    assert parse(r"a: \u0041b") == is_("a", "Ab")
    assert parse(r"a: x \or y") == is_("a", "x or y")
    assert parse(r"a: \NOT x") == is_("a", "NOT x")
    # EscapedWhitespace is tried before EscapedKeyword: `\not` is a newline and "ot", and
    # trim() then drops the newline. (Kibana's own escapeKuery writes `\not` all the same.)
    assert parse(r"a: \not x") == is_("a", "ot x")


def test_quoted_strings():
    # QuotedCharacter: escaped whitespace, \uXXXX, \\ and \", anything but "; other
    # backslashes are kept.
    assert parse(r'a: "x \"y\" \\ \t \u0041 \q or and: (*)"') == is_("a", 'x "y" \\ \t A \\q or and: (*)', quoted=True)


def test_null_true_false_and_numbers_in_unquoted_literals():
    # UnquotedLiteral: 'null', 'true', 'false' become literals of those values; numbers stay strings.
    assert parse("a: null") == is_("a", None)
    assert parse("a: true") == is_("a", True)
    assert parse("a: false") == is_("a", False)
    assert parse("a: 200") == is_("a", "200")
    assert parse('a: "true"') == is_("a", "true", quoted=True)


def test_wildcards():
    # Wildcard = '*' -> KQL_WILDCARD_SYMBOL; an escaped \* is a plain star.
    assert parse("a: fo*o") == Is(lit("a"), Wildcard(f"fo{W}o"))
    assert parse(r"a: fo\*o") == is_("a", "fo*o")
    assert parse("a: *") == Is(lit("a"), Wildcard(W))
    assert parse("source.*: 1") == Is(Wildcard(f"source.{W}"), lit("1"))
    assert parse('"source.*": 1') == Is(lit("source.*", True), lit("1"))


def test_empty_query_is_match_all():
    # start: query:OrQuery? ... return nodeTypes.function.buildNode('is', '*', '*')
    assert parse("") == MATCH_ALL
    assert parse("  \t\n ") == MATCH_ALL


def test_value_lists():
    # ListOfValues / OrListOfValues / AndListOfValues / NotListOfValues: the field is applied
    # to every value.
    assert parse("a:(x or y and not z)") == Or((is_("a", "x"), And((is_("a", "y"), Not(is_("a", "z"))))))
    assert parse("a:(x)") == is_("a", "x")


def test_nested_query():
    assert parse("user:{ first: a and last: b }") == Nested(lit("user"), And((is_("first", "a"), is_("last", "b"))))
    assert parse("a:{ b:{ c: 1 } }") == Nested(lit("a"), Nested(lit("b"), is_("c", "1")))


def test_ranges():
    # RangeOperator '<=' / '>=' / '<' / '>' -> lte / gte / lt / gt; the value is a Literal.
    assert parse("a < 5") == Range(lit("a"), "lt", lit("5"))
    assert parse("a<=5") == Range(lit("a"), "lte", lit("5"))
    assert parse("a >= now-1d") == Range(lit("a"), "gte", lit("now-1d"))
    assert parse('a > "x y"') == Range(lit("a"), "gt", lit("x y", True))


def test_free_text_has_a_null_field():
    # ValueExpression: buildLiteralNode(null) as the field.
    assert parse("peer") == Is(lit(None), lit("peer"))
    assert parse('"peer added"') == Is(lit(None), lit("peer added", True))


def test_leading_wildcards_can_be_refused():
    # Value: error('Leading wildcards are disabled. ...') when allowLeadingWildcards is false;
    # the detection engine passes allowLeadingWildcards: true.
    assert parse("a: *x") == Is(lit("a"), Wildcard(f"{W}x"))
    with pytest.raises(KqlSyntaxError, match="Leading wildcards are disabled"):
        parse("a: *x", allow_leading_wildcards=False)


# -- syntax errors -----------------------------------------------------------------------------

# kuery_syntax_error.test.ts, message for message; positions are the caret columns there.
KIBANA_ERRORS = [
    ("response:", 'Expected "(", "{", value, whitespace but end of input found.', 9),
    ("response:200 or ", 'Expected "(", NOT, field name, value but end of input found.', 16),
    ("response:(200 or )", 'Expected "(", NOT, value but ")" found.', 17),
    ("response:200 and not ", 'Expected "(", field name, value but end of input found.', 21),
    ("response:(200 and not )", 'Expected "(", value but ")" found.', 22),
    ('foo:"ba ', 'Expected "(", "{", value, whitespace but """ found.', 4),
    ('foo:"ba "r"', 'Expected AND, OR, end of input but "r" found.', 9),
    ("foo:ba:r", 'Expected AND, OR, end of input but ":" found.', 6),
    ("foo > ", "Expected literal, whitespace but end of input found.", 6),
    ("< 1000", 'Expected "(", NOT, end of input, field name, value, whitespace but "<" found.', 0),
]


@pytest.mark.parametrize(("query", "message", "position"), KIBANA_ERRORS)
def test_syntax_errors_match_kibana(query, message, position):
    with pytest.raises(KqlSyntaxError) as info:
        parse(query)
    err = info.value
    assert str(err) == message
    assert err.position == position
    assert err.query == query


def test_syntax_error_fields_and_render():
    with pytest.raises(KqlSyntaxError) as info:
        parse("response:(200 or )")
    err = info.value
    assert err.expected == ['"("', "NOT", "value"]
    assert err.found == ")"
    assert err.render() == "response:(200 or )\n-----------------^"
    assert isinstance(err, WgsiemError)  # reported by the command line as an error


def test_render_shows_the_line_of_a_multi_line_query():
    with pytest.raises(KqlSyntaxError) as info:
        parse('event.dataset: "x" and\nevent.action: a:b')
    assert info.value.render() == "event.action: a:b\n---------------^"


def test_no_whitespace_expectation_where_peggy_cache_hides_it():
    # With `cache: true` a rule that already failed silently (Space inside the named OR rule)
    # is not reported again by the trailing OptionalSpace: no "whitespace" here.
    with pytest.raises(KqlSyntaxError) as info:
        parse("a:b)")
    assert info.value.expected == ["AND", "OR", "end of input"]


def test_unbalanced_nested_braces():
    with pytest.raises(KqlSyntaxError) as info:
        parse("user:{ a:1 ")
    assert info.value.expected == ['"}"', "AND", "OR"]
    assert info.value.found is None


# -- back to KQL -------------------------------------------------------------------------------

_ATOMS = ["a", "b.c", "x y", "or", "not", "and", "(", ")", ":", "*", "\\", '"', "{", "}", "<", ">", "\t", "1", "é", "null"]
_values = st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=5).map("".join)
_fields = st.sampled_from(["a", "b.c", "user.name", "x_y"])


@st.composite
def _queries(draw, depth=0):
    kinds = ["is", "quoted", "wild", "range", "free"] + (["and", "or", "not", "nested", "list"] if depth < 3 else [])
    kind = draw(st.sampled_from(kinds))
    field, value = draw(_fields), draw(_values)
    if kind == "is":
        return f"{field}: {term_to_kql(lit(value))}"
    if kind == "quoted":
        return f"{field}: {term_to_kql(lit(value, True))}"
    if kind == "wild":
        return f"{field}: {term_to_kql(Wildcard(value.replace('x', W) + W))}"
    if kind == "range":
        return f"{field} {draw(st.sampled_from(['<', '<=', '>', '>=']))} {term_to_kql(lit(value))}"
    if kind == "free":
        return term_to_kql(lit(value, True))
    if kind == "not":
        return "not " + draw(_queries(depth + 1))
    if kind == "nested":
        return f"{field}:{{ {draw(_queries(depth + 1))} }}"
    if kind == "list":
        return f"{field}:({term_to_kql(lit(value))} or b and not c)"
    op = " and " if kind == "and" else " or "
    return "(" + draw(_queries(depth + 1)) + op + draw(_queries(depth + 1)) + ")"


@settings(max_examples=300, deadline=None)
@given(_queries())
def test_to_kql_round_trips(query):
    # to_kql escapes what the grammar treats as special; Kibana's escapeKuery misses { and }.
    try:
        tree = parse(query)
    except KqlSyntaxError:
        return  # the generator can build text that does not parse; nothing to round-trip
    assert parse(to_kql(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_ATOMS), max_size=12).map("".join))
def test_parse_either_succeeds_or_raises_a_positioned_error(text):
    try:
        parse(text)
    except KqlSyntaxError as err:
        assert 0 <= err.position <= len(text)
        assert err.found == (text[err.position] if err.position < len(text) else None)
        assert str(err).startswith("Expected ")


# -- DSL ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def types():
    return FieldTypes.default().with_types(
        {"user.roles": "nested", "user.roles.name": "keyword", "user.roles.level": "long", "notes": "text"}
    )


def dsl(query, types):
    return compile_query(query, types).to_dsl()


def should(*queries):
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


def test_dsl_keyword_term(types):
    # is.ts: isKeywordField (esTypes == ['keyword']) -> term {value}; is.test.ts "should use a
    # term query for keyword fields". Quoted or not makes no difference for a keyword field.
    assert dsl("event.action: peer-added", types) == should({"term": {"event.action": {"value": "peer-added"}}})
    assert dsl('event.action: "peer-added"', types) == should({"term": {"event.action": {"value": "peer-added"}}})


def test_dsl_match_and_match_phrase_for_other_types(types):
    # is.ts: type = valueArg.isQuoted ? 'phrase' : 'best_fields' -> match_phrase / match.
    assert dsl("message: added", types) == should({"match": {"message": "added"}})
    assert dsl('message: "peer added"', types) == should({"match_phrase": {"message": "peer added"}})
    assert dsl("source.ip: 10.0.0.0/8", types) == should({"match": {"source.ip": "10.0.0.0/8"}})
    assert dsl("source.port: 51820", types) == should({"match": {"source.port": "51820"}})
    assert dsl("wireguard.peer.preshared_key_set: true", types) == should({"match": {"wireguard.peer.preshared_key_set": True}})


def test_dsl_date_is_a_range_with_the_detection_engine_time_zone(types):
    # is.ts: date fields get range gte/lte with time_zone from dateFormatTZ ('Zulu' in
    # get_query_filter_load_fields.ts), none for epoch values (/^\d+$/).
    assert dsl('@timestamp: "2024-03-05"', types) == should(
        {"range": {"@timestamp": {"gte": "2024-03-05", "lte": "2024-03-05", "time_zone": "Zulu"}}}
    )
    assert dsl("@timestamp: 1709596800000", types) == should(
        {"range": {"@timestamp": {"gte": "1709596800000", "lte": "1709596800000"}}}
    )


def test_dsl_wildcards(types):
    # is.ts: keyword -> wildcard {value}, else query_string {fields, query}; the value is
    # wildcard.ts toQueryStringQuery (reserved characters escaped, `?` included).
    assert dsl("process.name: wg-qu*", types) == should({"wildcard": {"process.name": {"value": "wg\\-qu*"}}})
    assert dsl("message: peer? a*", types) == should({"query_string": {"fields": ["message"], "query": "peer\\? a*"}})


def test_dsl_exists_and_match_all(types):
    # is.ts: a lone wildcard value -> exists; `*:*` -> match_all.
    assert dsl("source.ip: *", types) == should({"exists": {"field": "source.ip"}})
    assert dsl("*:*", types) == {"match_all": {}}
    assert dsl("", types) == {"match_all": {}}


def test_dsl_ranges(types):
    # range.ts: {[op]: value}; date fields add time_zone unless the value is an epoch.
    assert dsl("source.port >= 1024", types) == should({"range": {"source.port": {"gte": "1024"}}})
    assert dsl("@timestamp < now-1d/d", types) == should({"range": {"@timestamp": {"lt": "now-1d/d", "time_zone": "Zulu"}}})


def test_dsl_and_or_not(types):
    # and.ts: bool.filter; or.ts: bool.should + minimum_should_match 1; not.ts: bool.must_not.
    a = should({"term": {"event.action": {"value": "a"}}})
    b = should({"term": {"event.action": {"value": "b"}}})
    assert dsl("event.action: a and event.action: b", types) == {"bool": {"filter": [a, b]}}
    assert dsl("event.action: a or event.action: b", types) == {"bool": {"should": [a, b], "minimum_should_match": 1}}
    assert dsl("not event.action: a", types) == {"bool": {"must_not": a}}
    assert dsl("event.action: (a or b)", types) == {"bool": {"should": [a, b], "minimum_should_match": 1}}


def test_dsl_free_text(types):
    # is.ts: a null field -> multi_match (lenient) or, for a wildcard, query_string without fields.
    assert dsl("added", types) == {"multi_match": {"type": "best_fields", "query": "added", "lenient": True}}
    assert dsl('"peer added"', types) == {"multi_match": {"type": "phrase", "query": "peer added", "lenient": True}}
    assert dsl("add*", types) == {"query_string": {"query": "add*"}}


def test_dsl_field_name_wildcards_expand_over_the_data_view(types):
    # get_fields.ts: a wildcard name matches data view fields (sorted); one query per field,
    # each built for its own type.
    assert dsl("user.name*: alice", types) == should(
        {"term": {"user.name": {"value": "alice"}}}, {"match": {"user.name.text": "alice"}}
    )


def test_dsl_nested_groups_use_names_as_written(types):
    # nested.ts: nested {path, query, score_mode: 'none'}; the fields inside a group are not in
    # the data view (getKqlFieldNames only names the path), so they get type-agnostic queries.
    assert dsl("user.roles:{ name: admin and level > 3 }", types) == {
        "nested": {
            "path": "user.roles",
            "query": {
                "bool": {
                    "filter": [
                        should({"match": {"user.roles.name": "admin"}}),
                        should({"range": {"user.roles.level": {"gt": "3"}}}),
                    ]
                }
            },
            "score_mode": "none",
        }
    }


def test_dsl_wildcard_names_reaching_nested_fields_are_wrapped(types):
    # is.ts wrapWithNestedQuery; is.test.ts "should automatically add a nested query when a
    # wildcard field name covers a nested field".
    assert dsl("user.roles.na*: admin", types) == should(
        {"nested": {"path": "user.roles", "query": {"term": {"user.roles.name": {"value": "admin"}}}, "score_mode": "none"}}
    )


def test_nested_field_outside_its_group_is_kibanas_error(types):
    # get_full_field_name_node.ts: "... is a nested field, but is not in a nested group ..."
    with pytest.raises(KqlFieldError, match="is a nested field, but is not in a nested group"):
        compile_query("user.roles.name: admin", types)


def test_query_filter_wraps_like_build_es_query(types):
    # build_es_query.ts: bool {must, filter, should, must_not} with match_all removed.
    assert compile_query("", types).to_query_filter() == {"bool": {"must": [], "filter": [], "should": [], "must_not": []}}
    inner = should({"term": {"event.action": {"value": "a"}}})
    assert compile_query("event.action: a", types).to_query_filter()["bool"]["filter"] == [inner]


def test_to_dsl_returns_a_copy(types):
    q = compile_query("event.action: a", types)
    q.to_dsl()["bool"]["should"].clear()
    assert q.to_dsl()["bool"]["should"]


def test_deeply_parenthesised_query_parses():
    # Kibana's JavaScript parser takes deep nesting; Python's default recursion limit alone would not.
    assert parse("(" * 300 + "a:1" + ")" * 300) == is_("a", "1")
