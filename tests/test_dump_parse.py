"""The dump parser: every case of the reference, malformed lines, and secrets staying inside."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgsiem.wgdump import DumpParser, Endpoint, Poll, PresharedKeyHasher, read_stderr
from wgsiem.wgdump.redact import REDACTED, redact_dump
from wgsiem.wgdump.x25519 import public_key_of


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


PRIV, PEER1, PEER2, PSK = key(), key(), key(), key()
PUB = public_key_of(PRIV)
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


def test_x25519_matches_rfc_7748():
    # Section 6.1's two key pairs.
    for private, public in [
        ("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
        ("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    ]:
        derived = public_key_of(base64.b64encode(bytes.fromhex(private)).decode())
        assert derived is not None and base64.b64decode(derived).hex() == public
    assert public_key_of("not base64!") is None and public_key_of(base64.b64encode(b"short").decode()) is None


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "a" * 16, "wg/0", "wg:0", "wg 0", "wg\x0b0", "wg\u00a00", "wg\x000", "ü" * 8, PRIV],
    ids=["empty", "dot", "dotdot", "16-bytes", "slash", "colon", "space", "vtab", "nbsp", "nul", "16-utf8-bytes", "a-key"],
)
def test_interface_names_the_kernel_refuses_are_refused(name):
    poll = parse(f"{name}\t{PRIV}\t{PUB}\t51820\toff\n{name}\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n")
    assert poll.interfaces == {} and poll.peers == {}
    assert poll.problems[0].field == "interface" and poll.problems[0].line == 1
    assert poll.unavailable == {}  # the name is not one, so it names nothing
    assert PRIV not in str(poll.problems)


@pytest.mark.parametrize("name", ["wg0", "a" * 15, "wg-ü-ä-ö", "WG_hub.1", "-x"])
def test_interface_names_the_kernel_allows_are_read(name):
    poll = parse(f"{name}\t{PRIV}\t{PUB}\t51820\toff\n")
    assert not poll.problems and list(poll.interfaces) == [name]


def test_interface_columns_swapped_never_give_the_private_key():
    swapped_name = f"{PRIV}\twg0\t{PUB}\t51820\toff"  # the fuzzer's find: the private key as the name
    swapped_keys = f"wg0\t{PUB}\t{PRIV}\t51820\toff"
    no_private = f"wg0\t(none)\t{PRIV}\t51820\toff"
    redacted = f"wg0\t(redacted)\t{PSK}\t51820\toff\nwg0\t{PEER1}\t{PSK}\t(none)\t(none)\t0\t0\t0\toff"
    junk = f"wg0\tsomething\t{PUB}\t51820\toff"
    for line, field, says in [
        (swapped_name, "interface", "not an interface name"),
        (swapped_keys, "public-key", "not the public key of the private key beside it"),
        (no_private, "public-key", "a public key beside no private key"),
        (redacted, "public-key", "printed as a private or preshared key"),
        (junk, "private-key", "not a base64 WireGuard key"),
    ]:
        poll = parse(line + "\n")
        assert poll.interfaces == {}, line
        assert (poll.problems[0].field, poll.problems[0].line) == (field, 1) and says in poll.problems[0].reason
        assert PRIV not in repr(poll) and PSK not in repr(poll)
    # A capture of `wgsiem record` keeps the public key beside its (redacted) private key.
    assert parse(f"wg0\t(redacted)\t{PUB}\t51820\toff\n").interfaces["wg0"].public_key == PUB


def test_a_secret_of_the_dump_never_becomes_a_peer():
    other_priv = key()
    text = (
        f"wg0\t{PRIV}\t{PUB}\t51820\toff\n"
        f"wg0\t{other_priv}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"  # wg1's private key, as a peer
        f"wg0\t{PSK}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"  # peer2's preshared key, as a peer
        f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"
        f"wg1\t{other_priv}\t{public_key_of(other_priv)}\t51821\toff\n"
        f"wg1\t{PEER2}\t{PSK}\t(none)\t(none)\t0\t0\t0\toff\n"
    )
    poll = parse(text)
    assert sorted((p.line, p.field) for p in poll.problems) == [(2, "public-key"), (3, "public-key")]
    assert list(poll.peers["wg0"]) == [PEER1] and list(poll.peers["wg1"]) == [PEER2]
    assert other_priv not in repr(poll) and PSK not in repr(poll)


def test_a_peer_line_with_its_keys_swapped_is_caught_once_its_peer_is_known():
    parser = DumpParser(HASHER)
    head = f"wg0\t{PRIV}\t{PUB}\t51820\toff\n"
    good = f"wg0\t{PEER1}\t{PSK}\t192.0.2.1:5\t10.0.0.2/32\t5\t6\t7\toff\n"
    swapped = f"wg0\t{PSK}\t{PEER1}\t192.0.2.1:5\t10.0.0.2/32\t5\t6\t7\toff\n"
    parser.parse(head + good, 1)
    poll = parser.parse(head + swapped, 2)
    assert poll.peers["wg0"] == {} and PSK not in repr(poll)
    assert [p.field for p in poll.problems] == ["public-key"]
    # Remembered from the state alone (a restart), with the preshared key's hash only.
    restarted = DumpParser(HASHER)
    restarted.remember({"wg0": dict(parser.parse(head + good, 3).peers["wg0"])})
    poll = restarted.parse(head + swapped, 4)
    assert poll.peers["wg0"] == {} and PSK not in repr(poll)
    # A preshared key column holding a known peer's public key says the same.
    other = key()
    poll = parser.parse(head + good + f"wg0\t{other}\t{PEER1}\t(none)\t(none)\t0\t0\t0\toff\n", 5)
    assert [(p.line, p.field) for p in poll.problems] == [(3, "preshared-key")]


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "\uff11", "-1", "+1", " 1", "1e3", str(2**64)])
def test_numbers_are_ascii_digits_only(value):
    for line, field in [
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t{value}\t0\t0\toff", "latest-handshake"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t{value}\t0\toff", "rx-bytes"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\t{value}", "persistent-keepalive"),
        (f"wg0\t{PEER1}\t(none)\t1.2.3.4:{value}\t(none)\t0\t0\t0\toff", "endpoint"),
        (f"wg0\t{PEER1}\t(none)\t(none)\t10.0.0.0/{value}\t0\t0\t0\toff", "allowed-ips"),
    ]:
        poll = parse(f"wg0\t{PRIV}\t{PUB}\t{value}\toff\nwg1\t(none)\t(none)\t0\toff\n{line.replace('wg0', 'wg1')}\n")
        assert [p.field for p in poll.problems] == ["listen-port", field], (line, poll.problems)


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
    # keys where no key belongs are redacted too
    odd = redact_dump(f"{PRIV}\twg0\t{PUB}\t51820\toff\nwg0\t{PEER1}\t(none)\t{PSK}:5\t(none)\t0\t0\t0\toff\n", HASHER)
    assert PRIV not in odd and PSK not in odd and PUB in odd and PEER1 in odd
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
