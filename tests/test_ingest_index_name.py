"""The date_index_name processor (wgsiem/ingest/processors/index_name.py) against Elasticsearch.

Each test names what it follows: the REST suite (ingest/100_date_index_name_processor.yml),
DateIndexNameProcessorTests and DateIndexNameFactoryTests, and DateIndexNameProcessor's source
(the expression it writes, the zone it names, its loop over date_formats, its Factory).
"""

from __future__ import annotations

import pytest

from tests.support.ingest import config_error, document, failure


def index(value, **options) -> str:
    config = {"field": "_field", "date_rounding": "d", **options}
    return document({"date_index_name": config}, {"_field": value})["_index"]


def test_rest_defaults():
    # pins: 100_date_index_name_processor.yml "Test date index name processor with defaults"
    # (_simulate shows the expression Elasticsearch resolves to events-2016-04-22 when indexing)
    doc = document({"date_index_name": {"field": "date", "index_name_prefix": "events-", "date_rounding": "d"}}, {"date": "2016-04-22T16:32:14.968Z"})
    assert doc["_index"] == "<events-{2016-04-22||/d{yyyy-MM-dd|UTC}}>"
    assert doc["_source"] == {"date": "2016-04-22T16:32:14.968Z"}


def test_java_pattern():
    # pins: DateIndexNameProcessorTests.testJavaPattern
    assert (
        index("2016-04-25T12:24:20.101Z", date_formats=["yyyy-MM-dd'T'HH:mm:ss.SSSXX"], index_name_prefix="events-", date_rounding="y", index_name_format="yyyyMMdd")
        == "<events-{20160425||/y{yyyyMMdd|UTC}}>"
    )


@pytest.mark.parametrize(
    ("value", "date_format"),
    [
        ("4000000050d506482dbdf024", "TAI64N"),  # testTAI64N
        ("@4000000050d506482dbdf024", "TAI64N"),  # testTAI64N, with its optional '@'
    ],
)
def test_tai64n(value, date_format):
    # pins: DateIndexNameProcessorTests.testTAI64N
    assert index(value, date_formats=[date_format], index_name_prefix="events-", date_rounding="m", index_name_format="yyyyMMdd") == (
        "<events-{20121222||/m{yyyyMMdd|UTC}}>"
    )


@pytest.mark.parametrize(("value", "date_format"), [("1000500", "UNIX_MS"), (1000500, "UNIX_MS"), ("1000.5", "UNIX")])
def test_unix(value, date_format):
    # pins: DateIndexNameProcessorTests.testUnixMs (a string or a number), testUnix
    assert index(value, date_formats=[date_format], index_name_prefix="events-", date_rounding="m", index_name_format="yyyyMMdd") == (
        "<events-{19700101||/m{yyyyMMdd|UTC}}>"
    )


def test_templated_fields():
    # pins: DateIndexNameProcessorTests.testTemplatedFields (prefix, rounding and format are templates)
    config = {
        "field": "_field",
        "date_formats": ["UNIX"],
        "index_name_prefix": "{{prefix}}",
        "date_rounding": "{{rounding}}",
        "index_name_format": "{{format}}",
    }
    doc = document({"date_index_name": config}, {"_field": "1000500", "prefix": "logs-", "rounding": "w", "format": "MM/dd/yyyy"})
    assert doc["_index"] == "<logs-{01/12/1970||/w{MM/dd/yyyy|UTC}}>"


def test_timezone_is_named_in_the_expression():
    # pins: DateIndexNameFactoryTests.testSpecifyOptionalSettings (timezone +02:00) and
    # DateIndexNameProcessor.execute (ZoneOffset.UTC is written "UTC", any other zone by its id)
    value = "2016-04-25T23:24:20.101Z"
    assert index(value, timezone="+02:00") == "<{2016-04-26||/d{yyyy-MM-dd|+02:00}}>"
    assert index(value, timezone="Europe/Amsterdam") == "<{2016-04-26||/d{yyyy-MM-dd|Europe/Amsterdam}}>"
    assert index(value, timezone="Z") == "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>"
    assert index(value, timezone="+00:00") == "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>"
    assert index(value, timezone="GMT") == "<{2016-04-25||/d{yyyy-MM-dd|GMT}}>"


def test_every_format_is_tried_and_the_last_that_parses_wins():
    # pins: DateIndexNameProcessor.execute (the loop over dateFormats has no break);
    # DateIndexNameFactoryTests.testSpecifyOptionalSettings (two formats)
    assert index("1000500", date_formats=["UNIX", "UNIX_MS"]) == "<{1970-01-01||/d{yyyy-MM-dd|UTC}}>"
    assert index("1000500", date_formats=["UNIX_MS", "UNIX"]) == "<{1970-01-12||/d{yyyy-MM-dd|UTC}}>"
    assert index("1000500", date_formats=["UNIX", "yyyy"]) == "<{1970-01-12||/d{yyyy-MM-dd|UTC}}>"  # the second fails


def test_unparsable_and_missing_dates():
    # pins: DateIndexNameProcessor.execute ("unable to parse date [...]"; getFieldValue without ignoreMissing)
    processor = {"date_index_name": {"field": "_field", "date_rounding": "d"}}
    assert failure(processor, {"_field": "yesterday"}) == ("illegal_argument_exception", "unable to parse date [yesterday]")
    assert failure(processor, {"_field": None}) == ("illegal_argument_exception", "unable to parse date [null]")
    assert failure(processor, {}) == ("illegal_argument_exception", "field [_field] not present as part of path [_field]")


def test_bad_index_name_format_fails_the_document():
    # pins: DateIndexNameProcessor.execute (DateFormatter.forPattern of the rendered format, per document)
    kind, _ = failure({"date_index_name": {"field": "_field", "date_rounding": "d", "index_name_format": "{{f}}"}}, {"_field": "2016-04-25T12:24:20.101Z", "f": "yyyy-MM-dd'"})
    assert kind == "illegal_argument_exception"


def test_factory_required_fields():
    # pins: DateIndexNameFactoryTests.testRequiredFields
    error = config_error({"date_index_name": {"date_rounding": "y"}})
    assert (error["reason"], error["property_name"]) == ("[field] required property is missing", "field")
    error = config_error({"date_index_name": {"field": "_field"}})
    assert (error["reason"], error["property_name"]) == ("[date_rounding] required property is missing", "date_rounding")


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"timezone": "Mars/Olympus"}, "java.time.zone.ZoneRulesException: Unknown time-zone ID: Mars/Olympus"),
        ({"timezone": "%%"}, "java.time.DateTimeException: Invalid ID for region-based ZoneId, invalid format: %%"),
        ({"locale": "en_US"}, "java.lang.IllegalArgumentException: Invalid language tag specified: en_US"),
    ],
)
def test_factory_java_exceptions(options, reason):
    # pins: DateIndexNameProcessor.Factory (ZoneId.of and Locale.Builder.setLanguageTag throw
    # plain Java exceptions, which ConfigurationUtils.readProcessor wraps as type "exception")
    error = config_error({"date_index_name": {"field": "_field", "date_rounding": "d", **options}})
    assert (error["type"], error["reason"], error["processor_type"]) == ("exception", reason, "date_index_name")


def test_locale_tags_are_accepted():
    # pins: DateIndexNameProcessor.Factory (Locale.Builder takes well-formed BCP 47 tags)
    assert index("2016-04-25T12:24:20.101Z", locale="en-US") == "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>"
    assert index("25 Apr 2016", locale="en-GB", date_formats=["dd MMM yyyy"]) == "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>"
