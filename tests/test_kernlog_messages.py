"""Kernel and wg-quick messages: every format to its action and fields, and peer correlation."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs.catalogue import log_actions
from wgsiem.ecs.document import Context
from wgsiem.kernlog.framing import LogRecord
from wgsiem.kernlog.messages import MessageParser, TemplateError, compile_template, templates
from wgsiem.shipper import Shipper
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import RawPoll

REPO = Path(__file__).resolve().parents[1]
LINES = yaml.safe_load((REPO / "fixtures" / "kernel" / "lines.yaml").read_text())
T0 = 1_790_000_000


def record(line: str, program: str | None = None) -> LogRecord:
    return LogRecord(original=line, message=line, time=None, monotonic=None, host=None, program=program, pid=None, cursor=None)


def shipper(state: State | None = None, names: dict[str, str] | None = None) -> Shipper:
    return Shipper(state or State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="vpn1", names=names or {}))


def get(doc: dict, dotted: str):
    node = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return "absent"
        node = node[part]
    return node


@pytest.mark.parametrize("case", LINES, ids=[c["line"][:70] for c in LINES])
def test_every_line_format(case):
    s = shipper()
    docs = s.process_log([(record(case["line"]), T0)])
    if case["action"] is None:
        assert docs == []
        return
    (doc,) = docs
    assert doc["event"]["action"] == case["action"]
    assert doc["event"]["dataset"] == doc["data_stream"]["dataset"] == "wireguard.log"
    assert doc["event"]["original"] == case["line"]
    assert doc["message"] and "{" not in doc["message"]
    action = log_actions()[case["action"]]
    assert doc["event"]["category"] == list(action.category) and doc["event"]["type"] == list(action.type)
    for field, value in (case.get("fields") or {}).items():
        assert get(doc, field) == value, field


def test_every_template_has_a_fixture_line():
    covered = {(c["action"], _variant(c)) for c in LINES if c["action"]}
    for t in templates():
        assert (t.action, t.variant) in covered, t.text


def _variant(case):
    return (case.get("fields") or {}).get("wireguard.log.variant") or _variant_of(case["line"])


def _variant_of(line: str):
    msg = MessageParser().parse(line)
    return msg.variant if msg else None


def test_catalogue_covers_every_action():
    assert {t.action for t in templates()} | {"unrecognized"} == set(log_actions())


def test_unknown_placeholder_is_an_error():
    with pytest.raises(TemplateError, match="unknown placeholder"):
        compile_template("{iface}: {colour} things", "x", None, "kernel")


def test_suppressed_callbacks_are_counted():
    parser = MessageParser()
    parser.parse("net_ratelimit: 12 callbacks suppressed")
    parser.parse("net_ratelimit: 3 callbacks suppressed")
    assert parser.suppressed == 15


def test_unrecognized_lines_are_counted_and_kept():
    s = shipper()
    docs = s.process_log([(record("wireguard: wg0: Brand new message"), T0), (record("RTNETLINK answers: File exists", "wg-quick"), T0)])
    assert [d["event"]["action"] for d in docs] == ["unrecognized", "unrecognized"]
    assert s.log_counts == {"lines": 2, "wireguard": 2, "unrecognized": 2, "debug": 0}


def test_event_ids_count_identical_lines_and_repeat_on_replay():
    line = record("wireguard: wg0: Invalid handshake initiation from 203.0.113.66:4444")
    flood = [(line, T0)] * 3 + [(line, T0 + 1)]
    ids = [d["event"]["id"] for d in shipper().process_log(flood)]
    assert len(set(ids)) == 4  # three in one second are three events
    # a replay in other batches gives the same ids
    s = shipper()
    assert [d["event"]["id"] for batch in (flood[:2], flood[2:]) for d in s.process_log(batch)] == ids


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from([None, "kernel", "wg-quick"]))
def test_garbage_never_crashes(text, program):
    for candidate in (text, "wireguard: " + text, "wireguard: wg0: " + text, "[#] " + text):
        s = shipper()
        docs = s.process_log([(record(candidate, program), T0)])
        assert len(docs) <= 1


# -- correlation ---------------------------------------------------------------------------

ALICE, BOB = fake_key("alice"), fake_key("bob")


def polled(*, alice="198.51.100.7:51820", bob="203.0.113.9:40000") -> Shipper:
    s = shipper(names={ALICE: "alice"})
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint=alice)
    wg0.peer("bob", endpoint=bob)
    list(s.process(RawPoll(T0, dump(wg0))).documents)
    return s


def peer_of(s: Shipper, line: str):
    (doc,) = s.process_log([(record(line), T0 + 1)])
    return doc.get("wireguard", {}).get("peer", {}).get("public_key"), doc


def test_peer_id_is_learnt_from_the_endpoint_and_remembered():
    s = polled()
    key, doc = peer_of(s, "wireguard: wg0: Receiving handshake initiation from peer 11 (198.51.100.7:51820)")
    assert key == ALICE and doc["user"]["name"] == "alice" and "alice" in doc["message"]
    key, doc = peer_of(s, "wireguard: wg0: Keypair 40 created for peer 11")
    assert key == ALICE and doc["wireguard"]["peer"]["name"] == "alice"
    # the peer roams: the id still names it
    key, _ = peer_of(s, "wireguard: wg0: Receiving keepalive packet from peer 11 (89.160.20.130:5)")
    assert key == ALICE
    key, _ = peer_of(s, "wireguard: wg0: Peer 11 (89.160.20.130:5) destroyed")
    assert key == ALICE
    key, _ = peer_of(s, "wireguard: wg0: Keypair 41 created for peer 11")
    assert key is None  # forgotten with the peer


def test_no_guessing():
    s = polled(alice="198.51.100.7:51820", bob="198.51.100.7:51820")  # one NAT address and port
    assert peer_of(s, "wireguard: wg0: Keepalive packet from peer 3 (198.51.100.7:51820)".replace("Keepalive packet from", "Receiving keepalive packet from"))[0] is None
    assert peer_of(s, "wireguard: wg0: Keypair 1 created for peer 4")[0] is None  # no endpoint, never seen
    assert peer_of(s, "wireguard: wg1: Receiving keepalive packet from peer 5 (203.0.113.9:40000)")[0] is None  # other interface
    key, doc = peer_of(s, "wireguard: wg0: Invalid handshake initiation from 203.0.113.9:40000")
    assert key is None  # no peer id: about an address, not a peer


def test_interface_destroyed_and_module_loaded_forget_ids():
    s = polled()
    peer_of(s, "wireguard: wg0: Receiving keepalive packet from peer 1 (198.51.100.7:51820)")
    peer_of(s, "wireguard: wg0: Interface destroyed")
    assert peer_of(s, "wireguard: wg0: Keypair 2 created for peer 1")[0] is None
    peer_of(s, "wireguard: wg0: Receiving keepalive packet from peer 1 (198.51.100.7:51820)")
    peer_of(s, "wireguard: WireGuard 1.0.0 loaded. See www.wireguard.com for information.")
    assert peer_of(s, "wireguard: wg0: Keypair 2 created for peer 1")[0] is None


def test_learnt_ids_survive_a_restart():
    s = polled()
    peer_of(s, "wireguard: wg0: Receiving keepalive packet from peer 9 (203.0.113.9:40000)")
    restarted = shipper(State.from_json(json.loads(s.state.encode())))
    assert peer_of(restarted, "wireguard: wg0: Keypair 5 created for peer 9")[0] == BOB


# -- every framing, the whole path ------------------------------------------------------------

FRAMINGS = sorted((REPO / "fixtures" / "kernel" / "framings").iterdir())


def events_of(path: Path) -> list[tuple[str, str | None]]:
    from wgsiem.kernlog.framing import frame
    from wgsiem.kernlog.timing import timed

    framed = [r for line in path.read_text().splitlines() if (r := frame(line, year=2026))]
    docs = shipper().process_log(timed(framed, None, T0))
    return [(d["event"]["action"], d.get("wireguard", {}).get("interface", {}).get("name")) for d in docs]


def test_every_framing_gives_the_same_events():
    kernel_only = {"dmesg.txt", "dmesg-T.txt", "kern.log"}  # wg-quick never writes there
    full = events_of(REPO / "fixtures" / "kernel" / "framings" / "journal.json")
    assert ("handshake-initiation-received", "wg0") in full and ("wg-quick-command", "wg0") in full
    for path in FRAMINGS:
        got = events_of(path)
        want = [e for e in full if not e[0].startswith("wg-quick")] if path.name in kernel_only else full
        assert got == want, path.name


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([c["line"] for c in LINES]), st.integers(0, 200), st.binary(max_size=20))
def test_truncated_lines_and_noise_never_crash(line, cut, noise):
    from wgsiem.kernlog.framing import frame

    for candidate in (line[:cut], line[:cut] + noise.decode("utf-8", "replace"), noise.decode("latin-1") + line):
        r = frame(candidate)
        if r is not None:
            assert len(shipper().process_log([(r, T0)])) <= 1
