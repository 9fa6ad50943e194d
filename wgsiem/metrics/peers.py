"""prometheus_wireguard_exporter's metrics, from the shipper's last poll.

The same families, help texts, types and labels as the exporter, so Grafana dashboards and
alert rules written for it keep working:

    wireguard_sent_bytes_total          counter  transfer-tx of `wg show all dump`
    wireguard_received_bytes_total      counter  transfer-rx
    wireguard_latest_handshake_seconds  gauge    latest-handshake, unix seconds (0: never)

labelled `interface`, `public_key` and `allowed_ips` (wg's comma-joined list, `(none)`
when empty), plus, when asked for like the exporter's options, `remote_ip` and
`remote_port` (-r; left out for a peer without an endpoint), `allowed_ip_N` and
`allowed_subnet_N` instead of `allowed_ips` (-s), and with -n either the keys of the
peer's wg-quick `# friendly_json` comment as labels or, without one, `friendly_name`: its
name from the names file or a `# friendly_name` comment.

Every byte of the text is written by prometheus_client. A peer's three lines only change
when its poll line did (the parser hands on the very same `PeerStatus` object for an
unchanged line), so lines are kept per peer and only new or changed peers go through the
library again: after the first rendering, one of 100,000 peers costs a dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.samples import Sample

from ..status.state import State
from ..wgdump.model import PeerStatus

SENT = ("wireguard_sent_bytes", "Bytes sent to the peer")
RECEIVED = ("wireguard_received_bytes", "Bytes received from the peer")
HANDSHAKE = ("wireguard_latest_handshake_seconds", "UNIX timestamp seconds of the last handshake")
# Labels a friendly_json key may not take over.
_OWN = frozenset({"interface", "public_key", "allowed_ips", "remote_ip", "remote_port"})


@dataclass(frozen=True, slots=True)
class LabelOptions:
    """The exporter's label options: -r, -s and -n."""

    remote_endpoint: bool = False
    split_allowed_ips: bool = False
    friendly_names: bool = False


@dataclass(frozen=True, slots=True)
class PeerSnapshot:
    """The peers of the up interfaces as of one poll: (interface, PeerStatus), and names."""

    peers: tuple[tuple[str, PeerStatus], ...]
    names: Mapping[str, str]
    json_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # from `# friendly_json` comments


def snapshot(state: State, names: Mapping[str, str], json_labels: Mapping[str, Mapping[str, str]] | None = None) -> PeerSnapshot:
    """What the metrics show after a poll. Takes the poll's immutable `PeerStatus` objects,
    so the state may change under a scrape without the scrape seeing half a poll."""
    peers = tuple((name, p.last) for name, ist in sorted(state.interfaces.items()) if ist.up for p in ist.peers.values())
    return PeerSnapshot(peers, names, json_labels or {})


def labels_of(
    interface: str, peer: PeerStatus, name: str | None, options: LabelOptions, json_labels: Mapping[str, str] | None = None
) -> dict[str, str]:
    labels = {"interface": interface, "public_key": peer.public_key}
    if options.split_allowed_ips:
        for i, network in enumerate(peer.allowed_ips):
            address, _, prefix = network.partition("/")
            labels[f"allowed_ip_{i}"] = address
            labels[f"allowed_subnet_{i}"] = prefix
    else:
        labels["allowed_ips"] = ",".join(peer.allowed_ips) or "(none)"
    if json_labels is not None:
        labels.update((k, v) for k, v in json_labels.items() if k not in labels and k not in _OWN)
    elif name is not None:
        labels["friendly_name"] = name
    if options.remote_endpoint and peer.endpoint is not None:
        labels["remote_ip"] = peer.endpoint.ip  # without brackets or zone, as the exporter prints it
        labels["remote_port"] = str(peer.endpoint.port)
    return labels


class _Peers(Collector):
    """The three families for some peers: (labels, PeerStatus) each."""

    def __init__(self, rows: Iterable[tuple[dict[str, str], PeerStatus]]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        sent = CounterMetricFamily(*SENT)
        received = CounterMetricFamily(*RECEIVED)
        handshake = GaugeMetricFamily(*HANDSHAKE)
        # Samples, not add_metric: that wants one set of label names per family, and a peer
        # without an endpoint has no remote_ip, as with the exporter.
        for labels, peer in self.rows:
            sent.samples.append(Sample("wireguard_sent_bytes_total", labels, peer.tx_bytes))
            received.samples.append(Sample("wireguard_received_bytes_total", labels, peer.rx_bytes))
            handshake.samples.append(Sample("wireguard_latest_handshake_seconds", labels, peer.latest_handshake))
        yield from (sent, received, handshake)


def _exposition(rows: list[tuple[dict[str, str], PeerStatus]]) -> list[str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Peers(rows))
    return generate_latest(registry).decode().split("\n")


# A peer's name and friendly_json labels (with -n), what its friendly labels come from.
_Friendly = tuple["str | None", "Mapping[str, str] | None"]
# A peer's PeerStatus and friendly labels as of its lines, and its line in each family.
_Lines = tuple[PeerStatus, _Friendly, bytes, bytes, bytes]


class PeerMetrics:
    """Renders a `PeerSnapshot` as the exporter's three families, keeping each peer's lines."""

    def __init__(self, options: LabelOptions = LabelOptions()) -> None:
        self.options = options
        # (interface, public key) -> the PeerStatus and name the lines were written for, the lines
        self._lines: dict[tuple[str, str], _Lines] = {}
        headers = [line for line in _exposition([]) if line]
        self._headers = tuple(("\n".join(headers[2 * i : 2 * i + 2]) + "\n").encode() for i in range(3))
        self.rendered_peers = 0  # peers that went through the library (new or changed), for the benchmark

    def headers(self) -> bytes:
        """The three families with no peer: HELP and TYPE lines only."""
        return b"".join(self._headers)

    def render(self, snap: PeerSnapshot) -> bytes:
        friendly = self.options.friendly_names
        names, json_labels = snap.names, snap.json_labels
        old = self._lines
        fresh: dict[tuple[str, str], _Lines] = {}
        changed: list[tuple[tuple[str, str], PeerStatus, _Friendly, dict[str, str]]] = []
        for interface, peer in snap.peers:
            key = (interface, peer.public_key)
            who: _Friendly = (names.get(peer.public_key), json_labels.get(peer.public_key)) if friendly else (None, None)
            kept = old.get(key)
            if kept is not None and kept[0] is peer and kept[1] == who:
                fresh[key] = kept
            else:
                changed.append((key, peer, who, labels_of(interface, peer, who[0], self.options, who[1])))
        if changed:
            self._write(changed, fresh)
        self._lines = fresh
        # Dicts keep insertion order: the peers' order of the snapshot.
        entries = fresh.values()
        return b"".join(
            [self._headers[0], *(e[2] for e in entries), self._headers[1], *(e[3] for e in entries), self._headers[2], *(e[4] for e in entries)]
        )

    def _write(self, changed: list[tuple[tuple[str, str], PeerStatus, _Friendly, dict[str, str]]], into: dict[tuple[str, str], _Lines]) -> None:
        lines = [line for line in _exposition([(labels, peer) for _, peer, _, labels in changed]) if line and not line.startswith("#")]
        n = len(changed)
        if len(lines) != 3 * n:  # the library escapes newlines in values: one line per sample
            raise RuntimeError(f"prometheus_client wrote {len(lines)} sample lines for {n} peers, not {3 * n}")
        for i, (key, peer, who, _) in enumerate(changed):
            into[key] = (peer, who, f"{lines[i]}\n".encode(), f"{lines[n + i]}\n".encode(), f"{lines[2 * n + i]}\n".encode())
        self.rendered_peers += n
