"""Event times as Elasticsearch's `date` type holds them: whole epoch milliseconds.

`@timestamp` is mapped as `date` (ecs_mappings/ecs.yml), whose doc values keep
milliseconds: a microsecond timestamp is truncated when indexed, and every range filter,
sort and min/max aggregation Kibana's rules run works on that truncated value. Parsing
to an int once also makes the per-window bisects and comparisons cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import WgsiemError

_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_MS_PER_DAY = 86_400_000
# Day → its first epoch ms, for the fast path (a replay spans few days).
_DAYS: dict[str, int] = {}
_DIGITS = frozenset("0123456789")


class TimestampError(WgsiemError):
    """A `@timestamp` Elasticsearch would not index as a date."""


def parse_ms(value: Any) -> int:
    """ISO 8601 (any fraction, `Z` or an offset; none means UTC, as Elasticsearch reads
    it) or epoch milliseconds (the `date` type's other default format) → epoch ms."""
    if type(value) is str and len(value) == 24 and value[23] == "Z":
        # The shipper's own form, 2026-11-22T10:00:00.123Z: slice it instead of parsing.
        day = _DAYS.get(value[:10])
        if day is None and value[4] == "-" and value[7] == "-" and _DIGITS.issuperset(value[:4] + value[5:7] + value[8:10]):
            try:
                day = _DAYS[value[:10]] = datetime_ms(datetime.fromisoformat(value[:10]))
            except ValueError:
                day = None
        clock = value[11:13] + value[14:16] + value[17:19] + value[20:23]
        if day is not None and value[10] == "T" and value[13] == ":" and value[16] == ":" and value[19] == "." and _DIGITS.issuperset(clock):
            hours, minutes, seconds = int(clock[:2]), int(clock[2:4]), int(clock[4:6])
            if hours < 24 and minutes < 60 and seconds < 60:
                return day + ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(clock[6:])
    if isinstance(value, bool) or value is None:
        raise TimestampError(f"{value!r} is not a date")
    if isinstance(value, (int, float)):
        return int(value // 1)
    if not isinstance(value, str):
        raise TimestampError(f"a {type(value).__name__} is not a date")
    text = value.strip()
    if text.isdigit():
        return int(text)
    # fromisoformat would also take a space for the `T`; strict_date_optional_time does not.
    if len(text) > 10 and text[10] != "T":
        raise TimestampError(f"{value!r} is not an ISO 8601 date")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimestampError(f"{value!r} is not an ISO 8601 date") from None
    return datetime_ms(moment)


def parse_ms_or_none(value: Any) -> int | None:
    """parse_ms, or None for a value Elasticsearch would not index as a date (a document
    without a usable time is then left out, as a range filter leaves it out)."""
    try:
        return parse_ms(value)
    except TimestampError:
        return None


def datetime_ms(moment: datetime) -> int:
    days = moment.toordinal() - _EPOCH_ORDINAL
    ms = days * _MS_PER_DAY + ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1000 + moment.microsecond // 1000
    offset = moment.utcoffset()
    if offset:
        ms -= offset // timedelta(milliseconds=1)
    return ms


def ms_datetime(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def iso(ms: int) -> str:
    """JavaScript's `Date.prototype.toISOString`: what Kibana writes for every time."""
    return ms_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timedelta_ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)
