"""KQL evaluated over documents: what Elasticsearch returns for the DSL Kibana sends.

Sources (elastic/elasticsearch, server/src/main/java/org/elasticsearch/index/...):
mapper/{Keyword,Text,Ip,Number,Boolean,Date,ConstantKeyword,GeoPoint}FieldMapper.java,
x-pack mapper-unsigned-long UnsignedLongFieldMapper.java, search/QueryStringQueryParser.java,
search/QueryParserHelper.java, query/ExistsQueryBuilder.java,
common/time/{Iso8601Parser,JavaDateMathParser,JavaDateFormatter}.java; Lucene's
StandardTokenizer (UAX #29) for the standard analyzer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.kql import FieldTypes, KqlFieldError, analysis, compile_query, keyword_values

NOW = datetime(2024, 3, 5, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def types():
    return FieldTypes.default().with_types(
        {
            "user.roles": "nested",
            "user.roles.name": "keyword",
            "user.roles.level": "long",
            "notes": "text",
            "labels": "flattened",
            "ratio16": "half_float",
            "ratio32": "float",
            "small": "byte",
            "precise": "date_nanos",
            "kw_plain": "keyword",
        }
    )


def matches(query, doc, types, **kw):
    return compile_query(query, types, now=NOW, **kw).matches(doc)


# -- keyword -----------------------------------------------------------------------------------


def test_keyword_is_exact_and_case_sensitive(types):
    # KeywordFieldMapper: no normalizer, the whole value is the term.
    doc = {"event": {"action": "peer-added"}}
    assert matches("event.action: peer-added", doc, types)
    assert not matches("event.action: Peer-added", doc, types)
    assert not matches("event.action: peer", doc, types)
    assert not matches("event.action: added", doc, types)


def test_keyword_value_lists_and_arrays(types):
    assert matches("event.action: (a or peer-added)", {"event": {"action": "peer-added"}}, types)
    assert matches("event.action: b", {"event": {"action": ["a", "b"]}}, types)
    assert not matches("event.action: c", {"event": {"action": ["a", "b"]}}, types)


def test_keyword_indexes_numbers_and_booleans_as_text(types):
    # A JSON number or boolean in a keyword field is indexed as its text.
    assert matches("event.action: 5", {"event": {"action": 5}}, types)
    assert matches("event.action: true", {"event": {"action": True}}, types)
    assert matches("event.action: true", {"event": {"action": "true"}}, types)


def test_keyword_ignore_above(types):
    # KeywordFieldMapper: values longer than ignore_above (ECS default 1024) are not indexed,
    # so neither term, wildcard nor exists finds them.
    long_value = "x" * 1025
    doc = {"host": {"name": long_value}}
    assert not matches("host.name: x*", doc, types)
    assert not matches("host.name: *", doc, types)
    assert matches("host.name: *", {"host": {"name": "x" * 1024}}, types)
    with pytest.raises(KqlFieldError, match="ignore_above"):
        compile_query(f"host.name: {long_value}", types)


def test_keyword_wildcards_match_the_whole_value(types):
    # wildcard query: Lucene WildcardQuery over the whole term; Kibana escaped `?`, so only
    # `*` is a wildcard.
    doc = {"process": {"name": "wg-quick"}}
    assert matches("process.name: wg*", doc, types)
    assert matches("process.name: *quick", doc, types)
    assert matches("process.name: *-*", doc, types)
    assert not matches("process.name: quick*", doc, types)
    assert not matches("process.name: wg?quick", doc, types)
    assert matches("process.name: wg?quick", {"process": {"name": "wg?quick"}}, types)


def test_keyword_range_compares_strings(types):
    doc = {"host": {"name": "gw1"}}
    assert matches("host.name > gw", doc, types)
    assert matches("host.name <= gw1", doc, types)
    assert not matches("host.name < gw1", doc, types)


def test_constant_keyword_and_wildcard_types(types):
    # constant_keyword: the value, wildcard patterns on it; `wildcard` type: exact and pattern
    # on the whole value (its search analyzer is keyword).
    assert matches("data_stream.dataset: wireguard.status", {"data_stream": {"dataset": "wireguard.status"}}, types)
    assert matches("data_stream.dataset: wire*", {"data_stream": {"dataset": "wireguard.status"}}, types)
    doc = {"process": {"command_line": "ip link add dev wg0 type wireguard"}}
    assert not matches('process.command_line: "ip link"', doc, types)
    assert matches("process.command_line: ip*wg0*", doc, types)
    assert matches("process.command_line.text: wg0", doc, types)  # its match_only_text multi-field


# -- text --------------------------------------------------------------------------------------


def test_text_match_is_any_token(types):
    # match on text: the standard analyzer's tokens of the value, OR-ed (operator OR).
    doc = {"message": "Peer 10.0.0.2 added on wg-quick"}
    assert matches("message: peer", doc, types)
    assert matches("message: PEER", doc, types)
    assert matches("message: removed added", doc, types)
    assert matches("message: quick", doc, types)
    assert matches("message: 10.0.0.2", doc, types)
    assert not matches("message: 10.0.0", doc, types)


def test_text_phrase_needs_consecutive_tokens(types):
    doc = {"message": "Peer 10.0.0.2 added on wg-quick"}
    assert matches('message: "added on wg quick"', doc, types)
    assert not matches('message: "on added"', doc, types)
    assert not matches('message: "peer added"', doc, types)


def test_text_phrase_does_not_span_array_values(types):
    # position_increment_gap (100) keeps the values of an array apart for phrases.
    assert not matches('notes: "a b"', {"notes": ["x a", "b y"]}, types)
    assert matches('notes: "a b"', {"notes": ["x", "a b"]}, types)


def test_text_wildcards_apply_per_token_lowercased(types):
    # QueryStringQueryParser: prefix and wildcard terms are normalized (lowercased) and match
    # single tokens; whitespace separates query_string terms (default operator OR).
    doc = {"message": "wg-quick brought UP the Interface"}
    assert matches("message: Inter*", doc, types)
    assert matches("message: *face", doc, types)
    assert not matches("message: wg-qu*", doc, types)  # no token holds the hyphen
    assert matches("message: nothing up*", doc, types)


def test_text_with_no_tokens_matches_nothing(types):
    # match with zero terms after analysis: zero_terms_query none.
    with pytest.raises(KqlFieldError, match="no tokens"):
        compile_query('message: "---"', types)
    assert not matches('message: "---"', {"message": "---"}, types, strict=False)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("wg-quick up wg0", ["wg", "quick", "up", "wg0"]),
        ("Peer 10.0.0.1:51820 added", ["peer", "10.0.0.1", "51820", "added"]),
        ("foo.bar a:b can't 1,5 1.a a_b _", ["foo.bar", "a:b", "can't", "1,5", "1", "a", "a_b"]),
        ("Wörld ÀB.cd", ["wörld", "àb.cd"]),
        ("東京タワー", ["東", "京", "タワー"]),
    ],
)
def test_standard_tokenizer(text, tokens):
    # UAX #29 word boundaries as Lucene's StandardTokenizer implements them.
    assert analysis.tokenize(text) == tokens


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1_.:',; -x9", max_size=30))
def test_ascii_tokenizer_shortcut_agrees_with_the_rules(text):
    assert [t for t in analysis._ASCII_WORD.findall(text) if analysis._HAS_ALNUM.search(t)] == analysis._words(text)


# -- ip ----------------------------------------------------------------------------------------


def test_ip_exact_and_cidr(types):
    # IpFieldMapper.termQuery: an address, or a CIDR (InetAddresses.parseCidr) as a prefix query.
    doc = {"source": {"ip": "10.1.2.3"}}
    assert matches("source.ip: 10.1.2.3", doc, types)
    assert matches("source.ip: 10.0.0.0/8", doc, types)
    assert not matches("source.ip: 10.1.2.4", doc, types)
    assert not matches("source.ip: 192.168.0.0/16", doc, types)
    assert matches('source.ip: "2001:db8::/32"', {"source": {"ip": "2001:db8:0:1::5"}}, types)
    assert not matches('source.ip: "2001:db8::/32"', {"source": {"ip": "2001:db9::5"}}, types)
    # IPv4-mapped IPv6 is the same point as the IPv4 address (InetAddressPoint.encode).
    assert matches('source.ip: "::ffff:10.1.2.3"', doc, types)


def test_ip_not_cidr_and_missing(types):
    q = "event.action: peer-added and not source.ip: 10.0.0.0/8"
    assert matches(q, {"event": {"action": "peer-added"}, "source": {"ip": "192.0.2.1"}}, types)
    assert not matches(q, {"event": {"action": "peer-added"}, "source": {"ip": "10.9.9.9"}}, types)
    assert matches(q, {"event": {"action": "peer-added"}}, types)


def test_ip_errors(types):
    # InetAddresses.forString: "'x' is not an IP string literal."; prefix/wildcard queries
    # are refused on ip fields (MappedFieldType.prefixQuery).
    with pytest.raises(KqlFieldError, match="is not an IP string literal"):
        compile_query("source.ip: 300.1.1.1", types)
    with pytest.raises(KqlFieldError, match="is not an IP string literal"):
        compile_query("source.ip: 010.1.1.1", types)  # leading zeros are refused
    with pytest.raises(KqlFieldError, match="Can only use prefix queries"):
        compile_query("source.ip: 10.0.0.*", types)
    with pytest.raises(KqlFieldError, match="illegal prefixLength"):
        compile_query("source.ip: 10.0.0.0/33", types)


def test_ip_range(types):
    doc = {"source": {"ip": "10.0.0.5"}}
    assert matches("source.ip >= 10.0.0.5", doc, types)
    assert not matches("source.ip > 10.0.0.5", doc, types)
    assert matches("source.ip < 10.0.1.0", doc, types)


# -- numbers -----------------------------------------------------------------------------------


def test_long_equality_and_coercion(types):
    # NumberFieldMapper: coerce is on, so "80" and 80.9 index as 80.
    assert matches("source.port: 80", {"source": {"port": 80}}, types)
    assert matches("source.port: 80", {"source": {"port": "80"}}, types)
    assert matches("source.port: 80", {"source": {"port": 80.9}}, types)
    assert matches("source.port: 80.0", {"source": {"port": 80}}, types)
    assert not matches("source.port: 81", {"source": {"port": 80}}, types)


def test_long_query_values(types):
    # LONG.termQuery: a decimal part or an out-of-range value matches nothing (an error here
    # in strict mode), text that is no number fails the search.
    with pytest.raises(KqlFieldError, match=r"Value \[1.5\] has a decimal part"):
        compile_query("source.port: 1.5", types)
    q = compile_query("source.port: 1.5", types, strict=False)
    assert not q.matches({"source": {"port": 1}}) and "decimal part" in q.warnings[0]
    with pytest.raises(KqlFieldError, match='For input string: "abc"'):
        compile_query("source.port: abc", types)
    with pytest.raises(KqlFieldError, match="out of range"):
        compile_query("small: 300", types)


def test_long_range_bounds_with_decimals(types):
    # NumberType.longRangeQuery rounds decimal bounds inwards.
    doc = {"source": {"port": 80}}
    assert matches("source.port >= 79.5", doc, types)
    assert matches("source.port > 79.5", doc, types)
    assert not matches("source.port > 80.5", doc, types)
    assert matches("source.port < 80.5", doc, types)
    assert matches("source.port < -0.5", {"source": {"port": -1}}, types)
    with pytest.raises(KqlFieldError, match="out of range for a byte"):
        compile_query("small > 300", types)


def test_unsigned_long_big_values(types):
    # UnsignedLongFieldMapper: the whole 0..2^64-1 range, exactly; decimal strings from an
    # ingest pipeline are read exactly.
    big = 18446744073709551615
    assert matches(f"wireguard.peer.rx_bytes: {big}", {"wireguard": {"peer": {"rx_bytes": big}}}, types)
    assert matches(f"wireguard.peer.rx_bytes: {big}", {"wireguard": {"peer": {"rx_bytes": str(big)}}}, types)
    assert not matches(f"wireguard.peer.rx_bytes: {big - 1}", {"wireguard": {"peer": {"rx_bytes": big}}}, types)
    assert matches("wireguard.peer.rx_bytes > 9223372036854775807", {"wireguard": {"peer": {"rx_bytes": 2**63}}}, types)
    assert not matches("wireguard.peer.rx_bytes > 99999999999999999999", {"wireguard": {"peer": {"rx_bytes": big}}}, types)
    with pytest.raises(KqlFieldError, match="not an unsigned long"):
        compile_query("wireguard.peer.rx_bytes: -1", types)


def test_floating_point_types(types):
    # DOUBLE compares doubles; FLOAT and HALF_FLOAT index and query at their own precision.
    assert matches("wireguard.peer.roam.speed_kmh > 1000", {"wireguard": {"peer": {"roam": {"speed_kmh": 1000.5}}}}, types)
    assert not matches("wireguard.peer.roam.speed_kmh > 1000", {"wireguard": {"peer": {"roam": {"speed_kmh": 1000}}}}, types)
    assert matches("ratio32: 0.1", {"ratio32": 0.1}, types)
    assert matches("ratio16: 0.1", {"ratio16": 0.1}, types)
    assert matches("ratio16: 0.1", {"ratio16": 0.09997}, types)  # the same half float
    assert not matches("wireguard.peer.roam.speed_kmh: 0.1", {"wireguard": {"peer": {"roam": {"speed_kmh": 0.09997}}}}, types)


def test_wildcard_on_numbers_is_refused(types):
    with pytest.raises(KqlFieldError, match="Can only use prefix queries"):
        compile_query("source.port: 80*", types)
    with pytest.raises(KqlFieldError, match="Can only use wildcard queries"):
        compile_query("source.port: *80", types)


# -- dates -------------------------------------------------------------------------------------


def test_date_equality_covers_the_unit_written(types):
    # DateFieldType.rangeQuery with gte == lte: the upper bound parses with round-up defaults
    # (JavaDateFormatter ROUND_UP_BASE_FIELDS): a day covers the day, an hour the hour, but a
    # month only its first day (month and day default to 1 even when rounding up).
    assert matches("@timestamp: 2024-03-05", {"@timestamp": "2024-03-05T23:59:59.999Z"}, types)
    assert not matches("@timestamp: 2024-03-05", {"@timestamp": "2024-03-06T00:00:00Z"}, types)
    assert matches('@timestamp: "2024-03-05T10"', {"@timestamp": "2024-03-05T10:59:00Z"}, types)
    assert matches("@timestamp: 2024-03", {"@timestamp": "2024-03-01T18:00:00Z"}, types)
    assert not matches("@timestamp: 2024-03", {"@timestamp": "2024-03-02T00:00:00Z"}, types)


def test_date_values_with_zones_and_epoch(types):
    doc = {"@timestamp": "2024-03-05T10:00:00+02:00"}
    assert matches('@timestamp: "2024-03-05T08:00:00Z"', doc, types)
    assert matches("@timestamp: 1709625600000", doc, types)
    assert matches('@timestamp: "2024-03-05T08:00:00Z"', {"@timestamp": 1709625600000}, types)


def test_date_math_with_injected_now(types):
    # JavaDateMathParser: now-1d, /d rounding (to the day's last millisecond when rounding up).
    doc = {"@timestamp": "2024-03-05T01:00:00Z"}
    assert matches("@timestamp > now-1d", doc, types)
    assert not matches("@timestamp > now-1h", doc, types)
    assert matches("@timestamp >= now/d", doc, types)
    assert not matches("@timestamp < now/d", doc, types)
    assert matches("@timestamp <= now/d", {"@timestamp": "2024-03-05T23:59:59.999Z"}, types)
    assert matches("@timestamp < now-1M/M", {"@timestamp": "2024-01-31T23:00:00Z"}, types)
    assert matches('@timestamp > "2024-03-04||+1d"', {"@timestamp": "2024-03-05T00:00:00.001Z"}, types)


def test_date_range_rounding(types):
    # gt rounds its bound up, lt does not: > 2024-03-05 means after the whole day.
    assert not matches("@timestamp > 2024-03-05", {"@timestamp": "2024-03-05T12:00:00Z"}, types)
    assert matches("@timestamp >= 2024-03-05", {"@timestamp": "2024-03-05T12:00:00Z"}, types)
    assert not matches("@timestamp < 2024-03-05", {"@timestamp": "2024-03-05T00:00:00Z"}, types)
    assert matches("@timestamp <= 2024-03-05", {"@timestamp": "2024-03-05T12:00:00Z"}, types)


def test_date_nanos(types):
    assert matches('precise: "2024-01-01T00:00:00.123456789Z"', {"precise": "2024-01-01T00:00:00.123456789Z"}, types)
    assert not matches('precise: "2024-01-01T00:00:00.123456788Z"', {"precise": "2024-01-01T00:00:00.123456789Z"}, types)


def test_date_errors(types):
    with pytest.raises(KqlFieldError, match="failed to parse date field"):
        compile_query("@timestamp: yesterday", types)
    with pytest.raises(KqlFieldError, match=r"unit \[D\] not supported"):
        compile_query("@timestamp > now-1D", types)
    with pytest.raises(KqlFieldError, match="Can only use prefix queries"):
        compile_query("@timestamp: 2024*", types)


# -- booleans ----------------------------------------------------------------------------------


def test_booleans(types):
    # BooleanFieldMapper: true/false (JSON or strings; "" is false); anything else in a query
    # is "Can't parse boolean value".
    field = "wireguard.peer.preshared_key_set"
    assert matches(f"{field}: true", {"wireguard": {"peer": {"preshared_key_set": True}}}, types)
    assert matches(f"{field}: true", {"wireguard": {"peer": {"preshared_key_set": "true"}}}, types)
    assert matches(f"{field}: false", {"wireguard": {"peer": {"preshared_key_set": ""}}}, types)
    assert not matches(f"{field}: false", {"wireguard": {"peer": {"preshared_key_set": True}}}, types)
    with pytest.raises(KqlFieldError, match=r"Can't parse boolean value \[yes\]"):
        compile_query(f"{field}: yes", types)


# -- exists, missing, not, arrays, document shapes ----------------------------------------------


def test_exists_and_missing(types):
    assert matches("source.port: *", {"source": {"port": 1}}, types)
    for doc in ({}, {"source": {"port": None}}, {"source": {"port": []}}, {"source": {"port": [None]}}):
        assert not matches("source.port: *", doc, types)
        assert matches("not source.port: *", doc, types)
        assert matches("not source.port: 1", doc, types)


def test_exists_on_objects_and_unsearchable_fields(types):
    # ExistsQueryBuilder: an object name covers its sub-fields; a field neither indexed nor with
    # doc values (event.original) never exists; a nested parent is not seen by a plain query.
    assert matches("source: *", {"source": {"port": 1}}, types)
    assert not matches("source: *", {"source": {}}, types)
    assert not matches("event.original: *", {"event": {"original": "x"}}, types)
    assert not matches("user.roles: *", {"user": {"roles": [{"name": "a"}]}}, types)
    assert matches("journald.custom: *", {"journald": {"custom": {"x": "1"}}}, types)


def test_unsearchable_field_value_query_fails(types):
    with pytest.raises(KqlFieldError, match="not indexed nor has doc values"):
        compile_query("event.original: x", types)


@pytest.mark.parametrize(
    "doc",
    [
        {"source": {"ip": "10.0.0.1", "port": 80}},
        {"source.ip": "10.0.0.1", "source.port": 80},
        {"source": {"ip": "10.0.0.1"}, "source.port": 80},
        {"source": [{"ip": "10.0.0.1"}, {"port": 80}]},
        {"source": [{"ip": ["192.0.2.1", "10.0.0.1"], "port": [443, 80]}]},
    ],
)
def test_document_shapes(doc, types):
    # _source objects, dotted keys and arrays of objects all index into the same fields
    # (objects inside arrays are flattened, not nested).
    assert matches("source.ip: 10.0.0.0/8 and source.port: 80", doc, types)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["peer-added", "transfer", "x"]), min_size=0, max_size=3),
    st.sampled_from(["nested", "dotted", "mixed"]),
)
def test_shape_does_not_change_the_answer(actions, shape):
    types = FieldTypes.default()
    value = actions if len(actions) != 1 else actions[0]
    flat = {"event.action": value, "event.dataset": "wireguard.status"}
    if shape == "nested":
        doc = {"event": {"action": value, "dataset": "wireguard.status"}}
    elif shape == "dotted":
        doc = flat
    else:
        doc = {"event": {"dataset": "wireguard.status"}, "event.action": value}
    for q in ("event.action: peer-added", "not event.action: (x or transfer)", "event.action: * and event.dataset: wireguard.status"):
        expected = compile_query(q, types).matches(flat)
        assert compile_query(q, types).matches(doc) == expected


def test_not_with_arrays_is_none_of_the_values(types):
    assert not matches("not source.port: 80", {"source": {"port": [80, 81]}}, types)
    assert matches("source.port: 80 and source.port: 81", {"source": {"port": [80, 81]}}, types)


# -- field names -------------------------------------------------------------------------------


def test_unknown_fields(types):
    with pytest.raises(KqlFieldError, match="unknown field 'no.such'"):
        compile_query("no.such: x", types)
    q = compile_query("no.such: x or event.action: a", types, strict=False)
    assert q.matches({"event": {"action": "a"}}) and not q.matches({"no": {"such": "x"}})
    assert "no.such" in q.warnings[0]


def test_value_query_on_an_object_is_refused(types):
    with pytest.raises(KqlFieldError, match="is an object"):
        compile_query("source: x", types)


def test_field_name_wildcards_expand(types):
    q = compile_query("user.name*: alice", types)
    assert q.fields == {"user.name", "user.name.text"}
    assert q.matches({"user": {"name": "Alice Smith"}})  # through user.name.text
    assert q.matches({"user": {"name": "alice"}})


def test_field_name_wildcard_over_an_ip_field_fails_like_elasticsearch(types):
    # source.* takes in source.ip and source.as.number, and match on an ip or long field with a
    # value that is neither fails the whole search.
    with pytest.raises(KqlFieldError, match=r"source\.\S+ \((long|ip)\)"):
        compile_query("source.*: gw1", types)


# -- nested ------------------------------------------------------------------------------------


def test_nested_conditions_hold_within_one_object(types):
    q = "user.roles:{ name: admin and level > 3 }"
    assert matches(q, {"user": {"roles": [{"name": "admin", "level": 9}]}}, types)
    assert not matches(q, {"user": {"roles": [{"name": "admin", "level": 1}, {"name": "x", "level": 9}]}}, types)
    assert matches("user.roles:{ name: admin and not level: 1 }", {"user": {"roles": [{"name": "admin", "level": 1}, {"name": "admin", "level": 2}]}}, types)


def test_nested_on_a_field_that_is_not_nested(types):
    with pytest.raises(KqlFieldError, match="is not of nested type"):
        compile_query("source:{ ip: 10.0.0.1 }", types)
    with pytest.raises(KqlFieldError, match="failed to find nested object"):
        compile_query("nothing:{ ip: 10.0.0.1 }", types)


# -- free text, flattened ------------------------------------------------------------------------


def test_free_text_searches_every_field_leniently(types):
    # multi_match without fields: index.query.default_field `*`, lenient: a value that is no
    # number does not fail on number fields.
    doc = {"message": "peer added", "source": {"port": 80}, "host": {"name": "gw1"}}
    assert matches("added", doc, types)
    assert matches("gw1", doc, types)
    assert matches("80", doc, types)
    assert not matches("gw2", doc, types)
    assert matches("gw*", doc, types)


def test_flattened(types):
    doc = {"labels": {"team": {"name": "blue"}, "env": "prod"}}
    assert matches("labels: blue", doc, types)
    assert matches("labels.team.name: blue", doc, types)
    assert not matches("labels.env: blue", doc, types)


def test_query_string_operators_are_refused(types):
    with pytest.raises(KqlFieldError, match="operator"):
        compile_query(r"message: a \OR b*", types)


# -- what the engine uses ----------------------------------------------------------------------


def test_constant_terms(types):
    q = compile_query('event.action: "a" and source.port: 1', types)
    assert q.constant_terms("event.action") == {"a"}
    assert compile_query("event.action: (a or b)", types).constant_terms("event.action") == {"a", "b"}
    assert compile_query("event.action: a or source.port: 1", types).constant_terms("event.action") is None
    assert compile_query("not event.action: a", types).constant_terms("event.action") is None
    assert compile_query("event.action: a*", types).constant_terms("event.action") is None
    assert compile_query("source.port: 1", types).constant_terms("event.action") is None
    assert compile_query("event.action: a and event.action: (a or b)", types).constant_terms("event.action") == {"a"}


def test_keyword_values_read_as_the_index_does():
    assert keyword_values({"event": {"action": ["a", 5]}, "event.action": True}, "event.action") == {"a", "5", "true"}


def test_fields_lists_what_the_query_reads(types):
    q = compile_query("event.action: a and not source.ip: 10.0.0.0/8 and user.roles:{ name: x }", types)
    assert q.fields == {"event.action", "source.ip", "user.roles.name"}
