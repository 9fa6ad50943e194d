"""The date processor's parsing and printing, with Elasticsearch's semantics.

`DateParser(formats, timezone, locale).parse(value)` does what the date processor does with
one field value: try each format in order and give the first result, in the processor's
time zone; `format_date(dt, output_format)` prints it as `target_field` gets it.

Formats (DateFormat.java / DateProcessor.java in modules/ingest-common, DateFormatters.java,
Iso8601Parser.java, EpochTime.java and JavaDateFormatter.java in server/common/time):

* `ISO8601`, and the named formats `iso8601`, `strict_date_optional_time`: Elasticsearch's
  ISO parser. A 4-digit year, then optionally -MM, -dd, T, HH, :mm, :ss, a fraction of 1 to
  9 digits after '.' or ',', each level optional; a zone after the hour, the minutes, the
  seconds or the fraction: Z, ±hh, ±hhmm, ±hh:mm, ±hhmmss, ±hh:mm:ss or a zone id (UTC,
  Europe/Paris, GMT+2...). "2016-06", "2016-06-12", "2016-06-12T17", "2016-06-12T" parse;
  a space instead of T does not. Without a zone the processor's timezone applies.
  `strict_date_optional_time_nanos` is the same with HH:mm:ss required once T is there;
  `date_optional_time` is the lenient variant (1-2 digit fields, 1-9 digit year).
* `UNIX`: `(long) (Double.parseDouble(text) * 1000.0)` epoch milliseconds, so the fraction
  is truncated to milliseconds with the rounding of doubles ("1.001" gives .000), and "NaN"
  gives the epoch. `UNIX_MS`: `Long.parseLong`. `TAI64N`: as ES computes it (the first hex
  digit is skipped, 10 s are taken off, nanoseconds truncated to milliseconds).
* `epoch_millis` (optional '-', digits, optional fraction of up to 6 digits) and
  `epoch_second` (fraction of up to 9 digits).
* Anything else is a Java DateTimeFormatter pattern (a leading "8" is dropped, "a||b" tries
  a then b), parsed with ResolverStyle.STRICT: case-sensitive, the whole text consumed,
  "dd"/"MM"/"HH" exactly two digits, "d"/"M"/"H" one or more, "yyyy" exactly four,
  "yy" 2000-2099, "SSS" exactly that many fraction digits. Letters: G u y Y D M L d w E a
  h K k H m s S VV z O X x Z, 'quoted text' and [optional sections]. When the text has no
  zone the processor's timezone applies.

Elasticsearch quirks kept on purpose (each is pinned by a test):

* No year in the pattern ("MMM d HH:mm:ss", syslog): ES takes the current year in UTC,
  `LocalDate.now(ZoneOffset.UTC).getYear()`, with no new-year rule (a "Dec 31" line read on
  January 1st lands in the new year). It then sets, on January 1st of that year, the
  nanos, the time of day, the day of month and last the month, so a day too large for the
  month is clamped ("Feb 29" in a common year gives Feb 28, "Apr 31" gives Apr 30), and it
  discards any zone parsed from the text: the local time is taken in the processor's zone.
* "yyyy" is a year-of-era: with ResolverStyle.STRICT and no era, java.time does not resolve
  the date itself and ES builds it, so a day-of-week in the text is not checked against the
  date; with "uuuu" (or an era "G") it is, and a mismatch fails.
* A time without a month and day ("yyyy HH:mm") gets 1970-01-01; a 12-hour "hh" without
  "a" does not resolve to a time of day (java.time leaves HourOfAmPm alone), so the time is
  lost and the date's start is taken.
* The output is `withZoneSameInstant(timezone)` of the parsed instant.

Python datetimes hold microseconds: nanosecond fractions (9 digits) are parsed and then
truncated to microseconds, so a printed "SSSSSSSSS" ends in "000". Years outside 1..9999
cannot be held and fail to parse. Month and day names are English (Locale.ROOT and "en*",
what the processor's default gives); other locales are refused for patterns with names.
Week-based fields follow ISO rules for the root locale (ES's IsoCalendarDataProvider) and
Sunday/1-day weeks for en-US.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from wgsiem.ingest.formats.convert import java_parse_double, java_parse_integer, java_str

from ...errors import WgsiemError

DEFAULT_OUTPUT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1

_MONTHS = tuple(calendar.month_name)[1:]  # calendar's names follow the C locale: English
_MONTHS_SHORT = tuple(calendar.month_abbr)[1:]
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DateFormatError(WgsiemError):
    """A format pattern, timezone or locale Elasticsearch would refuse (configuration time)."""


class DateParseError(WgsiemError):
    """No format parsed the value: Elasticsearch's "unable to parse date [x]"."""


# --- zones: Java's ZoneId.of ----------------------------------------------------------------


class FixedZone(tzinfo):
    """A fixed offset that remembers its Java zone id ("Z", "+01:00", "UTC", "GMT+01:00")."""

    __slots__ = ("_offset", "zone_id")

    def __init__(self, seconds: int, zone_id: str) -> None:
        self._offset = timedelta(seconds=seconds)
        self.zone_id = zone_id

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return self._offset

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return self.zone_id

    def __repr__(self) -> str:
        return f"FixedZone({self.zone_id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FixedZone) and (self._offset, self.zone_id) == (other._offset, other.zone_id)

    def __hash__(self) -> int:
        return hash((self._offset, self.zone_id))


UTC = FixedZone(0, "Z")


def _offset_id(seconds: int) -> str:
    """ZoneOffset.getId(): "Z", "+01:00", "-05:30", "+01:00:30"."""
    if seconds == 0:
        return "Z"
    sign = "+" if seconds > 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _zone_offset_of(text: str) -> int:
    """ZoneOffset.of: ±h, ±hh, ±hh:mm, ±hhmm, ±hh:mm:ss, ±hhmmss; at most ±18:00."""
    if len(text) < 2 or text[0] not in "+-":
        raise ValueError(f"invalid offset [{text}]")
    body = text[1:]
    shapes = {1: "h", 2: "hh", 4: "hhmm", 5: "hh:mm", 6: "hhmmss", 8: "hh:mm:ss"}
    shape = shapes.get(len(body))
    if shape is None or any((s == ":") != (c == ":") for s, c in zip(shape, body, strict=True)):
        raise ValueError(f"invalid offset [{text}]")
    digits = body.replace(":", "")
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"invalid offset [{text}]")
    if len(digits) == 1:
        digits = "0" + digits
    hours, minutes, secs = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hours > 18 or minutes > 59 or secs > 59 or (hours == 18 and (minutes or secs)):
        raise ValueError(f"offset out of range [{text}]")
    total = hours * 3600 + minutes * 60 + secs
    return -total if text[0] == "-" else total


@lru_cache(maxsize=1)
def _region_ids() -> frozenset[str]:
    return frozenset(available_timezones())


_REGION_ID = re.compile(r"[A-Za-z][A-Za-z0-9~/._+-]+", re.ASCII)


@lru_cache(maxsize=512)
def zone_of(text: str) -> tzinfo:
    """Java's `ZoneId.of(text)` as a tzinfo; ValueError for an unknown id."""
    if text == "Z":
        return UTC
    if text[:1] in ("+", "-"):
        seconds = _zone_offset_of(text)
        return FixedZone(seconds, _offset_id(seconds))
    for prefix in ("UTC", "GMT", "UT"):
        if text == prefix:
            return FixedZone(0, prefix)
        if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] in ("+", "-"):
            seconds = _zone_offset_of(text[len(prefix) :])
            return FixedZone(seconds, prefix if seconds == 0 else prefix + _offset_id(seconds))
    if _REGION_ID.fullmatch(text) and text in _region_ids():
        return ZoneInfo(text)
    raise ValueError(f"unknown time-zone id [{text}]")


def zone_id(tz: tzinfo | None) -> str:
    """The Java zone id of a tzinfo (what the pattern letters VV print)."""
    if isinstance(tz, FixedZone):
        return tz.zone_id
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = tz.utcoffset(None) if tz is not None else None
    return _offset_id(int(offset.total_seconds())) if offset is not None else "Z"


# Short zone names that 'z' accepts besides zone ids. java.time maps such a name to a
# region (so "PST" on a summer date gets -07:00, the region's offset then); the mapping is
# the JDK's and locale-dependent, and ES's own docs advise against parsing abbreviations.
_ZONE_NAMES = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "AKDT": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "BST": "Europe/London",
    "JST": "Asia/Tokyo",
}


# --- locales (LocaleUtils.parse) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Locale:
    language: str  # "" for Locale.ROOT
    country: str

    @property
    def english(self) -> bool:
        return self.language in ("", "en")

    def week_rules(self) -> tuple[int, int] | None:
        """(first day of week 1=Mon..7=Sun, minimal days in first week), or None if unknown."""
        if self.language == "":
            return (1, 4)  # ES's IsoCalendarDataProvider: Locale.ROOT weeks are ISO weeks
        if self.country in ("US", "CA"):
            return (7, 1)
        if self.country in ("GB", "IE", "DE", "FR", "NL", "BE", "ES", "IT", "SE", "NO", "DK", "FI", "AT", "CH"):
            return (1, 4)
        if self.country == "":
            return (1, 1)  # CLDR's world default, what WeekFields.of(language-only) gives
        return None


_ROOT = _Locale("", "")


def _parse_locale(text: str) -> _Locale:
    # The processor's documented default is "ENGLISH"; ES's code uses Locale.ROOT when no
    # locale is set, and ROOT has English names, so the two are taken as the same here.
    if text.upper() in ("ROOT", "ENGLISH", ""):
        return _ROOT
    separator = "_" if "_" in text and ("-" not in text or text.index("_") < text.index("-")) else "-"
    parts = text.split(separator)
    if len(parts) > 3:
        raise DateFormatError(f"Locales can have at most 3 parts but got {len(parts)}: [{text}]")
    language = parts[0].lower()
    country = parts[1].upper() if len(parts) > 1 else ""
    if not re.fullmatch(r"[a-z]{2,3}", language, re.ASCII):
        raise DateFormatError(f"Unknown language: {parts[0]}")
    if country and not re.fullmatch(r"[A-Z]{2}|[0-9]{3}", country, re.ASCII):
        raise DateFormatError(f"Unknown country: {parts[1]}")
    return _Locale(language, country)


# --- the parsed fields and their resolution ------------------------------------------------

_RANGES = {
    "era": (0, 1),
    "month": (1, 12),
    "day": (1, 31),
    "doy": (1, 366),
    "hour": (0, 23),
    "clock_hour_ampm": (1, 12),
    "hour_ampm": (0, 11),
    "clock_hour_day": (1, 24),
    "minute": (0, 59),
    "second": (0, 59),
    "dow": (1, 7),
    "woy": (1, 53),
    "year": (-999_999_999, 999_999_999),
    "yoe": (1, 999_999_999),
    "wby": (-999_999_999, 999_999_999),
}


class _Fields(dict):
    """Parsed field values; a field parsed twice must agree (as in java.time)."""

    def put(self, name: str, value: Any) -> None:
        if name in self and self[name] != value:
            raise ValueError(f"conflicting values for {name}")
        low_high = _RANGES.get(name)
        if low_high is not None and not low_high[0] <= value <= low_high[1]:
            raise ValueError(f"{name} out of range: {value}")
        self[name] = value


def _week_date(year: int, week: int | None, rules: tuple[int, int]) -> date:
    """First day of week `week` (default 1) of week-based-year `year`, as ES computes it."""
    first, minimal = rules
    jan1 = date(year, 1, 1)
    localized = (jan1.isoweekday() - first) % 7 + 1  # 1 = the locale's first day of week
    week_start = (1 - localized) % 7
    offset = 7 - week_start if week_start + 1 > minimal else -week_start
    return jan1 + timedelta(days=-offset + ((week or 1) - 1) * 7)


def _resolve(  # noqa: C901, PLR0912, PLR0915 - java.time's resolution rules, in their order
    fields: _Fields,
    default_zone: tzinfo,
    locale: _Locale,
    now: Callable[[], datetime] | None,
) -> datetime:
    """java.time's STRICT resolution, DateFormat.Java's year fill and DateFormatters.from."""
    year: int | None = None
    java_resolves_date = False  # whether java.time (not ES) builds the date: then it cross-checks
    if "year" in fields:
        year, java_resolves_date = fields["year"], True
    elif "yoe" in fields:
        year = fields["yoe"]
        if "era" in fields:
            year, java_resolves_date = (year if fields["era"] == 1 else 1 - year), True

    hour = fields.get("hour")

    def merge_hour(value: int) -> None:
        nonlocal hour
        if hour is not None and hour != value:
            raise ValueError("conflicting hour")
        hour = value

    if "clock_hour_day" in fields:
        merge_hour(0 if fields["clock_hour_day"] == 24 else fields["clock_hour_day"])
    hour_of_ampm = None
    if "clock_hour_ampm" in fields:
        hour_of_ampm = 0 if fields["clock_hour_ampm"] == 12 else fields["clock_hour_ampm"]
    if "hour_ampm" in fields:
        if hour_of_ampm is not None and hour_of_ampm != fields["hour_ampm"]:
            raise ValueError("conflicting hour of am/pm")
        hour_of_ampm = fields["hour_ampm"]
    if "ampm" in fields:
        if hour_of_ampm is not None:
            merge_hour(fields["ampm"] * 12 + hour_of_ampm)
        elif hour is not None and hour // 12 != fields["ampm"]:
            raise ValueError("am/pm conflicts with the hour")
    minute, second, nano = fields.get("minute"), fields.get("second"), fields.get("nano")
    time_resolved = hour is not None and not (
        (minute is None and (second is not None or nano is not None))
        or (minute is not None and second is None and nano is not None)
    )

    zone = fields.get("zone")
    if "instant" in fields:
        seconds, nanos = fields["instant"]
        moment = _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
        return moment.astimezone(zone or default_zone)

    if year is None and "wby" not in fields:
        # DateFormat.Java: no year at all, so the current one (in UTC), then the fields that
        # were parsed, on January 1st, in this order; the parsed zone is dropped.
        current = (now or _utc_now)()
        if current.tzinfo is not None:
            current = current.astimezone(UTC)
        local = datetime(current.year, 1, 1)
        if nano is not None:
            local = local.replace(microsecond=nano // 1000)
        if time_resolved:
            local = local.replace(hour=hour, minute=minute or 0, second=second or 0)
        elif hour is not None:
            local = local.replace(hour=hour)
        if "day" in fields:
            local = local.replace(day=fields["day"])  # January: every 1..31 fits
        if "month" in fields:
            last = calendar.monthrange(local.year, fields["month"])[1]
            local = local.replace(month=fields["month"], day=min(local.day, last))
        return local.replace(tzinfo=default_zone)

    day: date | None = None
    if year is not None:
        if "month" in fields and "day" in fields:
            day = date(year, fields["month"], fields["day"])
        elif "doy" in fields:
            if fields["doy"] > (366 if calendar.isleap(year) else 365):
                raise ValueError("day of year out of range")
            day = date(year, 1, 1) + timedelta(days=fields["doy"] - 1)
    if day is not None and java_resolves_date and "dow" in fields and day.isoweekday() != fields["dow"]:
        raise ValueError("day of week conflicts with the date")

    def week_based() -> date:
        rules = locale.week_rules()
        if rules is None:
            raise ValueError("week rules of this locale are unknown")
        return _week_date(fields["wby"], fields.get("woy"), rules)

    def fallback_date() -> date:  # DateFormatters.getLocalDate
        if "wby" in fields:
            return week_based()
        if "month" in fields:
            return date(year if year is not None else 1970, fields["month"], fields.get("day", 1))
        return date(1970, 1, 1)

    if day is None:
        if time_resolved:
            day = fallback_date()
        elif year is not None:
            day = date(year, fields.get("month", 1), 1)
        elif "month" in fields or "wby" in fields:
            day = fallback_date()
        else:
            raise ValueError("cannot make a date of the parsed fields")
    local = datetime(day.year, day.month, day.day)
    if time_resolved:
        local = local.replace(hour=hour, minute=minute or 0, second=second or 0, microsecond=(nano or 0) // 1000)
    return local.replace(tzinfo=zone or default_zone)


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- Elasticsearch's ISO 8601 parser (Iso8601Parser.java) --------------------------------


def _digits(text: str, start: int, end: int) -> int | None:
    if len(text) < end:
        return None
    chunk = text[start:end]
    if not chunk.isascii() or not chunk.isdigit():
        return None
    return int(chunk)


def _iso_zone(text: str, pos: int) -> tzinfo | None:
    first = text[pos]
    if first == "Z" and len(text) == pos + 1:
        return UTC
    if first not in "+-":
        try:
            return zone_of(text[pos:])
        except ValueError:
            return None
    pos += 1
    hours = _digits(text, pos, pos + 2)
    pos += 2
    if hours is None or hours > 23:
        return None
    minutes = seconds = 0
    if len(text) > pos:
        colon = text[pos] == ":"
        pos += colon
        minutes = _digits(text, pos, pos + 2)
        pos += 2
        if minutes is None or minutes > 59:
            return None
        if len(text) > pos:
            if (text[pos] == ":") != colon:
                return None
            pos += colon
            seconds = _digits(text, pos, pos + 2)
            pos += 2
            if seconds is None or seconds > 59 or len(text) != pos:
                return None
    total = hours * 3600 + minutes * 60 + seconds
    if total > 18 * 3600:
        return None  # ZoneOffset.ofTotalSeconds refuses it
    total = total if first == "+" else -total
    return FixedZone(total, _offset_id(total))


def _is_zone_start(char: str) -> bool:
    return char in "+-" or ("A" <= char <= "Z") or ("a" <= char <= "z")


def _parse_iso(text: str, default_zone: tzinfo, *, time_needs_seconds: bool = False) -> datetime:  # noqa: C901, PLR0912 - Iso8601Parser, field by field
    """ES's fast ISO 8601 parser, for iso8601 / strict_date_optional_time(_nanos).

    `time_needs_seconds`: once there is a 'T', HH:mm:ss must follow (the _nanos variant).
    """
    if not text:
        raise ValueError("empty")
    if text[0] == "-":
        raise ValueError("negative years cannot be held in a Python datetime")
    n = len(text)
    fields = _Fields()

    def done(zone: tzinfo | None = None) -> datetime:
        if zone is not None:
            fields["zone"] = zone
        return _resolve(fields, default_zone, _ROOT, None)

    year = _digits(text, 0, 4)
    if year is None:
        raise ValueError("year")
    fields.put("year", year)
    if n == 4:
        return done()
    if text[4] != "-":
        raise ValueError("expected '-' after the year")
    month = _digits(text, 5, 7)
    if month is None or month > 12:
        raise ValueError("month")
    fields["month"] = month
    if n == 7:
        return done()
    if text[7] != "-":
        raise ValueError("expected '-' after the month")
    day = _digits(text, 8, 10)
    if day is None or day > 31:
        raise ValueError("day")
    fields["day"] = day
    if n == 10:
        return done()
    if text[10] != "T":
        raise ValueError("expected 'T' after the date")
    if n == 11:
        if time_needs_seconds:
            raise ValueError("time expected after 'T'")
        return done()
    hour = _digits(text, 11, 13)
    if hour is None or hour > 23:
        raise ValueError("hour")
    fields.update(hour=hour, minute=0, second=0, nano=0)
    if n == 13 or _is_zone_start(text[13]):
        if time_needs_seconds:
            raise ValueError("minutes expected")
        return done(None if n == 13 else _required(_iso_zone(text, 13)))
    if text[13] != ":":
        raise ValueError("expected ':' after the hour")
    minute = _digits(text, 14, 16)
    if minute is None or minute > 59:
        raise ValueError("minute")
    fields["minute"] = minute
    if n == 16 or _is_zone_start(text[16]):
        if time_needs_seconds:
            raise ValueError("seconds expected")
        return done(None if n == 16 else _required(_iso_zone(text, 16)))
    if text[16] != ":":
        raise ValueError("expected ':' after the minutes")
    second = _digits(text, 17, 19)
    if second is None or second > 59:
        raise ValueError("second")
    fields["second"] = second
    if n == 19 or _is_zone_start(text[19]):
        return done(None if n == 19 else _required(_iso_zone(text, 19)))
    if text[19] not in ".,":
        raise ValueError("expected a fraction or a zone after the seconds")
    pos = 20
    while pos < n and pos < 29 and "0" <= text[pos] <= "9":
        pos += 1
    if pos == 20:
        raise ValueError("fraction digits expected")
    fields["nano"] = int(text[20:pos].ljust(9, "0"))
    if pos == n:
        return done()
    if _is_zone_start(text[pos]):
        return done(_required(_iso_zone(text, pos)))
    raise ValueError("unparsed text after the fraction")


def _required(zone: tzinfo | None) -> tzinfo:
    if zone is None:
        raise ValueError("bad zone")
    return zone


# date_optional_time: DATE_OPTIONAL_TIME's java.time parser (lenient field widths).
_DATE_OPTIONAL_TIME = re.compile(
    r"(?P<year>\d{1,9})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?"
    r"(?:T(?:(?P<hour>\d{1,2})(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2}))?"
    r"(?:\.(?P<f1>\d{1,9}))?(?:,(?P<f2>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)?"
    r"|[A-Za-z][A-Za-z0-9~/._+-]+)?"
    r"(?P<offset>Z|[+-]\d{2}(?:\d{2})?)?)?)?)?",
    re.ASCII,
)


def _parse_date_optional_time(text: str, default_zone: tzinfo) -> datetime:
    match = _DATE_OPTIONAL_TIME.fullmatch(text)
    if match is None:
        raise ValueError("does not match date_optional_time")
    fields = _Fields()
    for name in ("year", "month", "day", "hour", "minute", "second"):
        if match[name] is not None:
            fields.put(name, int(match[name]))
    for name in ("f1", "f2"):
        if match[name] is not None:
            fields.put("nano", int(match[name].ljust(9, "0")))
    zone = None
    if match["zone"]:
        zone = zone_of(_normalise_offset(match["zone"]))
    if match["offset"]:
        offset = zone_of(_normalise_offset(match["offset"]))
        if zone is not None and zone.utcoffset(None) != offset.utcoffset(None):
            raise ValueError("two different zones")
        zone = zone or offset
    if zone is not None:
        fields["zone"] = zone
    return _resolve(fields, default_zone, _ROOT, None)


def _normalise_offset(text: str) -> str:
    """'+0130' / '+013000' as ZoneId.of takes them (it wants colons past 4 digits)."""
    if text[:1] in "+-" and ":" not in text and len(text) == 7:
        return f"{text[:3]}:{text[3:5]}:{text[5:]}"
    return text


# --- epoch_millis / epoch_second (EpochTime.java) ------------------------------------------

_EPOCH_MILLIS = re.compile(r"(-)?(\d{1,19})(?:\.(\d{0,6}))?", re.ASCII)
_EPOCH_SECOND = re.compile(r"(-)?(\d{1,19})(?:\.(\d{0,9}))?", re.ASCII)


def _parse_epoch(text: str, default_zone: tzinfo, *, millis: bool) -> datetime:
    match = (_EPOCH_MILLIS if millis else _EPOCH_SECOND).fullmatch(text)
    if match is None:
        raise ValueError("not an epoch value")
    whole = int(match[2])
    if whole > _LONG_MAX:
        raise ValueError("out of range")
    fraction = match[3] or ""
    if millis:
        nanos = whole * 1_000_000 + int(fraction.ljust(6, "0") or 0)
    else:
        nanos = whole * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)
    if match[1]:
        nanos = -nanos
    seconds, nano_of_second = divmod(nanos, 1_000_000_000)
    fields = _Fields()
    fields["instant"] = (seconds, nano_of_second)
    return _resolve(fields, default_zone, _ROOT, None)


# --- Java DateTimeFormatter patterns -------------------------------------------------------

_VALID_LETTERS = set("GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZpg")
_SUPPORTED_LETTERS = set("GuyYDMLdwEahKkHmsSVzOXxZ")


def _is_text(token: _Token) -> bool:
    """Whether a pattern field reads or writes locale-dependent names."""
    return token.kind == "field" and (token.letter in "GEaz" or (token.letter in "ML" and token.count >= 3))


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "field", "literal", "open", "close"
    letter: str = ""
    count: int = 0
    text: str = ""


def _tokenize(pattern: str) -> list[_Token]:
    """DateTimeFormatterBuilder.appendPattern's reading of a pattern, with its errors."""
    tokens: list[_Token] = []
    depth = 0
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if ("A" <= char <= "Z") or ("a" <= char <= "z"):
            j = i
            while j < n and pattern[j] == char:
                j += 1
            count = j - i
            if char not in _VALID_LETTERS:
                raise DateFormatError(f"Unknown pattern letter: {char}")
            if char not in _SUPPORTED_LETTERS:
                raise DateFormatError(f"pattern letter [{char}] is not supported by this engine")
            _check_count(char, count)
            tokens.append(_Token("field", char, count))
            i = j
        elif char == "'":
            j = i + 1
            text = []
            while True:
                if j >= n:
                    raise DateFormatError(f"Pattern ends with an incomplete string literal: {pattern}")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            tokens.append(_Token("literal", text="".join(text) if j > i + 1 else "'"))
            i = j + 1
        elif char == "[":
            depth += 1
            tokens.append(_Token("open"))
            i += 1
        elif char == "]":
            if depth == 0:
                raise DateFormatError("Pattern invalid as it contains ] without previous [")
            depth -= 1
            tokens.append(_Token("close"))
            i += 1
        elif char in "{}#":
            raise DateFormatError(f"Pattern includes reserved character: '{char}'")
        else:
            tokens.append(_Token("literal", text=char))
            i += 1
    tokens.extend(_Token("close") for _ in range(depth))  # an unclosed [ runs to the end
    return tokens


def _check_count(letter: str, count: int) -> None:
    limits = {"d": 2, "h": 2, "H": 2, "k": 2, "K": 2, "m": 2, "s": 2, "w": 2, "a": 1, "D": 3}
    limits |= {"G": 5, "M": 4, "L": 4, "E": 4, "X": 5, "x": 5, "Z": 5, "z": 3, "S": 9}
    if letter in ("M", "L", "E") and count == 5:
        raise DateFormatError(f"narrow text ({letter * 5}) is not supported by this engine")
    if letter == "z" and count == 4:
        raise DateFormatError("full zone names (zzzz) are not supported by this engine")
    if letter == "V" and count != 2:
        raise DateFormatError("Pattern letter count must be 2: V")
    if letter == "O" and count not in (1, 4):
        raise DateFormatError("Pattern letter count must be 1 or 4: O")
    if letter in limits and count > limits[letter]:
        raise DateFormatError(f"Too many pattern letters: {letter}")


def _alternatives(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_ZONE_ID_RE = (
    r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)?"
    r"|[A-Za-z][A-Za-z0-9~/._+-]+"
)
_OFFSET_RE = {  # X/x/Z pattern -> regex of the offset itself (without the no-offset text)
    "+HHmm": r"[+-]\d{2}(?:\d{2})?",
    "+HHMM": r"[+-]\d{4}",
    "+HH:MM": r"[+-]\d{2}:\d{2}",
    "+HHMMss": r"[+-]\d{4}(?:\d{2})?",
    "+HH:MM:ss": r"[+-]\d{2}:\d{2}(?::\d{2})?",
}
_X_PATTERNS = {1: "+HHmm", 2: "+HHMM", 3: "+HH:MM", 4: "+HHMMss", 5: "+HH:MM:ss"}
_X_ZERO = {1: "+00", 2: "+0000", 3: "+00:00", 4: "+0000", 5: "+00:00"}


def _offset_seconds(text: str) -> int:
    digits = text[1:].replace(":", "")
    hours, minutes, secs = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hours > 18 or minutes > 59 or secs > 59:
        raise ValueError("offset out of range")
    total = hours * 3600 + minutes * 60 + secs
    if total > 18 * 3600:
        raise ValueError("offset out of range")
    return total if text[0] == "+" else -total


def _localized_offset(text: str) -> int:
    if text == "GMT":
        return 0
    body = text[3:]
    match = re.fullmatch(r"([+-])(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?", body, re.ASCII)
    if match is None:
        raise ValueError("bad localized offset")
    total = int(match[2]) * 3600 + int(match[3] or 0) * 60 + int(match[4] or 0)
    if total > 18 * 3600:
        raise ValueError("offset out of range")
    return total if match[1] == "+" else -total


def _fixed(seconds: int) -> FixedZone:
    return FixedZone(seconds, _offset_id(seconds))


def _zone_text(text: str) -> tzinfo:
    if text in _ZONE_NAMES:
        return ZoneInfo(_ZONE_NAMES[text])
    return zone_of(text)


def _field_regex(token: _Token) -> tuple[str, Callable[[str, _Fields], None]]:  # noqa: C901, PLR0911 - one case per pattern letter
    """Regex and setter for one pattern letter, as java.time parses it in strict mode."""
    letter, count = token.letter, token.count

    def number(name: str, convert: Callable[[int], int] = lambda v: v) -> Callable[[str, _Fields], None]:
        return lambda text, fields: fields.put(name, convert(int(text)))

    def width(count: int) -> str:
        return r"\d{1,19}" if count == 1 else rf"\d{{{count}}}"

    if letter in "uyY":
        name = {"u": "year", "y": "yoe", "Y": "wby"}[letter]
        if count == 2:
            return r"\d{2}", number(name, lambda v: 2000 + v)
        return (r"\d{1,19}" if count == 1 else rf"\d{{{count},19}}" if count == 3 else rf"\d{{{count}}}"), number(name)
    if letter == "G":
        names = {1: ("BC", "AD"), 2: ("BC", "AD"), 3: ("BC", "AD"), 4: ("Before Christ", "Anno Domini"), 5: ("B", "A")}[count]
        return _alternatives(names), lambda text, fields: fields.put("era", names.index(text))
    if letter in "ML":
        if count <= 2:
            return width(count), number("month")
        names = _MONTHS_SHORT if count == 3 else _MONTHS
        return _alternatives(names), lambda text, fields: fields.put("month", names.index(text) + 1)
    if letter == "E":
        names = _DAYS_SHORT if count <= 3 else _DAYS
        return _alternatives(names), lambda text, fields: fields.put("dow", names.index(text) + 1)
    if letter == "D":
        return {1: r"\d{1,19}", 2: r"\d{2,3}", 3: r"\d{3}"}[count], number("doy")
    if letter == "w":
        return (r"\d{1,2}" if count == 1 else r"\d{2}"), number("woy")
    if letter in "dHhKkms":
        name = {
            "d": "day",
            "H": "hour",
            "h": "clock_hour_ampm",
            "K": "hour_ampm",
            "k": "clock_hour_day",
            "m": "minute",
            "s": "second",
        }[letter]
        return width(count), number(name)
    if letter == "S":
        return rf"\d{{{count}}}", lambda text, fields: fields.put("nano", int(text.ljust(9, "0")))
    if letter == "a":
        return "AM|PM", lambda text, fields: fields.put("ampm", 0 if text == "AM" else 1)

    def set_zone(make: Callable[[str], tzinfo]) -> Callable[[str, _Fields], None]:
        def setter(text: str, fields: _Fields) -> None:
            zone = make(text)
            fields.put("zone", zone) if "zone" not in fields else None

        return setter

    if letter == "V":
        return _ZONE_ID_RE, set_zone(lambda text: zone_of(_normalise_offset(text)))
    if letter == "z":
        return r"[A-Za-z][A-Za-z0-9~/._+-]*", set_zone(_zone_text)
    if letter == "O" or (letter == "Z" and count == 4):
        body = r"[+-]\d{1,2}(?::\d{2}(?::\d{2})?)?" if letter == "O" else r"[+-]\d{2}:\d{2}(?::\d{2})?"
        return rf"GMT(?:{body})?", set_zone(lambda text: _fixed(_localized_offset(text)))
    if letter == "Z":
        if count <= 3:
            return _OFFSET_RE["+HHMM"], set_zone(lambda text: _fixed(_offset_seconds(text)))
        return "Z|" + _OFFSET_RE["+HH:MM:ss"], set_zone(lambda text: _fixed(0 if text == "Z" else _offset_seconds(text)))
    # X and x
    regex = _OFFSET_RE[_X_PATTERNS[count]]
    if letter == "X":
        return "Z|" + regex, set_zone(lambda text: _fixed(0 if text == "Z" else _offset_seconds(text)))
    return regex, set_zone(lambda text: _fixed(_offset_seconds(text)))


@dataclass(frozen=True, slots=True)
class _CompiledPattern:
    regex: re.Pattern[str]
    setters: dict[str, Callable[[str, _Fields], None]]


@lru_cache(maxsize=256)
def _compile(pattern: str, locale: _Locale) -> _CompiledPattern:
    tokens = _tokenize(pattern)
    if not locale.english and any(_is_text(t) for t in tokens):
        raise DateFormatError(f"locale [{locale.language}] is not supported for names in [{pattern}] by this engine")
    if locale.week_rules() is None and any(t.kind == "field" and t.letter in "Yw" for t in tokens):
        raise DateFormatError(f"week rules of locale [{locale.language}-{locale.country}] are not known to this engine")
    parts: list[str] = []
    setters: dict[str, Callable[[str, _Fields], None]] = {}
    for token in tokens:
        if token.kind == "literal":
            parts.append(re.escape(token.text))
        elif token.kind == "open":
            parts.append("(?:")
        elif token.kind == "close":
            parts.append(")?")
        else:
            regex, setter = _field_regex(token)
            name = f"g{len(setters)}"
            setters[name] = setter
            parts.append(f"(?P<{name}>{regex})")
    return _CompiledPattern(re.compile("".join(parts), re.ASCII), setters)


def _parse_pattern(
    text: str, compiled: _CompiledPattern, default_zone: tzinfo, locale: _Locale, now: Callable[[], datetime]
) -> datetime:
    match = compiled.regex.fullmatch(text)
    if match is None:
        raise ValueError("text does not match the pattern")
    fields = _Fields()
    for name, setter in compiled.setters.items():
        value = match[name]
        if value is not None:
            setter(value, fields)
    return _resolve(fields, default_zone, locale, now)


# --- named formats ---------------------------------------------------------------------------

# FormatNames.java: every built-in name. The ones below the first set are real Elasticsearch
# formats this engine does not implement; they are refused rather than read as patterns.
_SUPPORTED_NAMES = {
    "iso8601",
    "strict_date_optional_time",
    "strict_date_optional_time_nanos",
    "date_optional_time",
    "epoch_millis",
    "epoch_second",
}
_OTHER_NAMES = {
    "rfc3339_lenient", "basic_date", "basic_date_time", "basic_date_time_no_millis", "basic_ordinal_date",
    "basic_ordinal_date_time", "basic_ordinal_date_time_no_millis", "basic_time", "basic_time_no_millis",
    "basic_t_time", "basic_t_time_no_millis", "basic_week_date", "basic_week_date_time",
    "basic_week_date_time_no_millis", "date", "date_hour", "date_hour_minute", "date_hour_minute_second",
    "date_hour_minute_second_fraction", "date_hour_minute_second_millis", "date_time", "date_time_no_millis",
    "hour", "hour_minute", "hour_minute_second", "hour_minute_second_fraction", "hour_minute_second_millis",
    "ordinal_date", "ordinal_date_time", "ordinal_date_time_no_millis", "time", "time_no_millis", "t_time",
    "t_time_no_millis", "week_date", "week_date_time", "week_date_time_no_millis", "weekyear", "weekyear_week",
    "weekyear_week_day", "year", "year_month", "year_month_day", "strict_basic_week_date",
    "strict_basic_week_date_time", "strict_basic_week_date_time_no_millis", "strict_date", "strict_date_hour",
    "strict_date_hour_minute", "strict_date_hour_minute_second", "strict_date_hour_minute_second_fraction",
    "strict_date_hour_minute_second_millis", "strict_date_time", "strict_date_time_no_millis", "strict_hour",
    "strict_hour_minute", "strict_hour_minute_second", "strict_hour_minute_second_fraction",
    "strict_hour_minute_second_millis", "strict_ordinal_date", "strict_ordinal_date_time",
    "strict_ordinal_date_time_no_millis", "strict_time", "strict_time_no_millis", "strict_t_time",
    "strict_t_time_no_millis", "strict_week_date", "strict_week_date_time", "strict_week_date_time_no_millis",
    "strict_weekyear", "strict_weekyear_week", "strict_weekyear_week_day", "strict_year", "strict_year_month",
    "strict_year_month_day", "epoch_micros",
}  # fmt: skip


_Parse = Callable[[str], datetime]


def _named_parser(name: str, zone: tzinfo) -> _Parse:
    if name in ("iso8601", "strict_date_optional_time"):
        return lambda text: _parse_iso(text, zone)
    if name == "strict_date_optional_time_nanos":
        return lambda text: _parse_iso(text, zone, time_needs_seconds=True)
    if name == "date_optional_time":
        return lambda text: _parse_date_optional_time(text, zone)
    if name == "epoch_millis":
        return lambda text: _parse_epoch(text, zone, millis=True)
    return lambda text: _parse_epoch(text, zone, millis=False)


def _java_parsers(format_: str, zone: tzinfo, locale: _Locale, now: Callable[[], datetime]) -> list[_Parse]:
    """DateFormatter.forPattern(format): "||"-separated named formats or patterns."""
    parsers: list[_Parse] = []
    for part in format_.split("||"):
        if part in _SUPPORTED_NAMES:
            parsers.append(_named_parser(part, zone))
        elif part in _OTHER_NAMES:
            raise DateFormatError(f"the named date format [{part}] is not supported by this engine")
        else:
            if not part:
                raise DateFormatError(f"Invalid format: [{format_}]: empty pattern")
            try:
                compiled = _compile(part, locale)
            except DateFormatError as error:
                raise DateFormatError(f"Invalid format: [{format_}]: {error}") from None
            parsers.append(lambda text, c=compiled: _parse_pattern(text, c, zone, locale, now))
    return parsers


# --- the processor's special formats --------------------------------------------------------


def _java_long(value: float) -> int:
    """Java's (long) cast of a double: truncation, NaN to 0, saturation at the ends."""
    if value != value:
        return 0
    if value >= 2**63:
        return _LONG_MAX
    if value <= -(2**63):
        return _LONG_MIN
    return int(value)


def _wrap_long(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


def _java_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def _from_millis(millis: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=millis)


def _parse_unix(text: str) -> datetime:
    return _from_millis(_java_long(java_parse_double(text) * 1000.0))


def _parse_unix_ms(text: str) -> datetime:
    return _from_millis(java_parse_integer(text, 10, 64))


def _parse_tai64n(text: str) -> datetime:
    if text.startswith("@"):
        text = text[1:]
    if len(text) < 24:
        raise ValueError("TAI64N needs 24 hex digits")
    base = java_parse_integer(text[1:16], 16, 64)
    rest = java_parse_integer(text[16:24], 16, 64)
    return _from_millis(_wrap_long(base * 1000 - 10000 + _java_div(rest, 1_000_000)))


class DateParser:
    """The date processor's parsing for one (formats, timezone, locale).

    `parse(value)` tries the formats in order and returns the first result as an aware
    datetime in `timezone`; a value that is not a string is printed as Java would first
    (1466000000 -> "1466000000", 1.5 -> "1.5"). Raises DateParseError when no format parses
    it. Bad patterns, zones and locales raise DateFormatError here, when the parser is made.
    (Elasticsearch itself checks only output_format when the pipeline is created; a bad
    input format or zone fails each document with "unable to parse date [...]" instead.)

    `now` gives the current time for patterns without a year (the year is taken from it, in
    UTC); it defaults to the real clock.
    """

    def __init__(
        self,
        formats: list[str],
        timezone: str = "UTC",
        locale: str = "ENGLISH",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if isinstance(formats, str) or not formats:
            raise DateFormatError("[formats] a non-empty list of formats is required")
        try:
            self.timezone: tzinfo = zone_of(timezone)
        except ValueError as error:
            raise DateFormatError(f"Unknown time-zone ID: {timezone}") from error
        self.locale = _parse_locale(locale)
        self.formats = list(formats)
        self._now = now or _utc_now
        self._parsers: list[_Parse] = []
        for format_ in self.formats:
            if not isinstance(format_, str):
                raise DateFormatError(f"[formats] every format must be a string, got [{format_!r}]")
            self._parsers.extend(self._parsers_for(format_))

    def _parsers_for(self, format_: str) -> list[_Parse]:
        zone = self.timezone
        if format_ == "ISO8601":
            return [lambda text: _parse_iso(text, zone)]
        if format_ == "UNIX":
            return [_parse_unix]
        if format_ == "UNIX_MS":
            return [_parse_unix_ms]
        if format_ == "TAI64N":
            return [_parse_tai64n]
        pattern = format_[1:] if format_.startswith("8") else format_  # 6.x "8" prefix
        return _java_parsers(pattern, zone, self.locale, self._now)

    def parse(self, value: Any) -> datetime:
        text = None if value is None else java_str(value)
        if text is None:
            raise DateParseError("unable to parse date [null]")
        last: Exception | None = None
        for parser in self._parsers:
            try:
                # Through UTC, so a local time in a DST gap is normalised (Python keeps it).
                return parser(text).astimezone(UTC).astimezone(self.timezone)
            except (ValueError, OverflowError, KeyError, IndexError) as error:
                last = error
        raise DateParseError(f"unable to parse date [{text}]") from last


# --- printing --------------------------------------------------------------------------------


def _pad(value: int, width: int) -> str:
    return f"{value:0{width}d}" if value >= 0 else "-" + f"{-value:0{width}d}"


def _offset_text(seconds: int, style: str, zero: str) -> str:
    """OffsetIdPrinterParser's output for one of the +HH... styles."""
    if seconds == 0:
        return zero
    sign = "+" if seconds > 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    colon = ":" if ":" in style else ""
    out = f"{sign}{hours:02d}"
    if style == "+HHmm":
        return out + (f"{minutes:02d}" if minutes or secs else "")
    out += f"{colon}{minutes:02d}"
    if style.endswith("ss") and secs:
        out += f"{colon}{secs:02d}"
    return out


def _localized_offset_text(seconds: int, full: bool) -> str:
    if seconds == 0:
        return "GMT"
    sign = "+" if seconds > 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if full:
        return f"GMT{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")
    text = f"GMT{sign}{hours}"
    if minutes or secs:
        text += f":{minutes:02d}" + (f":{secs:02d}" if secs else "")
    return text


def _zone_name(dt: datetime) -> str:
    tz = dt.tzinfo
    if isinstance(tz, FixedZone):
        return tz.zone_id
    name = dt.tzname() or zone_id(tz)
    if name[:1] in "+-":  # tzdata has no abbreviation: Java writes a GMT offset
        return _localized_offset_text(int(dt.utcoffset().total_seconds()), True)  # type: ignore[union-attr]
    return name


def _print_field(token: _Token, dt: datetime) -> str:  # noqa: C901, PLR0911 - one case per pattern letter
    letter, count = token.letter, token.count
    offset = int(dt.utcoffset().total_seconds())  # type: ignore[union-attr]
    if letter in "uyY":
        year = dt.year
        if letter == "Y":
            year = _week_fields(dt, (1, 4))[0]
        if count == 2:
            return f"{year % 100:02d}"
        text = _pad(year, count)
        return "+" + text if count >= 4 and len(str(abs(year))) > count else text
    if letter == "G":
        return {4: "Anno Domini", 5: "A"}.get(count, "AD")
    if letter in "ML":
        if count <= 2:
            return _pad(dt.month, count)
        return (_MONTHS_SHORT if count == 3 else _MONTHS)[dt.month - 1]
    if letter == "E":
        return (_DAYS_SHORT if count <= 3 else _DAYS)[dt.weekday()]
    if letter == "D":
        return _pad(dt.timetuple().tm_yday, count)
    if letter == "w":
        return _pad(_week_fields(dt, (1, 4))[1], count)
    if letter == "d":
        return _pad(dt.day, count)
    if letter == "H":
        return _pad(dt.hour, count)
    if letter == "h":
        return _pad(dt.hour % 12 or 12, count)
    if letter == "K":
        return _pad(dt.hour % 12, count)
    if letter == "k":
        return _pad(dt.hour or 24, count)
    if letter == "m":
        return _pad(dt.minute, count)
    if letter == "s":
        return _pad(dt.second, count)
    if letter == "S":
        return f"{dt.microsecond * 1000:09d}"[:count]
    if letter == "a":
        return "AM" if dt.hour < 12 else "PM"
    if letter == "V":
        return zone_id(dt.tzinfo)
    if letter == "z":
        return _zone_name(dt)
    if letter == "O":
        return _localized_offset_text(offset, count == 4)
    if letter == "Z":
        if count <= 3:
            return _offset_text(offset, "+HHMM", "+0000")
        if count == 4:
            return _localized_offset_text(offset, True)
        return _offset_text(offset, "+HH:MM:ss", "Z")
    style = _X_PATTERNS[count]
    return _offset_text(offset, style, "Z" if letter == "X" else _X_ZERO[count])


def _week_fields(dt: datetime, rules: tuple[int, int]) -> tuple[int, int]:
    """(week-based year, week of it) of a date under the given week rules."""
    day = dt.date()
    for year in (day.year + 1, day.year, day.year - 1):
        start = _week_date(year, 1, rules)
        if day >= start:
            return year, (day - start).days // 7 + 1
    raise ValueError("date out of range")


def _fraction_text(nanos: int, minimum: int, maximum: int) -> str:
    """appendFraction(NANO_OF_SECOND, minimum, maximum, true): '.' and trimmed digits."""
    digits = f"{nanos:09d}"[:maximum].rstrip("0")
    digits = digits.ljust(minimum, "0")
    return "." + digits if digits else ""


def _print_named(name: str, dt: datetime) -> str:
    nanos = dt.microsecond * 1000
    if name == "epoch_millis":
        delta = dt - _EPOCH
        total = (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        millis, nano_of_milli = divmod(abs(total), 1_000_000)
        sign = "-" if total < 0 else ""
        return f"{sign}{millis}" + (_fraction_text(nano_of_milli * 1000, 0, 6) if nano_of_milli else "")
    if name == "epoch_second":
        delta = dt - _EPOCH
        total = (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        seconds, nano_of_second = divmod(abs(total), 1_000_000_000)
        sign = "-" if total < 0 else ""
        return f"{sign}{seconds}" + (_fraction_text(nano_of_second, 0, 9) if nano_of_second else "")
    offset = int(dt.utcoffset().total_seconds())  # type: ignore[union-attr]
    fraction = _fraction_text(nanos, 3, 9) if name == "strict_date_optional_time_nanos" else f".{nanos:09d}"[:4]
    year = _pad(dt.year, 4)
    return (
        f"{year}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}{fraction}"
        + _offset_text(offset, "+HH:MM", "Z")
    )


@lru_cache(maxsize=64)
def _printer(output_format: str) -> Callable[[datetime], str]:
    first = output_format.split("||")[0]  # a "||" formatter prints with its first format
    if first in _SUPPORTED_NAMES:
        return lambda dt: _print_named(first, dt)
    if first in _OTHER_NAMES:
        raise DateFormatError(f"invalid output format [{output_format}]: [{first}] is not supported by this engine")
    if not first:
        raise DateFormatError(f"invalid output format [{output_format}]")
    try:
        tokens = [t for t in _tokenize(first) if t.kind in ("field", "literal")]
    except DateFormatError as error:
        raise DateFormatError(f"invalid output format [{output_format}]: {error}") from None

    def render(dt: datetime) -> str:
        return "".join(t.text if t.kind == "literal" else _print_field(t, dt) for t in tokens)

    return render


def format_date(dt: datetime, output_format: str = DEFAULT_OUTPUT_FORMAT) -> str:
    """Print an aware datetime with a Java pattern or a named format, as the processor does.

    The default pattern gives "2016-06-12T17:00:00.000Z" in UTC (XXX writes Z for a zero
    offset) and "2016-06-12T19:00:00.000+02:00" elsewhere. Raises DateFormatError for a
    pattern Elasticsearch would refuse ("invalid output format [...]").
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_date needs an aware datetime")
    return _printer(output_format)(dt)
