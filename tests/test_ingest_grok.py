"""Grok with Elasticsearch's semantics: the bank, expansion, captures, types, errors.

Each test names the Elasticsearch behaviour it pins and where Elasticsearch states it:
a REST test under modules/ingest-common/src/yamlRestTest (ingest/120_grok.yml), a unit
test in libs/grok (GrokTests) or ingest-common (GrokProcessorTests), the source
(libs/grok Grok, GrokCaptureConfig, GrokCaptureType, GrokCaptureExtracter, PatternBank;
ingest-common GrokProcessor) or the grok processor's documentation page.
"""

from __future__ import annotations

import json

import pytest

from wgsiem.ingest.formats.grok import Grok, GrokConversionError, GrokError, builtin_patterns

REQUIRED = """
USERNAME USER EMAILLOCALPART EMAILADDRESS INT BASE10NUM NUMBER BASE16NUM POSINT NONNEGINT
WORD NOTSPACE SPACE DATA GREEDYDATA QUOTEDSTRING UUID MAC IPV6 IPV4 IP HOSTNAME IPORHOST
HOSTPORT PATH UNIXPATH URIPROTO URIHOST MONTH MONTHNUM MONTHDAY DAY YEAR HOUR MINUTE SECOND
TIME DATE_US DATE_EU ISO8601_TIMEZONE ISO8601_SECOND TIMESTAMP_ISO8601 DATESTAMP TZ
SYSLOGTIMESTAMP PROG SYSLOGPROG SYSLOGHOST SYSLOGFACILITY HTTPDATE LOGLEVEL
""".split()


def fields(patterns, text, definitions=None, **kw):
    found = Grok(patterns if isinstance(patterns, list) else [patterns], definitions, **kw).match(text)
    return None if found is None else found[1]


def whole(name: str) -> Grok:
    return Grok([f"^%{{{name}}}$"])


# --- the bank ------------------------------------------------------------------------


def test_bank_has_the_legacy_names():
    # pins: the legacy bank's pattern names (libs/grok/src/main/resources/patterns/legacy/grok-patterns)
    assert set(REQUIRED) <= set(builtin_patterns())


@pytest.mark.parametrize("name", sorted(builtin_patterns()))
def test_every_bank_pattern_compiles(name):
    # pins: every built-in pattern expands and compiles (GrokTests run the bank's patterns)
    grok = Grok([f"%{{{name}}}"])
    assert grok.regex


def test_bank_is_free_of_cycles_and_dangling_references():
    # pins: PatternBank.forbidCircularReferences accepts the built-in bank
    from wgsiem.ingest.formats.grok import _check_bank

    _check_bank(dict(builtin_patterns()))


IP4_GOOD = ["0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.254", "01.002.3.4"]
IP4_BAD = ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.999", "a.b.c.d", "1.2.3.-4", "1234.1.1.1"]
IP6_GOOD = [
    "::",
    "::1",
    "fe80::1",
    "fe80::1%wg0",
    "2001:db8::ff00:42:8329",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "1:2:3:4:5:6:7:8",
    "1::8",
    "1:2:3:4:5:6:7::",
    "::ffff:192.0.2.128",
    "64:ff9b::198.51.100.7",
]
IP6_BAD = ["1:2:3:4:5:6:7:8:9", "2001:db8::g", "12345::1", "1:2", ":::", "1::2::3", "192.0.2.1"]


@pytest.mark.parametrize("text", IP4_GOOD)
def test_ipv4_accepts(text):
    # pins: legacy IPV4 (octets 0-255 incl. leading zeros, not inside a longer digit run)
    assert whole("IPV4").match(text) is not None
    assert whole("IP").match(text) is not None
    assert whole("IPORHOST").match(text) is not None


@pytest.mark.parametrize("text", IP4_BAD)
def test_ipv4_rejects(text):
    # pins: legacy IPV4 rejects out-of-range octets and wrong octet counts
    assert whole("IPV4").match(text) is None
    if "." in text and not any(c.isalpha() for c in text):
        assert whole("IP").match(text) is None


@pytest.mark.parametrize("text", IP6_GOOD)
def test_ipv6_accepts(text):
    # pins: legacy IPV6 (RFC 4291 forms, embedded IPv4, %zone)
    assert whole("IPV6").match(text) is not None
    assert whole("IP").match(text) is not None


@pytest.mark.parametrize("text", IP6_BAD)
def test_ipv6_rejects(text):
    # pins: legacy IPV6 rejects malformed addresses
    assert whole("IPV6").match(text) is None


def test_ipv4_not_taken_from_a_longer_number():
    # pins: legacy IPV4's digit look-behind/ahead: no address cut out of a longer digit run
    assert fields("%{IPV4:ip}", "x 1234.5.6.7") is None
    assert fields("%{IPV4:ip}", "v1.2.3.4") == {"ip": "1.2.3.4"}
    assert fields("%{IPV4:ip}", "91.2.3.4567") is None


@pytest.mark.parametrize("text", ["wg0.example.com", "localhost", "a-b.c.", "192.0.2.1", "::1", "host-1"])
def test_iporhost_accepts(text):
    # pins: legacy IPORHOST = IP or HOSTNAME
    assert whole("IPORHOST").match(text) is not None


@pytest.mark.parametrize("text", ["-bad.example", "under_score.com", "a..b", "", "sp ace"])
def test_iporhost_rejects(text):
    # pins: legacy HOSTNAME labels start with a letter or digit, no '_' or empty labels
    assert whole("IPORHOST").match(text) is None


@pytest.mark.parametrize("text", ["0", "42", "-7", "+3.25", ".5", "1000000", "007"])
def test_number_accepts(text):
    # pins: legacy NUMBER/BASE10NUM: optional sign, digits, optional fraction, or .digits
    assert whole("NUMBER").match(text) is not None


@pytest.mark.parametrize("text", ["", "abc", "1e5", "--1", "1.2.3", "+", "3."])
def test_number_rejects(text):
    # pins: legacy NUMBER has no exponent and needs a digit
    assert whole("NUMBER").match(text) is None


def test_number_does_not_start_inside_a_number():
    # pins: BASE10NUM's look-behind (?<![0-9.+-]): "1.5" is not taken from "1.1.5"'s middle
    assert fields("x%{NUMBER:n}", "x12.5") == {"n": "12.5"}
    assert fields("%{NUMBER:n}$", "v1.2.3") is None


@pytest.mark.parametrize(
    "text", ["Mar 16 00:01:25", "Jan  4 07:50:46", "Dec 31 23:59:60", "September 1 12:00:00.123", "Okt 3 1:02:03", "März 9 10:11:12"]
)
def test_syslogtimestamp_accepts(text):
    # pins: legacy SYSLOGTIMESTAMP = MONTH +MONTHDAY TIME (English/German month names)
    assert whole("SYSLOGTIMESTAMP").match(text) is not None


@pytest.mark.parametrize("text", ["Mar 16 00:01", "Foo 16 00:01:25", "Mar 32 00:01:25", "Mar 16 24:00:00", "Mar 16 00:60:00", "2024-03-16 00:01:25"])
def test_syslogtimestamp_rejects(text):
    # pins: legacy SYSLOGTIMESTAMP needs a month name, day 1-31, seconds, hour <24, minute <60
    assert whole("SYSLOGTIMESTAMP").match(text) is None


ISO_GOOD = [
    "2024-01-31T00:00:00",
    "1999-12-31T23:59:59Z",
    "2024-02-29T12:34:56+01:00",
    "2024-02-29T12:34:56-0500",
    "2024-02-29T12:34:56.123456+00:00",
    "2024-06-01T08:15:30,5Z",
    "2024-06-01 08:15:30",
    "2024-06-01T0815",
    "2016-12-31T23:59:60Z",
]
ISO_BAD = [
    "2024-13-01T00:00:00",
    "2024-00-10T00:00:00",
    "2024-01-00T00:00:00",
    "2024-01-32T00:00:00",
    "2024-01-0xT00:00:00",
    "2024-01-01T24:00:00",
    "2024-01-01T7:00:00",
    "2024-01-01T00:61:00",
    "2024-01-01T00:00:61",
    "2024-01-01T00:00:0a",
    "2024-01-01T00:00:00X",
    "2024-01-01T00:00:00+",
    "2024-01-01T00:00:00+24",
    "2024-01-01T00:00:00-2400",
    "2024-01-01T00:00:00+01:61",
]


@pytest.mark.parametrize("text", ISO_GOOD)
def test_timestamp_iso8601_accepts(text):
    # pins: GrokTests.testISO8601 (zone forms Z/+hh:mm/+hhmm, fractions, leap second)
    assert whole("TIMESTAMP_ISO8601").match(text) is not None


@pytest.mark.parametrize("text", ISO_BAD)
def test_timestamp_iso8601_rejects(text):
    # pins: GrokTests.testNotISO8601 (bad month/day/hour/minute/second/zone; legacy needs 2-digit hours)
    assert whole("TIMESTAMP_ISO8601").match(text) is None


def test_monthnum_prefers_one_digit_unless_forced():
    # pins: legacy MONTHNUM's alternative order 0?[1-9] before 1[0-2] decides what an unanchored capture takes
    assert fields("%{MONTHNUM:m}", "12") == {"m": "1"}
    assert fields("%{MONTHNUM:m}/", "12/") == {"m": "12"}


# --- documented and REST-tested behaviour -----------------------------------------------


def test_rest_grok_pipeline_typed_captures():
    # pins: ES grok REST test "Test Grok Pipeline" (120_grok.yml): :float and :int conversions
    assert fields("%{NUMBER:val:float} %{NUMBER:status:int} <%{WORD:msg}>", "123.42 400 <foo>") == {
        "val": 123.42,
        "status": 400,
        "msg": "foo",
    }


def test_rest_custom_pattern():
    # pins: ES grok REST test "Test Grok Pipeline With Custom Pattern"
    assert fields("<%{MY_PATTERN:msg}>", "<foo>", {"MY_PATTERN": "foo"}) == {"msg": "foo"}


def test_rest_custom_pattern_overrides_builtin():
    # pins: ES grok REST test "Test Grok Pipeline With Custom Pattern Sharing Same Name As Another"
    assert fields("<%{NUMBER:msg}>", "<foo>", {"NUMBER": "foo"}) == {"msg": "foo"}


def test_rest_trace_match_index():
    # pins: ES grok REST test "Test simulate with grok debugging enabled": index of the pattern that matched
    grok = Grok(["%{ONE:one}", "%{TWO:two}"], {"ONE": "1", "TWO": "2"}, trace_match=True)
    assert grok.match("abc2xyz") == (1, {"two": "2"})


def test_rest_unknown_pattern_is_refused_and_named():
    # pins: ES grok REST test "Test simulate with invalid GROK pattern" (unknown name refused, named)
    with pytest.raises(GrokError, match=r"\[INVALID_PATTERN\]"):
        Grok(["%{INVALID_PATTERN:field}"])


def test_docs_example():
    # pins: grok processor docs, "Using the grok processor in a pipeline" example (types int and double)
    got = fields(
        "%{IP:client} %{WORD:method} %{URIPATHPARAM:request} %{NUMBER:bytes:int} %{NUMBER:duration:double}",
        "55.3.244.1 GET /index.html 15824 0.043",
    )
    assert got == {"client": "55.3.244.1", "method": "GET", "request": "/index.html", "bytes": 15824, "duration": 0.043}


def test_docs_custom_patterns_first_match():
    # pins: grok processor docs: pattern_definitions, patterns tried in order (FAVORITE_DOG/FAVORITE_CAT)
    grok = Grok(["%{FAVORITE_DOG:pet}", "%{FAVORITE_CAT:pet}"], {"FAVORITE_DOG": "beagle", "FAVORITE_CAT": "burmese"})
    assert grok.match("I love burmese cats!") == (1, {"pet": "burmese"})
    assert grok.match("a beagle and a burmese") == (0, {"pet": "beagle"})


def test_patterns_are_one_alternation_leftmost_wins():
    # pins: GrokProcessor.combinePatterns: patterns become (?:p0)|(?:p1), so the leftmost match wins
    # and the list order only breaks ties at the same position
    grok = Grok(["%{DOG:pet}", "%{CAT:pet}"], {"DOG": "beagle", "CAT": "burmese"})
    assert grok.match("burmese then beagle") == (1, {"pet": "burmese"})


# --- captures ----------------------------------------------------------------------------


def test_unanchored_search_and_no_captures():
    # pins: GrokTests.testMatchWithoutCaptures: a match without named groups gives {}, unanchored
    grok = Grok(["value"])
    assert grok.match("value") == (0, {})
    assert grok.match("prefix_value") == (0, {})
    assert grok.match("no_match") is None


def test_anchors_are_respected():
    # pins: grok is a search, not a full match, unless the pattern anchors (GrokTests.testISO8601 uses ^...$)
    assert fields("^%{WORD:w}$", "one two") is None
    assert fields("%{WORD:w}$", "one two") == {"w": "two"}


def test_caret_and_dollar_are_line_anchors():
    # pins: Oniguruma Ruby syntax (Grok compiles with Syntax.DEFAULT): ^ and $ match at line breaks
    assert fields("^%{WORD:w}$", "first line\nsecond") == {"w": "second"}


def test_non_participating_capture_is_absent():
    # pins: GrokTests.testNilCoercedValues / testNilWithNoCoercion: an unmatched group gives no field
    grok = Grok(["test (N/A|%{BASE10NUM:duration:float}ms)"])
    assert grok.match("test 28.4ms") == (0, {"duration": 28.4})
    assert grok.match("test N/A") == (0, {})


def test_empty_capture_is_empty_string():
    # pins: GrokCaptureType.rawExtracter: a group that matched (even "") emits its text; ES sets ""
    assert fields("a%{DATA:x}b", "ab") == {"x": ""}


def test_empty_capture_typed_fails_like_java():
    # pins: GrokCaptureType INTEGER uses Integer.parseInt, which throws on "" (the document fails)
    with pytest.raises(GrokConversionError, match='For input string: ""'):
        Grok(["a%{DATA:x:int}b"]).match("ab")


def test_same_name_twice_gives_a_list():
    # pins: GrokTests.testMultipleNamedCapturesWithSameName (GrokCaptureExtracter.MapExtracter lists)
    grok = Grok(["%{SINGLEDIGIT:num}%{SINGLEDIGIT:num}"], {"SINGLEDIGIT": "[0-9]"})
    assert grok.match("12") == (0, {"num": ["1", "2"]})
    grok = Grok(["%{SINGLEDIGIT:num:int}(%{SINGLEDIGIT:num:int})?"], {"SINGLEDIGIT": "[0-9]"})
    assert grok.match("1") == (0, {"num": 1})
    assert grok.match("1a") == (0, {"num": 1})
    assert grok.match("a1") == (0, {"num": 1})
    assert grok.match("12") == (0, {"num": [1, 2]})
    assert grok.match("123") == (0, {"num": [1, 2]})
    assert grok.field_types == {"num": "int"}


def test_same_field_from_different_group_names_collects_per_group_name():
    # pins: one capture config per distinct group name, in order of first appearance
    # (Grok: namedBackrefIterator; GrokCaptureExtracter.MapExtracter), values appended in that order
    assert fields("%{INT:a} %{WORD:a} %{INT:a}", "1 x 2") == {"a": ["1", "2", "x"]}


def test_same_name_in_two_patterns_only_the_matching_one():
    # pins: combined patterns share group names (GrokProcessor.combinePatterns); only participants emit
    grok = Grok(["^a=%{WORD:v}", "^b=%{WORD:v}"])
    assert grok.match("b=x") == (1, {"v": "x"})


def test_oniguruma_named_groups():
    # pins: GrokTests.testWithOniguramaNamedCaptures and testDatePattern: (?<name>...) captures
    assert fields("(?<foo>\\w+)", "hello world") == {"foo": "hello"}
    assert fields("(?<timestamp>%{DATE_EU} %{TIME})", "fancy 12-12-12 12:12:12") == {"timestamp": "12-12-12 12:12:12"}


def test_inline_option_inside_named_group():
    # pins: GrokProcessorTests (pattern "(?<a>(?i)A)" on "A"); Oniguruma isolated options run to the group's end
    assert fields("(?<a>(?i)A)", "a") == {"a": "a"}
    assert fields("x(?i)b|c", "xC") == {}  # (?i) governs "b|c": x(?i:b|c), not (x(?i)b)|c


@pytest.mark.parametrize("name", ["@metadata", "meta_data", "meta.data", "meta-data", "metädata", "7", "source.ip"])
def test_field_name_characters(name):
    # pins: GrokTests.testAtInFieldName/testUnderscoreInFieldName/testDotInFieldName/testMinusInFieldName/
    # assertNonAsciiLetterInFieldName/testAlphanumericFieldName: names are taken verbatim
    assert fields(f"%{{WORD:{name}}}", "foo") == {name: "foo"}


def test_bracket_field_names_stay_verbatim():
    # pins: GrokCaptureConfig takes the name verbatim (split on ':' only); ES's assertSquareBracketInFieldName
    # expects "metadat[a]"; ES's own ECS bank was rewritten to dotted names for this reason
    assert fields("%{WORD:[source][ip]}", "foo") == {"[source][ip]": "foo"}
    assert fields("%{WORD:metadat[a]}", "foo") == {"metadat[a]": "foo"}


def test_unsupported_brackets_leave_the_reference_literal():
    # pins: GrokTests.testUnsupportedBracketsInFieldName: %{WORD:unsuppo(r)ted} is not a reference
    assert Grok(["%{WORD:unsuppo(r)ted}"]).match("line") is None


def test_definition_part_is_ignored():
    # pins: Grok.toRegex: "=definition" in %{NAME:field=definition} is parsed and ignored
    assert fields("%{WORD:w=whatever}", "foo") == {"w": "foo"}


def test_reference_without_field_is_not_captured():
    # pins: GrokTests.testNumericCapturesCoercion: %{NUMBER} without a field captures nothing
    assert fields("%{NUMBER:bytes:float} %{NUMBER:status} %{NUMBER}", "12009.34 200 9032") == {"bytes": 12009.34, "status": "200"}


def test_nested_named_captures_in_bank_patterns():
    # pins: GrokTests.testSimpleSyslogLine (legacy): SYSLOGLINE yields timestamp, logsource, program, pid, message
    got = fields("%{SYSLOGLINE}", "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]")
    assert got == {
        "timestamp": "Mar 16 00:01:25",
        "logsource": "evita",
        "program": "postfix/smtpd",
        "pid": "1713",
        "message": "connect from camomile.cloud9.net[168.100.1.3]",
    }
    assert set(Grok(["%{SYSLOGLINE}"]).field_types) == {
        "timestamp",
        "timestamp8601",
        "facility",
        "priority",
        "logsource",
        "program",
        "pid",
        "message",
    }


def test_syslog5424_line():
    # pins: GrokTests.testSyslog5424Line (legacy field names; "-" msgid gives no field)
    line = '<191>1 2009-06-30T18:30:00+02:00 paxton.local grokdebug 4123 - [id1 foo=\\"bar\\"][id2 baz=\\"something\\"] Hello, syslog.'
    got = fields("%{SYSLOG5424LINE}", line)
    assert got["syslog5424_pri"] == "191"
    assert got["syslog5424_ver"] == "1"
    assert got["syslog5424_ts"] == "2009-06-30T18:30:00+02:00"
    assert got["syslog5424_host"] == "paxton.local"
    assert got["syslog5424_app"] == "grokdebug"
    assert got["syslog5424_proc"] == "4123"
    assert "syslog5424_msgid" not in got
    assert got["syslog5424_sd"] == '[id1 foo=\\"bar\\"][id2 baz=\\"something\\"]'
    assert got["syslog5424_msg"] == "Hello, syslog."


def test_unicode_syslog():
    # pins: GrokTests.testUnicodeSyslog: PROG stops at '[' and non-ASCII text passes through GREEDYDATA
    grok = Grok(
        [
            "<%{POSINT:syslog_pri}>%{SPACE}%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} "
            "%{PROG:syslog_program}(:?)(?:\\[%{GREEDYDATA:syslog_pid}\\])?(:?) %{GREEDYDATA:syslog_message}"
        ]
    )
    _, got = grok.match("<22>Jan  4 07:50:46 mailmaster postfix/policy-spf[9454]: : SPF permerror (Junk in 'v=spf1 \ufffdall'): x")
    assert got["syslog_pri"] == "22"
    assert got["syslog_program"] == "postfix/policy-spf"


def test_apache_combined_log():
    # pins: GrokTests.testApacheLog (legacy COMBINEDAPACHELOG field names; quotes kept in referrer/agent)
    line = (
        '31.184.238.164 - - [24/Jul/2014:05:35:37 +0530] "GET /logs/access.log HTTP/1.0" 200 69849 '
        '"http://8rursodiol.enjin.com" "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36" "www.example.com"'
    )
    got = fields("%{COMBINEDAPACHELOG}", line)
    assert got == {
        "clientip": "31.184.238.164",
        "ident": "-",
        "auth": "-",
        "timestamp": "24/Jul/2014:05:35:37 +0530",
        "verb": "GET",
        "request": "/logs/access.log",
        "httpversion": "1.0",
        "response": "200",
        "bytes": "69849",
        "referrer": '"http://8rursodiol.enjin.com"',
        "agent": '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36"',
    }


def test_urihost_port_capture():
    # pins: legacy URIHOST carries %{POSINT:port}; "port" appears only when present (GrokTests.testApacheLog)
    assert fields("%{URIHOST}", "example.com:8080") == {"port": "8080"}
    assert fields("%{URIHOST}", "example.com") == {}


# --- types ---------------------------------------------------------------------------


def test_numeric_types():
    # pins: GrokTests.testNumericCaptures: float, long (beyond int) and double
    got = fields("%{NUMBER:bytes:float} %{NUMBER:id:long} %{NUMBER:rating:double}", "12009.34 20000000000 4820.092")
    assert got == {"bytes": 12009.34, "id": 20000000000, "rating": 4820.092}
    assert type(got["id"]) is int and type(got["bytes"]) is float


def test_float_is_a_java_float():
    # pins: GrokCaptureType FLOAT is Float.parseFloat: 32-bit, written by Float.toString (shortest digits)
    assert fields("%{NUMBER:x:float}", "0.1234567891") == {"x": 0.12345679}
    assert json.dumps(fields("%{NUMBER:x:float}", "0.1")) == '{"x": 0.1}'
    assert fields("%{NUMBER:x:double}", "0.1234567891") == {"x": 0.1234567891}


def test_boolean_type():
    # pins: GrokTests.testBooleanCaptures; Boolean.parseBoolean: "true" in any case is true, anything else false
    assert fields("%{WORD:name}=%{WORD:status:boolean}", "active=true") == {"name": "active", "status": True}
    assert fields("%{WORD:s:boolean}", "TRUE") == {"s": True}
    assert fields("%{WORD:s:boolean}", "yes") == {"s": False}


def test_unknown_type_is_string():
    # pins: GrokTests.testGarbageTypeNameBecomesString (GrokCaptureType.fromString default)
    grok = Grok(["%{NUMBER:f:not_a_valid_type}"])
    assert grok.match("12009.34") == (0, {"f": "12009.34"})
    assert grok.field_types == {"f": "string"}


def test_four_part_name_is_string_named_by_second_part():
    # pins: GrokCaptureConfig: name = parts[1] when >= 2 parts; a type only when exactly 3 parts
    assert fields("%{NUMBER:a:int:x}", "5") == {"a": "5"}


def test_int_overflow_fails_like_java():
    # pins: GrokCaptureType INTEGER: Integer.parseInt range; LONG takes it
    with pytest.raises(GrokConversionError, match='For input string: "3000000000"'):
        Grok(["%{NUMBER:n:int}"]).match("3000000000")
    assert fields("%{NUMBER:n:long}", "3000000000") == {"n": 3000000000}


def test_int_of_a_decimal_fails_like_java():
    # pins: Integer.parseInt refuses "1.5" (a typed capture that Java cannot convert fails the document)
    with pytest.raises(GrokConversionError, match=r'For input string: "1\.5"') as caught:
        Grok(["%{NUMBER:n:int}"]).match("1.5")
    assert caught.value.error_type == "number_format_exception"


def test_field_types():
    # pins: Grok.captureConfig(): every name the expression can capture, with its type
    grok = Grok(["%{IP:ip} %{INT:n:int}", "%{WORD:w} %{NUMBER:x:double}"])
    assert grok.field_types == {"ip": "string", "n": "int", "w": "string", "x": "double"}


# --- errors ---------------------------------------------------------------------------


def test_unknown_pattern_message_names_it():
    # pins: GrokTests.testNoMatchingPatternInDictionary
    with pytest.raises(GrokError, match=r"\[NOTFOUND\]"):
        Grok(["%{NOTFOUND}"])


def test_circular_definitions_refused():
    # pins: PatternBank.forbidCircularReferences: cycles anywhere in the overlaid bank are refused
    with pytest.raises(GrokError, match="A->B->A"):
        Grok(["%{WORD}"], {"A": "%{B}", "B": "x%{A}"})
    with pytest.raises(GrokError, match="SELF->SELF"):
        Grok(["%{WORD}"], {"SELF": "(%{SELF:x})?"})


def test_definition_referring_to_undefined_pattern_refused():
    # pins: PatternBank.forbidCircularReferences also refuses references to names the bank lacks
    with pytest.raises(GrokError, match=r"\[UNUSED\].*\[MISSING\]"):
        Grok(["%{WORD}"], {"UNUSED": "%{MISSING}"})


def test_invalid_regex_names_the_pattern():
    # pins: invalid expressions are refused when the processor is built (GrokProcessor.Factory)
    with pytest.raises(GrokError, match=r"\[\(unclosed\]"):
        Grok(["%{WORD:w}", "(unclosed"])


def test_numbered_backreference_rules():
    # pins: Oniguruma Ruby syntax: plain groups capture only when no named group exists
    assert Grok(["^(a|b)\\1$"]).match("bb") == (0, {})
    assert Grok(["^(a|b)\\1$"]).match("ab") is None
    with pytest.raises(GrokError):
        Grok(["(?<x>a)(b)\\1"])


def test_oniguruma_escapes_translated():
    # pins: Oniguruma syntax grok accepts: \h hex digit, \z end, POSIX brackets, \x{...}
    assert fields("(?<h>\\h+)\\z", "zz 0aF") == {"h": "0aF"}
    assert fields("(?<d>[[:digit:]]+)", "ab 123") == {"d": "123"}
    assert fields("(?<e>\\x{41}+)", "xAA") == {"e": "AA"}


def test_empty_pattern_list_refused():
    # pins: GrokProcessor.Factory: "List of patterns must not be empty"
    with pytest.raises(GrokError):
        Grok([])


# --- performance shape -------------------------------------------------------------------


def test_compiled_once_per_patterns_and_definitions():
    # pins: this engine's cache (a pipeline's grok compiles once, not per document)
    a = Grok(["%{SYSLOGLINE}"])
    b = Grok(["%{SYSLOGLINE}"])
    assert a._p is b._p
    c = Grok(["%{SYSLOGLINE}"], {"X": "y"})
    assert c._p is not a._p
