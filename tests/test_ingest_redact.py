"""The redact processor, as Elasticsearch's x-pack RedactProcessor.

Each test names what it follows: RedactProcessorTests / RedactProcessorFactoryTests
(x-pack/plugin/redact/src/test/java/org/elasticsearch/xpack/redact/), RedactProcessor.java
itself, or the REST suite 300_redact_processor.yml (which tests/ingest_rest runs too).
"""

from __future__ import annotations

from typing import Any

import pytest

from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.processors.redact import _longest, _merge
from wgsiem.ingest.simulate import simulate

CARD = r"\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}"
MULTI = {
    "field": "to_redact",
    "patterns": ["%{EMAILADDRESS:EMAIL}", "%{IP:IP_ADDRESS}", "%{CREDIT_CARD:CREDIT_CARD}"],
    "pattern_definitions": {"CREDIT_CARD": CARD},
}


def run(options: dict[str, Any], source: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    """One document through [redact options, *more processors]: its answer in _simulate."""
    body = {"pipeline": {"processors": [{"redact": options}, *more]}, "docs": [{"_source": source}]}
    status, answer = simulate(body, PipelineSet())
    assert status == 200, answer
    return answer["docs"][0]


def redacted(options: dict[str, Any], text: str) -> str:
    return run(options, {"to_redact": text})["doc"]["_source"]["to_redact"]


def build_error(options: Any) -> dict[str, Any]:
    status, answer = simulate({"pipeline": {"processors": [{"redact": options}]}, "docs": [{"_source": {}}]}, PipelineSet())
    assert status == 400, answer
    return answer["error"]


# --- matching and replacing ------------------------------------------------------------


def test_every_match_of_a_pattern_is_replaced_by_its_capture_name() -> None:
    """RedactProcessorTests.testMatchRedact (EMAILADDRESS)."""
    email = {"field": "to_redact", "patterns": ["%{EMAILADDRESS:EMAIL}"]}
    assert redacted(email, "thisisanemail@address.com will be redacted thisisdifferent@address.com") == "<EMAIL> will be redacted <EMAIL>"
    assert redacted(email, "This is ok nothing to redact") == "This is ok nothing to redact"
    assert redacted(email, "thisisanemail@address.com will be redacted") == "<EMAIL> will be redacted"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("here is something that looks like a credit card number: 0001-0002-0003-0004", "here is something that looks like a credit card number: <CREDIT_CARD>"),
        ("1001-1002-1003-1004 some text in between 2001-1002-1003-1004 3001-1002-1003-1004 4001-1002-1003-1004", "<CREDIT_CARD> some text in between <CREDIT_CARD> <CREDIT_CARD> <CREDIT_CARD>"),
        ("1001-1002-1003-1004 2001-1002-1003-1004 3001-1002-1003-1004 some 4001-1002-1003-1004 and lots more text here", "<CREDIT_CARD> <CREDIT_CARD> <CREDIT_CARD> some <CREDIT_CARD> and lots more text here"),
    ],
)
def test_a_lazy_pattern_of_pattern_definitions_matches_each_card(text: str, expected: str) -> None:
    """RedactProcessorTests.testMatchRedact (CREDIT_CARD as \\b(?:\\d[ -]*?){13,16}\\b)."""
    options = {"field": "to_redact", "patterns": ["%{CREDIT_CARD:CREDIT_CARD}"], "pattern_definitions": {"CREDIT_CARD": r"\b(?:\d[ -]*?){13,16}\b"}}
    assert redacted(options, text) == expected


def test_several_patterns_each_name_their_own_matches() -> None:
    """RedactProcessorTests.testMatchRedactMultipleGroks and testRedact."""
    text = "thisisanemail@address.com will be redacted and this: 0001-0002-0003-0004 some other text"
    assert redacted(MULTI, text) == "<EMAIL> will be redacted and this: <CREDIT_CARD> some other text"
    assert redacted(MULTI, "This is ok nothing to redact") == "This is ok nothing to redact"


def test_patterns_may_share_one_name() -> None:
    """RedactProcessorTests.testRedactWithPatternNamesRedacted."""
    options = {**MULTI, "patterns": ["%{EMAILADDRESS:REDACTED}", "%{IP:REDACTED}", "%{CREDIT_CARD:REDACTED}"]}
    text = "look a credit card number! 0001-0002-0003-0004 from david@email.com"
    assert redacted(options, text) == "look a credit card number! <REDACTED> from <REDACTED>"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"prefix": "?--", "suffix": "}"}, "?--IP_ADDRESS} will be redacted"),
        ({"prefix": "?--"}, "?--IP_ADDRESS> will be redacted"),
        ({"suffix": "++"}, "<IP_ADDRESS++ will be redacted"),
    ],
)
def test_prefix_and_suffix_default_to_angle_brackets(extra: dict[str, str], expected: str) -> None:
    """RedactProcessorTests.testDifferentStartAndEnd."""
    options = {"field": "to_redact", "patterns": ["%{EMAILADDRESS:EMAIL}", "%{IP:IP_ADDRESS}"], **extra}
    assert redacted(options, "0.0.0.1 will be redacted") == expected


def test_the_patterns_build_on_the_ecs_bank() -> None:
    """RedactProcessor.Factory: GrokBuiltinPatterns.ecsV1Patterns(), whose EMAILLOCALPART takes
    a local part starting with a digit and with dots, which the legacy one does not."""
    options = {"field": "to_redact", "patterns": ["%{EMAILADDRESS:EMAIL}"]}
    assert redacted(options, "mail 1first.last+tag@example.com now") == "mail <EMAIL> now"


def test_adjacent_matches_merge_into_one_replacement() -> None:
    """mergeOverlappingReplacements: a region that starts where the previous one ends counts as
    overlapping (head.end < next.start is the only gap)."""
    options = {"field": "to_redact", "patterns": ["%{FOUR:N}"], "pattern_definitions": {"FOUR": r"\d{4}"}}
    assert redacted(options, "x 10011002 y") == "x <N> y"


def test_overlapping_matches_of_two_patterns_take_the_longer_name() -> None:
    """mergeLongestRegion: the merged region is named after its longest member."""
    options = {
        "field": "to_redact",
        "patterns": ["%{SHORT:SHORT}", "%{LONG:LONG}"],
        "pattern_definitions": {"SHORT": "abc", "LONG": "bcdefg"},
    }
    assert redacted(options, "xabcdefgx") == "x<LONG>x"


def test_an_empty_match_inserts_the_name_and_moves_on() -> None:
    """matchRepeat: a match ending where the search began moves the search one on."""
    options = {"field": "to_redact", "patterns": ["%{NOTHING:E}"], "pattern_definitions": {"NOTHING": "x*"}}
    assert redacted(options, "ab") == "<E>a<E>b"


def test_lengths_are_compared_in_utf8_bytes() -> None:
    """mergeLongestRegion compares the UTF-8 byte lengths of the regions:
    three characters and five bytes outweigh four ASCII ones."""
    options = {
        "field": "to_redact",
        "patterns": ["%{ASCII:ASCII}", "%{ACCENTS:ACCENTS}"],
        "pattern_definitions": {"ASCII": "zabc", "ACCENTS": "céé"},
    }
    assert redacted(options, "zabcéé!") == "<ACCENTS>!"


# --- the field --------------------------------------------------------------------------


def test_a_missing_field_is_ignored_by_default() -> None:
    """RedactProcessorTests.testIgnoreMissing: ignore_missing defaults to true."""
    answer = run({"field": "to_redact", "patterns": ["foo"]}, {"not_the_field": "fieldValue"})
    assert answer["doc"]["_source"] == {"not_the_field": "fieldValue"}


def test_a_missing_field_fails_without_ignore_missing() -> None:
    """RedactProcessorTests.testIgnoreMissing and 300_redact_processor.yml "Test ignore missing"."""
    answer = run({"field": "to_redact", "patterns": ["foo"], "ignore_missing": False}, {"not_the_field": "fieldValue"})
    assert answer["error"]["type"] == "illegal_argument_exception"
    assert answer["error"]["reason"] == "field [to_redact] is null or missing"


def test_a_field_that_is_not_a_string_fails_the_cast() -> None:
    """RedactProcessor.execute: getFieldValue(field, String.class, true) casts what it finds."""
    answer = run({"field": "to_redact", "patterns": ["%{IP:IP}"]}, {"to_redact": 5})
    assert answer["error"]["reason"] == "field [to_redact] of type [java.lang.Integer] cannot be cast to [java.lang.String]"


def test_a_pattern_without_a_capture_fails_as_a_timeout() -> None:
    """RedactProcessor.matchRedact reads captureConfig().get(0); with no capture that throws,
    and execute turns every RuntimeException into "Grok pattern matching timed out"."""
    answer = run({"field": "to_redact", "patterns": ["foo"]}, {"to_redact": "no foo here"})
    assert answer["error"] == {
        "root_cause": [{"type": "elasticsearch_timeout_exception", "reason": "Grok pattern matching timed out"}],
        "type": "elasticsearch_timeout_exception",
        "reason": "Grok pattern matching timed out",
    }


# --- trace_redact -----------------------------------------------------------------------


def test_trace_redact_marks_a_changed_document_only() -> None:
    """RedactProcessorTests.testTraceRedact: _ingest._redact._is_redacted is set when the value
    changed, and absent otherwise (and without trace_redact)."""
    traced = {"field": "to_redact", "patterns": ["%{EMAILADDRESS:REDACTED}"], "trace_redact": True}
    changed = run(traced, {"to_redact": "thisisanemail@address.com will be redacted"})["doc"]
    assert changed["_source"]["to_redact"] == "<REDACTED> will be redacted"
    assert changed["_ingest"]["_redact"] == {"_is_redacted": True}
    unchanged = run(traced, {"to_redact": "this should not be redacted"})["doc"]
    assert "_redact" not in unchanged["_ingest"]
    untraced = run({**traced, "trace_redact": False}, {"to_redact": "thisisanemail@address.com will be redacted"})["doc"]
    assert "_redact" not in untraced["_ingest"]


def test_trace_redact_keeps_the_mark_of_an_earlier_processor() -> None:
    """RedactProcessorTests.testTraceRedactMultipleProcessors: a later processor that changes
    nothing leaves the mark; a later one that redacts sets it after one that did not."""
    redacts = {"field": "to_redact", "patterns": ["%{EMAILADDRESS:REDACTED}"], "trace_redact": True}
    misses = {"field": "to_redact", "patterns": ["%{IP:REDACTED}"], "trace_redact": True}
    text = {"to_redact": "thisisanemail@address.com will be redacted"}
    assert run(redacts, text, {"redact": misses})["doc"]["_ingest"]["_redact"] == {"_is_redacted": True}
    assert run(misses, text, {"redact": redacts})["doc"]["_ingest"]["_redact"] == {"_is_redacted": True}


# --- the licence ------------------------------------------------------------------------


@pytest.mark.parametrize("skip", [True, False])
def test_the_engine_is_licensed_for_redact(skip: bool) -> None:
    """RedactProcessorFactoryTests.testSkipIfUnlicensed with a licence that allows the feature
    (as the REST suites' trial licence does): skip_if_unlicensed is accepted either way and
    the processor runs."""
    options = {"field": "to_redact", "patterns": ["%{MY_PATTERN:after}"], "pattern_definitions": {"MY_PATTERN": "before"}, "skip_if_unlicensed": skip}
    assert redacted(options, "before") == "<after>"


# --- building ---------------------------------------------------------------------------


def test_an_empty_pattern_list_is_refused() -> None:
    """RedactProcessorFactoryTests.testPatternNotSet."""
    error = build_error({"field": "_field", "patterns": []})
    assert error["reason"] == "[patterns] List of patterns must not be empty"
    assert (error["type"], error["processor_type"], error["property_name"]) == ("parse_exception", "redact", "patterns")


def test_field_and_patterns_are_required() -> None:
    """RedactProcessor.Factory: readStringProperty(field), readList(patterns)."""
    assert build_error({"patterns": ["foo"]})["reason"] == "[field] required property is missing"
    assert build_error({"field": "f"})["reason"] == "[patterns] required property is missing"
    assert build_error({"field": "f", "patterns": "foo"})["reason"] == "[patterns] property isn't a list, but of type [java.lang.String]"


def test_unknown_options_are_refused() -> None:
    """RedactProcessorFactoryTests.testConfigKeysRemoved: every known key is consumed, so the
    one left over is what the pipeline refuses."""
    error = build_error({"field": "_field", "patterns": ["%{MY_PATTERN:name}!"], "pattern_definitions": {"MY_PATTERN": "foo"}, "ignore_missing": True, "extra": "unused"})
    assert error["reason"] == "processor [redact] doesn't support one or more provided configuration parameters [extra]"


def test_a_pattern_that_does_not_build_names_every_pattern() -> None:
    """RedactProcessor.Factory: "Invalid regex pattern found in: <patterns>. <cause>"."""
    error = build_error({"field": "f", "patterns": ["%{IP:ip}", "%{NO_SUCH_PATTERN:x}"]})
    assert error["property_name"] == "patterns"
    assert error["reason"].startswith("[patterns] Invalid regex pattern found in: [%{IP:ip}, %{NO_SUCH_PATTERN:x}]. ")
    assert "NO_SUCH_PATTERN" in error["reason"]


def test_custom_patterns_are_used() -> None:
    """RedactProcessorFactoryTests.testCreateWithCustomPatterns."""
    options = {"field": "to_redact", "patterns": ["%{MY_PATTERN:name}!"], "pattern_definitions": {"MY_PATTERN": "foo"}}
    assert redacted(options, "say foo!") == "say <name>"


# --- the merging of regions -------------------------------------------------------------


def by_chars(start: int, end: int) -> int:
    return end - start


def test_merge_longest_region() -> None:
    """RedactProcessorTests.testMergeLongestRegion and _smallRegionSubsumed."""
    assert _longest([(10, 20, "first"), (15, 28, "longest"), (22, 29, "third")], by_chars) == (10, 29, "longest")
    assert _longest([(10, 50, "longest"), (15, 25, "subsumed")], by_chars) == (10, 50, "longest")
    assert _longest([(10, 50, "longest"), (15, 25, "subsumed"), (44, 60, "third")], by_chars) == (10, 60, "longest")


def test_merge_overlapping_sorts_by_start() -> None:
    """RedactProcessorTests.testMergeOverlappingReplacements_sortedByStartPositionNoOverlaps and _singleItem."""
    a1, b1, b2, c1 = (35, 40, "A"), (5, 12, "B"), (30, 34, "B"), (21, 29, "C")
    assert _merge([a1, b1, b2, c1], by_chars) == [b1, c1, b2, a1]
    assert _merge([a1], by_chars) == [a1]


def test_merge_overlapping_transitive() -> None:
    """RedactProcessorTests.testMergeOverlappingReplacements_transitiveOverlaps, each case."""
    a1, b1, b2, c1 = (35, 40, "A"), (5, 10, "B"), (10, 15, "B"), (14, 29, "C")
    assert _merge([a1, b1, b2, c1], by_chars) == [(5, 29, "C"), a1]
    a1, a2, b1, b2, c1 = (20, 28, "A"), (50, 60, "A"), (30, 39, "B"), (59, 65, "B"), (14, 18, "C")
    assert _merge([a1, a2, b1, b2, c1], by_chars) == [c1, a1, b1, (50, 65, "A")]
    a1, a2, b1, b2, c1 = (20, 28, "A"), (50, 60, "A"), (14, 19, "B"), (30, 39, "B"), (39, 49, "C")
    assert _merge([a1, a2, b1, b2, c1], by_chars) == [b1, a1, (30, 49, "C"), a2]
    a1, a2, b1 = (20, 28, "A"), (50, 60, "A"), (22, 26, "B")
    assert _merge([a1, a2, b1], by_chars) == [(20, 28, "A"), a2]
    a1, a2, b1, b2, c1, c2 = (20, 28, "A"), (50, 60, "A"), (14, 21, "B"), (30, 36, "B"), (44, 51, "C"), (62, 70, "C")
    assert _merge([a1, a2, b1, b2, c1, c2], by_chars) == [(14, 28, "A"), b2, (44, 60, "A"), c2]
