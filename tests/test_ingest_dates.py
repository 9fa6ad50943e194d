"""The date processor's parsing and output against Elasticsearch's behaviour.

Sources named in the comments:
  REST   = modules/ingest-common/src/yamlRestTest/.../ingest/30_date_processor.yml (ES 9);
  DF     = modules/ingest-common/src/main/.../DateFormat.java (ISO8601, UNIX, UNIX_MS,
           TAI64N, Java patterns and the missing-year fill);
  DP     = modules/ingest-common/src/main/.../DateProcessor.java;
  ISO    = server/.../common/time/Iso8601Parser.java (ES's ISO 8601 parser);
  DFS    = server/.../common/time/DateFormatters.java (named formats, `from()`);
  EPOCH  = server/.../common/time/EpochTime.java;
  DOC    = docs/reference/enrich-processor/date-processor.md;
  JT     = java.time's DateTimeFormatter pattern rules, ResolverStyle.STRICT (how ES builds
           patterns: DateFormatters.forPattern).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wgsiem.ingest.formats.date_formats import DEFAULT_OUTPUT_FORMAT, DateFormatError, DateParseError, DateParser, format_date

NEW_YEAR_2025 = datetime(2025, 1, 1, 0, 30, tzinfo=UTC)


def parsed(formats, value, timezone="UTC", locale="ENGLISH", output=DEFAULT_OUTPUT_FORMAT, now=None):
    """What the date processor writes to target_field."""
    parser = DateParser(formats if isinstance(formats, list) else [formats], timezone, locale, now=now)
    return format_date(parser.parse(value), output)


def fails(formats, value, timezone="UTC", now=None):
    with pytest.raises(DateParseError) as error:
        DateParser(formats if isinstance(formats, list) else [formats], timezone, now=now).parse(value)
    return str(error.value)


# --- the REST tests ---------------------------------------------------------------------------


def test_rest_pattern_with_timezone():
    # REST "Test date processor": dd/MM/yyyy in Europe/Amsterdam, printed with its offset.
    assert parsed("dd/MM/yyyy", "12/06/2010", "Europe/Amsterdam") == "2010-06-12T00:00:00.000+02:00"


def test_rest_timezone_calculations():
    # REST "Test date processor timezone calculations": no zone in the text -> the
    # processor's; a zone in the text -> that instant, printed in the processor's zone.
    assert parsed("ISO8601", "2010-06-01T00:00:00.000", "+01:00") == "2010-06-01T00:00:00.000+01:00"
    assert parsed("ISO8601", "2010-06-01T00:00:00.000Z", "+01:00") == "2010-06-01T01:00:00.000+01:00"


@pytest.mark.parametrize(
    ("formats", "value", "expected"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "2018-02-05T13:44:56.657+0100", "2018-02-05T12:44:56.657Z"),
        ("yyyy-MM-dd HH:mm:ss Z", "2017-04-04 13:43:09 +0200", "2017-04-04T11:43:09.000Z"),
        ("dd/MMM/yyyy:H:m:s Z", "10/Aug/2018:09:45:56 +0200", "2018-08-10T07:45:56.000Z"),
        ("UNIX", "1", "1970-01-01T00:00:01.000Z"),
        ("UNIX_MS", "1", "1970-01-01T00:00:00.001Z"),
        ("TAI64N", "4000000050d506482dbdf024", "2012-12-22T01:00:46.767Z"),
        ("ISO8601", "2018-02-05T13:44:56.657+0100", "2018-02-05T12:44:56.657Z"),
    ],
)
def test_rest_no_timezone_configured(formats, value, expected):
    # REST "Test date processor with no timezone configured" (beats' mongodb, icinga, apache
    # formats): UTC by default, printed with "Z" (XXX writes Z for a zero offset).
    assert parsed(formats, value) == expected


def test_rest_week_based():
    # REST "Test week based date parsing" (root locale: ISO weeks, Monday) and "... with
    # locale" (en-US: weeks start on Sunday).
    assert parsed("YYYY-ww", "2020-33") == "2020-08-10T00:00:00.000Z"
    assert parsed("YYYY-ww", "2020-33", locale="en-US") == "2020-08-09T00:00:00.000Z"


def test_doc_short_timezone_example():
    # DOC "Example dealing with short timezone abbreviations safely": yyyyMMddHHmmss in the
    # zone a script mapped PST to.
    assert parsed("yyyyMMddHHmmss", "20250102123456", "America/Los_Angeles") == "2025-01-02T12:34:56.000-08:00"


# --- ISO8601 (Elasticsearch's lenient ISO parser) ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-06-12", "2016-06-12T00:00:00.000Z"),  # date only: start of day
        ("2016-06", "2016-06-01T00:00:00.000Z"),  # ISO: every level after the year optional
        ("2016", "2016-01-01T00:00:00.000Z"),
        ("2016-06-12T", "2016-06-12T00:00:00.000Z"),
        ("2016-06-12T17", "2016-06-12T17:00:00.000Z"),
        ("2016-06-12T17:05", "2016-06-12T17:05:00.000Z"),
        ("2016-06-12T17:05:06", "2016-06-12T17:05:06.000Z"),
        ("2016-06-12T17:05:06.1", "2016-06-12T17:05:06.100Z"),
        ("2016-06-12T17:05:06,25", "2016-06-12T17:05:06.250Z"),  # ISO: ',' separator too
        ("2016-06-12T17:05:06.123456789", "2016-06-12T17:05:06.123Z"),
        ("2016-06-12T17Z", "2016-06-12T17:00:00.000Z"),  # a zone may follow the hour
        ("2016-06-12T17:05+02", "2016-06-12T15:05:00.000Z"),
        ("2016-06-12T17:05:06+0200", "2016-06-12T15:05:06.000Z"),
        ("2016-06-12T17:05:06-02:30", "2016-06-12T19:35:06.000Z"),
        ("2016-06-12T17:05:06+01:00:30", "2016-06-12T16:04:36.000Z"),
        ("2016-06-12T17:05:06.5Europe/Amsterdam", "2016-06-12T15:05:06.500Z"),  # zone ids
        ("2016-06-12T17:05:06UTC", "2016-06-12T17:05:06.000Z"),
        ("2016-06-12T17:05:06GMT+2", "2016-06-12T15:05:06.000Z"),
    ],
)
def test_iso8601_accepts(value, expected):
    # ISO Iso8601Parser.parse, as DFS wires it for iso8601 (no mandatory field but the year,
    # DecimalSeparator.BOTH, TimezonePresence.OPTIONAL).
    assert parsed("ISO8601", value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2016-06-12 17:05:06",  # a space is not 'T'
        "2016-6-12",  # two-digit month and day
        "16-06-12",
        "2016-06-12T17:05:06.1234567890",  # more than 9 fraction digits
        "2016-06-12T24:00:00",
        "2016-06-12T23:59:60",  # no leap second
        "2016-02-30",
        "2016-13-01",
        "2016-06-12T17:05:06.",  # a separator needs digits
        "2016-06-12T17:05:06 Z",
        "2016-06-12T17:05:06+19:00",  # ZoneOffset is limited to ±18:00
        "2016-06-12T17:05:06+01:0",
        "2016-06-12Z",  # a zone needs a time
        "2016-06-12T17:05:06Mars/Olympus",
        "",
    ],
)
def test_iso8601_refuses(value):
    # ISO: fixed positions, digits only, ranges checked; DP's error message.
    assert fails("ISO8601", value) == f"unable to parse date [{value}]"


def test_iso8601_zone_absent_uses_processor_timezone():
    # DOC "Timezones": a local date-time is taken in the processor's timezone; a zoned one
    # keeps its zone; either way the result is converted to the processor's timezone.
    assert parsed("ISO8601", "2016-06-12T17:00:00", "Europe/Amsterdam") == "2016-06-12T17:00:00.000+02:00"
    assert parsed("ISO8601", "2016-06-12T17:00:00Z", "Europe/Amsterdam") == "2016-06-12T19:00:00.000+02:00"
    assert parsed("ISO8601", "2016-01-12T17:00:00", "America/New_York") == "2016-01-12T17:00:00.000-05:00"


def test_named_iso_formats():
    # DFS: iso8601 and strict_date_optional_time share the ISO parser; the _nanos variant
    # wants HH:mm:ss once a T is there; date_optional_time takes short fields and years.
    assert parsed("strict_date_optional_time", "2016-06-12T17:05") == "2016-06-12T17:05:00.000Z"
    assert parsed("iso8601", "2016-06") == "2016-06-01T00:00:00.000Z"
    assert parsed("strict_date_optional_time_nanos", "2016-06-12") == "2016-06-12T00:00:00.000Z"
    assert fails("strict_date_optional_time_nanos", "2016-06-12T17:05")
    assert parsed("date_optional_time", "2016-6-2T1:2:3.5Z") == "2016-06-02T01:02:03.500Z"
    assert parsed("date_optional_time", "2016-6-2T1:02+0200") == "2016-06-01T23:02:00.000Z"
    assert fails("strict_date_optional_time", "2016-6-2")


# --- UNIX, UNIX_MS, TAI64N, epoch_* ---------------------------------------------------------


def test_unix():
    # DF Unix: (long) (Double.parseDouble(text) * 1000.0).
    assert parsed("UNIX", "1466000000") == "2016-06-15T14:13:20.000Z"
    assert parsed("UNIX", "1466000000.5") == "2016-06-15T14:13:20.500Z"
    assert parsed("UNIX", "1466000000.1239") == "2016-06-15T14:13:20.123Z"  # truncated
    assert parsed("UNIX", "1.001") == "1970-01-01T00:00:01.000Z"  # 1.001 * 1000.0 = 1000.999...
    assert parsed("UNIX", " 1e3 ") == "1970-01-01T00:16:40.000Z"  # Java's double grammar
    assert parsed("UNIX", "-1.5") == "1969-12-31T23:59:58.500Z"
    assert parsed("UNIX", "NaN") == "1970-01-01T00:00:00.000Z"  # (long) NaN is 0
    assert fails("UNIX", "1466000000s")


def test_non_string_values_are_printed_first():
    # DP: obj.toString() before parsing: an Integer, a Double printed as Java does.
    assert parsed("UNIX", 1466000000) == "2016-06-15T14:13:20.000Z"
    assert parsed("UNIX", 1466000000.5) == "2016-06-15T14:13:20.500Z"  # "1.4660000005E9"
    assert parsed("UNIX_MS", 1466000000123) == "2016-06-15T14:13:20.123Z"
    assert fails("UNIX_MS", 1.5e12) == "unable to parse date [1.5E12]"
    assert fails("ISO8601", None) == "unable to parse date [null]"


def test_unix_ms():
    # DF UnixMs: Long.parseLong, so no fraction and no blanks.
    assert parsed("UNIX_MS", "-1") == "1969-12-31T23:59:59.999Z"
    for value in ("1.5", " 1", "0x10"):
        assert fails("UNIX_MS", value)


def test_tai64n():
    # DF Tai64n: an optional '@', the first hex digit skipped, minus 10 s, ns -> ms.
    assert parsed("TAI64N", "@4000000050d506482dbdf024") == "2012-12-22T01:00:46.767Z"
    assert fails("TAI64N", "4000000050d50648")


def test_epoch_named_formats():
    # EPOCH: epoch_millis takes up to 6 fraction digits (nanos of the milli), epoch_second 9;
    # a leading '-' means before 1970; no '+'.
    assert parsed("epoch_millis", "1466000000123") == "2016-06-15T14:13:20.123Z"
    assert parsed("epoch_millis", "1.5", output="yyyy-MM-dd'T'HH:mm:ss.SSSSSS") == "1970-01-01T00:00:00.001500"
    assert parsed("epoch_millis", "-1") == "1969-12-31T23:59:59.999Z"
    assert parsed("epoch_millis", "12.") == "1970-01-01T00:00:00.012Z"
    assert parsed("epoch_second", "1466000000.25") == "2016-06-15T14:13:20.250Z"
    assert fails("epoch_millis", "+1")
    assert fails("epoch_millis", "1.1234567")


# --- Java patterns --------------------------------------------------------------------------


def test_pattern_widths():
    # JT: "dd"/"MM"/"HH" exactly two digits, "d"/"H" one or more, "yyyy" exactly four.
    assert parsed("d/M/yyyy H:m", "5/6/2016 7:8") == "2016-06-05T07:08:00.000Z"
    assert parsed("d/M/yyyy", "05/06/2016") == "2016-06-05T00:00:00.000Z"
    assert fails("dd/MM/yyyy", "5/6/2016")
    assert fails("dd/MM/yyyy", "05/06/16")
    assert parsed("dd/MM/yy", "05/06/16") == "2016-06-05T00:00:00.000Z"  # yy: 2000-2099
    assert parsed("dd/MM/yy", "05/06/99") == "2099-06-05T00:00:00.000Z"
    assert parsed("yyyyMMddHHmmss", "20160612170506") == "2016-06-12T17:05:06.000Z"  # adjacent


def test_pattern_fractions_and_nanos():
    # JT: "SSS" is exactly that many digits. Python holds microseconds: 9 digits are cut.
    assert parsed("HH:mm:ss.SSS dd/MM/yyyy", "17:05:06.789 12/06/2016") == "2016-06-12T17:05:06.789Z"
    assert fails("HH:mm:ss.SSS dd/MM/yyyy", "17:05:06.78 12/06/2016")
    nanos = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS"
    assert parsed(nanos, "2016-06-12T17:05:06.123456789", output=nanos) == "2016-06-12T17:05:06.123456000"


def test_pattern_text_is_case_sensitive_english():
    # JT: names are matched case-sensitively; the default locale (ROOT) has English names.
    assert parsed("EEE, dd MMM yyyy HH:mm:ss Z", "Sun, 12 Jun 2016 17:05:06 +0000") == "2016-06-12T17:05:06.000Z"
    assert parsed("MMMM d, yyyy", "September 3, 2016") == "2016-09-03T00:00:00.000Z"
    assert fails("dd MMM yyyy", "12 jun 2016")
    assert fails("dd MMM yyyy", "12 June 2016")


def test_pattern_zones():
    # JT offset letters: Z +HHMM; X accepts Z; XXX +HH:MM; VV zone ids; z names (a name maps
    # to a region, so PST on a summer date gets that region's summer offset).
    assert parsed("yyyy-MM-dd HH:mm Z", "2016-06-12 17:05 -0500") == "2016-06-12T22:05:00.000Z"
    assert fails("yyyy-MM-dd HH:mm Z", "2016-06-12 17:05 Z")
    assert parsed("yyyy-MM-dd HH:mmX", "2016-06-12 17:05Z") == "2016-06-12T17:05:00.000Z"
    assert parsed("yyyy-MM-dd HH:mmX", "2016-06-12 17:05+0530") == "2016-06-12T11:35:00.000Z"
    assert parsed("yyyy-MM-dd HH:mmXXX", "2016-06-12 17:05+05:30") == "2016-06-12T11:35:00.000Z"
    assert fails("yyyy-MM-dd HH:mmXXX", "2016-06-12 17:05+0530")
    assert parsed("yyyy-MM-dd HH:mm VV", "2016-06-12 17:05 Europe/Paris") == "2016-06-12T15:05:00.000Z"
    assert parsed("yyyy-MM-dd HH:mm z", "2016-06-12 17:05 PST") == "2016-06-13T00:05:00.000Z"
    assert parsed("yyyy-MM-dd HH:mm z", "2016-06-12 17:05 UTC", "Asia/Tokyo") == "2016-06-13T02:05:00.000+09:00"


def test_pattern_literals_and_optional_sections():
    # JT: 'quoted' text, '' for a quote, [optional] sections, "a||b" tries both (DFS
    # forPattern), and the 6.x "8" prefix is dropped (DF Java).
    assert parsed("yyyy-MM-dd'T'HH:mm'h'", "2016-06-12T17:05h") == "2016-06-12T17:05:00.000Z"
    assert parsed("dd MMM yyyy 'at' h''mm a", "12 Jun 2016 at 5'05 PM") == "2016-06-12T17:05:00.000Z"
    assert parsed("yyyy-MM-dd[ HH:mm]", "2016-06-12") == "2016-06-12T00:00:00.000Z"
    assert parsed("yyyy-MM-dd[ HH:mm]", "2016-06-12 17:05") == "2016-06-12T17:05:00.000Z"
    assert parsed("dd/MM/yyyy||epoch_millis", "1466000000123") == "2016-06-15T14:13:20.123Z"
    assert parsed("8yyyy-MM-dd", "2016-06-12") == "2016-06-12T00:00:00.000Z"


def test_twelve_hour_clock():
    # JT: h (1-12) with a (AM/PM); 12 AM is midnight; k is 1-24.
    assert parsed("yyyy-MM-dd hh:mm a", "2016-06-12 12:30 AM") == "2016-06-12T00:30:00.000Z"
    assert parsed("yyyy-MM-dd hh:mm a", "2016-06-12 12:30 PM") == "2016-06-12T12:30:00.000Z"
    assert parsed("yyyy-MM-dd kk:mm", "2016-06-12 24:30") == "2016-06-12T00:30:00.000Z"
    assert fails("yyyy-MM-dd hh:mm a", "2016-06-12 13:30 PM")


def test_twelve_hour_clock_without_am_pm_loses_the_time():
    # JT STRICT: "hh" without "a" leaves HourOfAmPm unresolved (java.time's well-known
    # "Unable to obtain LocalTime ... {HourOfAmPm=5}"), so DFS from() has a date and no
    # time: the start of the day.
    assert parsed("yyyy-MM-dd hh:mm", "2016-06-12 05:30") == "2016-06-12T00:00:00.000Z"


def test_locales():
    # DP newLocale: ROOT by default (English names, ISO weeks); "en"/"en-US"/"en_GB" parse
    # English names too. Names in other languages are not implemented here: refused.
    for locale in ("ENGLISH", "ROOT", "en", "en-US", "en_GB"):
        assert parsed("dd MMM yyyy", "12 Jun 2016", locale=locale) == "2016-06-12T00:00:00.000Z"
    assert parsed("dd/MM/yyyy", "12/06/2016", locale="de") == "2016-06-12T00:00:00.000Z"
    with pytest.raises(DateFormatError):
        DateParser(["dd MMM yyyy"], "UTC", "de")


def test_day_of_week_checked_only_for_uuuu():
    # JT STRICT: "yyyy" (year-of-era, no era) does not resolve a date in java.time, so ES
    # builds it (DFS LOCAL_DATE_QUERY) without checking the day of week; "uuuu" is
    # resolved, and a wrong day of week is a conflict. 12 June 2016 was a Sunday.
    assert parsed("EEE dd MMM yyyy", "Mon 12 Jun 2016") == "2016-06-12T00:00:00.000Z"
    assert fails("EEE dd MMM uuuu", "Mon 12 Jun 2016")
    assert parsed("EEE dd MMM uuuu", "Sun 12 Jun 2016") == "2016-06-12T00:00:00.000Z"


def test_invalid_dates_and_ranges():
    # JT STRICT + LocalDate.of: no Feb 30, no month 13, no minute 60.
    assert fails("yyyy-MM-dd", "2015-02-29")
    assert parsed("yyyy-MM-dd", "2016-02-29") == "2016-02-29T00:00:00.000Z"
    assert fails("yyyy-MM-dd", "2016-13-01")
    assert fails("yyyy-MM-dd HH:mm", "2016-06-12 10:60")


def test_time_without_month_gets_the_epoch_date():
    # DFS from(): a year but no month or day, with a time, has no LocalDate; getLocalDate()
    # then falls back to 1970-01-01.
    assert parsed("yyyy HH:mm", "2016 10:00") == "1970-01-01T10:00:00.000Z"
    # Without a time the year is kept (first of January), or the month's first day.
    assert parsed("yyyy", "2016") == "2016-01-01T00:00:00.000Z"
    assert parsed("MM/yyyy", "06/2016") == "2016-06-01T00:00:00.000Z"


def test_dst_gap_and_overlap():
    # ZonedDateTime.of (DFS): a local time in a gap moves forward by the gap; in an overlap
    # the earlier offset is taken.
    assert parsed("yyyy-MM-dd HH:mm", "2021-03-28 02:30", "Europe/Paris") == "2021-03-28T03:30:00.000+02:00"
    assert parsed("yyyy-MM-dd HH:mm", "2021-10-31 02:30", "Europe/Paris") == "2021-10-31T02:30:00.000+02:00"


# --- no year in the pattern (syslog) --------------------------------------------------------


def test_missing_year_takes_the_current_utc_year():
    # DF Java: LocalDate.now(ZoneOffset.UTC).getYear(); the "now" is injected.
    assert parsed("MMM d HH:mm:ss", "Jun 5 10:00:00", now=lambda: NEW_YEAR_2025) == "2025-06-05T10:00:00.000Z"
    # The year is that of UTC, not of the processor's timezone (still 2024 in New York).
    late = datetime(2024, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed("MMM d HH:mm:ss", "Jun 5 10:00:00", "America/New_York", now=lambda: late) == (
        "2025-06-05T10:00:00.000-04:00"
    )


def test_missing_year_has_no_new_year_rule():
    # DF Java: no look-back around new year: a "Dec 31" line read on January 1st is put in
    # the new year, eleven months ahead (Logstash's rule is not ES's).
    assert parsed("MMM d HH:mm:ss", "Dec 31 23:59:59", now=lambda: NEW_YEAR_2025) == "2025-12-31T23:59:59.000Z"


def test_missing_year_syslog_padding():
    # JT: literals are exact: "MMM  d" (two spaces) for syslog's space-padded day, and
    # "MMM d" does not take "Jun  5" ("d" reads digits, not blanks).
    assert parsed("MMM  d HH:mm:ss", "Jun  5 10:00:00", now=lambda: NEW_YEAR_2025) == "2025-06-05T10:00:00.000Z"
    assert fails("MMM d HH:mm:ss", "Jun  5 10:00:00", now=lambda: NEW_YEAR_2025)
    assert parsed(["MMM  d HH:mm:ss", "MMM dd HH:mm:ss"], "Jun 15 10:00:00", now=lambda: NEW_YEAR_2025) == (
        "2025-06-15T10:00:00.000Z"
    )


def test_missing_year_day_clamped_by_month():
    # DF Java: the day is set on January, then the month: a day too big for the month is
    # clamped to its last day (ZonedDateTime.with(MONTH_OF_YEAR)).
    assert parsed("MMM d", "Feb 29", now=lambda: NEW_YEAR_2025) == "2025-02-28T00:00:00.000Z"
    assert parsed("MMM d", "Apr 31", now=lambda: NEW_YEAR_2025) == "2025-04-30T00:00:00.000Z"
    leap = datetime(2024, 3, 1, tzinfo=UTC)
    assert parsed("MMM d", "Feb 29", now=lambda: leap) == "2024-02-29T00:00:00.000Z"


def test_missing_year_drops_the_parsed_zone():
    # DF Java: the filled-in time is moved to the processor's zone withZoneSameLocal, so an
    # offset in the text is ignored.
    assert parsed("MMM d HH:mm:ss Z", "Jun 5 10:00:00 +0500", now=lambda: NEW_YEAR_2025) == "2025-06-05T10:00:00.000Z"
    assert parsed("MMM d HH:mm:ss", "Jun 5 10:00:00", "Europe/Paris", now=lambda: NEW_YEAR_2025) == (
        "2025-06-05T10:00:00.000+02:00"
    )


def test_time_only_pattern():
    # DF Java: January 1st of the current year, with the parsed time.
    assert parsed("HH:mm:ss", "10:11:12", now=lambda: NEW_YEAR_2025) == "2025-01-01T10:11:12.000Z"


# --- several formats, errors ----------------------------------------------------------------


def test_formats_tried_in_order():
    # DP: the first format that parses wins; DOC: "used sequentially ... in the same order".
    assert parsed(["UNIX_MS", "UNIX"], "1000") == "1970-01-01T00:00:01.000Z"
    assert parsed(["UNIX", "UNIX_MS"], "1000") == "1970-01-01T00:16:40.000Z"
    assert parsed(["dd/MM/yyyy", "ISO8601"], "2016-06-12T10:00:00Z") == "2016-06-12T10:00:00.000Z"
    assert fails(["dd/MM/yyyy", "ISO8601"], "yesterday") == "unable to parse date [yesterday]"


@pytest.mark.parametrize(
    "pattern",
    [
        "yyyy-MM-dd'T'HH:mm:ss.SSSt",  # unknown letter
        "yyyy-MM-dd 'T",  # unterminated literal
        "yyyy-MM-dd]",
        "yyyy-MM-ddd",  # too many d
        "yyyy{MM}",  # reserved character
    ],
)
def test_bad_patterns(pattern):
    # DFS forPattern: "Invalid format: [...]" (java.time's pattern errors).
    with pytest.raises(DateFormatError):
        DateParser([pattern])


def test_bad_timezone_and_locale():
    # DP newDateTimeZone (ZoneId.of) and newLocale (LocaleUtils.parse).
    with pytest.raises(DateFormatError, match="Mars/Olympus"):
        DateParser(["ISO8601"], "Mars/Olympus")
    with pytest.raises(DateFormatError):
        DateParser(["ISO8601"], "PST")  # not a zone id (no short ids in ZoneId.of)
    with pytest.raises(DateFormatError):
        DateParser(["ISO8601"], "UTC", "en-US-x-y")
    with pytest.raises(DateFormatError):
        DateParser(["ISO8601"], "UTC", "1234")


@pytest.mark.parametrize("zone", ["UTC", "Z", "+00:00", "GMT", "Etc/UTC", "UTC+00:00"])
def test_zero_offset_zones_print_z(zone):
    # DP's default output format: XXX writes "Z" for any zone at offset zero.
    assert parsed("ISO8601", "2016-06-12T17:00:00", zone) == "2016-06-12T17:00:00.000Z"


def test_offset_timezones():
    # ZoneId.of: ±h, ±hh:mm, GMT+h forms.
    assert parsed("ISO8601", "2016-06-12T17:00:00", "-05:30") == "2016-06-12T17:00:00.000-05:30"
    assert parsed("ISO8601", "2016-06-12T17:00:00Z", "+5") == "2016-06-12T22:00:00.000+05:00"
    assert parsed("ISO8601", "2016-06-12T17:00:00Z", "GMT+2") == "2016-06-12T19:00:00.000+02:00"


# --- output_format -----------------------------------------------------------------------------


def test_output_formats():
    # DP output_format: any Java pattern or named format, in the processor's timezone.
    moment = datetime(2016, 6, 12, 17, 5, 6, 789000, tzinfo=UTC)
    assert format_date(moment) == "2016-06-12T17:05:06.789Z"
    assert format_date(moment, "yyyy-MM-dd") == "2016-06-12"
    assert format_date(moment, "dd/MMM/yyyy:HH:mm:ss Z") == "12/Jun/2016:17:05:06 +0000"
    assert format_date(moment, "EEE, d MMM uuuu hh:mm a") == "Sun, 12 Jun 2016 05:05 PM"
    assert format_date(moment, "epoch_millis") == "1465751106789"
    assert format_date(moment, "epoch_second") == "1465751106.789"
    assert format_date(moment, "strict_date_optional_time") == "2016-06-12T17:05:06.789Z"
    assert format_date(moment, "strict_date_optional_time_nanos") == "2016-06-12T17:05:06.789Z"
    assert format_date(moment, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX") == "2016-06-12T17:05:06.789000Z"
    paris = moment.astimezone(DateParser(["ISO8601"], "Europe/Paris").timezone)
    assert format_date(paris) == "2016-06-12T19:05:06.789+02:00"
    assert format_date(paris, "yyyy-MM-dd HH:mm VV z xx X") == "2016-06-12 19:05 Europe/Paris CEST +0200 +02"


def test_bad_output_format():
    # DP Factory: "invalid output format [...]" when the pattern does not compile.
    with pytest.raises(DateFormatError, match=r"invalid output format \[yyyy-MM-dd'T\]"):
        format_date(datetime(2016, 6, 12, tzinfo=UTC), "yyyy-MM-dd'T")
    with pytest.raises(DateFormatError):
        format_date(datetime(2016, 6, 12, tzinfo=UTC), "yyyy-bb")
