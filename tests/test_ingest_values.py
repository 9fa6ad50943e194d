"""The bytes and sort processors (wgsiem/ingest/processors/values.py) against Elasticsearch.

Each test names what it follows: the REST suites (ingest/180_bytes_processor.yml,
ingest/110_sort.yml), the unit tests (BytesProcessorTests with AbstractStringProcessorTestCase,
SortProcessorTests, their FactoryTests), and the sources they rest on (ByteSizeValue's
parseBytesSizeValue; SortProcessor with java.util.Collections.sort and ComparableTimSort).
"""

from __future__ import annotations

import random

import pytest

from tests.support.ingest import config_error, failure, output
from wgsiem.ingest.formats.byte_size import ByteSizeError, parse_byte_size

# --- bytes -----------------------------------------------------------------------------------


def test_rest_bytes_processor():
    # pins: 180_bytes_processor.yml "Test bytes processor" (1kb -> 1024 in the target, the source kept)
    doc = output({"bytes": {"field": "bytes_source_field", "target_field": "bytes_target_field"}}, {"bytes_source_field": "1kb"})
    assert doc == {"bytes_source_field": "1kb", "bytes_target_field": 1024}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1b", 1),
        ("1B", 1),
        ("0", 0),
        ("-1", -1),
        ("-1b", -1),
        ("512b", 512),
        ("1k", 1024),
        ("2KB", 2048),
        ("3m", 3 * 1024**2),
        ("3mb", 3 * 1024**2),
        ("1g", 1024**3),
        ("1Gb", 1024**3),
        ("4t", 4 * 1024**4),
        ("1tb", 1024**4),
        ("1p", 1024**5),
        ("7pb", 7 * 1024**5),
        ("  5 kb  ", 5 * 1024),  # the value is trimmed, and so is the number before its unit
        ("+5kb", 5 * 1024),  # Long.parseLong takes a plus sign
        ("0.5kb", 512),
        ("1.25mb", 1310720),
        ("5e2b", None),  # bytes take a long only
    ],
)
def test_units_and_numbers(text, expected):
    # pins: ByteSizeValue.parseBytesSizeValue (the exact "0"/"1b"/"-1" cases, the unit
    # suffixes in order k, kb, m, mb, g, gb, t, tb, p, pb, b, lower-cased and trimmed)
    if expected is None:
        with pytest.raises(ByteSizeError, match=r"^failed to parse setting \[Ingest Field\] with value \[5e2b\]$"):
            parse_byte_size(text)
    else:
        assert parse_byte_size(text) == expected


def test_fractional_values_round_up():
    # pins: BytesProcessorTests.testFractional ("1.1kb" is 1127: 1126.4 rounded up, RoundingMode.UP)
    assert output({"bytes": {"field": "size"}}, {"size": "1.1kb"}) == {"size": 1127}
    assert parse_byte_size("0.01kb") == 11  # 10.24 bytes, rounded up
    assert parse_byte_size("1.5e1kb") == 15 * 1024  # a BigDecimal exponent counts towards the scale


def test_too_large():
    # pins: BytesProcessorTests.testTooLarge (message, and the parse_exception type)
    assert failure({"bytes": {"field": "size"}}, {"size": "8912pb"}) == (
        "parse_exception",
        "failed to parse setting [Ingest Field] with value [8912pb] as a size in bytes",
    )


def test_not_bytes():
    # pins: BytesProcessorTests.testNotBytes ("junk" ends in k: no long, no decimal)
    assert failure({"bytes": {"field": "size"}}, {"size": "junk"}) == ("parse_exception", "failed to parse setting [Ingest Field] with value [junk]")


def test_missing_units():
    # pins: BytesProcessorTests.testMissingUnits
    assert failure({"bytes": {"field": "size"}}, {"size": "1"}) == (
        "parse_exception",
        "failed to parse setting [Ingest Field] with value [1] as a size in bytes: unit is missing or unrecognized",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.123kb", "failed to parse setting [Ingest Field] with more than two decimals in value [1.123kb]"),
        ("1.000kb", "failed to parse setting [Ingest Field] with more than two decimals in value [1.000kb]"),
        ("-0.5kb", "failed to parse setting [Ingest Field] with value [-0.5kb]"),
        ("-2kb", "failed to parse setting [Ingest Field] with value [-2kb] as a size in bytes"),
        ("-1kb", "failed to parse setting [Ingest Field] with value [-1kb] as a size in bytes"),
        ("-2b", "failed to parse setting [Ingest Field] with value [-2b] as a size in bytes"),
        ("1.5b", "failed to parse setting [Ingest Field] with value [1.5b]"),
        ("8192.5pb", "failed to parse setting [Ingest Field] with value beyond 9223372036854775807: [8192.5pb]"),
        ("9223372036854775808b", "failed to parse setting [Ingest Field] with value [9223372036854775808b]"),
    ],
)
def test_refused_values(text, message):
    # pins: ByteSizeValue.parse / parseDecimal / convertToBytes / parseBytes and ByteSizeValue.of
    assert failure({"bytes": {"field": "size"}}, {"size": text}) == ("parse_exception", message)


def test_largest_value():
    # pins: ByteSizeValue.of (size > Long.MAX_VALUE / unit fails; 8191pb fits, 8192pb does not)
    assert parse_byte_size("8191pb") == 8191 * 1024**5
    assert parse_byte_size("9223372036854775807b") == 2**63 - 1
    with pytest.raises(ByteSizeError):
        parse_byte_size("8192pb")


def test_string_processor_contract():
    # pins: AbstractStringProcessorTestCase (testFieldNotFound, testNullValue, testNonStringValue,
    # testTargetField, testFieldNotFoundWithIgnoreMissing, lists of strings)
    assert failure({"bytes": {"field": "a.b"}}, {}) == ("illegal_argument_exception", "field [a] not present as part of path [a.b]")
    assert failure({"bytes": {"field": "f"}}, {"f": None}) == ("illegal_argument_exception", "field [f] is null, cannot process it.")
    assert failure({"bytes": {"field": "f", "ignore_missing": True}}, {"f": 5}) == (
        "illegal_argument_exception",
        "field [f] of type [java.lang.Integer] cannot be cast to [java.lang.String]",
    )
    assert output({"bytes": {"field": "f", "ignore_missing": True}}, {"g": 1}) == {"g": 1}
    assert output({"bytes": {"field": "f", "ignore_missing": True}}, {"f": None}) == {"f": None}
    assert output({"bytes": {"field": "f", "target_field": "t"}}, {"f": ["1kb", "2b"]}) == {"f": ["1kb", "2b"], "t": [1024, 2]}


def test_factory_requires_field():
    # pins: BytesProcessorFactoryTests (AbstractStringProcessorFactoryTestCase.testCreateMissingField)
    error = config_error({"bytes": {}})
    assert (error["type"], error["reason"], error["property_name"]) == ("parse_exception", "[field] required property is missing", "field")


# --- sort ------------------------------------------------------------------------------------


def test_rest_sort():
    # pins: 110_sort.yml "Test sort Processor"
    assert output({"sort": {"field": "values"}}, {"values": ["foo", "bar", "baz"]}) == {"values": ["bar", "baz", "foo"]}


def test_sort_integers_non_random():
    # pins: SortProcessorTests.testSortIntegersNonRandom
    expected = [1, 2, 3, 4, 5, 10, 20, 21, 22, 50, 100]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert output({"sort": {"field": "v"}}, {"v": shuffled}) == {"v": expected}


@pytest.mark.parametrize(
    ("values", "ascending"),
    [
        (["b", "a", "c"], ["a", "b", "c"]),
        ([True, False, True], [False, True, True]),  # testSortBooleans
        ([2.5, -1.0, 100.0, 0.0], [-1.0, 0.0, 2.5, 100.0]),  # testSortDoubles
        (["50", "abc", "7", "100"], ["100", "50", "7", "abc"]),  # testSortMixedStrings: strings, not numbers
        (["\uffff", "\U0001f600"], ["\U0001f600", "\uffff"]),  # String.compareTo: UTF-16 code units
    ],
)
def test_sort_orders(values, ascending):
    # pins: SortProcessorTests.testSortStrings/Booleans/Doubles/MixedStrings (asc, and desc the reverse)
    assert output({"sort": {"field": "v"}}, {"v": values}) == {"v": ascending}
    assert output({"sort": {"field": "v", "order": "desc"}}, {"v": values}) == {"v": ascending[::-1]}


def test_sort_with_target_field_leaves_original_untouched():
    # pins: SortProcessorTests.testSortWithTargetFieldLeavesOriginalUntouched, testDescendingSortWithTargetField
    assert output({"sort": {"field": "v", "target_field": "w", "order": "desc"}}, {"v": [1, 5, 4]}) == {"v": [1, 5, 4], "w": [5, 4, 1]}


def test_sort_field_errors():
    # pins: SortProcessorTests.testSortNonListField, testSortNonExistingField, testSortNullValue
    assert failure({"sort": {"field": "v"}}, {"v": "abc"}) == (
        "illegal_argument_exception",
        "field [v] of type [java.lang.String] cannot be cast to [java.util.List]",
    )
    assert failure({"sort": {"field": "x.y"}}, {}) == ("illegal_argument_exception", "field [x] not present as part of path [x.y]")
    assert failure({"sort": {"field": "field"}}, {"field": None}) == ("illegal_argument_exception", "field [field] is null, cannot sort.")


def test_sort_factory():
    # pins: SortProcessorFactoryTests.testCreateWithInvalidOrder, testCreateMissingField
    error = config_error({"sort": {"field": "v", "order": "invalid"}})
    assert (error["reason"], error["property_name"]) == ("[order] Sort direction [invalid] not recognized. Valid values are: [asc, desc]", "order")
    assert config_error({"sort": {}})["reason"] == "[field] required property is missing"


def _cast(value_class: str, to_class: str) -> tuple[str, str]:
    return (
        "class_cast_exception",
        f"class {value_class} cannot be cast to class {to_class} ({value_class} and {to_class} are in module java.base of loader 'bootstrap')",
    )


def test_mixed_types_fail_with_the_first_comparison_that_meets_them():
    # pins: Collections.sort through ComparableTimSort (asc: countRunAndMakeAscending compares
    # a[1].compareTo(a[0]) first) and TimSort with Collections.reverseOrder() (desc: c2.compareTo(c1))
    assert failure({"sort": {"field": "v"}}, {"v": [1, "a"]}) == _cast("java.lang.Integer", "java.lang.String")
    assert failure({"sort": {"field": "v", "order": "desc"}}, {"v": [1, "a"]}) == _cast("java.lang.String", "java.lang.Integer")
    # A JSON number beyond an int is a Long, and Integer and Long do not compare.
    assert failure({"sort": {"field": "v"}}, {"v": [1, 3000000000]}) == _cast("java.lang.Integer", "java.lang.Long")
    # Maps are not Comparable at all; the receiver's cast fails first.
    assert failure({"sort": {"field": "v"}}, {"v": [1, {"a": 1}]}) == _cast("java.util.HashMap", "java.lang.Comparable")
    assert failure({"sort": {"field": "v"}}, {"v": [{"a": 1}, 1]}) == _cast("java.util.HashMap", "java.lang.Integer")
    # One element is never compared, whatever it is.
    assert output({"sort": {"field": "v"}}, {"v": [{"a": 1}]}) == {"v": [{"a": 1}]}


def test_mixed_types_in_a_long_list():
    # pins: ComparableTimSort for 32 elements or more: a run met by countRunAndMakeAscending
    # (the string is compared with the int before it) ...
    values = list(range(40, 0, -1)) + ["x"] * 24
    assert failure({"sort": {"field": "v"}}, {"v": values}) == _cast("java.lang.Integer", "java.lang.String")
    # ... and runs of one class each, forced to minRunLength (16 for 32 elements) by
    # binarySort, that meet only in mergeAt: gallopRight(a[base2], a, base1, ...) compares
    # the second run's first element to the first run's.
    values = [1, 0, *range(2, 16), "b", "a", *"cdefghijklmnop"]
    assert failure({"sort": {"field": "v"}}, {"v": values}) == _cast("java.lang.Integer", "java.lang.String")
    assert failure({"sort": {"field": "v", "order": "desc"}}, {"v": values}) == _cast("java.lang.String", "java.lang.Integer")


def test_null_elements_fail():
    # pins: Comparable.compareTo(null) throws NullPointerException (the type; the message is the engine's)
    kind, _ = failure({"sort": {"field": "v"}}, {"v": [1, None]})
    assert kind == "null_pointer_exception"
