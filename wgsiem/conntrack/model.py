"""What one line of `conntrack -E` (or `conntrack -L`) says, as typed records.

The names are conntrack's own: a connection has an *original* tuple (the direction of
the packet that created it) and a *reply* tuple (what a reply looks like, after any
NAT); an event is NEW, UPDATE or DESTROY. A field conntrack did not print is None,
never 0: `packets=`/`bytes=` are absent when accounting is off
(`net.netfilter.nf_conntrack_acct=0`) and from every event but DESTROY; `timeout` is
absent from most DESTROY events (a connection that timed out or was flushed; one reset
while being set up keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

EventKind = Literal["NEW", "UPDATE", "DESTROY"]
Family = Literal["ipv4", "ipv6"]

# The status words libnetfilter_conntrack prints in brackets (snprintf_default.c,
# __snprintf_status_not_seen_reply and __snprintf_status_assured: at most one of the
# last three, in that order of precedence).
UNREPLIED = "UNREPLIED"
ASSURED = "ASSURED"
OFFLOAD = "OFFLOAD"
HW_OFFLOAD = "HW_OFFLOAD"

# Said once by whoever reads the stream, when a DESTROY event came without counters.
ACCOUNTING_OFF = (
    "conntrack events carry no packet or byte counters: accounting is off in the kernel; "
    "turn it on with `sysctl -w net.netfilter.nf_conntrack_acct=1` (it counts connections "
    "created from then on)"
)


# ConntrackTuple and ConntrackRecord are named tuples, not dataclasses: a gateway prints
# hundreds of thousands of lines a minute, and a tuple of thirty fields is made in a third
# of the time a slotted dataclass's __init__ takes (benchmarks/bench_conntrack.py).


class ConntrackTuple(NamedTuple):
    """One direction of a connection: addresses and the layer-4 part the protocol has.

    Ports for tcp, udp, udplite, sctp and dccp; type, code and id for icmp and icmpv6;
    the GRE keys (`srckey=0x..`) for gre; none of them for any other protocol."""

    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None
    src_key: int | None = None
    dst_key: int | None = None
    zone: int | None = None  # zone-orig= / zone-reply=: a zone of this direction only


@dataclass(frozen=True, slots=True)
class ConntrackUserspace:
    """`[USERSPACE] portid=N progname=P`: the event was caused by a program over netlink
    (`conntrack -D`, conntrackd), not by a packet or a timeout."""

    portid: int
    progname: str | None


class ConntrackRecord(NamedTuple):
    """One line of conntrack's text output, every field as printed.

    `event` is None for a line of a table listing (`conntrack -L`), which prints no
    event type; `time` is None without `-o timestamp`; `id` None without `-o id`."""

    text: str  # the line as read, without its line ending
    line: int  # its number in the stream, from 1
    event: EventKind | None
    time: float | None  # unix seconds of `-o timestamp` ([1733390000.123456])
    id: int | None  # the kernel's conntrack id (`-o id`): NEW, UPDATE and DESTROY of one connection share it
    family: Family
    protocol: str  # as printed: tcp, udp, udplite, icmp, icmpv6, sctp, gre, dccp, or unknown
    protocol_number: int  # the IP protocol number, always printed
    timeout: int | None  # seconds left; absent from most DESTROY events
    state: str | None  # tcp (also sctp, dccp) state: SYN_SENT, ESTABLISHED, TIME_WAIT, ...
    original: ConntrackTuple
    reply: ConntrackTuple
    original_packets: int | None  # None: accounting off (or not a DESTROY)
    original_bytes: int | None
    reply_packets: int | None
    reply_bytes: int | None
    flags: tuple[str, ...]  # UNREPLIED, then one of ASSURED, OFFLOAD, HW_OFFLOAD, as printed
    mark: int | None
    secmark: int | None
    secctx: str | None
    zone: int | None
    delta_time: int | None  # seconds from the connection's start (nf_conntrack_timestamp=1)
    start: float | None  # `-o ktimestamp`: [start=...] as unix seconds
    stop: float | None  # `-o ktimestamp`: [stop=...] as unix seconds
    helper: str | None
    use: int | None
    labels: tuple[str, ...] | None  # `-o labels` with connlabel names set
    userspace: ConntrackUserspace | None

    @property
    def unreplied(self) -> bool:
        return UNREPLIED in self.flags

    @property
    def assured(self) -> bool:
        return ASSURED in self.flags

    @property
    def accounting(self) -> bool:
        """Whether the line carries packet and byte counters (only DESTROY events do, and
        only with `net.netfilter.nf_conntrack_acct=1`)."""
        return self.original_packets is not None or self.reply_packets is not None

    @property
    def snat(self) -> bool:
        """The source was translated: a reply goes back to another address (or port, or
        ICMP id) than the one the connection came from (masquerade, snat)."""
        o, r = self.original, self.reply
        return r.dst != o.src or r.dport != o.sport or r.icmp_id != o.icmp_id or r.dst_key != o.src_key

    @property
    def dnat(self) -> bool:
        """The destination was translated: a reply comes from another address or port than
        the one the connection was opened to (dnat, redirect, a load balancer)."""
        o, r = self.original, self.reply
        return r.src != o.dst or r.sport != o.dport or r.src_key != o.dst_key

    @property
    def nat(self) -> bool:
        """The reply tuple is not the mirror of the original one."""
        return self.snat or self.dnat


@dataclass(frozen=True, slots=True)
class ConntrackProblem:
    """A line the parser could not read: where, which field, and what was wrong."""

    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.reason}"
