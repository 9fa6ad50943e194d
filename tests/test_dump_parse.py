"""The dump parser: every case of the reference, malformed lines, and secrets staying inside."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.wgdump import DumpParser, Endpoint, Poll, PresharedKeyHasher, read_stderr
from wgsiem.wgdump.redact import REDACTED, redact_dump


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


PRIV, PUB, PEER1, PEER2, PSK = key(), key(), key(), key(), key()
HASHER = PresharedKeyHasher(b"k" * 32)


def parse(text: str, **kw) -> Poll:
    return DumpParser(HASHER).parse(text, 1000, source="t.dump", **kw)


def test_interface_and_peers_with_every_field_form():
    text = (
        f"wg0\t{PRIV}\t{PUB}\t51820\t0xca6c\n"
        f"wg0\t{PEER1}\t{PSK}\t[fe80::1%eth0]:51820\t10.0.0.2/32,fd00::2/128,192.168.7.0/24\t1700000000\t18446744073709551615\t0\t25\n"
        f"wg0\t{PEER2}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"
        f"wg1\t(none)\t(none)\t0\toff\n"
    )
    poll = parse(text)
    assert not poll.problems
    wg0 = poll.interfaces["wg0"]
    assert (wg0.public_key, wg0.listen_port, wg0.fwmark) == (PUB, 51820, 0xCA6C)
    wg1 = poll.interfaces["wg1"]
    assert (wg1.public_key, wg1.listen_port, wg1.fwmark) == (None, 0, None)
    p1 = poll.peers["wg0"][PEER1]
    assert p1.endpoint == Endpoint("fe80::1", 51820, "eth0")
    assert p1.endpoint.address == "[fe80::1%eth0]:51820"
    assert p1.allowed_ips == ("10.0.0.2/32", "fd00::2/128", "192.168.7.0/24")
    assert p1.latest_handshake == 1700000000
    assert p1.rx_bytes == 2**64 - 1 and p1.tx_bytes == 0
    assert p1.persistent_keepalive == 25
    assert p1.preshared_key_set and p1.preshared_key_hash != PSK
    p2 = poll.peers["wg0"][PEER2]
    assert (p2.endpoint, p2.allowed_ips, p2.latest_handshake, p2.persistent_keepalive) == (None, (), 0, None)
    assert not p2.preshared_key_set
    assert poll.peers["wg1"] == {}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1.2.3.4:51820", Endpoint("1.2.3.4", 51820)),
        ("[2001:db8::1]:51820", Endpoint("2001:db8::1", 51820)),
        ("[2001:DB8:0:0::1]:1", Endpoint("2001:db8::1", 1)),
        ("[fe80::1%eth0]:51820", Endpoint("fe80::1", 51820, "eth0")),
        ("(none)", None),
    ],
)
def test_endpoint_forms(text, expected):
    poll = parse(f"wg0\t{PRIV}\t{PUB}\t1\toff\nwg0\t{PEER1}\t(none)\t{text}\t(none)\t0\t0\t0\toff\n")
    assert not poll.problems
    assert poll.peers["wg0"][PEER1].endpoint == expected


def test_without_interface_column():
    text = f"{PRIV}\t{PUB}\t51820\toff\n{PEER1}\t(none)\t192.0.2.1:5\t10.0.0.2/32\t5\t6\t7\toff\n"
    poll = parse(text, interface="wg7")
    assert not poll.problems
    assert poll.peers["wg7"][PEER1].rx_bytes == 6


def test_empty_dump_is_an_empty_poll():
    poll = parse("")
    assert poll.interfaces == {} and not poll.problems


@pytest.mark.parametrize(
    "line,field",
    [
        (f"wg0\t{PEER1}\t(none)\t1.2.3.4\t(none)\t0\t0\t0\toff", "endpoint"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t10.0.0.300/32\t0\t0\t0\toff", "allowed-ips"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t-1\t0\t0\toff", "latest-handshake"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t18446744073709551616\t0\toff", "rx-bytes"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\tx\toff", "tx-bytes"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\ton", "persistent-keepalive"),
        ("wg0\tnotakey\t(none)\t(none)\t(none)\t0\t0\t0\toff", "public-key"),
        (f"wg0\t{PEER1}\tnotakey\t(none)\t(none)\t0\t0\t0\toff", "preshared-key"),
        (f"wg0\t{PEER1}\t(none)\t(none)", "line"),
    ],
)
def test_malformed_peer_line_is_reported_and_the_rest_used(line, field):
    text = f"wg0\t{PRIV}\t{PUB}\t51820\toff\n{line}\nwg0\t{PEER2}\t(none)\t(none)\t(none)\t0\t1\t2\toff\n"
    poll = parse(text)
    assert [(p.line, p.field) for p in poll.problems] == [(2, field)]
    assert str(poll.problems[0]).startswith(f"t.dump:2: {field}: ")
    assert PEER2 in poll.peers["wg0"]
    if field not in ("endpoint", "line", "public-key"):
        # a known peer whose line did not parse is unread, not gone
        assert ("wg0", PEER1) in poll.unreadable


def test_unreadable_endpoint_text_keeps_the_peer():
    # getnameinfo failing makes wg print its error text in place of the address
    text = f"wg0\t{PRIV}\t{PUB}\t51820\toff\nwg0\t{PEER1}\t(none)\tTemporary failure in name resolution\t(none)\t0\t0\t0\toff\n"
    poll = parse(text)
    assert poll.peers["wg0"][PEER1].endpoint is None
    assert [p.field for p in poll.problems] == ["endpoint"]


def test_malformed_interface_line_marks_it_unavailable():
    text = f"wg0\t{PRIV}\t{PUB}\t99999\toff\nwg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"
    poll = parse(text)
    assert "wg0" in poll.unavailable
    assert [p.field for p in poll.problems] == ["listen-port", "interface"]


@pytest.mark.parametrize("fwmark", ["0x0", "0xzz", "12", "0x100000000"])
def test_bad_fwmark(fwmark):
    poll = parse(f"wg0\t{PRIV}\t{PUB}\t1\t{fwmark}\n")
    assert [p.field for p in poll.problems] == ["fwmark"]


def test_problems_never_quote_keys():
    lines = [
        f"wg0\t{PRIV}\t{PUB}\t51820\t{PSK}",  # a key in the fwmark column
        f"wg0\t{PEER1}\t{PSK}\t{PSK}:1\t(none)\t0\t0\t0\toff",  # a key where the endpoint goes
        f"wg0\t{PEER1}\t{PSK}\t(none)\t{PSK}\t0\t0\t0\toff",
        f"wg0\t{PRIV}\t{PSK}",
    ]
    poll = parse("\n".join(lines))
    assert len(poll.problems) == 4
    for problem in poll.problems:
        assert PRIV not in str(problem) and PSK not in str(problem)


def test_psk_hash_tracks_changes_without_the_key():
    other = PresharedKeyHasher(b"o" * 32)
    assert HASHER.hash(PSK) == HASHER.hash(PSK)
    assert HASHER.hash(PSK) != HASHER.hash(key())
    assert HASHER.hash(PSK) != other.hash(PSK)  # per install
    assert PSK not in HASHER.hash(PSK) and PSK not in repr(HASHER)
    with pytest.raises(ValueError):
        PresharedKeyHasher(b"short")


def test_unchanged_peer_lines_are_reused_and_changes_seen():
    parser = DumpParser(HASHER)
    line = f"wg0\t{PEER1}\t{PSK}\t192.0.2.1:5\t10.0.0.2/32\t5\t6\t7\toff"
    first = parser.parse(f"wg0\t{PRIV}\t{PUB}\t1\toff\n{line}\n", 1).peers["wg0"][PEER1]
    same = parser.parse(f"wg0\t{PRIV}\t{PUB}\t1\toff\n{line}\n", 2).peers["wg0"][PEER1]
    assert same is first
    rotated = parser.parse(f"wg0\t{PRIV}\t{PUB}\t1\toff\n{line.replace(PSK, key())}\n", 3).peers["wg0"][PEER1]
    assert rotated is not first and rotated.preshared_key_hash != first.preshared_key_hash


def test_duplicates_and_orphans():
    text = (
        f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"  # before any interface line
        f"wg0\t{PRIV}\t{PUB}\t1\toff\n"
        f"wg0\t{PRIV}\t{PUB}\t1\toff\n"
    )
    poll = parse(text)
    assert [p.field for p in poll.problems] == ["interface", "interface"]


def test_stderr_unavailable_interface_and_total_failure():
    poll = Poll(time=1)
    read_stderr("Unable to access interface wg1: No such device\n", poll)
    assert poll.unavailable == {"wg1": "No such device"} and poll.failure is None
    poll = Poll(time=1)
    read_stderr("Unable to access interface: Operation not permitted\n", poll)
    assert "CAP_NET_ADMIN" in poll.failure


def test_redaction_keeps_format_and_removes_secrets():
    text = (
        f"wg0\t{PRIV}\t{PUB}\t51820\toff\n"
        f"wg0\t{PEER1}\t{PSK}\t192.0.2.1:5\t10.0.0.2/32\t5\t6\t7\toff\n"
        f"wg0\t{PEER2}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"
        f"garbage {PRIV}\n"
    )
    red = redact_dump(text, HASHER)
    assert PRIV not in red and PSK not in red
    assert REDACTED in red and PUB in red and PEER1 in red
    poll = parse(red)
    assert [p.line for p in poll.problems] == [4]
    assert poll.peers["wg0"][PEER1].preshared_key_set
    assert not poll.peers["wg0"][PEER2].preshared_key_set
    # the stand-in is stable: a capture still shows whether the key changed
    assert redact_dump(text, HASHER) == red


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text_never_crashes(text):
    poll = parse(text)
    assert isinstance(poll.problems, list)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["wg0", PRIV, PUB, PEER1, "(none)", "off", "0", "1.2.3.4:5", "10.0.0.0/8", "", "x"]), max_size=12))
def test_random_fields_never_crash_or_leak(fields):
    poll = parse(f"wg0\t{PRIV}\t{PUB}\t1\toff\n" + "\t".join(fields))
    for problem in poll.problems:
        assert PRIV not in str(problem)


def test_preshared_keys_swapped_between_peers_are_seen():
    parser = DumpParser(HASHER)
    psk_a, psk_b = key(), key()
    head = f"wg0\t{PRIV}\t{PUB}\t1\toff\n"
    a = f"wg0\t{PEER1}\t{{}}\t(none)\t(none)\t0\t0\t0\toff\n"
    b = f"wg0\t{PEER2}\t{{}}\t(none)\t(none)\t0\t0\t0\toff\n"
    first = parser.parse(head + a.format(psk_a) + b.format(psk_b), 1).peers["wg0"]
    # the same lines in another order, each with the other's key
    second = parser.parse(head + b.format(psk_a) + a.format(psk_b), 2).peers["wg0"]
    assert second[PEER1].preshared_key_hash == first[PEER2].preshared_key_hash
    assert second[PEER2].preshared_key_hash == first[PEER1].preshared_key_hash


def test_key_rotated_while_its_line_was_unreadable_is_seen():
    parser = DumpParser(HASHER)
    head = f"wg0\t{PRIV}\t{PUB}\t1\toff\n"
    line = f"wg0\t{PEER1}\t{{}}\t(none)\t(none)\t0\t{{}}\t0\toff\n"
    old, new = key(), key()
    first = parser.parse(head + line.format(old, 5), 1).peers["wg0"][PEER1]
    assert parser.parse(head + line.format(new, "x"), 2).unreadable == {("wg0", PEER1)}
    third = parser.parse(head + line.format(new, 5), 3).peers["wg0"][PEER1]
    assert third.preshared_key_hash != first.preshared_key_hash
