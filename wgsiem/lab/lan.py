"""A LAN behind the lab's hub, with services, and the hub's connection tracker recording
what the peers do there: the inner flows (dataset `wireguard.flow`).

Added to the lab's topology (tunnels.py)::

    <prefix>-hub (netns)  wireguard-go <prefix>hub 10.77.0.1/16, fd77::1/64
                          veth <prefix>lan 10.77.100.1/24; forwards between the two
        |
    <prefix>-lan (netns)  eth0: one address per host of HOSTS, default route via 10.77.100.1;
                          the hosts' TCP services

The LAN lies inside the tunnel net 10.77.0.0/16, which every client already routes into its
tunnel (the hub's allowed-ips on the client's side), so the clients reach it as they are.
At the hub the LAN's /24 is a longer prefix than the /16 on the WireGuard interface, and
each peer's allowed-ips there (its /32) keep the peers' addresses apart from the LAN's.
The same route takes a client to another client's tunnel address: the hub forwards the
packet from its WireGuard interface back into it, to the peer whose /32 holds the address.
`serve(client, ports)` starts services on a client's own tunnel address, which the peers
then reach by the client's name as they reach a host of the LAN.

In the hub's namespace, as conntrack.py sets up its gateway: the nftables `ct state` rule
that switches the connection tracker on, `nf_conntrack_acct=1` (packets and bytes each way
at DESTROY), `nf_conntrack_timestamp=1` (`delta-time=`), timeouts cut to seconds, and
`conntrack -E -o timestamp,extended,id` written to a file for as long as the LAN is up.
wireguard-go's TUN device is an ordinary interface there: what a peer sends into the LAN
is forwarded, and tracked, like any routed packet. The tunnel's own UDP is tracked too
(it is the hub's input), as on a real gateway.

The services are conntrack.py's: a client sends an 8-byte header (bytes it will send,
bytes it wants back) and its bytes, the server answers with as many bytes as asked.
Needs what the lab needs, and `conntrack` and `nft` (conntrack.conntrack_lab_available).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .conntrack import _CLIENT, _SERVER, CONNTRACK_EVENTS, SHORT_TIMEOUTS, _await, conntrack_lab_available, ruleset
from .tunnels import NETNS_DIR, TUNNEL_NET_V4, TUNNEL_NET_V6, Client, Lab, LabError, run

LAN_NET = "10.77.100.0/24"
LAN_GATEWAY = "10.77.100.1"  # the hub's address on the LAN
# The header the services read before the bytes of an exchange (conntrack.py's _SERVER).
EXCHANGE_HEADER = 8


@dataclass(frozen=True)
class Host:
    """One internal host: an address of the LAN namespace and the TCP ports it serves."""

    name: str
    address: str
    tcp_ports: tuple[int, ...]


@dataclass(frozen=True)
class Exchange:
    """One TCP connection to a host's service: `upload` bytes (after the services' 8-byte
    header) from the client, `download` bytes back, then closed."""

    host: str  # a name of HOSTS, or of a peer that serves (Lan.serve)
    port: int
    upload: int
    download: int


HOSTS: dict[str, Host] = {
    h.name: h
    for h in (
        Host("web", "10.77.100.10", (80, 8080)),  # the intranet
        Host("db", "10.77.100.20", (22, 5432)),  # the database: sensitive
        Host("files", "10.77.100.30", (445,)),
        Host("printer", "10.77.100.40", (631,)),
    )
}

# Runs in a client's namespace. `ping ADDRESS...`: one echo request to each, all at once
# (as a sweeper does); `ports ADDRESS PORT...`: a TCP connect to each port, sixteen at a
# time, closed at once. Prints the addresses that answered, or the ports that accepted.
_SCAN = r"""
import json, socket, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
mode, args = sys.argv[1], sys.argv[2:]
if mode == "ping":
    procs = {a: subprocess.Popen(["ping", "-n", "-q", "-c", "1", "-W", "1", a], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for a in args}
    found = [a for a, p in procs.items() if p.wait() == 0]
else:
    host, ports = args[0], [int(p) for p in args[1:]]
    def probe(port):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            return None
        return port
    with ThreadPoolExecutor(16) as pool:
        found = [p for p in pool.map(probe, ports) if p is not None]
print(json.dumps(found))
"""

_SRC = re.compile(r"\bsrc=(\S+)")
_INNER_NETS = [ipaddress.ip_network(net) for net in (TUNNEL_NET_V4, TUNNEL_NET_V6, LAN_NET)]


def _inner(line: str) -> bool:
    """A `conntrack -L` line of a peer's inner connection (not the tunnel's own UDP)."""
    m = _SRC.search(line)
    if not m:
        return False
    try:
        ip = ipaddress.ip_address(m.group(1))
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in _INNER_NETS)


class Lan:
    """The LAN namespace behind `lab`'s hub, its services, and the hub's conntrack events
    written to `conntrack_log` (none if None). Removed on exit, with every process it started."""

    def __init__(self, lab: Lab, conntrack_log: Path | None = None, hosts: Iterable[Host] = HOSTS.values()) -> None:
        self.lab = lab
        self.namespace = f"{lab.prefix}-lan"
        self.veth = f"{lab.prefix}lan"
        self.hosts = {h.name: h for h in hosts}
        self.conntrack_log = conntrack_log
        self._procs: list[subprocess.Popen[str]] = []
        self._listener: subprocess.Popen[str] | None = None
        self._sink: IO[str] | None = None

    def __enter__(self) -> Lan:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise LabError(f"no host {name!r} on the lab's LAN (hosts: {', '.join(self.hosts)})") from None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        reason = conntrack_lab_available()
        if reason:
            raise LabError(reason)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        lab, hub = self.lab, self.lab.hub_namespace
        if not (NETNS_DIR / hub).exists():
            raise LabError(f"lab {lab.prefix!r} is not started: no namespace {hub}")
        if (NETNS_DIR / self.namespace).exists():
            raise LabError(f"the LAN namespace {self.namespace} already exists")
        run(["ip", "netns", "add", self.namespace])
        plen = ipaddress.ip_network(LAN_NET).prefixlen
        self._ip(hub, [f"link add {self.veth} type veth peer name eth0 netns {self.namespace}",
                       f"addr add {LAN_GATEWAY}/{plen} dev {self.veth}", f"link set {self.veth} up"])  # fmt: skip
        self._ip(self.namespace, ["link set lo up", *(f"addr add {h.address}/{plen} dev eth0" for h in self.hosts.values()),
                                  "link set eth0 up", f"route add default via {LAN_GATEWAY}"])  # fmt: skip
        netfilter = {"nf_conntrack_acct": 1, "nf_conntrack_timestamp": 1, **SHORT_TIMEOUTS}
        lab.netns_exec(hub, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", *(f"net.netfilter.{k}={v}" for k, v in netfilter.items())])
        specs = [f"tcp,{h.address},{port}" for h in self.hosts.values() for port in h.tcp_ports]
        _await(self._spawn(self.namespace, [sys.executable, "-c", _SERVER, *specs]), "ready", "the LAN's services did not start")
        if self.conntrack_log is not None:
            self._listen(self.conntrack_log)
        # The rule last: the tracker starts with it, and the listener already hears every event.
        lab.netns_exec(hub, ["nft", "-f", "-"], input=ruleset(self.veth, nat=False))

    def _listen(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._sink = open(path, "a")  # noqa: SIM115 - conntrack writes to it until stop()
        self._listener = self._spawn(self.lab.hub_namespace, CONNTRACK_EVENTS, stdout=self._sink)
        time.sleep(1.0)  # conntrack subscribes to the events in milliseconds; a second is ample
        if self._listener.poll() is not None:
            raise LabError(f"conntrack -E exited at once: {self._listener.communicate()[1].strip()}")

    def stop(self) -> None:
        """Stop the listener (SIGINT: it writes what it has), the services; delete the namespace. Idempotent."""
        listener, self._listener = self._listener, None
        if listener is not None and listener.poll() is None:
            listener.send_signal(signal.SIGINT)
            try:
                listener.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._procs = []
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if (NETNS_DIR / self.namespace).exists():
            run(["ip", "netns", "del", self.namespace], check=False)

    def _spawn(self, namespace: str, args: Sequence[str], stdout: int | IO[str] = subprocess.PIPE) -> subprocess.Popen[str]:
        proc = subprocess.Popen(["ip", "netns", "exec", namespace, *args], stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE, text=True)
        self._procs.append(proc)
        return proc

    def _ip(self, namespace: str, lines: list[str]) -> None:
        run(["ip", "-n", namespace, "-batch", "-"], input="".join(line + "\n" for line in lines))

    def serve(self, client: Client, tcp_ports: Sequence[int]) -> Host:
        """The services on `client`'s tunnel address, in its namespace, as a host named after
        it: another peer's exchange with it goes through the hub, a peer-to-peer flow."""
        if client.namespace is None:
            raise LabError(f"{client.name!r} is a silent peer: it has no namespace to serve from")
        if client.name in self.hosts:
            raise LabError(f"{client.name!r} already serves on the lab's LAN")
        host = Host(client.name, client.tunnel_ip, tuple(tcp_ports))
        specs = [f"tcp,{host.address},{port}" for port in host.tcp_ports]
        _await(self._spawn(client.namespace, [sys.executable, "-c", _SERVER, *specs]), "ready", f"the services of {client.name} did not start")
        self.hosts[host.name] = host
        return host

    # ------------------------------------------------------------------ traffic

    def exchange(self, client: Client, exchange: Exchange) -> None:
        """The exchange, from the client's inner address."""
        address, x = self.host(exchange.host).address, exchange
        args = ["tcp", address, str(x.port), str(x.upload), str(x.download)]
        self._client_run(client, _CLIENT, args, f"{client.name}: tcp {address}:{x.port}, {x.upload} bytes up, {x.download} down")

    def ping_sweep(self, client: Client, addresses: Sequence[str]) -> list[str]:
        """One ICMP echo request from the client to each address at once; those that answered."""
        return json.loads(self._client_run(client, _SCAN, ["ping", *addresses], f"{client.name}: ping sweep of {len(addresses)} addresses"))  # type: ignore[no-any-return]

    def probe_ports(self, client: Client, host: str, ports: Sequence[int]) -> list[int]:
        """A TCP connect from the client to each port of `host`; the ports that accepted."""
        args = ["ports", self.host(host).address, *map(str, ports)]
        return json.loads(self._client_run(client, _SCAN, args, f"{client.name}: probe of {len(ports)} ports of {host}"))  # type: ignore[no-any-return]

    def _client_run(self, client: Client, script: str, args: list[str], what: str) -> str:
        if client.namespace is None:
            raise LabError(f"{client.name!r} is a silent peer: it has no namespace to send from")
        shown = shlex.join(["ip", "netns", "exec", client.namespace, "python3", "-c", "<script>", *args])
        return self.lab.netns_exec(client.namespace, [sys.executable, "-c", script, *args], timeout=120, describe=f"{what} ({shown})").stdout

    # ------------------------------------------------------------------ the tracker

    def inner_connections(self) -> list[str]:
        """The hub's tracked connections of peers' inner addresses (`conntrack -L`). Listing
        the table also reaps those that timed out, as the kernel's garbage collector would
        on its own within a minute: their DESTROY events are the timeouts'."""
        out = self.lab.netns_exec(self.lab.hub_namespace, ["conntrack", "-L"]).stdout
        return [line for line in out.splitlines() if _inner(line)]

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until every inner connection has ended (the short timeouts end them in
        seconds), so that their DESTROY events, with the totals, are written before the
        next poll. Connections still open then are a story's bug: said, not flushed."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.inner_connections()
            if not left:
                return
            if time.monotonic() > deadline:
                raise LabError(f"{len(left)} inner connection(s) still tracked after {timeout:g} s, e.g. {left[0]}")
            time.sleep(0.5)
