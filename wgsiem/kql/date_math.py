"""Dates as a `date` field reads them: strict_date_optional_time||epoch_millis and date math.

Instants are integers: epoch milliseconds for `date`, epoch nanoseconds for `date_nanos`.

- Parsing follows Elasticsearch's Iso8601Parser: `yyyy[-MM[-dd[T[HH[:mm[:ss[.f{1,9}]]]]]]]`
  with a zone (`Z`, `+HH`, `+HHmm`, `+HH:mm`, `+HH:mm:ss` or a region id) allowed after
  the hour; `,` may stand for `.`. No zone means the query's time zone (UTC: Kibana sends
  `time_zone: Zulu`). Whatever that does not read, epoch_millis may (`-`digits, optional
  `.` and up to six more digits); so `2024` is a year and `20240101` is milliseconds.
- "Round up" parsing (the upper end of an inclusive range, the lower end of an exclusive
  one) fills missing fields the way JavaDateFormatter's ROUND_UP_BASE_FIELDS does: month
  and day 1, hour 23, minute 59, second 59, nanoseconds 999,999,999. `lte 2024-03-05`
  therefore covers the whole day, while `lte 2024-03` covers 2024-03-01 only.
- Date math (JavaDateMathParser): `now` or `<date>||`, then `+N<unit>`, `-N<unit>`,
  `/<unit>` with units y M w d h H m s, in UTC; rounding up goes to the unit's last
  millisecond.
- A field mapped by date detection from a value like `2015/09/02` has the format
  SLASH_DATE_FORMAT instead (`date_format=`): `yyyy/MM/dd HH:mm:ss`, `yyyy/MM/dd`, then
  epoch_millis, in UTC; `dynamic_date_format` tells which format detection gives a string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from ..errors import WgsiemError

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - zoneinfo is in the standard library from 3.9
    ZoneInfo = None  # type: ignore[assignment,misc]

NANOS_PER_MILLI = 1_000_000
NANOS_PER_SECOND = 1_000_000_000
ROUND_UP_DEFAULTS = (1, 1, 23, 59, 59, 999_999_999)
DOWN_DEFAULTS = (1, 1, 0, 0, 0, 0)

_EPOCH_MILLIS = re.compile(r"(-)?(\d{1,19})(?:\.(\d{1,6}))?", re.ASCII)
_DIGITS = re.compile(r"\d+", re.ASCII)


class DateMathError(WgsiemError):
    pass


# The second of Elasticsearch's default dynamic_date_formats (RootObjectMapper.Defaults;
# the reference writes `yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z`, the code has no zone): the
# format of a field date detection created from a value like `2015/09/02`.
SLASH_DATE_FORMAT = "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"
DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"


def format_name(es_type: str, date_format: str | None = None) -> str:
    if date_format is not None:
        return date_format
    return "strict_date_optional_time_nanos||epoch_millis" if es_type == "date_nanos" else DEFAULT_DATE_FORMAT


def dynamic_date_format(text: str) -> str | None:
    """The format date detection maps a new string field with (DynamicFieldsBuilder: the first
    of dynamic_date_formats that parses it), None when it is no date. Callers leave out
    strings Java reads as a number, as Elasticsearch does before trying dates."""
    if _iso(text, DOWN_DEFAULTS) is not None:
        return DEFAULT_DATE_FORMAT
    if _slash(text, DOWN_DEFAULTS) is not None:
        return SLASH_DATE_FORMAT
    return None


def parse_date(text: str, es_type: str, *, round_up: bool = False, date_format: str | None = None) -> int:
    """A date string (no math) as the field's instant (ms, or ns for date_nanos)."""
    nanos = _parse_nanos(text, round_up, date_format)
    if nanos is None:
        raise DateMathError(
            f"failed to parse date field [{text}] with format [{format_name(es_type, date_format)}]"
        )
    return _to_resolution(nanos, es_type, text)


def parse_date_math(text: str, es_type: str, *, now_ms: int, round_up: bool, date_format: str | None = None) -> int:
    """A range bound: a date, `now` or `<date>||` followed by date math."""
    if text.startswith("now"):
        nanos = now_ms * NANOS_PER_MILLI
        math = text[3:]
    else:
        index = text.find("||")
        if index == -1:
            return parse_date(text, es_type, round_up=round_up, date_format=date_format)
        base = _parse_nanos(text[:index], False, date_format)
        if base is None:
            raise DateMathError(f"failed to parse date field [{text[:index]}] with format [{format_name(es_type, date_format)}]")
        nanos = base
        math = text[index + 2 :]
    return _to_resolution(_apply_math(math, nanos, round_up), es_type, text)


def doc_date(value: object, es_type: str, date_format: str | None = None) -> int | None:
    """A document's date value as indexed, None if Elasticsearch would reject it."""
    cls = value.__class__
    if cls is str:
        text = value
    elif cls is int:
        text = str(value)
    elif cls is float:
        text = repr(value)
    else:
        return None
    nanos = _parse_nanos(text, False, date_format)
    if nanos is None:
        return None
    try:
        return _to_resolution(nanos, es_type, text)
    except DateMathError:
        return None


def _to_resolution(nanos: int, es_type: str, text: str) -> int:
    if es_type == "date_nanos":
        if not 0 <= nanos <= 9223372036854775807:
            raise DateMathError(f"date[{text}] is outside the range date_nanos can hold (1970 to 2262)")
        return nanos
    return nanos // NANOS_PER_MILLI  # Instant.toEpochMilli floors


# -- ISO 8601 ------------------------------------------------------------------------------


def _parse_nanos(text: str, round_up: bool, date_format: str | None = None) -> int | None:
    if not text:
        return None
    defaults = ROUND_UP_DEFAULTS if round_up else DOWN_DEFAULTS
    result = _slash(text, defaults) if date_format == SLASH_DATE_FORMAT else _iso(text, defaults)
    if result is not None:
        return result
    m = _EPOCH_MILLIS.fullmatch(text)
    if m is None:
        return None
    millis = int(m.group(2))
    fraction = m.group(3)
    sub = int(fraction.ljust(6, "0")) if fraction else (999_999 if round_up else 0)
    total = millis * NANOS_PER_MILLI + sub
    return -total if m.group(1) else total


def _iso(text: str, defaults: tuple[int, ...]) -> int | None:  # noqa: C901, PLR0911, PLR0912 - Iso8601Parser, field by field
    """Iso8601Parser.tryParse, step by step: each field at its fixed place, the string may
    stop after any of them, and a zone may follow the hour, minute, second or fraction."""
    negative = text.startswith("-")
    s = text[1:] if negative else text
    n = len(s)
    month = day = hour = minute = second = nanos = None
    zone = None
    year = _int(s, 0, 4)
    if year is None:
        return None
    while True:  # a block to break out of once the string is used up
        if n == 4:
            break
        if s[4] != "-" or (month := _int(s, 5, 7)) is None or month > 12:
            return None
        if n == 7:
            break
        if s[7] != "-" or (day := _int(s, 8, 10)) is None or day > 31:
            return None
        if n == 10:
            break
        if s[10] != "T":
            return None
        if n == 11:
            break
        if (hour := _int(s, 11, 13)) is None or hour > 23:
            return None
        if n == 13:
            break
        if _zone_start(s, 13):
            zone = _zone(s[13:])
            break
        if s[13] != ":" or (minute := _int(s, 14, 16)) is None or minute > 59:
            return None
        if n == 16:
            break
        if _zone_start(s, 16):
            zone = _zone(s[16:])
            break
        if s[16] != ":" or (second := _int(s, 17, 19)) is None or second > 59:
            return None
        if n == 19:
            break
        if _zone_start(s, 19):
            zone = _zone(s[19:])
            break
        if s[19] not in ".,":
            return None
        pos = 20
        while pos < n and pos < 29 and "0" <= s[pos] <= "9":
            pos += 1
        if pos == 20:
            return None
        nanos = int(s[20:pos].ljust(9, "0"))
        if pos == n:
            break
        if _zone_start(s, pos):
            zone = _zone(s[pos:])
            break
        return None
    if zone is False:
        return None
    if negative:
        year = -year
    fields = (month, day, hour, minute, second, nanos)
    month, day, hour, minute, second, nanos = (f if f is not None else d for f, d in zip(fields, defaults, strict=False))
    if month < 1 or day < 1 or day > _days_in_month(year, month):
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if zone is not None:
        offset = zone(seconds)
        if offset is None:
            return None
        seconds -= offset
    return seconds * NANOS_PER_SECOND + nanos


# java.time's `yyyy/MM/dd[ HH:mm:ss]`: a year of 4 or more digits, the rest exactly 2.
_SLASH = re.compile(r"(\d{4,19})/(\d\d)/(\d\d)(?: (\d\d):(\d\d):(\d\d))?", re.ASCII)


def _slash(text: str, defaults: tuple[int, ...]) -> int | None:
    """`yyyy/MM/dd HH:mm:ss||yyyy/MM/dd` with a strict resolver, in UTC (no zone in the pattern)."""
    m = _SLASH.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not 1 <= year <= 999_999_999 or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    if m[4] is None:
        hour, minute, second = defaults[2:5]
    else:
        hour, minute, second = int(m[4]), int(m[5]), int(m[6])
        if hour > 23 or minute > 59 or second > 59:
            return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return seconds * NANOS_PER_SECOND + defaults[5]


def _int(s: str, start: int, end: int) -> int | None:
    chunk = s[start:end]
    if len(chunk) != end - start or not chunk.isascii() or not chunk.isdigit():
        return None
    return int(chunk)


def _zone_start(s: str, pos: int) -> bool:
    c = s[pos]
    return c in "+-" or ("A" <= c <= "Z") or ("a" <= c <= "z")


# A zone: local epoch seconds → its UTC offset in seconds (None where it cannot say).
ZoneOffset = Callable[[int], int | None]


def _zone(text: str) -> ZoneOffset | Literal[False]:
    """A function from local epoch seconds to the zone's UTC offset in seconds, or False
    when the text is no zone Elasticsearch knows."""
    if text == "Z":
        return lambda local: 0
    if text[0] in "+-":
        offset = _offset(text[1:])
        if offset is None:
            return False
        offset = offset if text[0] == "+" else -offset
        return lambda local: offset
    return _region(text) or False


def _offset(text: str) -> int | None:
    """Iso8601Parser.parseZoneId after the sign: HH, then optionally [:]mm, then [:]ss, the
    same separator both times."""
    m = re.fullmatch(r"(\d\d)(?:(:?)(\d\d)(?:(:?)(\d\d))?)?", text, re.ASCII)
    if m is None or (m.group(5) is not None and m.group(2) != m.group(4)):
        return None
    total = int(m.group(1)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(5) or 0)
    return total if total <= 18 * 3600 else None


def _region(text: str) -> ZoneOffset | None:
    """ZoneId.of for names: UTC/GMT/UT with an optional offset, or a tz database region."""
    for prefix in ("UTC", "GMT", "UT"):
        if text == prefix:
            return lambda local: 0
        if text.startswith(prefix) and text[len(prefix)] in "+-":
            rest = text[len(prefix) + 1 :]
            m = re.fullmatch(r"(\d{1,2})(?::?(\d\d))?(?::?(\d\d))?", rest, re.ASCII)
            if m is None:
                return None
            hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
            total = hours * 3600 + minutes * 60 + seconds
            if total > 18 * 3600:
                return None
            total = total if text[len(prefix)] == "+" else -total
            return lambda local: total
    if ZoneInfo is None or not re.fullmatch(r"[A-Za-z][A-Za-z0-9~/._+-]+", text):
        return None
    try:
        zone = ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None

    def offset(local: int) -> int | None:
        try:
            naive = datetime(1970, 1, 1) + timedelta(seconds=local)
        except OverflowError:
            return None
        # java.time resolves a local time in a gap forward and an overlap to the earlier offset.
        delta = naive.replace(tzinfo=zone, fold=0).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    return offset


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (any year)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


# -- date math -----------------------------------------------------------------------------

_UNIT_NANOS = {"w": 7 * 86400 * NANOS_PER_SECOND, "d": 86400 * NANOS_PER_SECOND, "h": 3600 * NANOS_PER_SECOND,
               "H": 3600 * NANOS_PER_SECOND, "m": 60 * NANOS_PER_SECOND, "s": NANOS_PER_SECOND}  # fmt: skip


def _apply_math(math: str, nanos: int, round_up: bool) -> int:
    i = 0
    n = len(math)
    while i < n:
        c = math[i]
        i += 1
        if c == "/":
            rounding, sign = True, 1
        elif c in "+-":
            rounding, sign = False, 1 if c == "+" else -1
        else:
            raise DateMathError(f"operator not supported for date math [{math}]")
        if i >= n:
            raise DateMathError(f"truncated date math [{math}]")
        num = 1
        if math[i].isdigit():
            start = i
            while i < n and math[i].isdigit():
                i += 1
            if i >= n:
                raise DateMathError(f"truncated date math [{math}]")
            num = int(math[start:i])
        if rounding and num != 1:
            raise DateMathError(f"rounding `/` can only be used on single unit types [{math}]")
        unit = math[i]
        i += 1
        if unit not in "yMwdhHms":
            raise DateMathError(f"unit [{unit}] not supported for date math [{math}]")
        if rounding:
            nanos = _round(nanos, unit)
            if round_up:
                nanos = _plus(nanos, unit, 1) - NANOS_PER_MILLI
        else:
            nanos = _plus(nanos, unit, sign * num)
    return nanos


def _split(nanos: int) -> tuple[int, int, int, int]:
    days, rest = divmod(nanos, 86400 * NANOS_PER_SECOND)
    y, m, d = _civil_from_days(days)
    return y, m, d, rest


def _plus(nanos: int, unit: str, amount: int) -> int:
    if unit in ("y", "M"):
        y, m, d, rest = _split(nanos)
        months = y * 12 + (m - 1) + (amount * 12 if unit == "y" else amount)
        y, m = divmod(months, 12)
        m += 1
        d = min(d, _days_in_month(y, m))  # plusMonths clamps to the month's last day
        return _days_from_civil(y, m, d) * 86400 * NANOS_PER_SECOND + rest
    return nanos + amount * _UNIT_NANOS[unit]


def _round(nanos: int, unit: str) -> int:
    y, m, d, rest = _split(nanos)
    day = _days_from_civil(y, m, d)
    if unit == "y":
        return _days_from_civil(y, 1, 1) * 86400 * NANOS_PER_SECOND
    if unit == "M":
        return _days_from_civil(y, m, 1) * 86400 * NANOS_PER_SECOND
    if unit == "w":
        monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
        return monday * 86400 * NANOS_PER_SECOND
    size = {"d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}[unit] * NANOS_PER_SECOND
    return day * 86400 * NANOS_PER_SECOND + rest - rest % size


def now_millis(now: datetime | None) -> int:
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
