"""The conntrack event parser on real `conntrack -E -o timestamp,extended,id` text.

fixtures/conntrack/ was recorded from the kernel (wgsiem/lab/conntrack.py; its README.md
says how), so every line there is one conntrack-tools really printed. Formats that
recording cannot produce are written by hand below, each after the libnetfilter_conntrack
function that prints it (src/conntrack/snprintf_default.c, 1.0.9 to 1.1.1).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tiers import require
from wgsiem.conntrack import ACCOUNTING_OFF, ConntrackParser, ConntrackProblem, ConntrackRecord, ConntrackTuple, parse_lines, parse_text
from wgsiem.conntrack.parse import _COMMON, _LINE
from wgsiem.lab import conntrack as lab

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conntrack"
RECORDINGS = ("acct-on", "acct-off", "nat")


def recorded(name: str) -> list[ConntrackRecord]:
    records, problems = parse_text((FIXTURES / f"{name}.log").read_text(), f"{name}.log")
    assert problems == []
    return records


def one(text: str) -> ConntrackRecord:
    (item,) = [i for i in ConntrackParser("test").feed([text])]
    assert isinstance(item, ConntrackRecord), str(item)
    return item


def problem(text: str) -> ConntrackProblem:
    (item,) = [i for i in ConntrackParser("test").feed([text])]
    assert isinstance(item, ConntrackProblem), item
    return item


def both_paths(parser: ConntrackParser, r: ConntrackRecord) -> tuple[ConntrackRecord | None, ConntrackRecord]:
    """The line read by `_common` (None: it declined, or `_COMMON` did not match) and by `_checked`."""
    parser.line = r.line
    checked = parser._checked(r.text, _LINE.match(r.text + " ").groups())  # first: it learns the addresses
    m = _COMMON.match(r.text + " ")
    return (None if m is None else parser._common(r.text, m.groups())), checked


def flows(records: list[ConntrackRecord]) -> dict[int, list[ConntrackRecord]]:
    """The events of each connection, by conntrack id."""
    out: dict[int, list[ConntrackRecord]] = {}
    for r in records:
        assert r.id is not None
        out.setdefault(r.id, []).append(r)
    return out


def destroy(records: list[ConntrackRecord], *, flushed: bool = False, **where: object) -> ConntrackRecord:
    """The one DESTROY event whose original tuple has these values (of a connection that
    ended by itself, or the one held open and flushed)."""
    found = [
        r for r in records
        if r.event == "DESTROY" and (r.userspace is not None) == flushed and all(getattr(r.original, k) == v for k, v in where.items())
    ]  # fmt: skip
    assert len(found) == 1, (where, found)
    return found[0]


# ---------------------------------------------------------------- the recorded fixtures


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_recorded_line_is_read(name):
    text = (FIXTURES / f"{name}.log").read_text()
    parser = ConntrackParser(name)
    items = list(parser.feed(io.StringIO(text)))
    assert [i for i in items if isinstance(i, ConntrackProblem)] == []
    assert parser.records == len(text.splitlines()) == len(items) > 20 and parser.problems == 0
    assert [r.line for r in items] == list(range(1, len(items) + 1))
    assert all(r.text == line for r, line in zip(items, text.splitlines(), strict=True))


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_connection_is_new_then_updated_then_destroyed_under_one_id(name):
    records = recorded(name)
    for cid, events in flows(records).items():
        kinds = [e.event for e in events]
        assert kinds[0] == "NEW" and kinds[-1] == "DESTROY" and set(kinds[1:-1]) <= {"UPDATE"}, (cid, kinds)
        assert len({(e.original, e.reply) for e in events}) == 1, cid  # a connection's tuples never change
        assert [e.time for e in events] == sorted(e.time for e in events)
    times = [r.time for r in records]
    assert all(t is not None and 1.7e9 < t < 2.2e9 for t in times)
    assert all(r.family == ("ipv6" if ":" in r.original.src else "ipv4") for r in records)


def test_accounting_on_counts_what_the_traffic_sent():
    records = recorded("acct-on")
    # Counters come with DESTROY only, and then always.
    assert all(r.accounting == (r.event == "DESTROY") for r in records)
    db = max((r for r in records if r.event == "DESTROY" and r.original.dport == 5432), key=lambda r: r.original_bytes)
    assert db.original.src == lab.CLIENT4 and db.original.dst == lab.GATEWAY4 and db.reply.sport == 5432
    assert db.original_bytes >= lab.DB_UPLOAD + 8 and db.reply_bytes >= lab.DB_DOWNLOAD
    assert db.original_bytes < lab.DB_UPLOAD * 1.1 and db.reply_bytes < lab.DB_DOWNLOAD * 1.1  # plus headers, not more
    assert db.original_packets >= 3 and db.reply_packets >= 3
    assert db.assured and not db.unreplied and db.state == "TIME_WAIT" and db.delta_time is not None
    web = destroy(records, dst=lab.GATEWAY6, dport=8080)
    assert web.family == "ipv6" and web.original.src == lab.CLIENT6 and web.reply.src == lab.GATEWAY6
    assert web.original_bytes >= lab.WEB_UPLOAD and web.reply_bytes >= lab.WEB_DOWNLOAD
    for address in (lab.GATEWAY4, lab.GATEWAY6):
        echo = destroy(records, dst=address, dport=5353)
        assert echo.protocol == "udp" and echo.original_packets == echo.reply_packets == lab.UDP_COUNT
        assert echo.original_bytes >= lab.UDP_COUNT * (lab.UDP_SIZE + 28) and not echo.unreplied


def test_the_unreplied_udp_the_refused_and_the_short_tcp():
    records = recorded("acct-on")
    lone = destroy(records, dport=9999)
    assert lone.unreplied and not lone.assured and lone.reply_packets == 0 and lone.original_packets == 1
    (new,) = [r for r in records if r.id == lone.id and r.event == "NEW"]
    assert new.protocol == "udp" and new.protocol_number == 17 and new.timeout is not None and new.original_bytes is None
    refused = destroy(records, dport=81)
    assert refused.unreplied and refused.state == "CLOSE" and refused.reply_packets == 1  # the RST
    first = [r for r in records if r.id == refused.id][0]
    assert first.event == "NEW" and first.state == "SYN_SENT" and first.unreplied and first.reply.sport == 81
    tcp_5432 = [r for r in records if r.event == "DESTROY" and r.original.dport == 5432]
    assert len(tcp_5432) == 3  # the data transfer, the short one, the one held open
    (short,) = [r for r in tcp_5432 if r.userspace is None and r.original_bytes < 1000]
    # SYN, ACK, FIN, ACK one way, SYN-ACK, FIN (and perhaps an ACK) the other: no payload.
    assert 3 <= short.original_packets <= 5 and 2 <= short.reply_packets <= 3 and short.reply_bytes < 200
    assert short.assured and short.state == "TIME_WAIT"


def test_icmp_gre_and_an_unknown_protocol():
    records = recorded("acct-on")
    ping = destroy(records, dst=lab.GATEWAY4, icmp_type=8)
    assert ping.protocol == "icmp" and ping.protocol_number == 1 and ping.original.icmp_code == 0
    assert ping.reply.icmp_type == 0 and ping.reply.icmp_id == ping.original.icmp_id and ping.original.sport is None
    assert ping.original_packets == ping.reply_packets == 3 and not ping.nat
    ping6 = destroy(records, dst=lab.GATEWAY6, icmp_type=128)
    assert ping6.protocol == "icmpv6" and ping6.protocol_number == 58 and ping6.family == "ipv6"
    assert ping6.original.src == lab.CLIENT6 and ping6.reply.icmp_type == 129 and ping6.original_packets == 3
    gre = destroy(records, src_key=0)
    assert gre.protocol == "gre" and gre.protocol_number == 47 and gre.original.dst_key == 0 and gre.unreplied
    other = [r for r in records if r.event == "DESTROY" and r.protocol_number == 253]
    assert len(other) == 1 and other[0].protocol == "unknown" and other[0].original.sport is None
    assert other[0].original == ConntrackTuple(lab.CLIENT4, lab.GATEWAY4)


def test_the_flushed_connection_says_who_flushed_it():
    for name in RECORDINGS:
        records = recorded(name)
        flushed = [r for r in records if r.userspace is not None]
        assert len(flushed) == 1 and flushed[0].event == "DESTROY" and flushed[0].state == "ESTABLISHED", name
        assert flushed[0].userspace.portid > 0 and flushed[0].userspace.progname in (None, "conntrack")
        assert all(r.userspace is None for r in records if r.event != "DESTROY")


def test_accounting_off_has_no_counters_and_the_parser_says_so():
    records = recorded("acct-off")
    assert not any(r.accounting for r in records)
    assert all(v is None for r in records for v in (r.original_packets, r.original_bytes, r.reply_packets, r.reply_bytes))
    off, on = ConntrackParser(), ConntrackParser()
    assert off.accounting is None
    list(off.feed((FIXTURES / "acct-off.log").read_text().splitlines()))
    list(on.feed((FIXTURES / "acct-on.log").read_text().splitlines()))
    assert off.accounting is False and on.accounting is True
    assert "sysctl -w net.netfilter.nf_conntrack_acct=1" in ACCOUNTING_OFF
    # The same traffic, the same lines but the counters.
    assert len(records) == len(recorded("acct-on"))


def test_nat_reply_tuples_name_the_translated_addresses():
    records = recorded("nat")
    assert all(r.nat and r.snat for r in records)  # everything leaving towards the LAN is masqueraded
    forward = destroy(records, dst=lab.GATEWAY4, dport=8080)
    assert destroy(records, dst=lab.GATEWAY4, dport=8080, flushed=True).dnat
    assert forward.dnat and forward.reply.src == lab.LAN4 and forward.reply.sport == 80
    assert forward.reply.dst == lab.GATEWAY_LAN4 and forward.reply.dport == forward.original.sport
    direct = destroy(records, dst=lab.LAN4, dport=80)
    assert not direct.dnat and direct.reply.src == lab.LAN4 and direct.reply.dst == lab.GATEWAY_LAN4
    v6 = destroy(records, dst=lab.LAN6, dport=80)
    assert v6.snat and not v6.dnat and v6.reply.dst == lab.GATEWAY_LAN6
    ping = destroy(records, dst=lab.LAN4, icmp_type=8)
    assert ping.snat and not ping.dnat
    assert not any(r.nat for r in recorded("acct-on"))


@pytest.mark.parametrize("name", RECORDINGS)
def test_the_common_path_and_the_checked_path_agree(name):
    """Most lines take `_common`; `_checked` reads every line; both must give one record."""
    parser = ConntrackParser()
    taken = 0
    records = recorded(name)
    for r in records:
        common, checked = both_paths(parser, r)
        assert checked == r and type(checked) is ConntrackRecord
        if common is not None:
            taken += 1
            assert common == checked and type(common) is ConntrackRecord and hash(common) == hash(checked)
    assert taken >= len(records) * 2 // 3


# ---------------------------------------------------------------- formats written by hand

T = "[1733390000.123456]\t"
TCP_TUPLES = "src=10.0.0.2 dst=10.0.1.5 sport=40000 dport=5432 src=10.0.1.5 dst=10.0.0.2 sport=5432 dport=40000"


def test_zones_mark_secctx_and_use():
    # __snprintf_tuple_zone (zone-orig= after the original tuple, zone-reply= after the
    # reply), __snprintf_mark, __snprintf_secmark, __snprintf_secctx, __snprintf_zone, __snprintf_use.
    r = one(T + "    [NEW] ipv4     2 udp      17 30 src=10.0.0.2 dst=10.0.1.5 sport=5000 dport=53 zone-orig=1 [UNREPLIED] "
            "src=10.0.1.5 dst=10.0.0.2 sport=53 dport=5000 zone-reply=2 mark=42 secmark=7 "
            "secctx=system_u:object_r:unlabeled_t:s0 zone=3 use=1 id=99")  # fmt: skip
    assert (r.original.zone, r.reply.zone, r.zone, r.mark, r.secmark, r.use, r.id) == (1, 2, 3, 42, 7, 1, 99)
    assert r.secctx == "system_u:object_r:unlabeled_t:s0" and r.unreplied and r.timeout == 30
    assert problem(T + f"[DESTROY] ipv4     2 tcp      6 {TCP_TUPLES} zone=65536 id=1").field == "zone"


def test_labels_helper_offload_and_kernel_timestamps():
    # __snprintf_clabels: `labels=a,b`; with no named bit set, the "=" is overwritten: `labels`.
    assert one(f"ipv4     2 tcp      6 431999 ESTABLISHED {TCP_TUPLES} [ASSURED] use=1 labels=vpn,db").labels == ("vpn", "db")
    assert one(f"ipv4     2 tcp      6 431999 ESTABLISHED {TCP_TUPLES} [ASSURED] use=1 labels").labels == ()
    assert one(f"ipv4     2 tcp      6 431999 ESTABLISHED {TCP_TUPLES} [ASSURED] use=1").labels is None
    # __snprintf_status_assured: HW_OFFLOAD, else OFFLOAD, else ASSURED; after the reply counters.
    for word in ("OFFLOAD", "HW_OFFLOAD"):
        r = one(T + f" [UPDATE] ipv4     2 tcp      6 120 ESTABLISHED {TCP_TUPLES} [{word}] id=5")
        assert r.flags == (word,) and not r.assured
    # __snprintf_timestamp_delta, then with -o ktimestamp __snprintf_timestamp_start/_stop (ctime()), then __snprintf_helper_name.
    r = one(T + f"[DESTROY] ipv4     2 tcp      6 {TCP_TUPLES} [ASSURED] delta-time=40 "
            "[start=Thu Dec  5 10:33:20 2024] [stop=Thu Dec  5 10:34:00 2024] helper=ftp id=5")  # fmt: skip
    assert r.delta_time == 40 and r.stop - r.start == 40 and r.start == 1733394800.0 and r.helper == "ftp"
    assert problem(T + f"[DESTROY] ipv4     2 tcp      6 {TCP_TUPLES} [start=Thu Dec 45 10:33:20 2024] id=5").field == "start"


def test_sctp_dccp_udplite_and_gre_keys():
    # __snprintf_protoinfo_sctp / _dccp print their state where tcp's goes; __snprintf_proto
    # gives them ports, and gre its keys (srckey=0x%x).
    sctp = one(T + "    [NEW] ipv4     2 sctp     132 10 COOKIE_WAIT src=10.0.0.2 dst=10.0.1.5 sport=5000 dport=3868 "
               "[UNREPLIED] src=10.0.1.5 dst=10.0.0.2 sport=3868 dport=5000 id=7")  # fmt: skip
    assert sctp.protocol == "sctp" and sctp.state == "COOKIE_WAIT" and sctp.original.dport == 3868
    dccp = one(T + "    [NEW] ipv6     10 dccp     33 240 REQUEST src=fd00::2 dst=fd00::5 sport=5000 dport=5001 "
               "[UNREPLIED] src=fd00::5 dst=fd00::2 sport=5001 dport=5000 id=8")  # fmt: skip
    assert dccp.protocol == "dccp" and dccp.state == "REQUEST" and dccp.family == "ipv6"
    lite = one(T + "    [NEW] ipv4     2 udplite  136 30 src=10.0.0.2 dst=10.0.1.5 sport=1 dport=2 [UNREPLIED] src=10.0.1.5 dst=10.0.0.2 sport=2 dport=1")
    assert lite.protocol == "udplite" and lite.protocol_number == 136 and lite.id is None
    pptp = one(T + "    [NEW] ipv4     2 gre      47 30 src=10.0.0.2 dst=10.0.1.5 srckey=0x1a2b dstkey=0x3c4d "
               "[UNREPLIED] src=10.0.1.5 dst=10.0.0.2 srckey=0x3c4d dstkey=0x1a2b id=9")  # fmt: skip
    assert (pptp.original.src_key, pptp.original.dst_key) == (0x1A2B, 0x3C4D) and not pptp.nat
    assert problem(T + "    [NEW] ipv4     2 sctp     132 10 ESTABLISHED_ src=10.0.0.2 dst=10.0.1.5 sport=1 dport=2 "
                   "src=10.0.1.5 dst=10.0.0.2 sport=2 dport=1").field == "state"  # fmt: skip


def test_without_extended_timestamp_id_or_event_type():
    # Without -o extended there is no layer 3 part: the family comes from the addresses.
    r = one(f"    [NEW] tcp      6 120 SYN_SENT {TCP_TUPLES}")
    assert r.family == "ipv4" and r.time is None and r.id is None and r.event == "NEW"
    r = one("[DESTROY] udp      17 src=fd00::2 dst=fd00::5 sport=1 dport=2 src=fd00::5 dst=fd00::2 sport=2 dport=1")
    assert r.family == "ipv6" and r.timeout is None
    # A line of `conntrack -L -o extended`: no event type at all.
    r = one(f"ipv4     2 tcp      6 431999 ESTABLISHED {TCP_TUPLES} [ASSURED] mark=0 use=1")
    assert r.event is None and r.assured and r.mark == 0 and r.use == 1


def test_addresses_are_kept_in_the_form_conntrack_prints():
    r = one("ipv6     10 udp      17 30 src=FD00:0:0::2 dst=fd00::5 sport=1 dport=2 src=fd00::5 dst=fd00::2 sport=2 dport=1")
    assert r.original.src == "fd00::2" and not r.nat
    mapped = one("ipv6     10 udp      17 30 src=::ffff:10.0.0.2 dst=fd00::5 sport=1 dport=2 src=fd00::5 dst=::ffff:10.0.0.2 sport=2 dport=1")
    assert mapped.original.src == "::ffff:10.0.0.2"


@pytest.mark.parametrize(
    ("line", "field", "says"),
    [
        ("hello world", "protocol", "expected a protocol name"),
        ("<flow><meta direction=\"original\">", "protocol", "'<flow><meta'"),
        (T + "    [NEW] ipv4     2 tcp      17 120 SYN_SENT " + TCP_TUPLES, "protocol", "prints protocol 17 as 'udp'"),
        (T + "    [NEW] ipv4     10 tcp      6 120 SYN_SENT " + TCP_TUPLES, "family", "family 10 as 'ipv6'"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT " + TCP_TUPLES.replace("10.0.0.2", "10.0.0.256", 1), "orig src", "not an ipv4 address"),
        (T + "    [NEW] ipv6     10 tcp      6 120 SYN_SENT " + TCP_TUPLES, "orig src", "not an ipv6 address"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT " + TCP_TUPLES.replace("dport=40000", "dport=70000"), "reply dport", "out of range"),
        (T + "    [NEW] ipv4     2 icmp     1 30 " + TCP_TUPLES, "orig sport", "has no ports"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.0.0.2 dst=10.0.1.5 src=10.0.1.5 dst=10.0.0.2", "orig sport", "has ports"),
        (T + "    [NEW] ipv4     2 udp      17 120 SYN_SENT " + TCP_TUPLES, "state", "not a state conntrack prints for udp"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT " + TCP_TUPLES + " foo=1 id=3", "foo", "unexpected 'foo=1 id=3'"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.0.0.2 dst=", "dst", "expected dst=ADDRESS"),
        (T + "    [NEW] ipv4     2 tcp      6 120 SYN_SENT " + TCP_TUPLES + " id=99999999999", "id", "out of range"),
        ("[999999999999.000000]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT " + TCP_TUPLES, "timestamp", "past the year 9999"),
        (T + "[DESTROY] ipv4     2 tcp      6 " + TCP_TUPLES.replace("dport=5432 ", "dport=5432 packets=99999999999999999999 bytes=1 "), "orig packets", "out of range"),
    ],
)
def test_a_line_it_cannot_read_is_a_problem_naming_the_field(line, field, says):
    found = problem(line)
    assert found.field == field and says in found.reason and found.line == 1, str(found)
    assert str(found).startswith(f"test:1: {field}: ")


def test_streaming_numbers_lines_across_calls_and_skips_blank_ones():
    lines = (FIXTURES / "acct-on.log").read_text().splitlines(keepends=True)
    parser = ConntrackParser("live", first_line=101)
    first = list(parser.feed(lines[:3]))
    rest = list(parser.feed(["\n", "garbage\r\n", *[line.replace("\n", "\r\n") for line in lines[3:6]]]))
    assert [i.line for i in first] == [101, 102, 103]
    assert [i.line for i in rest] == [105, 106, 107, 108] and isinstance(rest[0], ConntrackProblem)
    assert all(isinstance(i, ConntrackRecord) and not i.text.endswith(("\r", "\n")) for i in first + rest[1:])
    assert (parser.line, parser.records, parser.problems) == (108, 6, 1)
    with (FIXTURES / "nat.log").open() as f:
        assert sum(isinstance(i, ConntrackRecord) for i in parse_lines(f, "nat.log")) == len(recorded("nat"))


# ---------------------------------------------------------------- garbage never raises

ALL_LINES = [line for name in RECORDINGS for line in (FIXTURES / f"{name}.log").read_text().splitlines()]
PIECES = sorted({word for line in ALL_LINES for word in line.split()} | {"[UNREPLIED]", "labels", "zone=1", "\t", "  "})
FUZZ = settings(max_examples=int(os.environ.get("WGSIEM_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(ALL_LINES))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(line)))
        how = draw(st.sampled_from(["cut", "insert", "word", "swap", "truncate", "digit"]))
        if how == "cut":
            line = line[:at] + line[at + draw(st.integers(1, 12)) :]
        elif how == "insert":
            line = line[:at] + draw(st.text(alphabet="0123456789abcdefx:.=[] \t-", max_size=6)) + line[at:]
        elif how == "word":
            line = line[:at] + " " + draw(st.sampled_from(PIECES)) + " " + line[at:]
        elif how == "swap":
            words = line.split(" ")
            i, j = draw(st.integers(0, len(words) - 1)), draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
            line = " ".join(words)
        elif how == "truncate":
            line = line[:at]
        else:
            line = line[:at] + draw(st.sampled_from(["9" * 25, "65536", "256", "0x10000", "-1", "\u0663"])) + line[at:]
    return line


def check_stream(lines: list[str]) -> None:
    parser = ConntrackParser("fuzz")
    items = list(parser.feed(lines))  # never raises
    numbered = [n for n, line in enumerate(lines, 1) if line.strip()]
    assert [i.line for i in items] == numbered  # one item for every line that is not blank, with its number
    problems = [i for i in items if isinstance(i, ConntrackProblem)]
    assert parser.problems == len(problems) and parser.records == len(items) - len(problems)
    for p in problems:
        assert p.field and p.reason and "unreadable" not in p.reason, str(p)  # a named field, never the catch-all
    for r in items:
        if isinstance(r, ConntrackRecord):
            common, checked = both_paths(parser, r)
            assert r == checked and common in (None, checked)


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=8))
def test_mutated_real_lines_never_raise_and_every_bad_line_is_counted(lines):
    check_stream(lines)


@FUZZ
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_any_text_never_raises(lines):
    check_stream([line.replace("\n", " ").replace("\r", " ") for line in lines])


def test_the_fuzz_finds_problems_at_all():
    """The mutations above are not all harmless: a fixed sample is mostly problems."""
    bad = [line.replace("sport=", "sprt=", 1) for line in ALL_LINES if "sport=" in line]
    bad += [line[: len(line) // 2] for line in ALL_LINES]
    items = list(ConntrackParser().feed(bad))
    assert sum(isinstance(i, ConntrackProblem) for i in items) == len(bad)


# ---------------------------------------------------------------- live, as root


@pytest.mark.root
def test_a_live_recording_parses_with_no_problem(tmp_path):
    require(lab.conntrack_lab_available())
    plan = lab.Plan(
        "live", "a few seconds of traffic",
        (lab._tcp("tcp", lab.GATEWAY4, 5432, 30_000, 5_000), lab.Step("ping -6", ("ping", lab.GATEWAY6, "2"))),
        (f"tcp,{lab.GATEWAY4},5432",),
    )  # fmt: skip
    out = tmp_path / "live.log"
    recording = lab.record(plan, out, settle=10.0)
    records, problems = parse_text(out.read_text(), str(out))
    assert problems == [] and len(records) == recording.events >= 6
    tcp = destroy(records, dst=lab.GATEWAY4, dport=5432)
    assert tcp.original_bytes >= 30_000 and tcp.reply_bytes >= 5_000 and tcp.assured and tcp.userspace is None
    ping = destroy(records, dst=lab.GATEWAY6, icmp_type=128)
    assert ping.original_packets == ping.reply_packets == 2
