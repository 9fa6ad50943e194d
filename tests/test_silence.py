"""Always-on peers (status/silence.py): peer-silent once an outage passes the registry's
limit, peer-back at the handshake that ends it, an outage remembered across restarts; and
the same through the shipper, as documents."""

from __future__ import annotations

import json
import secrets

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs.document import Context
from wgsiem.enrich.registry import RegisteredPeer
from wgsiem.shipper import Shipper
from wgsiem.status.diff import StatusDiffer
from wgsiem.status.events import PeerBack, PeerSilent, StatusEvent
from wgsiem.status.silence import SilenceWatch
from wgsiem.status.state import State
from wgsiem.wgdump import DumpParser, PresharedKeyHasher, RawPoll

T0 = 1_790_000_000
SITE, LAPTOP = fake_key("site"), fake_key("laptop")


class Watch:
    """The pure parts in the shipper's order: parse → diff → judge the always-on peers, and
    the state encoded after each poll, as `ship` saves it."""

    def __init__(self, state: State | None = None, limits: dict[str, int] | None = None) -> None:
        self.state = state or State()
        self.parser = DumpParser(PresharedKeyHasher(b"s" * 32))
        self.differ = StatusDiffer(self.state)
        self.watch = SilenceWatch(self.state)
        self.limits = {SITE: 600} if limits is None else limits
        self.diffed: list[StatusEvent] = []

    def poll(self, time: int, *interfaces: FakeInterface) -> list[StatusEvent]:
        poll = self.parser.parse(dump(*interfaces) if interfaces else "", time)
        self.diffed = self.differ.apply(poll).events
        events = self.watch.apply(time, self.limits, poll.unreadable)
        self.saved = self.state.encode()
        return events

    def restarted(self) -> Watch:
        """A new process that loads what this one saved."""
        return Watch(State.from_json(json.loads(self.saved)), self.limits)


def site_interface(handshake: int = T0 - 60) -> tuple[FakeInterface, object]:
    wg0 = FakeInterface()
    site = wg0.peer("site", endpoint="198.51.100.20:51820", allowed_ips="10.1.0.2/32", handshake=handshake, keepalive="25")
    return wg0, site


def summary(events: list[StatusEvent]) -> list[tuple[str, int, str, object]]:
    return [(e.action, e.time, e.peer.public_key if e.peer else "", e.detail) for e in events]


def test_peer_silent_once_when_the_silence_passes_the_limit_and_back_at_the_next_handshake():
    wg0, site = site_interface()
    w = Watch()
    assert w.poll(T0, wg0) == []
    assert w.poll(T0 + 540, wg0) == []  # exactly the limit: not longer than it
    assert summary(w.poll(T0 + 541, wg0)) == [("peer-silent", T0 + 541, SITE, PeerSilent(T0 - 60, T0 - 60, 600))]
    assert w.poll(T0 + 600, wg0) == [] and w.poll(T0 + 7200, wg0) == []  # once per outage
    site.handshake = T0 + 7210
    assert summary(w.poll(T0 + 7230, wg0)) == [("peer-back", T0 + 7210, SITE, PeerBack(T0 - 60, T0 - 60))]
    assert w.poll(T0 + 7260, wg0) == []
    # A second outage is reported again, counted from the handshake that ended the first.
    assert summary(w.poll(T0 + 7811, wg0)) == [("peer-silent", T0 + 7811, SITE, PeerSilent(T0 + 7210, T0 + 7210, 600))]


def test_a_peer_that_never_handshook_is_silent_from_the_poll_that_first_saw_it():
    wg0, site = site_interface(handshake=0)
    w = Watch()
    w.poll(T0, wg0)
    assert w.poll(T0 + 600, wg0) == []
    assert summary(w.poll(T0 + 630, wg0)) == [("peer-silent", T0 + 630, SITE, PeerSilent(None, T0, 600))]
    site.handshake = T0 + 700
    assert summary(w.poll(T0 + 720, wg0)) == [("peer-back", T0 + 700, SITE, PeerBack(None, T0))]


def test_a_site_already_down_at_the_baseline_is_reported_there():
    wg0, _ = site_interface(handshake=T0 - 86_400)
    assert summary(Watch().poll(T0, wg0)) == [("peer-silent", T0, SITE, PeerSilent(T0 - 86_400, T0 - 86_400, 600))]


def test_back_and_silent_again_between_two_polls_gives_both():
    wg0, site = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    assert [e.action for e in w.poll(T0 + 700, wg0)] == ["peer-silent"]
    site.handshake = T0 + 800  # the shipper was away: the site came back, and went again
    assert summary(w.poll(T0 + 2000, wg0)) == [
        ("peer-back", T0 + 800, SITE, PeerBack(T0 - 60, T0 - 60)),
        ("peer-silent", T0 + 2000, SITE, PeerSilent(T0 + 800, T0 + 800, 600)),
    ]


def test_peers_that_are_not_always_on_are_not_watched():
    wg0, _ = site_interface()
    wg0.peer("laptop", endpoint="198.51.100.10:4000", handshake=T0 - 86_400)
    w = Watch()
    assert w.poll(T0, wg0) == []  # the laptop's day-old handshake says nothing
    assert [e.peer.public_key for e in w.poll(T0 + 90_000, wg0)] == [SITE]


def test_an_open_outage_survives_a_restart_through_the_state_file():
    wg0, site = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    w.poll(T0 + 60, wg0)  # the peer's saved JSON is cached now: the outage must replace it
    assert [e.action for e in w.poll(T0 + 700, wg0)] == ["peer-silent"]
    record = json.loads(w.saved)["interfaces"]["wg0"]["peers"][SITE]
    assert len(record) == 12 and record[10:] == [T0 - 60, T0 - 60]  # last_handshake, then the outage's
    again = w.restarted()
    assert again.poll(T0 + 760, wg0) == []  # not reported twice
    site.handshake = T0 + 900
    assert summary(again.poll(T0 + 910, wg0)) == [("peer-back", T0 + 900, SITE, PeerBack(T0 - 60, T0 - 60))]
    assert len(json.loads(again.saved)["interfaces"]["wg0"]["peers"][SITE]) == 10  # nothing open: the old form


def test_state_files_written_before_always_on_peers_still_load():
    wg0, _ = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    data = json.loads(w.saved)
    record = data["interfaces"]["wg0"]["peers"][SITE]
    assert len(record) == 10
    for old in (record, [*record, T0 - 3600]):  # with and without the restart's last_handshake
        data["interfaces"]["wg0"]["peers"][SITE] = old
        peer = State.from_json(json.loads(json.dumps(data))).interfaces["wg0"].peers[SITE]
        assert peer.silence is None and peer.last_handshake == (old[10] if len(old) > 10 else old[3])


def test_an_interface_down_takes_its_always_on_peers_down_and_its_return_brings_them_back():
    wg0, site = site_interface()
    wg1 = FakeInterface(name="wg1", listen_port=51821)
    wg1.peer("laptop", endpoint="198.51.100.10:4000", handshake=T0 - 10)
    w = Watch()
    w.poll(T0, wg0, wg1)
    assert w.poll(T0 + 60, wg1) == [] and [e.action for e in w.diffed] == ["session-ended", "interface-down"]
    (silent,) = w.poll(T0 + 700, wg1)
    assert (silent.action, silent.interface.name, silent.peer.public_key) == ("peer-silent", "wg0", SITE)
    site.handshake = 0  # wg-quick up again: no handshake yet, which says nothing new
    assert w.poll(T0 + 800, wg0, wg1) == []
    site.handshake = T0 + 805
    assert summary(w.poll(T0 + 830, wg0, wg1)) == [("peer-back", T0 + 805, SITE, PeerBack(T0 - 60, T0 - 60))]


def test_an_interface_or_a_peer_line_the_poll_did_not_read_says_nothing():
    wg0, _ = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    # wg could not read wg0 at T0 + 700 (or it was being configured): it was last read at T0.
    assert w.watch.apply(T0 + 700, w.limits) == []
    # Read, but the site's line did not parse: its state is last poll's.
    w.differ.apply(w.parser.parse(dump(wg0), T0 + 760))
    assert w.watch.apply(T0 + 760, w.limits, {("wg0", SITE)}) == []
    assert [e.action for e in w.watch.apply(T0 + 760, w.limits)] == ["peer-silent"]


def test_a_removed_peer_is_not_watched_and_its_outage_goes_with_it():
    wg0, site = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    assert [e.action for e in w.poll(T0 + 700, wg0)] == ["peer-silent"]
    del wg0.peers["site"]
    assert w.poll(T0 + 760, wg0) == [] and [e.action for e in w.diffed] == ["peer-removed"]
    assert w.poll(T0 + 5000, wg0) == []
    # Added again (the same key): a new peer, watched from the poll that saw it.
    wg0.peers["site"] = site
    site.handshake = 0
    assert w.poll(T0 + 5030, wg0) == []
    assert summary(w.poll(T0 + 5631, wg0)) == [("peer-silent", T0 + 5631, SITE, PeerSilent(None, T0 + 5030, 600))]


def test_a_reloaded_registry_changes_the_limit_from_the_next_poll_on():
    wg0, site = site_interface()
    w = Watch(limits={SITE: 900})
    w.poll(T0, wg0)
    assert w.poll(T0 + 700, wg0) == []  # 760 s: under 15 minutes
    w.limits = {SITE: 600}  # always_on: true now
    assert summary(w.poll(T0 + 730, wg0)) == [("peer-silent", T0 + 730, SITE, PeerSilent(T0 - 60, T0 - 60, 600))]
    w.limits = {SITE: 3600}  # an outage already reported stays open under a longer limit
    assert w.poll(T0 + 760, wg0) == []
    site.handshake = T0 + 770
    assert [e.action for e in w.poll(T0 + 790, wg0)] == ["peer-back"]


def test_a_peer_no_longer_always_on_forgets_its_outage_without_peer_back():
    wg0, site = site_interface()
    w = Watch()
    w.poll(T0, wg0)
    assert [e.action for e in w.poll(T0 + 700, wg0)] == ["peer-silent"]
    w.limits = {}
    assert w.poll(T0 + 760, wg0) == []
    assert json.loads(w.saved)["interfaces"]["wg0"]["peers"][SITE][11:] == []  # forgotten in the state too
    site.handshake = T0 + 770
    assert w.poll(T0 + 790, wg0) == []
    w.limits = {SITE: 600}  # always on again: judged afresh, from its latest handshake
    assert w.poll(T0 + 800, wg0) == []
    assert [e.action for e in w.poll(T0 + 1371, wg0)] == ["peer-silent"]


# -- through the shipper: documents ------------------------------------------------------------


REGISTRY = {
    SITE: RegisteredPeer("site-amsterdam", owner="netops", role="site", always_on=True),
    LAPTOP: RegisteredPeer("alice-laptop", owner="alice", role="laptop"),
}


def shipper(state: State | None = None, registry: dict[str, RegisteredPeer] | None = None) -> Shipper:
    reg = REGISTRY if registry is None else registry
    context = Context(host_name="vpn1", names={k: e.name for k, e in reg.items()}, registry=reg)
    return Shipper(state or State(), PresharedKeyHasher(secrets.token_bytes(32)), context)


def site_and_laptop() -> tuple[FakeInterface, object, object]:
    wg0, site = site_interface()
    laptop = wg0.peer("laptop", endpoint="198.51.100.10:4000", allowed_ips="10.0.0.2/32", handshake=T0 - 30)
    return wg0, site, laptop


def outage_polls() -> list[RawPoll]:
    """The site and a laptop; both go quiet at T0, the site comes back at T0 + 2400."""
    wg0, site, _laptop = site_and_laptop()
    polls = [RawPoll(time=t, stdout=dump(wg0)) for t in range(T0, T0 + 2400, 60)]
    site.handshake = T0 + 2410
    polls.append(RawPoll(time=T0 + 2430, stdout=dump(wg0)))
    return polls


def documents(s: Shipper, polls: list[RawPoll]) -> list[dict]:
    return [d for raw in polls for d in s.process(raw).documents]


def by_action(docs: list[dict], action: str) -> list[dict]:
    return [d for d in docs if d["event"]["action"] == action]


def test_the_shipper_says_site_down_and_back_as_documents():
    docs = documents(shipper(), outage_polls())
    # The laptop is silent as long, and ends its session like the site: not always on, no word.
    assert {d["wireguard"]["peer"]["name"] for d in by_action(docs, "session-ended")} == {"site-amsterdam", "alice-laptop"}
    (down,) = by_action(docs, "peer-silent")
    assert down["@timestamp"] == "2026-09-21T14:23:20.000Z"  # T0 + 600: the first poll more than 600 s after T0 - 60
    assert down["event"]["kind"] == "alert" and down["event"]["start"] == "2026-09-21T14:12:20.000Z"  # T0 - 60
    assert down["event"]["duration"] == 660 * 10**9
    peer = down["wireguard"]["peer"]
    assert (peer["name"], peer["always_on"], peer["silent_after"], peer["silence_seconds"]) == ("site-amsterdam", True, 600, 660)
    assert peer["previous_handshake"] == "2026-09-21T14:12:20.000Z"
    assert down["user"]["name"] == "netops" and down["related"]["user"] == ["netops", "site-amsterdam"]
    assert down["source"]["ip"] == "198.51.100.20"
    assert down["message"] == "always-on peer site-amsterdam on wg0 is down: no handshake for 11m 0s (its limit: 10m 0s)"
    (back,) = by_action(docs, "peer-back")
    assert back["@timestamp"] == back["event"]["end"] == "2026-09-21T14:53:30.000Z"  # the handshake, T0 + 2410
    assert back["event"]["start"] == "2026-09-21T14:12:20.000Z" and back["event"]["duration"] == 2470 * 10**9
    assert back["wireguard"]["peer"]["silence_seconds"] == 2470 and "silent_after" not in back["wireguard"]["peer"]
    assert back["wireguard"]["peer"]["always_on"] is True and back["user"]["name"] == "netops"
    assert back["message"] == "always-on peer site-amsterdam on wg0 is back from 198.51.100.20:51820 after 41m 10s without a handshake"
    # In time order: the handshake and session that end the outage, then peer-back, all at the handshake.
    at_back = [d["event"]["action"] for d in docs if d["@timestamp"] == back["@timestamp"]]
    assert at_back == ["handshake", "session-started", "peer-back"]


def test_a_restarted_shipper_gives_what_one_run_gives():
    polls = outage_polls()
    whole = documents(shipper(), polls)
    first = shipper()
    part = documents(first, polls[:15])  # peer-silent is in this part
    assert by_action(part, "peer-silent")
    second = shipper(State.from_json(json.loads(first.state.encode())))
    assert part + documents(second, polls[15:]) == whole


def test_a_registry_reloaded_in_a_running_shipper_applies_at_the_next_poll():
    s = shipper(registry={SITE: RegisteredPeer("site-amsterdam", always_on=True, silent_after=3600)})
    polls = outage_polls()
    assert not by_action(documents(s, polls[:20]), "peer-silent")  # 20 minutes: under the hour
    s.context.registry = {SITE: RegisteredPeer("site-amsterdam", always_on=True, silent_after=900)}  # as ship's reload does
    (down,) = by_action(documents(s, polls[20:21]), "peer-silent")
    assert down["wireguard"]["peer"]["silent_after"] == 900


def test_a_failed_poll_judges_nobody_not_even_the_peers_of_a_down_interface():
    wg0, _site, _laptop = site_and_laptop()
    wg1 = FakeInterface(name="wg1", listen_port=51821)
    s = shipper()
    documents(s, [RawPoll(time=T0, stdout=dump(wg0, wg1)), RawPoll(time=T0 + 60, stdout=dump(wg1))])  # wg0 goes down
    assert list(s.process(RawPoll(time=T0 + 3600, stdout="", failure="wg: command not found")).documents) == []
    (down,) = by_action(documents(s, [RawPoll(time=T0 + 3660, stdout=dump(wg1))]), "peer-silent")
    assert down["wireguard"]["interface"]["name"] == "wg0"
