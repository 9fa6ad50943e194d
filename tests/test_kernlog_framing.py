"""Kernel and wg-quick log framings: every fixture framing, edge cases, and garbage never raising.

The fixtures in fixtures/kernel/framings/ tell one story (wg-quick brings wg0 up on host
vpn1 on 2026-11-22 from 00:17:43 UTC, a peer handshakes, another sends a keepalive over
IPv6, someone floods invalid initiations) in each framing it can reach us in. dmesg and
rsyslog's kern.log only ever hold kernel lines, so those files tell the kernel part of
it; bare.txt is `journalctl -o cat`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.kernlog.framing import LogRecord, frame

FRAMINGS = Path(__file__).resolve().parents[1] / "fixtures" / "kernel" / "framings"

# (journald's realtime in µs, printk time in µs since boot or None, program, message)
STORY = [
    (1795306663081220, None, "wg-quick", "[#] ip link add dev wg0 type wireguard"),
    (1795306663097514, 12347440, "kernel", "wireguard: WireGuard 1.0.0 loaded. See www.wireguard.com for information."),
    (1795306663097521, 12347450, "kernel", "wireguard: Copyright (C) 2015-2019 Jason A. Donenfeld <Jason@zx2c4.com>. All Rights Reserved."),
    (1795306663101877, 12351814, "kernel", "wireguard: wg0: Interface created"),
    (1795306663112409, None, "wg-quick", "[#] wg setconf wg0 /dev/fd/63"),
    (1795306663118733, 12368675, "kernel", "wireguard: wg0: Peer 1 created"),
    (1795306663118760, 12368703, "kernel", "wireguard: wg0: Peer 2 created"),
    (1795306663124655, None, "wg-quick", "[#] ip -4 address add 10.0.0.1/24 dev wg0"),
    (1795306663139102, None, "wg-quick", "[#] ip link set mtu 1420 up dev wg0"),
    (1795306671402317, 20652236, "kernel", "wireguard: wg0: Receiving handshake initiation from peer 1 (198.51.100.7:51820)"),
    (1795306671402498, 20652432, "kernel", "wireguard: wg0: Sending handshake response to peer 1 (198.51.100.7:51820)"),
    (1795306671402533, 20652484, "kernel", "wireguard: wg0: Keypair 1 created for peer 1"),
    (1795306684877190, 34127102, "kernel", "wireguard: wg0: Receiving keepalive packet from peer 2 ([2001:db8::5]:51000/0%0)"),
    (1795306700215064, 49465012, "kernel", "wireguard: wg0: Invalid handshake initiation from 203.0.113.66:4444"),
    (1795306705663912, 54913835, "kernel", "net_ratelimit: 12 callbacks suppressed"),
    (1795306705663958, 54913913, "kernel", "wireguard: wg0: Invalid handshake initiation from 203.0.113.66:4444"),
]
WG_QUICK_PID = 1234
NOV_22_2026 = datetime(2026, 11, 22, tzinfo=UTC).timestamp()


class Shape:
    """What one framing carries."""

    def __init__(self, *, kernel_only=False, time=None, monotonic=False, syslog=True, pid=True, cursor=False):
        self.kernel_only = kernel_only
        self.time = time  # "us", "s" (truncated to the second) or None
        self.monotonic = monotonic
        self.syslog = syslog  # host and program
        self.pid = pid
        self.cursor = cursor


SHAPES = {
    "journal.json": Shape(time="us", monotonic=True, cursor=True),
    "journal-short.txt": Shape(time="s"),
    "journal-short-iso.txt": Shape(time="s"),
    "journal-short-iso-precise.txt": Shape(time="us"),
    "kern.log": Shape(kernel_only=True, time="s", monotonic=True, pid=False),
    "dmesg.txt": Shape(kernel_only=True, monotonic=True, syslog=False, pid=False),
    "dmesg-T.txt": Shape(kernel_only=True, time="s", syslog=False, pid=False),
    "bare.txt": Shape(syslog=False, pid=False),
}


def fixture_lines(name: str) -> list[str]:
    return (FRAMINGS / name).read_text(encoding="utf-8").splitlines(keepends=True)


def all_fixture_lines() -> list[str]:
    return [line for name in SHAPES for line in fixture_lines(name)]


def test_every_framing_has_a_fixture():
    assert sorted(SHAPES) == sorted(p.name for p in FRAMINGS.iterdir())


@pytest.mark.parametrize("name", SHAPES)
def test_fixture_frames_to_the_story(name: str):
    shape = SHAPES[name]
    lines = fixture_lines(name)
    story = [s for s in STORY if s[2] == "kernel"] if shape.kernel_only else STORY
    records = [frame(line, year=2026) for line in lines]
    assert [r.message for r in records] == [s[3] for s in story]
    for line, record, (realtime, printk, program, _) in zip(lines, records, story, strict=True):
        assert isinstance(record, LogRecord)
        assert record.original == line.rstrip("\n")
        if shape.time == "us":
            assert record.time == pytest.approx(realtime / 1e6, abs=1e-6)
        elif shape.time == "s":
            assert record.time == realtime // 1_000_000
        else:
            assert record.time is None
        if shape.monotonic and printk is not None:
            assert record.monotonic == pytest.approx(printk / 1e6, abs=1e-7)
        else:
            assert record.monotonic is None
        assert record.host == ("vpn1" if shape.syslog else None)
        assert record.program == (program if shape.syslog else None)
        assert record.pid == (WG_QUICK_PID if shape.pid and program == "wg-quick" else None)
        if shape.cursor:
            assert record.cursor.startswith("s=") and ";i=" in record.cursor and ";x=" in record.cursor
        else:
            assert record.cursor is None


def test_journal_json_cursor_and_time_are_the_records_own():
    for line in fixture_lines("journal.json"):
        fields = json.loads(line)
        record = frame(line)
        assert record.cursor == fields["__CURSOR"]
        assert record.time == int(fields["__REALTIME_TIMESTAMP"]) / 1e6
        # journald's own monotonic time is when it read the line, not the printk time.
        if "_SOURCE_MONOTONIC_TIMESTAMP" in fields:
            assert record.monotonic < int(fields["__MONOTONIC_TIMESTAMP"]) / 1e6


# --- journald JSON ---------------------------------------------------------------------


def test_message_as_byte_array_is_decoded_with_replacement():
    # journalctl writes a value that is not printable UTF-8 as its bytes: here an
    # interface name in Latin-1.
    data = list("wireguard: wg\xe9: Peer 3 created".encode("latin-1"))
    record = frame(json.dumps({"MESSAGE": data, "_TRANSPORT": "kernel", "SYSLOG_IDENTIFIER": "kernel"}))
    assert record.message == "wireguard: wg\ufffd: Peer 3 created"
    assert record.program == "kernel"


def test_message_with_control_characters_arrives_as_bytes_and_is_kept_exactly():
    text = "wireguard: wg0: \x1b[1mPeer\x1b[0m 3 created\r"
    assert frame(json.dumps({"MESSAGE": list(text.encode())})).message == text


def test_field_present_several_times_is_an_array_and_the_last_value_counts():
    record = frame(json.dumps({"MESSAGE": ["first", "wireguard: wg0: Peer 3 created"], "_HOSTNAME": ["a", "vpn1"]}))
    assert record.message == "wireguard: wg0: Peer 3 created"
    assert record.host == "vpn1"


@pytest.mark.parametrize(
    "line",
    [
        '{"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1795306663081220"}',  # no MESSAGE
        '{"MESSAGE": null, "__REALTIME_TIMESTAMP": "1795306663081220"}',  # over 4096 bytes without --all
        '{"MESSAGE": 12}',
        '{"MESSAGE": [300, 1]}',
        '{"MESSAGE": [null]}',
        "{}",
        '{"MESSAGE": "wireguard: wg0: Peer 3 created", "_HOSTNAME": "vp',  # truncated
        '{"MESSAGE": "wireguard: wg0: Peer 3 created"',
        "{",
        '{"MESSAGE": "a"} trailing',
        "{not json at all}",
    ],
)
def test_json_that_is_no_journal_record_is_a_bare_line(line: str):
    assert frame(line) == LogRecord(line, line, None, None, None, None, None, None)


def test_json_program_and_pid_fall_back_to_comm_and_syslog_pid():
    record = frame('{"MESSAGE": "[#] ip link delete dev wg0", "_COMM": "wg-quick", "SYSLOG_PID": "88"}')
    assert (record.program, record.pid) == ("wg-quick", 88)


def test_json_with_unusable_fields_keeps_the_message():
    record = frame('{"MESSAGE": "x", "__REALTIME_TIMESTAMP": "soon", "_PID": "one", "_HOSTNAME": 7, "__CURSOR": []}')
    assert record == LogRecord(record.original, "x", None, None, None, None, None, None)


def test_json_record_with_pretty_spacing_is_still_json():
    record = frame('{ "MESSAGE" : "wireguard: wg0: Interface created", "__REALTIME_TIMESTAMP" : "1795306663101877" }')
    assert record.message == "wireguard: wg0: Interface created"
    assert record.time == pytest.approx(1795306663.101877)


# --- text framings ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_crlf_line_endings(name: str):
    for line in fixture_lines(name):
        crlf = line.rstrip("\n") + "\r\n"
        record, expected = frame(crlf, year=2026), frame(line, year=2026)
        assert record == expected
        assert not record.original.endswith("\r") and not record.message.endswith("\r")


def test_february_29_needs_the_right_year():
    line = "Feb 29 12:00:00 vpn1 kernel: wireguard: wg0: Peer 3 created"
    assert frame(line, year=2028).time == datetime(2028, 2, 29, 12, tzinfo=UTC).timestamp()
    # In a common year the date does not exist: still that framing, with no time.
    assert frame(line, year=2027) == LogRecord(line, "wireguard: wg0: Peer 3 created", None, None, "vpn1", "kernel", None, None)


def test_short_format_year_defaults_to_the_current_utc_year():
    year = datetime.now(UTC).year
    record = frame("Jan 01 00:00:00 vpn1 kernel: x")
    assert record.time == datetime(year, 1, 1, tzinfo=UTC).timestamp()


def test_timezone_argument_applies_to_times_without_an_offset():
    berlin = pytest.importorskip("zoneinfo").ZoneInfo("Europe/Berlin")
    assert frame("Nov 22 01:17:43 vpn1 kernel: x", year=2026, tz=berlin).time == NOV_22_2026 + 17 * 60 + 43
    assert frame("Jul 22 02:17:43 vpn1 kernel: x", year=2026, tz=berlin).time == datetime(2026, 7, 22, 0, 17, 43, tzinfo=UTC).timestamp()
    minus5 = timezone(timedelta(hours=-5))
    assert frame("[Sat Nov 21 19:17:43 2026] x", tz=minus5).time == NOV_22_2026 + 17 * 60 + 43
    assert frame("2026-11-21T19:17:43 vpn1 kernel: x", tz=minus5).time == NOV_22_2026 + 17 * 60 + 43
    # An explicit offset wins over tz.
    assert frame("2026-11-22T00:17:43Z vpn1 kernel: x", tz=minus5).time == NOV_22_2026 + 17 * 60 + 43


@pytest.mark.parametrize(
    "stamp, seconds",
    [
        ("2026-11-22T00:17:43+0000", 1063),
        ("2026-11-22T00:17:43+00:00", 1063),
        ("2026-11-22T01:17:43.123456+01:00", 1063.123456),
        ("2026-11-21T19:17:43-05:00", 1063),
        ("2026-11-22T00:17:43.123456Z", 1063.123456),
        ("2026-11-22T00:17:43.5Z", 1063.5),
    ],
)
def test_iso_offsets(stamp: str, seconds: float):
    record = frame(f"{stamp} vpn1 kernel: wireguard: wg0: Peer 3 created")
    assert record.time == pytest.approx(NOV_22_2026 + seconds, abs=1e-6)
    assert (record.host, record.program, record.message) == ("vpn1", "kernel", "wireguard: wg0: Peer 3 created")


def test_impossible_offset_gives_no_time():
    assert frame("2026-11-22T00:17:43+25:00 vpn1 kernel: x").time is None


@pytest.mark.parametrize("day", ["Nov  2", "Nov 02", "Nov 2"])
def test_single_digit_day(day: str):
    record = frame(f"{day} 00:17:43 vpn1 wg-quick[1234]: [#] ip link add dev wg0 type wireguard", year=2026)
    assert record.time == datetime(2026, 11, 2, 0, 17, 43, tzinfo=UTC).timestamp()
    assert (record.host, record.program, record.pid) == ("vpn1", "wg-quick", 1234)
    assert record.message == "[#] ip link add dev wg0 type wireguard"


def test_dmesg_T_single_digit_day():
    record = frame("[Mon Nov  2 00:17:43 2026] wireguard: wg0: Interface created")
    assert record.time == datetime(2026, 11, 2, 0, 17, 43, tzinfo=UTC).timestamp()
    assert record.message == "wireguard: wg0: Interface created"


def test_short_precise_keeps_the_fraction():
    record = frame("Nov 22 00:17:43.097514 vpn1 kernel: wireguard: wg0: Peer 1 created", year=2026)
    assert record.time == pytest.approx(NOV_22_2026 + 1063.097514, abs=1e-6)


def test_short_format_without_hostname():
    record = frame("Nov 22 00:17:43 kernel: wireguard: wg0: Peer 1 created", year=2026)
    assert (record.host, record.program, record.message) == (None, "kernel", "wireguard: wg0: Peer 1 created")
    record = frame("Nov 22 00:17:43 wg-quick[77]: wg-quick: `wg0' already exists", year=2026)
    assert (record.host, record.program, record.pid, record.message) == (None, "wg-quick", 77, "wg-quick: `wg0' already exists")


def test_printk_time_after_the_tag_goes_to_monotonic():
    record = frame("2026-11-22T00:17:43.097514+00:00 vpn1 kernel: [123456.789012] wireguard: wg0: Peer 1 created")
    assert record.monotonic == 123456.789012
    assert record.time == pytest.approx(NOV_22_2026 + 1063.097514, abs=1e-6)
    assert record.message == "wireguard: wg0: Peer 1 created"


def test_only_the_kernel_printk_bracket_is_framing():
    # A second bracket (CONFIG_PRINTK_CALLER, dynamic debug) belongs to the message.
    assert frame("Nov 22 00:17:43 vpn1 kernel: [   12.3] [  T123] wireguard: x", year=2026).message == "[  T123] wireguard: x"
    # Another program's leading bracket is its own text.
    record = frame("Nov 22 00:17:43 vpn1 wg-quick[1234]: [12.5] odd", year=2026)
    assert (record.message, record.monotonic) == ("[12.5] odd", None)


@pytest.mark.parametrize(
    "message",
    [
        "wireguard: wg0: Receiving keepalive packet from peer 2 ([2001:db8::5]:51000/0%0)",
        "wireguard: wg0: Sending handshake initiation to peer 7 ([fe80::1%eth0]:51820/0%2)",
        "wireguard:wg_packet_receive: wireguard: wg0: Peer 3 created",
        "[123] wireguard: wg0: Peer 3 created",
        "wg_noise_handshake_begin_session: wireguard: wg0: Keypair 4 created for peer 3",
        "wireguard: wg0: Peer 3 (einval) destroyed",
        "  indented: and trailing  ",
        "",
    ],
)
def test_message_text_is_never_touched(message: str):
    framings = [
        f"[   12.345678] {message}",
        f"[Sun Nov 22 00:17:43 2026] {message}",
        f"Nov 22 00:17:43 vpn1 kernel: {message}",
        f"Nov 22 00:17:43 vpn1 kernel: [   12.345678] {message}",
        f"2026-11-22T00:17:43.123456+00:00 vpn1 kernel: {message}",
        json.dumps({"MESSAGE": message, "SYSLOG_IDENTIFIER": "kernel"}),
    ]
    for line in framings:
        assert frame(line, year=2026).message == message, line
    if message.strip():
        assert frame(message).message == message


@pytest.mark.parametrize(
    "line",
    [
        "[#] wg setconf wg0 /dev/fd/63",
        "[!] Missing WireGuard kernel module. Falling back to slow userspace implementation.",
        "wg-quick: `wg0' already exists",
        "Nov is cold",
        "May 32",
        "2026 was a year",
        "2026-11-22 00:17:43 no T",
        "[  12] no fraction",
        "[Sun Nov 22 00:17:43] no year",
        "-- Boot 9dfb369bab13dfae627655daa05f1119 --",
        "\x00\x01binary\xff",
    ],
)
def test_lines_that_merely_look_framed_are_bare(line: str):
    assert frame(line, year=2026) == LogRecord(line, line, None, None, None, None, None, None)


@pytest.mark.parametrize("line", ["", "\n", "\r\n", "   ", " \t \r\n", "\x0b\x0c"])
def test_blank_lines_are_none(line: str):
    assert frame(line) is None


# --- properties: never raises, always keeps the line -----------------------------------


def check(line: str) -> None:
    record = frame(line, year=2026)
    original = line[:-1] if line.endswith("\n") else line
    original = original[:-1] if original.endswith("\r") else original
    if not original.strip():
        assert record is None
    else:
        assert isinstance(record, LogRecord)
        assert record.original == original
        assert isinstance(record.message, str)


@given(st.text())
def test_random_text_never_raises(line: str):
    check(line)


@given(st.binary())
def test_random_bytes_never_raise(data: bytes):
    check(data.decode("utf-8", errors="replace"))


@given(st.sampled_from(all_fixture_lines()), st.data())
def test_truncated_fixture_lines_never_raise(line: str, data: st.DataObject):
    check(line[: data.draw(st.integers(0, len(line)))])


def test_every_prefix_of_every_fixture_line():
    for line in all_fixture_lines():
        for end in range(len(line) + 1):
            check(line[:end])


_JOURNAL_FIELDS = ["MESSAGE", "__REALTIME_TIMESTAMP", "_SOURCE_MONOTONIC_TIMESTAMP", "_HOSTNAME",
                   "SYSLOG_IDENTIFIER", "_COMM", "_PID", "SYSLOG_PID", "__CURSOR"]  # fmt: skip
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_json_values = st.recursive(
    _json_scalars | st.lists(st.integers(-5, 300)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(_JOURNAL_FIELDS) | st.text(max_size=12), _json_values, max_size=10))
@settings(max_examples=300)
def test_random_json_objects_never_raise(obj: dict):
    line = json.dumps(obj) + "\n"
    check(line)
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:  # a lone surrogate, a number out of range: not JSON to us
        return
    if isinstance(obj.get("MESSAGE"), str):
        assert frame(line).message == obj["MESSAGE"]
