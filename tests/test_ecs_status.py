"""ECS documents of wireguard.status events: shape, ids, messages, names and GeoIP."""

from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs.catalogue import CatalogueError, load, status_actions
from wgsiem.ecs.document import Context
from wgsiem.enrich.geoip import GeoIP
from wgsiem.enrich.registry import RegisteredPeer
from wgsiem.shipper import Shipper
from wgsiem.status.diff import DiffSettings
from wgsiem.status.events import STATUS_ACTIONS
from wgsiem.status.spike import SpikeSettings
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import RawPoll

T0 = 1_790_000_000
ALICE = fake_key("alice")
CAROL = fake_key("carol")


def story(geoip: GeoIP | None, names: dict[str, str] | None = None) -> list[dict]:
    """Polls that make every status action happen at least once."""
    shipper = Shipper(
        State(),
        PresharedKeyHasher(secrets.token_bytes(32)),
        # carol is always on: down at the baseline (peer-silent), back with her handshake
        Context(host_name="vpn1", names=names or {}, geoip=geoip, registry={CAROL: RegisteredPeer("carol", always_on=True)}),
        DiffSettings(spike=SpikeSettings(min_bytes=1_000_000, min_history=60)),
    )
    wg0, wg1 = FakeInterface(), FakeInterface(name="wg1", listen_port=0)
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", allowed_ips="10.0.0.2/32", handshake=T0 - 5, rx=10, tx=10)
    # carol was last seen ten days before the baseline, and comes back once
    carol = wg0.peer("carol", allowed_ips="10.0.0.4/32,192.168.50.0/24", endpoint="81.2.69.150:5000", handshake=T0 - 864_000)
    steps = []

    def step(t):
        steps.extend(shipper.process(RawPoll(time=t, stdout=dump(wg0, wg1))).documents)

    step(T0)
    bob = wg0.peer("bob", endpoint="[2001:db8::5]:51000", allowed_ips="10.0.0.3/32,fd00::3/128",
                   handshake=T0 + 20, rx=300, tx=200, psk=fake_key("psk"), keepalive="25")  # fmt: skip
    step(T0 + 30)
    for i in range(2, 6):
        alice.rx += 20_000
        step(T0 + 30 * i)
    alice.endpoint, alice.handshake, alice.rx = "175.16.199.7:40404", T0 + 170, alice.rx + 90_000_000
    wg0.fwmark = "0xca6c"
    bob.allowed_ips, bob.psk = "10.0.0.3/32", "(none)"
    carol.handshake = T0 + 175
    step(T0 + 180)
    del wg0.peers["carol"]
    step(T0 + 600)
    step_down = dump(wg0)  # wg1 goes away
    steps.extend(shipper.process(RawPoll(time=T0 + 630, stdout=step_down)).documents)
    step(T0 + 660)  # and comes back
    return steps


@pytest.fixture(scope="module")
def documents(geoip_world) -> list[dict]:
    return story(GeoIP(city=geoip_world.city, asn=geoip_world.asn), {ALICE: "alice"})


def by_action(docs, action):
    return [d for d in docs if d["event"]["action"] == action]


def test_every_status_action_is_covered(documents):
    seen = {d["event"]["action"] for d in documents}
    assert seen == set(STATUS_ACTIONS)


def test_common_fields(documents):
    for d in documents:
        assert d["event"]["module"] == "wireguard"
        assert d["event"]["dataset"] == d["data_stream"]["dataset"] == "wireguard.status"
        assert d["data_stream"]["type"] == "logs" and d["data_stream"]["namespace"] == "default"
        assert d["host"]["name"] == "vpn1" and d["observer"]["type"] == "vpn"
        assert d["observer"]["vendor"] == "WireGuard"
        assert d["observer"]["ingress"]["interface"]["name"] in ("wg0", "wg1")
        assert d["network"]["protocol"] == "wireguard" and d["network"]["transport"] == "udp"
        assert d["@timestamp"].endswith("Z")
        action = status_actions()[d["event"]["action"]]
        assert d["event"]["category"] == list(action.category)
        assert d["event"]["type"] == list(action.type)
        assert d["message"] and "{" not in d["message"]
        for field in action.fields:  # what docs/events.md promises is there
            if field.startswith("wireguard.peer.previous_endpoint.") or field.startswith("wireguard.peer.roam"):
                continue  # only when a previous endpoint exists / is located
            assert _has(d, field) or _optional(d, field), (d["event"]["action"], field)


def _has(doc, dotted):
    node = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _optional(doc, field):
    # fields that are absent when their value is: keepalive off, no handshake, no ratio...
    return field in {
        "wireguard.peer.latest_handshake", "wireguard.interface.fwmark", "wireguard.peer.previous.persistent_keepalive",
        "wireguard.peer.preshared_key_change", "wireguard.peer.previous.allowed_ips", "wireguard.interface.previous.fwmark",
        "wireguard.interface.previous.public_key", "wireguard.interface.previous.listen_port", "wireguard.interface.public_key",
        "wireguard.transfer.ratio", "wireguard.peer.previous_handshake", "wireguard.peer.silence_seconds",
    }  # fmt: skip


def test_event_ids_are_unique_and_deterministic(documents, geoip_world):
    ids = [d["event"]["id"] for d in documents]
    assert len(set(ids)) == len(ids)
    again = story(GeoIP(city=geoip_world.city, asn=geoip_world.asn), {ALICE: "alice"})
    assert [d["event"]["id"] for d in again] == ids
    assert again == documents


def test_geo_and_as_of_the_endpoint(documents):
    (added,) = by_action(documents, "peer-added")
    src = added["source"]
    assert src["ip"] == "2001:db8::5" and src["port"] == 51000 and src["address"] == "[2001:db8::5]:51000"
    assert src["geo"]["country_iso_code"] == "GB"
    assert isinstance(src["as"]["number"], int) and src["as"]["organization"]["name"]
    assert added["network"]["type"] == "ipv6"
    assert added["destination"]["port"] == 51820
    assert set(added["related"]["ip"]) == {"2001:db8::5", "10.0.0.3", "fd00::3"}


def test_endpoint_changed_is_ready_for_impossible_travel(documents):
    (moved,) = by_action(documents, "endpoint-changed")
    assert moved["source"]["geo"]["country_iso_code"] == "CN"
    prev = moved["wireguard"]["peer"]["previous_endpoint"]
    assert prev["address"] == "198.51.100.10:34195" and prev["geo"]["city_name"] == "Amsterdam"
    roam = moved["wireguard"]["peer"]["roam"]
    assert 7700 < roam["distance_km"] < 8000  # Amsterdam to Changchun
    assert roam["seconds"] == 185 and roam["speed_kmh"] > 100_000  # since her handshake at T0 - 5
    assert moved["message"].startswith("peer alice roamed from 198.51.100.10:34195 to 175.16.199.7:40404 (")
    assert moved["user"]["name"] == "alice" and moved["related"]["user"] == ["alice"]
    assert "198.51.100.10" in moved["related"]["ip"] and "175.16.199.7" in moved["related"]["ip"]


def test_sessions_transfers_and_spikes(documents):
    ended = by_action(documents, "session-ended")
    assert ended and all(d["event"]["duration"] >= 0 for d in ended)
    e = ended[0]
    assert e["network"]["bytes"] == e["source"]["bytes"] + e["destination"]["bytes"]
    (spike,) = by_action(documents, "transfer-spike")
    assert spike["event"]["kind"] == "alert"
    t = spike["wireguard"]["transfer"]
    assert t["direction"] == "rx" and t["bytes"] >= 90_000_000 and t["ratio"] > 10
    for d in by_action(documents, "transfer"):
        assert d["source"]["bytes"] + d["destination"]["bytes"] > 0
        assert d["event"]["duration"] == 30 * 10**9 or d["event"]["duration"] > 0


def test_configuration_change_documents(documents):
    (changed,) = by_action(documents, "peer-changed")
    peer = changed["wireguard"]["peer"]
    assert peer["changed_fields"] == ["allowed_ips", "preshared_key"]
    assert peer["preshared_key_change"] == "removed" and peer["previous"]["preshared_key_set"] is True
    assert peer["previous"]["allowed_ips"] == ["10.0.0.3/32", "fd00::3/128"]
    (iface,) = by_action(documents, "interface-changed")
    assert iface["wireguard"]["interface"]["changed_fields"] == ["fwmark"]
    assert iface["wireguard"]["interface"]["fwmark"] == 0xCA6C


def test_without_geoip_documents_have_no_geo():
    docs = story(None)
    assert docs and not any("geo" in d.get("source", {}) for d in docs)
    (moved,) = by_action(docs, "endpoint-changed")
    assert "roam" not in moved["wireguard"]["peer"]


def test_no_key_material_in_documents(documents):
    text = json.dumps(documents)
    wg0 = FakeInterface()
    assert wg0.private_key not in text and fake_key("psk") not in text


@pytest.mark.parametrize(
    "text,message",
    [
        ("x: {category: [bogus], type: [info], when: w, message: m}", "category ['bogus'] is not an ECS"),
        ("x: {category: [network], when: w, message: m}", "missing 'type'"),
        ("x: {category: [network], type: [info], when: w, message: m, colour: red}", "unknown keys"),
    ],
)
def test_catalogue_is_validated(text, message):
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load(text, "actions.yaml")


def test_session_started_after_a_long_silence_says_how_long():
    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="vpn1"), DiffSettings())
    wg0 = FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", handshake=T0 - 40 * 86400)
    shipper.process(RawPoll(time=T0, stdout=dump(wg0)))
    alice.handshake = T0 + 10
    docs = shipper.process(RawPoll(time=T0 + 30, stdout=dump(wg0))).documents
    (started,) = by_action(docs, "session-started")
    peer = started["wireguard"]["peer"]
    assert peer["silence_seconds"] == 40 * 86400 + 10
    assert peer["previous_handshake"].startswith("2026-08-12T14:13:20")  # T0 - 40 days
    assert "silence_seconds" not in by_action(documents_of_first_session(), "session-started")[0]["wireguard"]["peer"]


def documents_of_first_session() -> list[dict]:
    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="vpn1"), DiffSettings())
    wg0 = FakeInterface()
    shipper.process(RawPoll(time=T0, stdout=dump(wg0)))
    wg0.peer("bob", endpoint="198.51.100.11:4000", handshake=T0 + 10)
    return shipper.process(RawPoll(time=T0 + 30, stdout=dump(wg0))).documents
