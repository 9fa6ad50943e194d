"""What the events of the lab story (wgsiem/lab/story.py) must say, live or recorded."""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict

# The story is seconds long: thresholds scaled down from a day of history and 100 MiB.
SHIP_ARGS = ["--spike-min-history", "3", "--spike-min-bytes", "5000000"]


def actions_of(docs, name):
    return [d["event"]["action"] for d in docs if d.get("user", {}).get("name") == name]


def check_story(docs: list[dict], *, geo: bool) -> None:
    assert docs, "no events"
    ids = [d["event"]["id"] for d in docs]
    assert len(ids) == len(set(ids)), "an event was shipped twice"

    # The baseline: discovery only.
    first = docs[0]["@timestamp"]
    at_baseline = [d["event"]["action"] for d in docs if d["@timestamp"] == first and d["event"]["action"].endswith("discovered")]
    assert sorted(at_baseline) == ["interface-discovered", "peer-discovered"]
    assert Counter(d["event"]["action"] for d in docs)["interface-discovered"] == 1
    (discovered,) = [d for d in docs if d["event"]["action"] == "peer-discovered"]
    assert discovered["user"]["name"] == "alice"
    assert not any(d["event"]["action"] == "transfer" and d["@timestamp"] == first for d in docs)

    # Added later: IPv6 with a preshared key, a peer that never connects, IPv4.
    added = {d["user"]["name"]: d for d in docs if d["event"]["action"] == "peer-added"}
    assert sorted(added) == ["bob", "carol", "dave"]
    assert added["bob"]["wireguard"]["peer"]["preshared_key_set"] is True
    assert added["dave"]["wireguard"]["peer"]["preshared_key_set"] is False
    if "source" in added["bob"]:
        assert ipaddress.ip_address(added["bob"]["source"]["ip"]) in ipaddress.ip_network("2001:db8::/64")
    assert ipaddress.ip_address(added["dave"]["source"]["ip"]) in ipaddress.ip_network("203.0.113.0/24")
    carol = added["carol"]
    assert "source" not in carol and len(carol["wireguard"]["peer"]["allowed_ips"]) == 2
    assert actions_of(docs, "carol") == ["peer-added"]
    assert any(d["network"].get("type") == "ipv6" for d in docs if d.get("user", {}).get("name") == "bob")

    # Each latest-handshake value gives one handshake event, timed at the handshake.
    handshakes = [(d["user"]["name"], d["@timestamp"]) for d in docs if d["event"]["action"] == "handshake"]
    assert len(handshakes) == len(set(handshakes))
    for d in docs:
        if d["event"]["action"] == "handshake":
            assert d["@timestamp"] == d["wireguard"]["peer"]["latest_handshake"]
    assert {name for name, _ in handshakes} >= {"bob", "dave"}

    # alice roams with her previous endpoint on the event.
    (moved,) = [d for d in docs if d["event"]["action"] == "endpoint-changed"]
    assert moved["user"]["name"] == "alice"
    prev = moved["wireguard"]["peer"]["previous_endpoint"]
    assert ipaddress.ip_address(prev["ip"]) in ipaddress.ip_network("198.51.100.0/24")
    assert ipaddress.ip_address(moved["source"]["ip"]) in ipaddress.ip_network("89.160.20.128/25")
    if geo:
        assert prev["geo"]["country_iso_code"] == "NL" and moved["source"]["geo"]["country_iso_code"] == "SE"
        assert 900 < moved["wireguard"]["peer"]["roam"]["distance_km"] < 1100

    # Transfer deltas add up to the counters.
    sums = defaultdict(lambda: [0, 0])
    last = {}
    base = {"alice": (discovered["wireguard"]["peer"]["rx_bytes"], discovered["wireguard"]["peer"]["tx_bytes"])}
    for d in docs:
        if d["event"]["action"] == "transfer":
            name = d["user"]["name"]
            assert d["source"]["bytes"] >= 0 and d["destination"]["bytes"] >= 0
            sums[name][0] += d["source"]["bytes"]
            sums[name][1] += d["destination"]["bytes"]
            last[name] = (d["wireguard"]["peer"]["rx_bytes"], d["wireguard"]["peer"]["tx_bytes"])
    for name in ("alice", "bob", "dave"):
        b = base.get(name, (0, 0))
        assert tuple(sums[name]) == (last[name][0] - b[0], last[name][1] - b[1]), name

    # bob's burst is a spike; nobody else's ordinary traffic is.
    spikes = [d for d in docs if d["event"]["action"] == "transfer-spike"]
    assert spikes and {d["user"]["name"] for d in spikes} == {"bob"}
    assert spikes[0]["wireguard"]["transfer"]["direction"] == "rx"

    # dave is removed; his session ends with him.
    assert actions_of(docs, "dave")[-2:] == ["session-ended", "peer-removed"]
    (ended,) = [d for d in docs if d["event"]["action"] == "session-ended" and d["user"]["name"] == "dave"]
    assert ended["wireguard"]["session"]["end_reason"] == "peer-removed"
