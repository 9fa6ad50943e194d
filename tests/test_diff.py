"""The diff engine: every wireguard.status action and the semantics the shipper promises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs.document import Context
from wgsiem.shipper import Shipper
from wgsiem.status.diff import DiffSettings, StatusDiffer
from wgsiem.status.events import SessionEnded, SessionStarted, StatusEvent, Transfer
from wgsiem.status.spike import SpikeSettings
from wgsiem.status.state import State
from wgsiem.wgdump import DumpParser, Poll, PresharedKeyHasher, RawPoll

T0 = 1_790_000_000
ALICE, BOB = fake_key("alice"), fake_key("bob")


class Run:
    """Polls through a real Shipper (its parser and differ), returning the events."""

    def __init__(self, state: State | None = None, **settings) -> None:
        self.shipper = Shipper(state or State(), PresharedKeyHasher(b"s" * 32), Context(host_name="vpn-test"), DiffSettings(**settings))
        self.notices: list[str] = []

    @property
    def parser(self) -> DumpParser:
        return self.shipper.parser

    @property
    def differ(self) -> StatusDiffer:
        return self.shipper.differ

    def poll(self, text: str, time: int, stderr: str = "") -> list[StatusEvent]:
        polled = self.shipper.diff(RawPoll(time, text, stderr))
        self.notices = polled.notices
        return polled.events

    def actions(self, text: str, time: int, stderr: str = "") -> list[str]:
        return [e.action for e in self.poll(text, time, stderr)]


def restart(run: Run) -> Run:
    """A new process that loads what the old one saved."""
    saved = json.loads(run.differ.state.encode())
    return Run(State.from_json(saved), session_timeout=run.differ.settings.session_timeout)


def of(events, action):
    return [e for e in events if e.action == action]


def test_baseline_is_discovery_only():
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.7:4000", allowed_ips="10.0.0.2/32", handshake=T0 - 30, rx=500, tx=900)
    wg0.peer("bob")
    events = Run().poll(dump(wg0), T0)
    assert [e.action for e in events] == ["interface-discovered", "peer-discovered", "peer-discovered"]


def test_peer_added_later_counts_from_zero_and_handshakes_once():
    run, wg0 = Run(), FakeInterface()
    run.poll(dump(wg0), T0)
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=T0 + 20, rx=1000, tx=2000)
    events = run.poll(dump(wg0), T0 + 30)
    assert sorted(e.action for e in events) == ["handshake", "peer-added", "session-started", "transfer"]
    (transfer,) = of(events, "transfer")
    assert (transfer.detail.rx_bytes, transfer.detail.tx_bytes) == (1000, 2000)
    assert of(events, "handshake")[0].time == T0 + 20
    # the same handshake value again: no second handshake event
    alice.rx += 10
    assert run.actions(dump(wg0), T0 + 60) == ["transfer"]


def test_counter_reset_is_never_negative():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", rx=10_000, tx=20_000)
    run.poll(dump(wg0), T0)
    alice.rx, alice.tx = 300, 100  # peer removed and re-added between polls
    (transfer,) = run.poll(dump(wg0), T0 + 30)
    assert transfer.detail == Transfer(start=T0, end=T0 + 30, rx_bytes=300, tx_bytes=100, counter_reset=True)


def test_transfer_deltas_add_up_to_the_counters():
    run, wg0 = Run(), FakeInterface()
    run.poll(dump(wg0), T0)
    alice = wg0.peer("alice")
    total_rx = total_tx = 0
    for i, (rx, tx) in enumerate([(100, 50), (0, 0), (5000, 10), (123456, 7)], 1):
        alice.rx += rx
        alice.tx += tx
        for e in of(run.poll(dump(wg0), T0 + 30 * i), "transfer"):
            total_rx += e.detail.rx_bytes
            total_tx += e.detail.tx_bytes
    assert (total_rx, total_tx) == (alice.rx, alice.tx)


def test_sessions_start_and_end_on_the_handshake_age():
    run, wg0 = Run(session_timeout=180), FakeInterface()
    run.poll(dump(wg0), T0)
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=T0 + 10, rx=100, tx=100)
    run.poll(dump(wg0), T0 + 30)
    alice.handshake, alice.rx, alice.tx = T0 + 130, 1100, 600  # rekey within the session
    assert sorted(run.actions(dump(wg0), T0 + 150)) == ["handshake", "transfer"]
    assert run.actions(dump(wg0), T0 + 300) == []  # 170 s old: still open
    events = run.poll(dump(wg0), T0 + 330)  # 200 s old: over
    (ended,) = of(events, "session-ended")
    assert ended.time == T0 + 130 + 180
    assert ended.detail == SessionEnded(start=T0 + 10, end=T0 + 310, rx_bytes=1100, tx_bytes=600, reason="expired")
    # a new handshake later opens a new session
    alice.handshake = T0 + 1000
    assert sorted(run.actions(dump(wg0), T0 + 1010)) == ["handshake", "session-started"]


def test_session_lapsed_between_polls_ends_before_the_new_one():
    run, wg0 = Run(session_timeout=180), FakeInterface()
    run.poll(dump(wg0), T0)
    alice = wg0.peer("alice", handshake=T0 + 10)
    run.poll(dump(wg0), T0 + 30)
    alice.handshake = T0 + 900  # the shipper missed polls in between
    events = run.poll(dump(wg0), T0 + 910)
    assert [e.action for e in events] == ["session-ended", "handshake", "session-started"]
    assert events[0].time == T0 + 190


def test_session_started_tells_the_silence_before_it():
    run, wg0 = Run(session_timeout=180), FakeInterface()
    alice = wg0.peer("alice", handshake=T0 - 40 * 86400)  # last seen 40 days before the baseline
    run.poll(dump(wg0), T0)
    alice.handshake = T0 + 10
    (started,) = of(run.poll(dump(wg0), T0 + 30), "session-started")
    assert started.detail == SessionStarted(previous_handshake=T0 - 40 * 86400)
    # a peer's very first session has no previous handshake to tell
    wg0.peer("bob", handshake=T0 + 50)
    (first,) = [e for e in of(run.poll(dump(wg0), T0 + 60), "session-started")]
    assert first.detail == SessionStarted(previous_handshake=None)


def test_endpoint_changed_carries_the_previous_endpoint():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", handshake=T0 - 5)
    run.poll(dump(wg0), T0)
    run.poll(dump(wg0), T0 + 30)
    alice.endpoint, alice.handshake = "203.0.113.9:40404", T0 + 50
    events = run.poll(dump(wg0), T0 + 60)
    (moved,) = of(events, "endpoint-changed")
    assert moved.peer.endpoint.address == "203.0.113.9:40404"
    assert moved.detail.previous.address == "198.51.100.10:34195"
    assert moved.detail.previous_seen == T0 - 5  # its last handshake at the old endpoint


def test_a_peer_back_after_a_month_elsewhere_did_not_travel_fast():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", handshake=T0 - 5)
    run.poll(dump(wg0), T0)
    for day in range(1, 31):  # silent: wg keeps showing the old endpoint every poll
        run.poll(dump(wg0), T0 + day * 86400)
    alice.endpoint, alice.handshake = "89.160.20.130:40404", T0 + 31 * 86400
    (moved,) = of(run.poll(dump(wg0), T0 + 31 * 86400 + 30), "endpoint-changed")
    assert moved.detail.previous_seen == T0 - 5


def test_configuration_changes_and_preshared_key_life():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", allowed_ips="10.0.0.2/32")
    run.poll(dump(wg0), T0)
    alice.allowed_ips, alice.keepalive = "10.0.0.2/32,0.0.0.0/0", "25"
    (changed,) = run.poll(dump(wg0), T0 + 30)
    assert changed.action == "peer-changed"
    assert changed.detail.changes == {
        "allowed_ips": (("10.0.0.2/32",), ("10.0.0.2/32", "0.0.0.0/0")),
        "persistent_keepalive": (None, 25),
    }
    for t, psk, expected in [(60, fake_key("psk1"), "set"), (90, fake_key("psk2"), "rotated"), (120, "(none)", "removed")]:
        alice.psk = psk
        (changed,) = run.poll(dump(wg0), T0 + t)
        assert changed.detail.changes == {"preshared_key": expected}


def test_interface_changed_down_and_up_keep_the_peers():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", handshake=T0 - 10, rx=5000, tx=5000)
    run.poll(dump(wg0), T0)
    wg0.listen_port, wg0.fwmark = 51821, "0xca6c"
    (changed,) = run.poll(dump(wg0), T0 + 30)
    assert changed.action == "interface-changed"
    assert changed.detail.changes == {"listen_port": (51820, 51821), "fwmark": (None, 0xCA6C)}
    # wg-quick down: the interface vanishes; the open session ends with it
    events = run.poll("", T0 + 60)
    assert [e.action for e in events] == ["session-ended", "interface-down"]
    assert events[0].detail.reason == "interface-down"
    # wg-quick up: the same peers come back with fresh counters, nobody added or removed
    alice.rx, alice.tx, alice.handshake = 200, 100, T0 + 100
    events = run.poll(dump(wg0), T0 + 120)
    assert sorted(e.action for e in events) == ["handshake", "interface-up", "session-started", "transfer"]
    assert of(events, "transfer")[0].detail.counter_reset is True


def test_an_interface_restart_does_not_erase_when_a_peer_was_last_heard():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", handshake=T0 - 40 * 86400)
    run.poll(dump(wg0), T0)
    run.poll("", T0 + 60)  # wg-quick down
    alice.handshake, alice.rx, alice.tx = 0, 0, 0  # up again: wg shows no handshake yet
    run.poll(dump(wg0), T0 + 120)
    restarted = restart(run)  # and the shipper restarts too: the state file must keep it
    assert restarted.differ.state.interfaces["wg0"].peers[ALICE].last_handshake == T0 - 40 * 86400
    # alice, silent for 40 days, comes back from elsewhere
    alice.endpoint, alice.handshake = "89.160.20.130:40404", T0 + 200
    events = restarted.poll(dump(wg0), T0 + 210)
    (started,) = of(events, "session-started")
    assert started.detail == SessionStarted(previous_handshake=T0 - 40 * 86400)  # a dormant peer, still
    (moved,) = of(events, "endpoint-changed")
    assert moved.detail.previous_seen == T0 - 40 * 86400  # not the poll before: no fast travel


def test_a_poll_during_wg_quick_up_is_not_a_key_change_and_peers_removed():
    run, wg0 = Run(), FakeInterface()
    wg0.peer("alice", handshake=T0 - 10)
    run.poll(dump(wg0), T0)
    bare = FakeInterface(private_key="(none)", public_key="(none)", listen_port=0)  # before wg setconf
    assert run.actions(dump(bare), T0 + 30) == []
    assert "being configured" in run.notices[0]
    assert run.actions(dump(wg0), T0 + 60) == []  # configured: nothing happened
    # wiped for real: the second bare poll in a row is reported
    assert run.actions(dump(bare), T0 + 90) == []
    events = run.poll(dump(bare), T0 + 120)
    assert {e.action for e in events} >= {"interface-changed", "peer-removed"}


def test_interface_public_key_change():
    run, wg0 = Run(), FakeInterface()
    run.poll(dump(wg0), T0)
    wg0.new_key("new private")
    (changed,) = run.poll(dump(wg0), T0 + 30)
    assert list(changed.detail.changes) == ["public_key"]


def test_new_interface_after_baseline_is_up_and_its_peers_added():
    run = Run()
    run.poll("", T0)
    wg1 = FakeInterface(name="wg1")
    wg1.peer("bob")
    assert run.actions(dump(wg1), T0 + 30) == ["interface-up", "peer-added"]


def test_peer_removed_and_re_added():
    run, wg0 = Run(), FakeInterface()
    wg0.peer("alice", handshake=T0 - 10, rx=100, tx=100)
    run.poll(dump(wg0), T0)
    alice = wg0.peers.pop("alice")
    events = run.poll(dump(wg0), T0 + 30)
    assert [e.action for e in events] == ["session-ended", "peer-removed"]
    assert events[0].detail.reason == "peer-removed" and events[0].time == T0 + 30
    # re-added: the kernel starts it afresh, with no handshake and zero counters
    wg0.peers["alice"] = alice
    alice.handshake, alice.rx, alice.tx = 0, 0, 0
    assert run.actions(dump(wg0), T0 + 60) == ["peer-added"]
    alice.handshake, alice.rx, alice.tx = T0 + 70, 40, 40
    assert sorted(run.actions(dump(wg0), T0 + 90)) == ["handshake", "session-started", "transfer"]


def test_unreadable_interface_is_left_alone():
    run, wg0 = Run(), FakeInterface()
    wg0.peer("alice")
    wg1 = FakeInterface(name="wg1")
    run.poll(dump(wg0, wg1), T0)
    events = run.poll(dump(wg1), T0 + 30, stderr="Unable to access interface wg0: Protocol not supported\n")
    assert events == []
    assert any("wg0 could not be read" in n for n in run.notices)
    assert run.actions(dump(wg0, wg1), T0 + 60) == []


def test_malformed_peer_line_does_not_remove_the_peer():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", rx=10)
    run.poll(dump(wg0), T0)
    alice.rx = "garbage"
    assert run.actions(dump(wg0), T0 + 30) == []
    alice.rx = 20
    assert run.actions(dump(wg0), T0 + 60) == ["transfer"]


def test_no_permission_is_a_failed_poll_not_a_removal():
    run, wg0 = Run(), FakeInterface()
    wg0.peer("alice")
    run.poll(dump(wg0), T0)
    assert run.actions("", T0 + 30, stderr="Unable to access interface: Operation not permitted\n") == []
    assert "CAP_NET_ADMIN" in run.notices[0]
    assert run.actions(dump(wg0), T0 + 60) == []


def test_wall_clock_going_back_is_reported_and_nothing_negative():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", handshake=T0 - 10, rx=100, tx=100)
    run.poll(dump(wg0), T0)
    alice.rx, alice.handshake = 5000, T0 - 3000 + 5
    events = run.poll(dump(wg0), T0 - 3000)
    assert any("went back 3000 s" in n for n in run.notices)
    for e in events:
        if e.action in ("transfer", "session-ended"):
            assert e.detail.rx_bytes >= 0 and e.detail.tx_bytes >= 0
    assert len(of(events, "handshake")) == 1


def test_restart_emits_no_duplicates_and_loses_no_transition():
    run, wg0 = Run(), FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=T0 - 10, rx=100, tx=100)
    run.poll(dump(wg0), T0)
    run = restart(run)
    assert run.actions(dump(wg0), T0 + 30) == []  # no rediscovery, no handshake again
    # changes made while the shipper was down show at its next poll
    run = restart(run)
    alice.endpoint, alice.handshake, alice.rx = "203.0.113.9:4000", T0 + 500, 900
    wg0.peer("bob")
    events = run.poll(dump(wg0), T0 + 600)
    assert sorted(e.action for e in events) == [
        "endpoint-changed", "handshake", "peer-added", "session-ended", "session-started", "transfer",
    ]  # fmt: skip
    assert of(events, "session-ended")[0].detail.end == T0 - 10 + 180


def test_baseline_session_is_followed():
    run, wg0 = Run(session_timeout=180), FakeInterface()
    wg0.peer("alice", handshake=T0 - 60, rx=100, tx=100)
    run.poll(dump(wg0), T0)
    (ended,) = run.poll(dump(wg0), T0 + 150)
    assert ended.action == "session-ended" and ended.time == T0 + 120


SPIKE = dict(factor=10.0, min_bytes=1_000_000, min_history=3600, window_days=14)


def spiky_run():
    run, wg0 = Run(spike=SpikeSettings(**SPIKE)), FakeInterface()
    alice = wg0.peer("alice")
    run.poll(dump(wg0), T0)
    return run, wg0, alice


def test_spike_needs_history_then_fires_on_a_first_ever_burst():
    run, wg0, alice = spiky_run()
    alice.rx += 50_000_000  # huge, but the peer is brand new to the baseline
    assert "transfer-spike" not in run.actions(dump(wg0), T0 + 60)
    run, wg0, alice = spiky_run()
    t = T0
    for _ in range(130):  # a bit over an hour of ordinary traffic
        t += 30
        alice.rx += 20_000
        alice.tx += 40_000
        assert "transfer-spike" not in run.actions(dump(wg0), t)
    alice.tx += 50_000_000
    events = run.poll(dump(wg0), t + 30)
    (spike,) = of(events, "transfer-spike")
    s = spike.detail.spike
    assert (s.direction, s.bytes) == ("tx", 50_000_000)
    assert s.baseline == pytest.approx(40_000 / 30)


def test_spike_below_min_bytes_or_factor_is_quiet():
    run, wg0, alice = spiky_run()
    t = T0
    for _ in range(130):
        t += 30
        alice.rx += 200_000
        run.poll(dump(wg0), t)
    alice.rx += 900_000  # above 10x the baseline rate... but under min_bytes
    assert "transfer-spike" not in run.actions(dump(wg0), t + 30)
    alice.rx += 1_900_000  # above min_bytes but under 10x
    assert "transfer-spike" not in run.actions(dump(wg0), t + 60)


def test_nightly_backup_alerts_at_most_once():
    run, wg0, alice = spiky_run()
    t = T0
    spikes = []
    for night in range(5):
        for _ in range(12):  # a day of light traffic, one poll every two hours
            t += 7200
            alice.rx += 500_000
            spikes += [night] * len(of(run.poll(dump(wg0), t), "transfer-spike"))
        t += 600
        alice.rx += 4_000_000_000  # the backup: 4 GB in ten minutes
        spikes += [night] * len(of(run.poll(dump(wg0), t), "transfer-spike"))
    assert spikes == [0]


def test_spike_history_survives_restart():
    run, wg0, alice = spiky_run()
    t = T0
    for _ in range(130):
        t += 30
        alice.rx += 100_000
        run.poll(dump(wg0), t)
    alice.rx += 1_000_000_000
    run.poll(dump(wg0), t + 30)  # the spike, now part of the history
    run = restart(run)
    run.differ.settings = DiffSettings(spike=SpikeSettings(**SPIKE))
    alice.rx += 1_000_000_000
    assert "transfer-spike" not in run.actions(dump(wg0), t + 60)


def test_incremental_state_encoding_equals_a_full_encoding():
    """Only dirty peers are re-encoded; a mutation the diff engine forgot to mark would show here."""
    run, wg0 = Run(session_timeout=60), FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=T0 - 10, rx=1, tx=1)
    wg0.peer("bob")
    steps = [
        lambda t: None,
        lambda t: setattr(alice, "rx", alice.rx + 500),
        lambda t: setattr(alice, "handshake", t - 1),
        lambda t: None,  # the session expires with no line changing
        lambda t: wg0.peer("carol", handshake=t - 2, rx=7, tx=7),
        lambda t: wg0.peers.pop("bob"),
        lambda t: setattr(alice, "endpoint", "203.0.113.9:4000"),
        lambda t: setattr(alice, "psk", fake_key("psk")),
    ]
    t = T0
    for step in steps:
        step(t)
        run.poll(dump(wg0), t)
        state = run.differ.state
        incremental = state.encode()
        full = State(last_poll=state.last_poll, interfaces=state.interfaces).encode()
        assert json.loads(incremental) == json.loads(full)
        t += 120


OPS = ["same", "traffic", "handshake", "roam", "psk", "allowed", "add", "remove", "garbage", "down"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 5)), min_size=1, max_size=25))
def test_trusting_the_parser_for_unchanged_lines_changes_no_event(ops):
    """The diff skips peers whose line the parser found unchanged; that must never hide an event."""
    trusting, full = Run(session_timeout=60), Run(session_timeout=60)
    wg0 = FakeInterface()
    for i in range(3):
        wg0.peer(f"p{i}", endpoint=f"198.51.100.{i + 1}:4000", rx=10, tx=10, handshake=T0 - 5)
    t = T0
    for op, n in ops:
        labels = sorted(wg0.peers)
        label = labels[n % len(labels)] if labels else None
        peer = wg0.peers.get(label) if label else None
        if op == "traffic" and peer and peer.rx != "x":
            peer.rx, peer.tx = peer.rx + 100 * (n + 1), peer.tx + 7
        elif op == "handshake" and peer:
            peer.handshake = t - n
        elif op == "roam" and peer:
            peer.endpoint = f"203.0.113.{n + 1}:{4000 + n}"
        elif op == "psk" and peer:
            peer.psk = "(none)" if n % 2 else fake_key(f"psk{t}")
        elif op == "allowed" and peer:
            peer.allowed_ips = f"10.0.{n}.0/24"
        elif op == "add":
            wg0.peer(f"p{t}-{n}", rx=n, tx=n)
        elif op == "remove" and label:
            del wg0.peers[label]
        elif op == "garbage" and peer:
            peer.rx = "x" if peer.rx != "x" else 5
        text = "" if op == "down" else dump(wg0)
        got = trusting.poll(text, t)
        poll = Poll(time=t)
        full.parser.parse(text, t, poll=poll)
        poll.fresh = None  # compare every peer, as for a Poll built by hand
        want = full.differ.apply(poll).events
        assert [(e.action, e.time, e.peer and e.peer.public_key, e.detail) for e in got] == [
            (e.action, e.time, e.peer and e.peer.public_key, e.detail) for e in want
        ]
        t += 30
