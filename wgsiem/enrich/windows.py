"""Change windows: when configuration changes are expected (the peer registry's
`change_windows`). A configuration event says whether it fell inside one, so a rule can
ask for the changes made outside.

    change_windows:
      - {days: [tue, thu], start: "18:00", end: "20:00", timezone: Europe/Amsterdam}

`days` are the days a window opens (all days when left out); a window whose end is
before its start runs past midnight into the next day. Times are wall-clock times in the
window's time zone (UTC when left out), so a window keeps its hours across daylight
saving changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import WgsiemError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class WindowError(WgsiemError):
    """A change window the registry cannot use; the message names the file, window and key."""


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    days: tuple[int, ...]  # 0 = Monday, as datetime.weekday()
    start: int  # minutes after midnight
    end: int
    zone: tzinfo
    timezone: str

    def contains(self, seconds: float) -> bool:
        local = datetime.fromtimestamp(seconds, UTC).astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= minute < self.end
        # Past midnight: the evening part on an opening day, the morning part the day after.
        opened = local.weekday() in self.days and minute >= self.start
        yesterday = (local - timedelta(days=1)).weekday()
        return opened or (yesterday in self.days and minute < self.end)


def parse_windows(raw: Any, source: str, lines: Sequence[int | None] = ()) -> tuple[ChangeWindow, ...]:  # noqa: ANN401 - YAML or TOML data
    """The windows of a `change_windows` list; `lines`: where each window is written, when known."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WindowError(f"{source}: change_windows: expected a list of windows")

    def where(i: int) -> str:
        line = lines[i] if i < len(lines) else None
        return f"{source}{f':{line}' if line else ''}: change_windows[{i}]"

    return tuple(_window(item, where(i)) for i, item in enumerate(raw))


def _window(item: Any, where: str) -> ChangeWindow:  # noqa: ANN401
    if not isinstance(item, dict):
        raise WindowError(f"{where}: expected a table with start and end")
    unknown = sorted(set(item) - {"days", "start", "end", "timezone"})
    if unknown:
        raise WindowError(f"{where}: unknown key {unknown[0]!r} (days, start, end, timezone)")
    days = item.get("days", list(DAYS))
    if not isinstance(days, list) or not days:
        raise WindowError(f"{where}: days: expected a list such as [mon, tue]")
    numbers = []
    for day in days:
        if not isinstance(day, str) or day.lower()[:3] not in DAYS:
            raise WindowError(f"{where}: days: {day!r} is not a day (mon ... sun)")
        numbers.append(DAYS.index(day.lower()[:3]))
    times = []
    for key in ("start", "end"):
        value = item.get(key)
        m = _TIME.fullmatch(value) if isinstance(value, str) else None
        if m is None:
            raise WindowError(f"{where}: {key}: expected a time as \"HH:MM\" (24-hour), got {value!r}")
        times.append(int(m[1]) * 60 + int(m[2]))
    name = item.get("timezone", "UTC")
    try:
        zone: tzinfo = UTC if name == "UTC" else ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"{where}: timezone: {name!r} is not an IANA time zone (Europe/Amsterdam, UTC)") from None
    if times[0] == times[1]:
        raise WindowError(f"{where}: start and end are the same time: the window would be empty")
    return ChangeWindow(tuple(sorted(set(numbers))), times[0], times[1], zone, str(name))
