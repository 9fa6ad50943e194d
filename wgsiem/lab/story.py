"""A scripted day in the lab: what the demo shows, the live end-to-end test checks, and
`fixtures/captures/lab-story/` was recorded from.

alice is connected from Amsterdam at the baseline. bob (IPv6, preshared key), carol
(configured, never connects, two allowed IPs) and dave (Madrid) are added. Everyone
sends a little traffic for a few polls; alice roams to Linköping; bob sends a burst far
above anything he did; dave is removed.

`tick(label)` is called after each step and must return only once a poll has seen it.
`on_peer(client)` is called as each peer is configured (to name it).
"""

from __future__ import annotations

from collections.abc import Callable

from .tunnels import Client, Lab


def play(
    lab: Lab,
    tick: Callable[[str], None],
    on_peer: Callable[[Client], None] = lambda client: None,
    *,
    warmup_polls: int = 4,
    burst_bytes: int = 40_000_000,
) -> dict[str, Client]:
    alice = lab.add_client("alice", "nl-amsterdam")
    on_peer(alice)
    lab.connect(alice)
    lab.send(alice, 20_000)
    tick("baseline: alice is connected from Amsterdam (198.51.100.0/24)")

    bob = lab.add_client("bob", "gb-v6", preshared_key=True)
    on_peer(bob)
    carol = lab.add_silent_peer("carol", allowed_ips=["10.77.0.200/32", "192.168.50.0/24"])
    on_peer(carol)
    dave = lab.add_client("dave", "es-madrid")
    on_peer(dave)
    lab.connect(bob)
    lab.connect(dave)
    tick("bob (IPv6, preshared key), carol (never connects) and dave (Madrid) added")

    for i in range(warmup_polls):
        for client in (alice, bob, dave):
            lab.send(client, 30_000)
        tick(f"ordinary traffic, poll {i + 1} of {warmup_polls}")

    lab.roam(alice, "se")
    tick("alice roamed from Amsterdam to Linköping (89.160.20.128/25)")

    lab.send(bob, burst_bytes)
    tick(f"bob sent {burst_bytes / 1e6:.0f} MB at once")

    lab.remove(dave)
    tick("dave removed from the hub")
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
