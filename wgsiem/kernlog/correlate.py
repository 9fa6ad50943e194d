"""Which peer a kernel line is about: kernel peer ids → public keys, per interface.

No kernel line names a public key. Peer ids are the module's internal counters
(`Peer 7 created`): never reused while the module stays loaded, unknown to `wg`. So:

* A line with a peer id and an endpoint is matched against the polls before and after
  it: if exactly one peer of that interface had that endpoint (address and port) at the
  poll before the line, the id is that peer; if none did, the poll after the line is
  asked the same, so the first handshake of a peer added between two polls names it.
  The id is remembered.
* A remembered id names its peer on every later line, even one without an endpoint
  (`Keypair 12 created for peer 7`) or after the peer roamed.
* The id is forgotten on `Peer N ... destroyed`, every id of an interface on
  `Interface destroyed`, and all ids on `module-loaded` (the counters restart).

What cannot be known: an id first seen on a line without an endpoint, or whose endpoint
no peer had at either poll (a peer that roamed twice between them), or that two peers
share (behind one NAT address and port, which WireGuard itself would not allow for
long), stays unresolved until a later line resolves it. Lines without a peer id (invalid handshakes,
cookies) are about an address, not a peer, and are not tied to one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..status.state import PeerState
from ..wgdump.model import Endpoint

_AMBIGUOUS = ""

# Per interface, the endpoint index of one poll: (address, port) -> public key, or
# _AMBIGUOUS where two peers shared it.
Endpoints = dict[str, dict[tuple[str, int], str]]


class PeerIds:
    def __init__(self, ids: dict[str, dict[int, str]]) -> None:
        # The state's own table (State.peer_ids), so what is learnt is saved with the state.
        self.ids = ids
        # Per interface: the endpoint index of one poll, rebuilt when the poll changes.
        self._index: dict[str, tuple[int, dict[tuple[str, int], str]]] = {}

    def resolve(
        self,
        iface: str,
        peer_id: int,
        endpoint: Endpoint | None,
        peers: Mapping[str, PeerState],
        poll_time: int,
        earlier: Endpoints | None = None,
    ) -> str | None:
        """The public key of `peer_id` on `iface`, from what is remembered, else from the
        line's endpoint: in `earlier` (the poll before the line, when `peers` are of the poll
        after it), then in `peers`."""
        ids = self.ids.setdefault(iface, {})
        key = ids.get(peer_id)
        if key is not None or endpoint is None:
            return key
        spot = (endpoint.ip, endpoint.port)
        if earlier is not None:
            key = earlier.get(iface, {}).get(spot)
        if not key:
            key = self._by_endpoint(iface, peers, poll_time).get(spot)
        if key:
            ids[peer_id] = key
            return key
        return None

    def endpoints(self, interfaces: Mapping[str, tuple[Mapping[str, PeerState], int]]) -> Endpoints:
        """The endpoint index of each interface as of now ({name: (peers, poll time)}), kept
        to resolve the lines read before the next poll once that poll has changed the peers.
        An index built for the same poll is reused, not rebuilt."""
        return {name: self._by_endpoint(name, peers, poll_time) for name, (peers, poll_time) in interfaces.items()}

    def _by_endpoint(self, iface: str, peers: Mapping[str, PeerState], poll_time: int) -> dict[tuple[str, int], str]:
        cached = self._index.get(iface)
        if cached is not None and cached[0] == poll_time:
            return cached[1]
        index: dict[tuple[str, int], str] = {}
        for key, p in peers.items():
            e = p.last.endpoint
            if e is not None:
                spot = (e.ip, e.port)
                index[spot] = _AMBIGUOUS if spot in index else key
        self._index[iface] = (poll_time, index)
        return index

    def forget_peer(self, iface: str, peer_id: int) -> None:
        self.ids.get(iface, {}).pop(peer_id, None)

    def forget_interface(self, iface: str) -> None:
        self.ids.pop(iface, None)

    def forget_all(self) -> None:
        self.ids.clear()
