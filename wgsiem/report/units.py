"""Numbers as a person reads them in the report: bytes, durations, times."""

from __future__ import annotations

from datetime import UTC, datetime


def human_bytes(value: float | None) -> str:
    """1536 -> '1.5 KiB'."""
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_duration(ms: int | None) -> str:
    """93_000 -> '1m 33s'; None (still open) -> 'open'."""
    if ms is None:
        return "open"
    seconds = ms // 1000
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes) + [f"{seconds}s"] * bool(seconds)
    return " ".join(parts[:2]) or "0s"


def time_text(ms: int | None) -> str:
    """An epoch-ms time in UTC as '2026-10-08 10:00:00 UTC'."""
    if ms is None:
        return "–"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
