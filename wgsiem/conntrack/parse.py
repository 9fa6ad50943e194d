"""Read the text of `conntrack -E -o timestamp,extended,id` (conntrack-tools) into records.

The format is the one conntrack-tools prints, taken from its source:

* conntrack-tools `src/conntrack.c`, `event_cb()`: with `-o timestamp`, the line starts
  with `[%-.8ld.%-.6ld]\\t` (`event_print_timestamp()`: the kernel's event time when it
  sends one, else the time conntrack read the event); then the text below; then, when the
  event was caused by a program over netlink (`conntrack -D`, conntrackd),
  ` [USERSPACE] portid=%u progname=%s` (progname only when conntrack found the program).
* libnetfilter_conntrack `src/conntrack/snprintf_default.c`,
  `__snprintf_conntrack_default()`, in this order, each item followed by one space (the
  line's last space removed): the event type right-aligned in 9 columns (`    [NEW]`,
  ` [UPDATE]`, `[DESTROY]`); with `-o extended` the layer 3 name and number
  (`%-8s %u`: `ipv4     2`); the protocol name and number (`tcp      6`); the timeout;
  the tcp, sctp or dccp state; the original tuple: `src=` `dst=`, then `sport=`
  `dport=` (tcp, udp, udplite, sctp, dccp), `type=` `code=` `id=` (icmp, icmpv6) or
  `srckey=0x..` `dstkey=0x..` (gre), nothing for any other protocol; `zone-orig=`;
  `packets=` `bytes=`; `[UNREPLIED]`; the reply tuple the same way; `zone-reply=`; its
  `packets=` `bytes=`; one of `[HW_OFFLOAD]`, `[OFFLOAD]`, `[ASSURED]`; `mark=`;
  `secmark=`; `secctx=`; `zone=`; `delta-time=`; with `-o ktimestamp` `[start=<ctime>]`
  `[stop=<ctime>]`; `helper=`; `use=`; with `-o id` `id=`; with `-o labels`
  `labels=a,b`. The names of protocols and states are the tables of
  `src/conntrack/snprintf.c` (`proto2str`, `l3proto2str`, `states`, `sctp_states`,
  `dccp_states`); a protocol they do not name prints as `unknown`.

Without an event type the same text is a line of `conntrack -L` (a table listing), which
this parser reads too (`event` None).

A line is matched by a regular expression built from those items in that order (`_LINE`),
then its values checked (addresses, ranges, the protocol's name against its number, the
state against the protocol, the tuple's form against the protocol). Most lines take a
shorter way first (`_COMMON`, `_common`) with the same checks. A line that fails is a
`ConntrackProblem` naming its line number, the field and what was wrong; parsing never
raises.
"""

from __future__ import annotations

import datetime as _dt
import re
import socket
from collections.abc import Iterable, Iterator
from typing import Any

from .model import (
    ASSURED,
    HW_OFFLOAD,
    OFFLOAD,
    UNREPLIED,
    ConntrackProblem,
    ConntrackRecord,
    ConntrackTuple,
    ConntrackUserspace,
    Family,
)

UTC = _dt.UTC
U16 = 0xFFFF
U32 = 0xFFFF_FFFF
U64 = 2**64 - 1
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second Python's datetime can hold

FAMILIES = {2: "ipv4", 10: "ipv6"}  # AF_INET, AF_INET6: l3proto2str
PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 33: "dccp", 47: "gre", 58: "icmpv6", 132: "sctp", 136: "udplite"}  # proto2str
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})  # __snprintf_proto: sport= dport=
ICMP_PROTOCOLS = frozenset({1, 58})  # type= code= id=
GRE = 47  # srckey=0x.. dstkey=0x..
STATES = {
    6: frozenset(
        "NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE SYN_SENT2".split()
    ),
    132: frozenset(
        "NONE CLOSED COOKIE_WAIT COOKIE_ECHOED ESTABLISHED SHUTDOWN_SENT SHUTDOWN_RECD SHUTDOWN_ACK_SENT "
        "HEARTBEAT_SENT HEARTBEAT_ACKED".split()
    ),
    33: frozenset("NONE REQUEST RESPOND PARTOPEN OPEN CLOSEREQ CLOSING TIMEWAIT IGNORE INVALID".split()),
}

_N = r"(\d{1,20})"  # a number: at most a u64's digits, so int() stays cheap and bounded
_ADDR = r"([0-9A-Fa-f:.]{2,45})"  # inet_ntoa / inet_ntop; checked with inet_pton afterwards
_CTIME = r"\[{}=([^\]]*)\] "


def _tuple(zone: str) -> list[tuple[str, str, str]]:
    return [
        ("src", rf"src={_ADDR} ", "src=ADDRESS"),
        ("dst", rf"dst={_ADDR} ", "dst=ADDRESS"),
        ("ports", rf"(?:sport={_N} dport={_N} |type={_N} code={_N} id={_N} |srckey=0x([0-9a-f]{{1,8}}) dstkey=0x([0-9a-f]{{1,8}}) )?", ""),
        (f"zone-{zone}", rf"(?:zone-{zone}={_N} )?", ""),
        ("packets", rf"(?:packets={_N} bytes={_N} )?", ""),
    ]


# (field, pattern, what a mandatory item looks like). Every item ends in the space
# snprintf_default.c writes after it; the line is matched with one space appended.
_ITEMS: list[tuple[str, str, str]] = [
    ("timestamp", r"(?:\[(\d{1,12}\.\d{1,9})\][\t ]+)?", ""),
    ("event", r"(?: *\[(NEW|UPDATE|DESTROY)\] )?", ""),
    ("family", rf"(?:(ipv4|ipv6|unknown) +{_N} )?", ""),
    ("protocol", rf"([a-z][a-z0-9]{{0,15}}) +{_N} ", "a protocol name and number like 'tcp      6'"),
    ("timeout", rf"(?:{_N} )?", ""),
    ("state", r"(?:([A-Z][A-Z0-9_]{0,31}) )?", ""),
    *_tuple("orig"),
    ("status", r"(\[UNREPLIED\] )?", ""),
    *_tuple("reply"),
    ("status", r"(?:\[(ASSURED|OFFLOAD|HW_OFFLOAD)\] )?", ""),
    ("mark", rf"(?:mark={_N} )?", ""),
    ("secmark", rf"(?:secmark={_N} )?", ""),
    ("secctx", r"(?:secctx=(\S*) )?", ""),
    ("zone", rf"(?:zone={_N} )?", ""),
    ("delta-time", rf"(?:delta-time={_N} )?", ""),
    ("start", "(?:" + _CTIME.format("start") + ")?", ""),
    ("stop", "(?:" + _CTIME.format("stop") + ")?", ""),
    ("helper", r"(?:helper=(\S*) )?", ""),
    ("use", rf"(?:use={_N} )?", ""),
    ("id", rf"(?:id={_N} )?", ""),
    # `labels ` alone: a label bitmask with no named bit (the "=" is overwritten).
    ("labels", r"(?:(labels)(?:=(\S*))? )?", ""),
    ("userspace", rf"(?:\[USERSPACE\] portid={_N} (?:progname=(.*) )?)?", ""),
]
_FLAGS = re.ASCII
_LINE = re.compile("".join(p for _, p, _ in _ITEMS) + r"\Z", _FLAGS)
_GROUPS = 48
assert _LINE.groups == _GROUPS, _LINE.groups  # the unpacking in _read follows this order

# The line of a tcp, udp, udplite, sctp, dccp, icmp or icmpv6 connection without any of
# the rarer items (zones, secmark, secctx, kernel timestamps, helper, labels, [USERSPACE]):
# nearly all of a gateway's lines. Matched first, it is read by `_common` at half the cost
# of `_LINE`'s forty-eight groups; anything else, or a value `_common` doubts, goes to `_LINE`.
_L4 = r"(?:sport=(\d{1,5}) dport=(\d{1,5}) |type=(\d{1,3}) code=(\d{1,3}) id=(\d{1,5}) )"
_COMMON = re.compile(
    r"(?:\[(\d{1,12}\.\d{1,9})\][\t ]+)?(?: *\[(NEW|UPDATE|DESTROY)\] )?(?:(ipv4|ipv6) +(2|10) )?"
    r"(tcp|udp|udplite|sctp|dccp|icmp|icmpv6) +(6|17|136|132|33|1|58) (?:(\d{1,10}) )?(?:([A-Z][A-Z0-9_]{0,31}) )?"
    rf"src={_ADDR} dst={_ADDR} {_L4}(?:packets={_N} bytes={_N} )?(\[UNREPLIED\] )?"
    rf"src={_ADDR} dst={_ADDR} {_L4}(?:packets={_N} bytes={_N} )?(?:\[(ASSURED|OFFLOAD|HW_OFFLOAD)\] )?"
    r"(?:mark=(\d{1,10}) )?(?:delta-time=(\d{1,20}) )?(?:use=(\d{1,10}) )?(?:id=(\d{1,10}) )?\Z",
    _FLAGS,
)
assert _COMMON.groups == 32, _COMMON.groups  # the unpacking in _common follows this order

_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_CTIME_TEXT = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (" + "|".join(_MONTHS) + r") ([ 0-3]?\d) (\d\d):(\d\d):(\d\d) (\d{4})\Z", _FLAGS)

_STATUS: dict[tuple[str | None, str | None], tuple[str, ...]] = {
    (None, None): (),
    (None, "ASSURED"): (ASSURED,),
    (None, "OFFLOAD"): (OFFLOAD,),
    (None, "HW_OFFLOAD"): (HW_OFFLOAD,),
}
_STATUS.update({("[UNREPLIED] ", k[1]): (UNREPLIED, *v) for k, v in list(_STATUS.items())})

_KNOWN_ADDRESSES = 1 << 16  # forgotten all at once past this many, so memory stays bounded
_new = tuple.__new__  # a named tuple from a tuple of its fields, without its Python-level __new__


class _BadField(Exception):  # noqa: N818 - a signal: the line becomes a problem naming the field
    """A value of a matched line that is not what conntrack prints, in `field`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _bounded(value: str, limit: int, field: str) -> int:
    n = int(value)
    if n > limit:
        raise _BadField(field, f"{value} is out of range (at most {limit})")
    return n


def _opt(value: str | None, limit: int, field: str) -> int | None:
    return None if value is None else _bounded(value, limit, field)


def _address(text: str, af: int, family: str, field: str) -> str:
    try:
        packed = socket.inet_pton(af, text)
    except (OSError, ValueError):
        raise _BadField(field, f"{_shown(text)} is not an {family} address") from None
    # conntrack prints inet_ntop's form; keep exactly that form so addresses compare as strings.
    return text if af == socket.AF_INET else socket.inet_ntop(af, packed)


def _ctime(text: str, tz: _dt.tzinfo, field: str) -> float:
    """`-o ktimestamp` prints ctime(3) in the local time of the conntrack process."""
    m = _CTIME_TEXT.match(text)
    if m is None:
        raise _BadField(field, f"{_shown(text)} is not a ctime() date like 'Thu Dec  5 10:33:20 2024'")
    mon, day, hh, mi, ss, year = m.groups()
    try:
        return _dt.datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mi), int(ss), tzinfo=tz).timestamp()
    except (ValueError, OverflowError):
        raise _BadField(field, f"{_shown(text)} is not a date") from None


class ConntrackParser:
    """Reads conntrack's lines one at a time, numbering them, for a file or a live
    `conntrack -E`: `feed()` yields a `ConntrackRecord` or a `ConntrackProblem` per line
    (blank lines are skipped but counted). Counts what it read, and whether the DESTROY
    events carry counters (`accounting`: None until a DESTROY has been read).

    `tz` is the zone of `-o ktimestamp`'s dates, which conntrack prints in its local time.
    """

    def __init__(self, source: str = "conntrack", *, tz: _dt.tzinfo = UTC, first_line: int = 1) -> None:
        self.source = source
        self.tz = tz
        self.line = first_line - 1  # the number of the last line read
        self.records = 0
        self.problems = 0
        self.accounting: bool | None = None
        # Address texts already checked, and their form: a gateway sees the same few
        # thousand addresses over and over, and a lookup costs a fraction of inet_pton.
        self._v4: dict[str, str] = {}
        self._v6: dict[str, str] = {}

    def feed(self, lines: Iterable[str]) -> Iterator[ConntrackRecord | ConntrackProblem]:
        for line in lines:
            item = self.parse(line)
            if item is not None:
                yield item

    def parse(self, line: str) -> ConntrackRecord | ConntrackProblem | None:
        """The next line (its line ending, if any, is dropped); None for a blank line."""
        self.line += 1
        text = line.rstrip("\r\n")
        if not text or text.isspace():
            return None
        try:
            record = self._read(text)
        except _BadField as bad:
            self.problems += 1
            return ConntrackProblem(self.source, self.line, bad.field, bad.reason)
        except Exception as err:  # noqa: BLE001 - a line must never stop the stream; say what broke
            self.problems += 1
            return ConntrackProblem(self.source, self.line, "line", f"unreadable ({type(err).__name__}: {err})")
        self.records += 1
        if record.event == "DESTROY":
            self.accounting = record.original_packets is not None or record.reply_packets is not None
        return record

    def _read(self, text: str) -> ConntrackRecord:
        line = text + " "
        m = _COMMON.match(line)
        if m is not None:
            record = self._common(text, m.groups())
            if record is not None:
                return record
        m = _LINE.match(line)
        if m is None:
            raise ConntrackParser._diagnose(text)
        return self._checked(text, m.groups())

    def _common(self, text: str, g: tuple[Any, ...]) -> ConntrackRecord | None:
        """The record of a line `_COMMON` matched, at half the cost of `_checked`; None when
        a value is doubtful, for `_checked` to read the line again and name what is wrong
        (tests/test_conntrack_parse.py holds the two to one result)."""
        ts, event, l3, l3num, proto, pnum, tmo, state = g[:8]
        number = int(pnum)
        if (
            PROTOCOLS[number] != proto
            or (l3 is not None and FAMILIES[int(l3num)] != l3)
            or (state is not None and state not in STATES.get(number, ()))
        ):
            return None
        family = l3 or ("ipv6" if ":" in g[8] else "ipv4")
        known = self._v6 if family == "ipv6" else self._v4
        osrc, odst, rsrc, rdst = known.get(g[8]), known.get(g[9]), known.get(g[18]), known.get(g[19])
        if osrc is None or odst is None or rsrc is None or rdst is None:
            osrc = self._address(g[8], family, "orig src")
            odst = self._address(g[9], family, "orig dst")
            rsrc = self._address(g[18], family, "reply src")
            rdst = self._address(g[19], family, "reply dst")
        if number in PORT_PROTOCOLS:
            if g[10] is None or g[20] is None:
                return None
            osport, odport, rsport, rdport = int(g[10]), int(g[11]), int(g[20]), int(g[21])
            if osport > U16 or odport > U16 or rsport > U16 or rdport > U16:
                return None
            original = _new(ConntrackTuple, (osrc, odst, osport, odport, None, None, None, None, None, None))
            reply = _new(ConntrackTuple, (rsrc, rdst, rsport, rdport, None, None, None, None, None, None))
        else:  # icmp, icmpv6
            if g[12] is None or g[22] is None:
                return None
            otype, ocode, oid, rtype, rcode, rid = int(g[12]), int(g[13]), int(g[14]), int(g[22]), int(g[23]), int(g[24])
            if otype > 255 or ocode > 255 or oid > U16 or rtype > 255 or rcode > 255 or rid > U16:
                return None
            original = _new(ConntrackTuple, (osrc, odst, None, None, otype, ocode, oid, None, None, None))
            reply = _new(ConntrackTuple, (rsrc, rdst, None, None, rtype, rcode, rid, None, None, None))
        # 10-digit numbers may pass a u32, 20-digit ones a u64: the rare overflow goes to _checked.
        mark, use, cid = g[28], g[30], g[31]
        opk, oby, rpk, rby, delta = g[15], g[16], g[25], g[26], g[29]
        if (
            (tmo is not None and (tmo := int(tmo)) > U32)
            or (mark is not None and (mark := int(mark)) > U32)
            or (use is not None and (use := int(use)) > U32)
            or (cid is not None and (cid := int(cid)) > U32)
            or (opk is not None and ((opk := int(opk)) > U64 or (oby := int(oby)) > U64))
            or (rpk is not None and ((rpk := int(rpk)) > U64 or (rby := int(rby)) > U64))
            or (delta is not None and (delta := int(delta)) > U64)
        ):
            return None
        when = None
        if ts is not None and (when := float(ts)) > LAST_SECOND:
            return None
        return _new(ConntrackRecord, (
            text, self.line, event, when, cid, family, proto, number, tmo, state, original, reply,
            opk, oby, rpk, rby, _STATUS[g[17], g[27]], mark, None, None, None, delta, None, None, None, use, None, None,
        ))  # fmt: skip

    def _checked(self, text: str, g: tuple[Any, ...]) -> ConntrackRecord:
        """The record of a matched line, every value checked; raises `_BadField` naming the field."""
        (ts, event, l3, l3num, proto, pnum, timeout, state) = g[:8]
        # g[8:18] original tuple, g[18:20] its counters, g[20] [UNREPLIED],
        # g[21:31] reply tuple, g[31:33] its counters, g[33] the status word.
        (mark, secmark, secctx, zone, delta, start, stop, helper, use, cid, labelled, labels, portid, progname) = g[34:]
        number = _bounded(pnum, 255, "protocol")
        name = PROTOCOLS.get(number, "unknown")
        if proto != name:
            raise _BadField("protocol", f"{proto} {pnum}: conntrack prints protocol {number} as {name!r}")
        if l3 is not None:
            family = FAMILIES.get(int(l3num), "unknown")
            if family != l3:
                raise _BadField("family", f"{l3} {l3num}: conntrack prints family {l3num} as {family!r}")
        else:
            family = "ipv6" if ":" in g[8] else "ipv4"
        if family == "unknown":
            raise _BadField("family", f"{l3} {l3num}: not ipv4 or ipv6, whose addresses conntrack cannot print")
        named: Family = "ipv6" if family == "ipv6" else "ipv4"
        if state is not None and state not in STATES.get(number, ()):
            raise _BadField("state", f"{_shown(state)} is not a state conntrack prints for {name}")
        when = None
        if ts is not None:
            when = float(ts)
            if when > LAST_SECOND:
                raise _BadField("timestamp", f"{ts} is past the year 9999")
        original = self._tuple(g, 8, family, number, "orig")
        reply = self._tuple(g, 21, family, number, "reply")
        return ConntrackRecord(
            text, self.line, event, when, _opt(cid, U32, "id"), named, name, number,
            _opt(timeout, U32, "timeout"), state, original, reply,
            _opt(g[18], U64, "orig packets"), _opt(g[19], U64, "orig bytes"), _opt(g[31], U64, "reply packets"), _opt(g[32], U64, "reply bytes"),
            _STATUS[g[20], g[33]], _opt(mark, U32, "mark"), _opt(secmark, U32, "secmark"), secctx, _opt(zone, U16, "zone"),
            _opt(delta, U64, "delta-time"),
            None if start is None else _ctime(start, self.tz, "start"), None if stop is None else _ctime(stop, self.tz, "stop"),
            helper, _opt(use, U32, "use"), None if labelled is None else tuple(n for n in (labels or "").split(",") if n),
            None if portid is None else ConntrackUserspace(_bounded(portid, U32, "portid"), progname),
        )  # fmt: skip

    def _address(self, text: str, family: str, field: str) -> str:
        known = self._v6 if family == "ipv6" else self._v4
        address = known.get(text)
        if address is None:
            address = _address(text, socket.AF_INET6 if family == "ipv6" else socket.AF_INET, family, field)
            if len(known) >= _KNOWN_ADDRESSES:
                known.clear()
            known[text] = address
        return address

    def _tuple(self, g: tuple[Any, ...], at: int, family: str, number: int, which: str) -> ConntrackTuple:
        """The tuple whose groups start at `at`: src, dst, sport, dport, type, code, id, srckey, dstkey, zone."""
        src, dst, sport, dport, itype, icode, iid, skey, dkey, zone = g[at : at + 10]
        src = self._address(src, family, f"{which} src")
        dst = self._address(dst, family, f"{which} dst")
        zone = _opt(zone, U16, f"zone-{which}")
        if number in PORT_PROTOCOLS:
            if sport is None:
                raise _BadField(f"{which} sport", f"protocol {number} has ports, but the {which} tuple has no sport=/dport=")
            return ConntrackTuple(src, dst, _bounded(sport, U16, f"{which} sport"), _bounded(dport, U16, f"{which} dport"), None, None, None, None, None, zone)
        if sport is not None:
            raise _BadField(f"{which} sport", f"protocol {number} has no ports, but the {which} tuple has sport=/dport=")
        if number in ICMP_PROTOCOLS:
            if itype is None:
                raise _BadField(f"{which} type", f"an icmp tuple without type=/code=/id= in the {which} direction")
            return ConntrackTuple(src, dst, None, None, _bounded(itype, 255, f"{which} type"), _bounded(icode, 255, f"{which} code"),
                              _bounded(iid, U16, f"{which} id"), None, None, zone)  # fmt: skip
        if itype is not None:
            raise _BadField(f"{which} type", f"protocol {number} is not icmp, but the {which} tuple has type=/code=/id=")
        if number == GRE:
            if skey is None:
                raise _BadField(f"{which} srckey", f"a gre tuple without srckey=/dstkey= in the {which} direction")
            src_key, dst_key = int(skey, 16), int(dkey, 16)
            if src_key > U16 or dst_key > U16:
                raise _BadField(f"{which} srckey", f"0x{skey}/0x{dkey}: a key of more than 16 bits")
            return ConntrackTuple(src, dst, None, None, None, None, None, src_key, dst_key, zone)
        if skey is not None:
            raise _BadField(f"{which} srckey", f"protocol {number} is not gre, but the {which} tuple has srckey=/dstkey=")
        return ConntrackTuple(src, dst, None, None, None, None, None, None, None, zone)

    @staticmethod
    def _diagnose(text: str) -> _BadField:
        """Which item of the format the line breaks: the first mandatory item that cannot
        follow what matched so far, or the text left over after the last item."""
        line = text + " "
        reached = 0
        for i, (field, _, expected) in enumerate(_ITEMS):
            m = _prefix(i + 1).match(line)
            if m is None:
                rest = line[reached:].split(" ", 1)[0] or line[reached:].strip()
                return _BadField(field, f"expected {expected} at column {reached + 1}, found {_shown(rest)}")
            reached = m.end()
        rest = line[reached:].strip()
        word = rest.split(" ", 1)[0]
        named = _KEY.match(word)
        key = named.group(1) if named else "line"
        after = _shown(line[:reached].split()[-1]) if line[:reached].strip() else "the start of the line"
        return _BadField(key, f"unexpected {_shown(rest)} at column {reached + 1}, after {after}")


_PREFIXES: dict[int, re.Pattern[str]] = {}
_KEY = re.compile(r"([a-z][a-z0-9_-]{0,31})=", _FLAGS)


def _prefix(n: int) -> re.Pattern[str]:
    pattern = _PREFIXES.get(n)
    if pattern is None:
        pattern = _PREFIXES[n] = re.compile("".join(p for _, p, _ in _ITEMS[:n]), _FLAGS)
    return pattern


def parse_lines(lines: Iterable[str], source: str = "conntrack") -> Iterator[ConntrackRecord | ConntrackProblem]:
    """Records and problems of the lines, in order (a file, or a live `conntrack -E`'s stdout)."""
    return ConntrackParser(source).feed(lines)


def parse_text(text: str, source: str = "conntrack") -> tuple[list[ConntrackRecord], list[ConntrackProblem]]:
    """Every record and every problem of a whole text."""
    records: list[ConntrackRecord] = []
    problems: list[ConntrackProblem] = []
    for item in parse_lines(text.splitlines(), source):
        if isinstance(item, ConntrackProblem):
            problems.append(item)
        else:
            records.append(item)
    return records, problems
