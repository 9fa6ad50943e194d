"""Dissect with Elasticsearch's semantics.

Each test names the behaviour it pins and where Elasticsearch states it: the shared
dissect specification (libs/dissect/src/test/resources/specification/tests.json), the
library's unit tests (DissectParserTests), the REST test
(ingest/200_dissect_processor.yml), the source (DissectParser, DissectKey, DissectMatch)
or the dissect processor's documentation page.
"""

from __future__ import annotations

import pytest

from wgsiem.ingest.formats.dissect import Dissect, DissectError, DissectMismatch


def dissect(pattern: str, text: str, sep: str = "") -> dict[str, str]:
    return Dissect(pattern, sep).parse(text)


# --- the shared specification (tests.json), as a table -------------------------------------

SPEC_MATCHES = [
    # (what it pins, pattern, text, separator, expected)
    ("remaining text after the last delimiter is ignored", 'lvl=%{level} at=%{ts} msg="%{message}"', 'lvl=warn at=12:00 msg="peer gone" extra="x"', "", {"level": "warn", "ts": "12:00", "message": "peer gone"}),
    ("the last key takes everything, newlines included", "%{day} %{rest}", "Mon first line\n second line", "", {"day": "Mon", "rest": "first line\n second line"}),
    ("delimiters at both ends", "/etc/wireguard/%{iface}.conf", "/etc/wireguard/wg0.conf", "", {"iface": "wg0"}),
    ("simple dissect", "%{key}", "foobar", "", {"key": "foobar"}),
    ("two keys", "%{key1} %{key2}", "foo bar", "", {"key1": "foo", "key2": "bar"}),
    ("one key in the middle", "/var/%{key}/log", "/var/foobar/log", "", {"key": "foobar"}),
    ("a last key keeps later delimiters", "/var/%{key}", "/var/foobar/log", "", {"key": "foobar/log"}),
    ("several keys, ends with a key", "/var/%{a}/log/%{b}", "/var/x/log/apache", "", {"a": "x", "b": "apache"}),
    ("append with order", "%{+key/3} %{+key/1} %{+key/2}", "1 2 3", "", {"key": "231"}),
    ("append with order and separator", "%{+key/3} %{+key/1} %{+key/2}", "1 2 3", "::", {"key": "2::3::1"}),
    ("append with order and padding", "%{+key/3} %{+key/1->} %{+key/2}", "1 2       3", "", {"key": "231"}),
    ("plain key joins its appends", "%{key}-%{+key}-%{+key}", "1-2-3", "", {"key": "123"}),
    ("append separator", "%{key}-%{+key}-%{+key}", "1-2-3", ",", {"key": "1,2,3"}),
    ("reference field", "%{*key} %{&key}", "hello world", "", {"hello": "world"}),
    ("reference field, value first", "%{&key} %{*key}", "hello world", "", {"world": "hello"}),
    ("nameless skip", "%{} %{key}", "hello world", "", {"key": "world"}),
    ("named skip", "%{?skipme} %{key}", "hello world", "", {"key": "world"}),
    ("repeated delimiters are empty values", "%{name},%{a1},%{a2},%{a3},%{city},%{zip}", "Jane,4321 Fifth,,,NYC,87432", "", {"name": "Jane", "a1": "4321 Fifth", "a2": "", "a3": "", "city": "NYC", "zip": "87432"}),
    ("-> swallows repeated delimiters", "%{name},%{a1->},%{city},%{zip}", "Jane,4321 Fifth,,,NYC,87432", "", {"name": "Jane", "a1": "4321 Fifth", "city": "NYC", "zip": "87432"}),
    ("right padding in the middle", "%{id} %{fn->} %{server}", "00000043 ViewReceive     machine-321", "", {"id": "00000043", "fn": "ViewReceive", "server": "machine-321"}),
    ("padding on the last key needs a delimiter", "%{id} %{fn} %{server->} ", "43 View machine-321    ", "", {"id": "43", "fn": "View", "server": "machine-321"}),
    ("left padding (padding of the first key)", "%{id->} %{fn} %{server}", "00000043    View machine-321", "", {"id": "00000043", "fn": "View", "server": "machine-321"}),
    ("delimiters containing { and }", "{%{a}}{%{b}} %{rest}", "{c}{d} anything", "", {"a": "c", "b": "d", "rest": "anything"}),
    ("non-ASCII delimiters and values", "%{a}\u0fcf%{b} %{c}", "\u27f3\u0f12\u0fcf\u0f12\u27f2 \u5b50", "", {"a": "\u27f3\u0f12", "b": "\u0f12\u27f2", "c": "\u5b50"}),
]


@pytest.mark.parametrize(("what", "pattern", "text", "sep", "expected"), SPEC_MATCHES, ids=[c[0] for c in SPEC_MATCHES])
def test_specification_matches(what, pattern, text, sep, expected):
    # pins: the shared dissect specification tests.json (Beats, Logstash, ingest), case named by `what`
    assert dissect(pattern, text, sep) == expected


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("/var/log/%{key}.log", "foobar"),  # leading delimiter missing
        ("/var/log/%{key}.log", "/var/log/foobar"),  # trailing delimiter missing
        ("%{key1} %{key2} %{key3}", "foo bar"),  # partial match
    ],
)
def test_specification_misses(pattern, text):
    # pins: tests.json "fails when delimiter is not found ..." and "fail on partial match"
    with pytest.raises(DissectMismatch):
        dissect(pattern, text)


@pytest.mark.parametrize("pattern", ["anything", "%{some?thing}", "%{key} %{&key}"])
def test_specification_bad_patterns(pattern):
    # pins: tests.json "no keys defined", "invalid key" (only a skipped key), "reference without pairing"
    with pytest.raises(DissectError):
        Dissect(pattern)


# --- REST test and documentation ---------------------------------------------------------


def test_rest_match():
    # pins: ES dissect REST test "Test dissect processor match"
    assert dissect("%{a} %{b} %{c}", "foo bar baz") == {"a": "foo", "b": "bar", "c": "baz"}


def test_rest_mismatch_message():
    # pins: ES dissect REST test "Test dissect processor mismatch" (the message, verbatim)
    with pytest.raises(DissectMismatch) as caught:
        dissect("%{a},%{b},%{c}", "foo bar baz")
    assert str(caught.value) == "Unable to find match for dissect pattern: %{a},%{b},%{c} against source: foo bar baz"


def test_rest_bad_pattern():
    # pins: ES dissect REST test "Test fail to create dissect processor" ("bad pattern" has no keys)
    with pytest.raises(DissectError, match="bad pattern"):
        Dissect("bad pattern")


def test_docs_access_log():
    # pins: dissect processor docs, the access-log example (brackets and quotes as delimiters)
    pattern = '%{clientip} %{ident} %{auth} [%{@timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}'
    text = '1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] "GET /english/venues/18.gif HTTP/1.0" 200 3171'
    assert dissect(pattern, text) == {
        "clientip": "1.2.3.4",
        "ident": "-",
        "auth": "-",
        "@timestamp": "30/Apr/1998:22:00:52 +0000",
        "verb": "GET",
        "request": "/english/venues/18.gif",
        "httpversion": "1.0",
        "status": "200",
        "size": "3171",
    }


def test_docs_modifiers():
    # pins: dissect processor docs, "Dissect key modifiers": ->, +, +/n, ?, * and &
    assert dissect("%{ts->} %{level}", "2024-05-01T10:00:00,000      WARN") == {"ts": "2024-05-01T10:00:00,000", "level": "WARN"}
    assert dissect("[%{ts}]%{->}[%{level}]", "[2024-05-01]      [WARN]") == {"ts": "2024-05-01", "level": "WARN"}
    assert dissect("%{+name} %{+name} %{+name} %{+name}", "john jacob jingleheimer schmidt", " ") == {
        "name": "john jacob jingleheimer schmidt"
    }
    assert dissect("%{+name/2} %{+name/4} %{+name/3} %{+name/1}", "john jacob jingleheimer schmidt", ",") == {
        "name": "schmidt,john,jingleheimer,jacob"
    }
    assert dissect("%{clientip} %{?ident} %{?auth} [%{@timestamp}]", "1.2.3.4 - - [30/Apr/1998:22:00:52 +0000]") == {
        "clientip": "1.2.3.4",
        "@timestamp": "30/Apr/1998:22:00:52 +0000",
    }
    assert dissect("[%{ts}] [%{level}] %{*p1}:%{&p1} %{*p2}:%{&p2}", "[2024-05-01] [ERR] ip:1.2.3.4 error:REFUSED") == {
        "ts": "2024-05-01",
        "level": "ERR",
        "ip": "1.2.3.4",
        "error": "REFUSED",
    }


# --- the library's unit tests -------------------------------------------------------------


def test_javadoc_examples():
    # pins: DissectParserTests.testJavaDocExamples
    assert dissect("%{a} %{b},%{c}", "foo bar,baz") == {"a": "foo", "b": "bar", "c": "baz"}
    with pytest.raises(DissectMismatch):
        dissect("%{a},%{b}:%{c}", "foo,bar,baz")
    assert dissect("%{a->} %{b} %{c}", "foo         bar baz") == {"a": "foo", "b": "bar", "c": "baz"}
    assert dissect("%{a} %{+a} %{+a}", "foo bar baz") == {"a": "foobarbaz"}
    assert dissect("%{a} %{+a/2} %{+a/1}", "foo bar baz") == {"a": "foobazbar"}
    assert dissect("%{*a} %{b} %{&a}", "foo bar baz") == {"foo": "baz", "b": "bar"}
    assert dissect("%{a},%{b},%{c},%{d}", "foo,,,") == {"a": "foo", "b": "", "c": "", "d": ""}
    assert dissect("%{a->},%{b}", "foo,,,,,,bar") == {"a": "foo", "b": "bar"}


def test_adjacent_keys_swallow_the_next_key():
    # pins: DissectParserTests.testLogstashSpecs: %{a}%{b} has no delimiter between the keys, so
    # "%{b} " is read as %{a}'s delimiter (DissectParser's key/delimiter grammar) and never matches
    for pattern, text in (("%{a} %{b}%{c} %{d}", "foo bar baz"), ("%{a} %{b} %{c}%{d}", "foo bar baz quux")):
        with pytest.raises(DissectMismatch):
            dissect(pattern, text)


def test_logstash_specs():
    # pins: DissectParserTests.testLogstashSpecs (appends with separators, implicit order, long delimiters)
    assert dissect("%{a} %{b} %{+b} %{z}", "foo bar baz quux", " ") == {"a": "foo", "b": "bar baz", "z": "quux"}
    assert dissect("%{a}------->%{b}", "foo------->bar baz quux") == {"a": "foo", "b": "bar baz quux"}
    assert dissect("%{a}------->%{}", "foo------->bar baz quux") == {"a": "foo"}
    assert dissect("%{a} » %{b}»%{c}€%{d}", "foo » bar»baz€quux") == {"a": "foo", "b": "bar", "c": "baz", "d": "quux"}
    assert dissect("%{a} %{b} %{+a}", "foo bar baz quux", " ") == {"a": "foo baz quux", "b": "bar"}
    # implicit order is pattern order (not Logstash's "anchor" order)
    assert dissect("%{+a} %{a} %{+a} %{b}", "December 31 1999 quux", " ") == {"a": "December 31 1999", "b": "quux"}
    assert dissect("%{+a/1} %{a} %{+a/2} %{b}", "December 31 1999 quux", " ") == {"a": "31 December 1999", "b": "quux"}
    assert dissect("%{+a/2} %{+a/4} %{+a/1} %{+a/3}", "bar quux foo baz", " ") == {"a": "foo bar baz quux"}
    assert dissect("%{->}-%{a}", "-----666") == {"a": "666"}
    assert dissect("%{?skipme->}-%{a}", "-----666") == {"a": "666"}
    assert dissect("%{a},%{b},%{c},%{d},%{e},%{f}", "111,,333,,555,666") == {"a": "111", "b": "", "c": "333", "d": "", "e": "555", "f": "666"}
    assert dissect("%{a}{\n}%{b}", "aaa{\n}bbb") == {"a": "aaa", "b": "bbb"}
    with pytest.raises(DissectMismatch):
        dissect("MACHINE[%{a}] %{b}", "1234567890 MACHINE[foo] bar")
    with pytest.raises(DissectMismatch):
        dissect("%{a} %{b} %{c}", "foo:bar:baz")


def test_juniper_style_line():
    # pins: DissectParserTests.testLogstashSpecs, the RT_FLOW line (appends, skips, slash delimiters)
    pattern = (
        "%{} %{syslog_timestamp} %{hostname} %{rt}: %{reason} %{+reason} %{src_ip}/%{src_port}->%{dst_ip}/%{dst_port} "
        "%{polrt} %{+polrt} %{+polrt} %{from_zone} %{to_zone} %{rest}"
    )
    text = (
        "42 2016-05-25T14:47:23Z host.name.com RT_FLOW - RT_FLOW_SESSION_DENY: session denied 2.2.2.20/60000->1.1.1.10/8090 "
        "None 6(0) DEFAULT-DENY ZONE-UNTRUST ZONE-DMZ UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0"
    )
    got = dissect(pattern, text, " ")
    assert got["rt"] == "RT_FLOW - RT_FLOW_SESSION_DENY"
    assert got["reason"] == "session denied"
    assert (got["src_ip"], got["src_port"], got["dst_ip"], got["dst_port"]) == ("2.2.2.20", "60000", "1.1.1.10", "8090")
    assert got["polrt"] == "None 6(0) DEFAULT-DENY"
    assert got["rest"] == "UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0"


def test_unicode():
    # pins: DissectParserTests.testMatchUnicode
    assert dissect("%{a} %{b}", "foo 子") == {"a": "foo", "b": "子"}
    assert dissect("%{a}࿏%{+a} %{+a}", "⟳༒࿏༒⟲ 子") == {"a": "⟳༒༒⟲子"}
    assert dissect("%{a->}࿏%{b}", "⟳༒࿏࿏࿏࿏࿏༒⟲") == {"a": "⟳༒", "b": "༒⟲"}
    assert dissect("%{*a}࿏%{&a}", "⟳༒࿏༒⟲") == {"⟳༒": "༒⟲"}
    assert dissect("Zürich, the %{adjective} city in Switzerland", "Zürich, the largest city in Switzerland") == {"adjective": "largest"}


def test_match_remainder():
    # pins: DissectParserTests.testMatchRemainder (a last key, even with ->, takes the rest)
    assert dissect("%{a}", "foo bar the rest") == {"a": "foo bar the rest"}
    assert dissect("%{a} %{b->}", "foo bar the rest") == {"a": "foo", "b": "bar the rest"}
    assert dissect("%{*a} %{&a}", "foo bar the rest") == {"foo": "bar the rest"}
    assert dissect("%{a} %{+a}", "foo bar the rest", " ") == {"a": "foo bar the rest"}


def test_append_and_associate():
    # pins: DissectParserTests.testAppend / testAssociate / testAppendAndAssociate
    assert dissect("%{a} %{+a} %{b} %{+b}", "foo bar baz lol") == {"a": "foobar", "b": "bazlol"}
    assert dissect("%{a} %{+a/2} %{+a/1}", "foo bar baz", " ") == {"a": "foo baz bar"}
    assert dissect("%{*a} %{&a} %{*b} %{&b}", "foo bar baz lol") == {"foo": "bar", "baz": "lol"}
    assert dissect("%{*a} %{&a} %{c} %{*b} %{&b}", "foo bar x baz lol") == {"foo": "bar", "baz": "lol", "c": "x"}
    assert dissect("%{a->} %{+a/2} %{+a/1} %{*b} %{&b}", "foo      bar baz lol x") == {"a": "foobazbar", "lol": "x"}
    with pytest.raises(DissectMismatch):
        dissect("%{*a} %{&a} {a} %{*b} %{&b}", "foo bar x baz lol")


def test_reference_name_colliding_with_a_key_is_a_mismatch():
    # pins: DissectMatch.isValid: the results must have as many fields as the pattern has names
    with pytest.raises(DissectMismatch):
        dissect("%{a} %{*x} %{&x}", "1 a 2")


def test_percent_in_delimiters():
    # pins: DissectParserTests.testPartialKeyDefinition (a lone '%' is part of a delimiter)
    assert dissect("%{a} %%{b},%{c}", "foo %bar,baz") == {"a": "foo", "b": "bar", "c": "baz"}
    assert dissect("%{a} %{b},%%{c}", "foo bar,%baz") == {"a": "foo", "b": "bar", "c": "baz"}
    assert dissect("%%{a} %{b},%{c}", "%foo bar,baz") == {"a": "foo", "b": "bar", "c": "baz"}
    assert dissect("%foo %{bar}", "%foo test") == {"bar": "test"}


def test_empty_and_skipped_keys():
    # pins: DissectParserTests.testEmptyKey / testNamedSkipKey
    assert dissect("%{a} %{}", "foo bar") == {"a": "foo"}
    assert dissect("%{->} %{b}", "        bar") == {"b": "bar"}
    assert dissect("%{a} %{->}", "foo  bar       ") == {"a": "foo"}
    assert dissect("%{?} %{b}", "foo bar") == {"b": "bar"}
    assert dissect("%{?foo->} %{b}", "foo        bar") == {"b": "bar"}
    assert dissect("%{a} %{->?bar}", "foo  bar       ") == {"a": "foo"}
    assert dissect("%{a} %{?skipme} %{?skipme}", "foo  bar  baz") == {"a": "foo"}


def test_consecutive_delimiters():
    # pins: DissectParserTests.testConsecutiveDelimiters (leading, trailing, middle, empty values)
    assert dissect("%{->},%{a}", ",,,,,foo") == {"a": "foo"}
    assert dissect("%{a->},%{b}", ",,,,,foo") == {"a": "", "b": "foo"}
    assert dissect("%{a->},", "foo,,,,,") == {"a": "foo"}
    assert dissect("%{a} %{b},", "foo bar,,,,,") == {"a": "foo", "b": "bar"}
    assert dissect("%{a->}x%{b}", "fooxxxxxbar") == {"a": "foo", "b": "bar"}
    assert dissect("%{a->} xyz%{b}", "foo xyz xyz xyz xyz xyzbar") == {"a": "foo", "b": "bar"}
    assert dissect("%{a},%{b},%{c},%{d}", "foo,,bar,baz") == {"a": "foo", "b": "", "c": "bar", "d": "baz"}
    assert dissect("%{a},%{b},%{c},%{d}", ",bar,,baz") == {"a": "", "b": "bar", "c": "", "d": "baz"}
    assert dissect("%{->},%{a->},%{b}", ",,,bar,,baz") == {"a": "bar", "b": "baz"}


def test_repeated_delimiters_only_swallowed_with_padding():
    # pins: DissectParserTests.testConcurrentDelimitersAdditional and testAppendWithConsecutiveDelimiters
    # (Elasticsearch issue #119264): without '->' a repeat is not skipped, it belongs to the next value
    assert dissect("%{a}-%{b}", "foo------bar") == {"a": "foo", "b": "-----bar"}
    assert dissect("%{}|%{}|foo=%{field}", "||foo=bar") == {"field": "bar"}
    assert dissect("%{+a/1},%{+a/3}-%{+a/2} %{b}", "foo,bar----baz lol") == {"a": "foo---bazbar", "b": "lol"}
    assert dissect("%{+a/1},%{+a/3->}-%{+a/2} %{b}", "foo,bar----baz lol") == {"a": "foobazbar", "b": "lol"}


def test_skip_right_padding_with_every_modifier():
    # pins: DissectParserTests.testSkipRightPadding
    assert dissect("%{a->} %{+a->} %{*b->} %{&b->} %{c}", "foo       bar    baz  lol    x") == {"a": "foobar", "baz": "lol", "c": "x"}


def test_trimmed_end():
    # pins: DissectParserTests.testTrimmedEnd (only a trailing delimiter lets -> skip trailing repeats)
    assert dissect("%{a} %{b->} ", "foo bar        ") == {"a": "foo", "b": "bar"}
    assert dissect("%{a} %{b->}", "foo bar,,,,,,") == {"a": "foo", "b": "bar,,,,,,"}
    assert dissect("%{a} %{b->},", "foo bar,,,,,,") == {"a": "foo", "b": "bar"}


def test_leading_delimiter():
    # pins: DissectParserTests.testLeadingDelimiter (text before the first key must begin the line)
    assert dissect(",,,%{a} %{b}", ",,,foo bar") == {"a": "foo", "b": "bar"}
    assert dissect(",%{a} %{b}", ",,foo bar") == {"a": ",foo", "b": "bar"}


def test_empty_values_with_brackets():
    # pins: DissectParserTests.testEmptyValueWithBrackets (a delimiter right at a value's start ends it)
    assert dissect("(%{a}) [%{b}] -[%{c}]", "(foo) [] -[bar]") == {"a": "foo", "b": "", "c": "bar"}
    assert dissect("[%{a}] [%{b}]", "[] []") == {"a": "", "b": ""}


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("%{a}%{b}", "foo"),
        ("%{a},%{b}", "foo bar"),
        ("%{a}, %{b}", "foo,bar"),
        ("x%{a},%{b}", "foo,bar"),
        ("x%{},%{b}", "foo,bar"),
        ("leading_delimiter_long%{a}", "foo"),
        ("%{a}trailing_delimiter_long", "foo"),
        ("%{a}x", "foo"),
        ("%{a},%{b}x", "foo,bar"),
        (",%{a}", ","),  # the text must be longer than the leading delimiter
        ("%{a}", ""),
    ],
)
def test_misses(pattern, text):
    # pins: DissectParserTests.testMiss (and DissectParser.parse's length check on the leading delimiter)
    with pytest.raises(DissectMismatch) as caught:
        dissect(pattern, text)
    assert pattern in str(caught.value)


@pytest.mark.parametrize("pattern", ["", "{}", "%{*a} %{&b}", "%{*a} %{a}", "%{a} %{&a}", "%{?a} %{}"])
def test_bad_patterns(pattern):
    # pins: DissectParserTests.testBadPatternOrKey / testAssociate (no keys kept, unpaired references)
    with pytest.raises(DissectError):
        Dissect(pattern)


@pytest.mark.parametrize("pattern", ["%{*}", "%{++}", "%{+/2}", "%{&+a_field}", "%{a/1}", "%{+a/1/2}", "%{+a/99999}"])
def test_bad_keys(pattern):
    # pins: DissectParserTests.testBadPatternOrKey / testLogstashSpecs assertBadKey (DissectKey: no name,
    # several modifiers; '+' then '/' is the only allowed pair; the order is a Java short)
    with pytest.raises(DissectError):
        Dissect(pattern)


def test_modifier_anywhere_in_the_key():
    # pins: DissectKey: a modifier character anywhere in the key is the modifier; the name follows it
    assert dissect("%{a} %{x+b}", "1 2") == {"a": "1", "b": "2"}


def test_syslog_and_apache():
    # pins: DissectParserTests.testSyslog and testApacheLog
    assert dissect(
        "%{timestamp} %{+timestamp} %{+timestamp} %{logsource} %{program}[%{pid}]: %{message}",
        "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]",
        " ",
    ) == {
        "timestamp": "Mar 16 00:01:25",
        "logsource": "evita",
        "program": "postfix/smtpd",
        "pid": "1713",
        "message": "connect from camomile.cloud9.net[168.100.1.3]",
    }
    got = dissect(
        '%{clientip} %{ident} %{auth} [%{timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{response} %{bytes} "%{referrer}" "%{agent}" %{->}',
        '31.184.238.164 - - [24/Jul/2014:05:35:37 +0530] "GET /logs/access.log HTTP/1.0" 200 69849 "http://example.com" "Mozilla/5.0 (X11)" "www.example.com"',
    )
    assert got["agent"] == "Mozilla/5.0 (X11)"
    assert got["referrer"] == "http://example.com"
    assert len(got) == 11


def test_wireguard_kernel_line():
    # pins: dissect as this project uses it (syslog-style kernel lines): a day padded with two
    # spaces needs '->', or the repeat is an empty appended value and every later key shifts
    line = "May  1 10:00:00 gw kernel: wireguard: wg0: Invalid handshake initiation from 203.0.113.9:51820"
    padded = dissect("%{ts->} %{+ts} %{+ts} %{host} kernel: wireguard: %{iface}: %{message}", line, " ")
    assert padded == {"ts": "May 1 10:00:00", "host": "gw", "iface": "wg0", "message": "Invalid handshake initiation from 203.0.113.9:51820"}
    shifted = dissect("%{ts} %{+ts} %{+ts} %{host} kernel: wireguard: %{iface}: %{message}", line, " ")
    assert shifted["ts"] == "May  1" and shifted["host"] == "10:00:00 gw"
