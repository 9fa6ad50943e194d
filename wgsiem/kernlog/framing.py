"""Unwrap one kernel or wg-quick log line from the framing it came in.

WireGuard's kernel messages and wg-quick's output reach us as `journalctl -o json`
records, dmesg text (`[   12.345678] ...`, `dmesg -T`), journald/syslog "short" text
(`Nov 22 00:17:43 vpn1 kernel: ...`, with or without the printk time rsyslog's kern.log
keeps), the ISO variants of it (`2026-11-22T00:17:43.123456+00:00 vpn1 kernel: ...`),
or bare. `frame()` detects the framing per line and returns what it says; the message
text itself is left exactly as it was for the message parser. It never raises: a line
that is not recognised as a framing is a bare line.
"""

from __future__ import annotations

import datetime as _dt
import re
import time as _time
from dataclasses import dataclass, fields, make_dataclass

import orjson

UTC = _dt.UTC


@dataclass(frozen=True, slots=True)
class LogRecord:
    """What one line's framing says; `message` is the text after it, untouched."""

    original: str  # the line exactly as read, without its line ending -> event.original
    message: str  # the text after the framing
    time: float | None  # unix seconds UTC, when the framing carries a wall-clock time
    monotonic: float | None  # printk seconds since boot ("[   12.345678]")
    host: str | None
    program: str | None  # "kernel", "wg-quick", ...: the syslog tag without [pid]
    pid: int | None
    cursor: str | None  # journald __CURSOR (json framing only)


# The frozen dataclass's generated __init__ (object.__setattr__ per field) costs about
# as much as parsing a journald record: records are built as a mutable twin with the
# same slots, then given their real class, about four times faster.
_Twin = make_dataclass("_Twin", [(f.name, f.type) for f in fields(LogRecord)], slots=True)


def _record(
    original: str,
    message: str,
    time: float | None,
    monotonic: float | None,
    host: str | None,
    program: str | None,
    pid: int | None,
    cursor: str | None,
) -> LogRecord:
    record = _Twin(original, message, time, monotonic, host, program, pid, cursor)
    record.__class__ = LogRecord
    return record  # type: ignore[no-any-return]  # a _Twin, now of class LogRecord


_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_MON = "(" + "|".join(_MONTHS) + ")"
# journalctl writes "%b %d" (Nov 02), rsyslog's traditional format "%b %e" (Nov  2).
_DAY = r"([ 0-3]?\d)"
_HMS = r"(\d\d):(\d\d):(\d\d)(\.\d{1,9})?"
# Host, tag and [pid]. The host is optional (`journalctl --no-hostname`); it cannot end
# in ':', so a host-less "kernel: wireguard: ..." is not read as host "kernel:".
_TAIL = r" (?:(\S*[^\s:]) )?([^\s\[\]:]+)(?:\[(\d+)\])?: ?(.*)"

# ASCII: \d must not take other scripts' digits; DOTALL: a message may hold any character.
_FLAGS = re.DOTALL | re.ASCII
_SHORT = re.compile(_MON + " " + _DAY + " " + _HMS + _TAIL, _FLAGS)
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T" + _HMS + r"(Z|[+-]\d\d:?\d\d)?" + _TAIL, _FLAGS)
_DMESG = re.compile(r"\[ *(\d+\.\d+)\] ?(.*)", _FLAGS)
_DMESG_T = re.compile(r"\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MON + " " + _DAY + " " + _HMS + r" (\d{4})\] ?(.*)", _FLAGS)
_PRINTK = re.compile(r"\[ *(\d+\.\d+)\] ?", _FLAGS)
_MONTH_INITIALS = frozenset(m[0] for m in _MONTHS)


def frame(line: str, *, year: int | None = None, tz: _dt.tzinfo = UTC) -> LogRecord | None:
    """The framing of one raw log line; None for an empty or whitespace-only line.

    `year` completes the year-less short/syslog timestamps (default: the current UTC
    year); `tz` is the zone of timestamps that carry no offset (short, dmesg -T).
    """
    original = line[:-1] if line[-1:] == "\n" else line
    if original[-1:] == "\r":
        original = original[:-1]
    first = original[:1]
    if first == "{":  # first: it is what the live shipper follows
        record = _journal_json(original)
        if record is not None:
            return record
    if not original or original.isspace():
        return None
    text = original.rstrip("\r\n")
    record = None
    if first == "[":
        record = _dmesg(original, text, tz)
    elif first in _MONTH_INITIALS:
        m = _SHORT.match(text)
        if m is not None:
            y = year if year is not None else _time.gmtime().tm_year
            mon, day, hh, mi, ss, frac = m.group(1, 2, 3, 4, 5, 6)
            when = _epoch(y, _MONTHS[mon], int(day), int(hh), int(mi), int(ss), frac, tz)
            record = _syslog(original, m, 7, when)
    elif "0" <= first <= "9":
        m = _ISO.match(text)
        if m is not None:
            zone = _zone(m.group(8), tz)
            y, mo, d, hh, mi, ss = map(int, m.group(1, 2, 3, 4, 5, 6))
            when = None if zone is None else _epoch(y, mo, d, hh, mi, ss, m.group(7), zone)
            record = _syslog(original, m, 9, when)
    if record is None:
        return _record(original, text, None, None, None, None, None, None)
    return record


def _epoch(y: int, mo: int, d: int, hh: int, mi: int, ss: int, frac: str | None, tz: _dt.tzinfo) -> float | None:
    # A framing whose date does not exist (Feb 29 of a common year, a leap second) is
    # still that framing: keep host, program and message, and give no time.
    try:
        seconds = _dt.datetime(y, mo, d, hh, mi, ss, tzinfo=tz).timestamp()
    except (ValueError, OverflowError):
        return None
    return seconds + float(frac) if frac else seconds


def _zone(offset: str | None, default: _dt.tzinfo) -> _dt.tzinfo | None:
    if offset is None:
        return default
    if offset == "Z":
        return UTC
    minutes = int(offset[1:3]) * 60 + int(offset[-2:])
    if minutes >= 24 * 60:
        return None
    return _dt.timezone(_dt.timedelta(minutes=-minutes if offset[0] == "-" else minutes))


def _syslog(original: str, m: re.Match[str], host_group: int, when: float | None) -> LogRecord:
    host, program, pid, message = m.group(host_group, host_group + 1, host_group + 2, host_group + 3)
    monotonic = None
    # rsyslog's kern.log keeps the printk time that journald moves into a field.
    if program == "kernel" and message[:1] == "[":
        p = _PRINTK.match(message)
        if p is not None:
            monotonic = float(p.group(1))
            message = message[p.end() :]
    return _record(original, message, when, monotonic, host, program, int(pid) if pid else None, None)


def _dmesg(original: str, text: str, tz: _dt.tzinfo) -> LogRecord | None:
    m = _DMESG.match(text)
    if m is not None:
        return _record(original, m.group(2), None, float(m.group(1)), None, None, None, None)
    m = _DMESG_T.match(text)
    if m is not None:
        mon, day, hh, mi, ss, frac, y, message = m.groups()
        when = _epoch(int(y), _MONTHS[mon], int(day), int(hh), int(mi), int(ss), frac, tz)
        return _record(original, message, when, None, None, None, None, None)
    return None


def _journal_json(original: str) -> LogRecord | None:
    try:
        record = orjson.loads(original)
    except orjson.JSONDecodeError:
        return None
    if type(record) is not dict:
        return None
    get = record.get
    message = get("MESSAGE")
    if type(message) is not str:
        message = _field_text(message)  # bytes, several values, or null when over 4096 bytes
        if message is None:
            return None
    program = get("SYSLOG_IDENTIFIER")
    if type(program) is not str:
        program = _field_text(program) or _field_text(get("_COMM"))
    host = get("_HOSTNAME")
    if type(host) is not str:
        host = _field_text(host)
    cursor = get("__CURSOR")
    if type(cursor) is not str:
        cursor = None
    pid = get("_PID") or get("SYSLOG_PID")
    return _record(
        original,
        message,
        _micros(get("__REALTIME_TIMESTAMP")),
        # Kernel records only: the printk time, the same figure dmesg and kern.log show.
        _micros(get("_SOURCE_MONOTONIC_TIMESTAMP")),
        host,
        program,
        None if pid is None else _number(pid),
        cursor,
    )


def _field_text(value: object) -> str | None:
    """A journald JSON field value as text.

    journalctl writes a value that is not printable UTF-8 as an array of byte values,
    a field present several times as an array of its values (journalctl's own text
    output shows the last), and a value of 4096 bytes or more as null.
    """
    if type(value) is list and value and type(value[0]) is not int:
        value = value[-1]
    if type(value) is str:
        return value
    if type(value) is list:
        try:
            return bytes(value).decode("utf-8", "replace")
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _micros(value: object) -> float | None:
    if type(value) is not str:
        return None
    try:
        return int(value) / 1_000_000
    except (ValueError, OverflowError):
        return None


def _number(value: object) -> int | None:
    if type(value) is not str:
        return None
    try:
        return int(value)
    except ValueError:
        return None
