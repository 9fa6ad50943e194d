"""Record what `conntrack -E -o timestamp,extended,id` really prints, in network namespaces.

Topology (the namespaces are `<prefix>-client`, `<prefix>-gw` and, for NAT, `<prefix>-lan`)::

    client  10.98.0.2/24 fd98::2/64 ── veth ── gw  10.98.0.1/24 fd98::1/64
                                               gw  10.98.1.1/24 fd98:1::1/64 ── veth ── lan  10.98.1.2/24 fd98:1::2/64

The gateway namespace is where the connection tracker runs (an nftables rule with `ct
state` switches it on there) and where `conntrack -E` listens; its timeouts are cut to a
few seconds so that every connection's DESTROY event comes within the recording. One
connection is held open to the end and flushed with `conntrack -F`, which conntrack
prints as a DESTROY event tagged `[USERSPACE] portid=..`.

`python -m wgsiem.lab conntrack-sample OUT_DIR` records the three fixtures of
fixtures/conntrack/ (README.md there says what each holds); `record()` records one
traffic plan, which tests/test_conntrack_parse.py uses as root for a live check.
Needs root, `ip`, `conntrack` (Debian conntrack), `nft` (Debian nftables) and `ping`.
"""

from __future__ import annotations

import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .tunnels import NETNS_DIR, LabError, free_prefix, run

CONNTRACK_EVENTS = ["conntrack", "-E", "-o", "timestamp,extended,id"]

CLIENT4, GATEWAY4, GATEWAY_LAN4, LAN4 = "10.98.0.2", "10.98.0.1", "10.98.1.1", "10.98.1.2"
CLIENT6, GATEWAY6, GATEWAY_LAN6, LAN6 = "fd98::2", "fd98::1", "fd98:1::1", "fd98:1::2"

# Seconds a connection is kept after its last packet, cut from minutes so that every
# DESTROY comes within the recording (each is a per-namespace sysctl).
SHORT_TIMEOUTS = {
    "nf_conntrack_udp_timeout": 2,
    "nf_conntrack_udp_timeout_stream": 3,
    "nf_conntrack_icmp_timeout": 2,
    "nf_conntrack_icmpv6_timeout": 2,
    "nf_conntrack_generic_timeout": 3,
    "nf_conntrack_gre_timeout": 3,
    "nf_conntrack_gre_timeout_stream": 3,
    "nf_conntrack_tcp_timeout_syn_sent": 3,
    "nf_conntrack_tcp_timeout_syn_recv": 3,
    "nf_conntrack_tcp_timeout_fin_wait": 2,
    "nf_conntrack_tcp_timeout_close_wait": 2,
    "nf_conntrack_tcp_timeout_last_ack": 2,
    "nf_conntrack_tcp_timeout_time_wait": 2,
    "nf_conntrack_tcp_timeout_close": 2,
}

# The services, run in the namespace that serves. TCP: the client sends an 8-byte header
# (bytes it will send, bytes it wants back), then its bytes; the server reads them all,
# answers with as many bytes as asked and waits for the client to close. UDP: an echo.
_SERVER = r"""
import socket, struct, sys, threading
def serve(conn):
    with conn:
        head = b""
        while len(head) < 8:
            chunk = conn.recv(8 - len(head))
            if not chunk:
                return
            head += chunk
        upload, download = struct.unpack("!II", head)
        while upload > 0:
            chunk = conn.recv(min(65536, upload))
            if not chunk:
                return
            upload -= len(chunk)
        block = memoryview(bytes(min(download, 1 << 20)))  # a database dump is sent, not held
        while download > 0:
            conn.sendall(block[:download])
            download -= min(download, len(block))
        while conn.recv(65536):
            pass
def tcp(s):
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
def udp(s):
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)
for spec in sys.argv[1:]:  # bound here, before "ready": a port that cannot be had fails the start
    kind, host, port = spec.split(",")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    if kind == "tcp":
        s.listen(16)
    threading.Thread(target=tcp if kind == "tcp" else udp, args=(s,), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""

# One client action: argv = kind, host, port, then what the kind needs.
_CLIENT = r"""
import socket, struct, sys, time
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if kind == "tcp":
    upload, download = int(sys.argv[4]), int(sys.argv[5])
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(struct.pack("!II", upload, download) + bytes(upload))
        got = 0
        while got < download:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
    if got != download:
        sys.exit("tcp: got %d of %d bytes" % (got, download))
elif kind == "tcp-hold":
    # An established connection that outlives the traffic: its DESTROY is the flush's.
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(struct.pack("!II", 1000, 1000) + bytes(1000))
    got = 0
    while got < 1000:
        got += len(s.recv(65536))
    print("held", flush=True)
    sys.stdin.read()
elif kind == "tcp-open-close":
    socket.create_connection((host, port), timeout=10).close()
elif kind == "tcp-refused":
    try:
        socket.create_connection((host, port), timeout=10).close()
    except ConnectionRefusedError:
        pass
    else:
        sys.exit("tcp-refused: the connection was accepted")
elif kind == "udp":
    count, size, replies = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "echo"
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(count):
        s.sendto(bytes(size), (host, port))
        if replies:
            s.recvfrom(65536)
        time.sleep(0.05)
elif kind == "raw":
    # An IP packet of protocol `port` (gre: a version-0 header carrying IPv4) that
    # nothing answers but the kernel's ICMP.
    s = socket.socket(family, socket.SOCK_RAW, port)
    payload = b"\x00\x00\x08\x00" + bytes(int(sys.argv[4])) if port == 47 else bytes(int(sys.argv[4]))
    s.sendto(payload, (host, 0))
"""


@dataclass(frozen=True)
class Step:
    """One piece of traffic from the client: a `_CLIENT` action, or a ping."""

    label: str
    args: tuple[str, ...]  # _CLIENT's argv, or ("ping", host, count)
    hold: bool = False  # runs on in the background (a connection kept open to the end)

    def argv(self) -> list[str]:
        if self.args[0] == "ping":
            host, count = self.args[1], self.args[2]
            return ["ping", "-6" if ":" in host else "-4", "-c", count, "-i", "0.2", "-W", "2", host]
        return [sys.executable, "-c", _CLIENT, *self.args]


@dataclass(frozen=True)
class Plan:
    """A recording: its traffic, where the services run, and the gateway's settings."""

    name: str
    description: str
    steps: tuple[Step, ...]
    services: tuple[str, ...]  # _SERVER's specs, kind,host,port
    accounting: bool = True
    nat: bool = False  # a LAN namespace behind the gateway, masquerade and a port forward

    @property
    def server_namespace(self) -> str:
        return "lan" if self.nat else "gw"


def _tcp(label: str, host: str, port: int, upload: int, download: int) -> Step:
    return Step(label, ("tcp", host, str(port), str(upload), str(download)))


# The sizes are what tests/test_conntrack_parse.py holds the counters to.
DB_UPLOAD, DB_DOWNLOAD = 100_000, 50_000
WEB_UPLOAD, WEB_DOWNLOAD = 2_000, 20_000
UDP_COUNT, UDP_SIZE = 3, 100

LOCAL_STEPS = (
    _tcp(f"tcp: client -> {GATEWAY4}:5432, {DB_UPLOAD} bytes up, {DB_DOWNLOAD} down", GATEWAY4, 5432, DB_UPLOAD, DB_DOWNLOAD),
    _tcp(f"tcp over IPv6: client -> [{GATEWAY6}]:8080, {WEB_UPLOAD} bytes up, {WEB_DOWNLOAD} down", GATEWAY6, 8080, WEB_UPLOAD, WEB_DOWNLOAD),
    Step(f"udp: {UDP_COUNT} datagrams of {UDP_SIZE} bytes to {GATEWAY4}:5353, each echoed", ("udp", GATEWAY4, "5353", str(UDP_COUNT), str(UDP_SIZE), "echo")),
    Step(f"udp over IPv6: {UDP_COUNT} datagrams to [{GATEWAY6}]:5353, each echoed", ("udp", GATEWAY6, "5353", str(UDP_COUNT), str(UDP_SIZE), "echo")),
    Step(f"udp unreplied: one datagram to {GATEWAY4}:9999, where nothing listens", ("udp", GATEWAY4, "9999", "1", "50", "none")),
    Step(f"ping {GATEWAY4} three times", ("ping", GATEWAY4, "3")),
    Step(f"ping -6 {GATEWAY6} three times", ("ping", GATEWAY6, "3")),
    Step(f"tcp short-lived: connect to {GATEWAY4}:5432 and close at once", ("tcp-open-close", GATEWAY4, "5432")),
    Step(f"tcp refused: connect to {GATEWAY4}:81, where nothing listens", ("tcp-refused", GATEWAY4, "81")),
    Step(f"gre: one raw GRE packet to {GATEWAY4}", ("raw", GATEWAY4, "47", "20")),
    Step(f"ip protocol 253 (unknown to conntrack): one raw packet to {GATEWAY4}", ("raw", GATEWAY4, "253", "20")),
    Step(f"tcp held open: client -> {GATEWAY4}:5432, 1000 bytes each way, still established at the end", ("tcp-hold", GATEWAY4, "5432"), hold=True),
)
LOCAL_SERVICES = (f"tcp,{GATEWAY4},5432", f"tcp,{GATEWAY6},8080", f"udp,{GATEWAY4},5353", f"udp,{GATEWAY6},5353")

NAT_STEPS = (
    _tcp(f"tcp forwarded and masqueraded: client -> {LAN4}:80", LAN4, 80, WEB_UPLOAD, WEB_DOWNLOAD),
    _tcp(f"tcp port forward: client -> {GATEWAY4}:8080, dnat to {LAN4}:80 and masqueraded", GATEWAY4, 8080, WEB_UPLOAD, WEB_DOWNLOAD),
    _tcp(f"tcp over IPv6 forwarded and masqueraded: client -> [{LAN6}]:80", LAN6, 80, WEB_UPLOAD, WEB_DOWNLOAD),
    Step(f"udp forwarded and masqueraded: {UDP_COUNT} datagrams to {LAN4}:5353, each echoed", ("udp", LAN4, "5353", str(UDP_COUNT), str(UDP_SIZE), "echo")),
    Step(f"ping {LAN4} (forwarded, masqueraded)", ("ping", LAN4, "2")),
    Step(f"tcp port forward held open: client -> {GATEWAY4}:8080, still established at the end", ("tcp-hold", GATEWAY4, "8080"), hold=True),
)
NAT_SERVICES = (f"tcp,{LAN4},80", f"tcp,{LAN6},80", f"udp,{LAN4},5353")

PLANS = {
    "acct-on": Plan("acct-on", "accounting on: every DESTROY carries packets= and bytes= each way", LOCAL_STEPS, LOCAL_SERVICES),
    "acct-off": Plan("acct-off", "accounting off: the same traffic, and no counters anywhere", LOCAL_STEPS, LOCAL_SERVICES, accounting=False),
    "nat": Plan("nat", "a LAN behind the gateway: masquerade and a port forward, so reply tuples differ", NAT_STEPS, NAT_SERVICES, nat=True),
}


def conntrack_lab_available() -> str | None:
    """None if the recording can run here, else a sentence saying what is missing."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (for network namespaces)")
    tools = [(t, p) for t, p in (("ip", "iproute2"), ("conntrack", "conntrack"), ("nft", "nftables"), ("ping", "iputils-ping")) if shutil.which(t) is None]
    missing += [f"`{t}`" for t, _ in tools]
    if not Path("/proc/sys/net/netfilter").is_dir():
        missing.append("a kernel with connection tracking (/proc/sys/net/netfilter)")
    if not missing:
        return None
    reason = "recording conntrack events needs " + ", ".join(missing)
    if tools:
        reason += f" (apt-get install -y --no-install-recommends {' '.join(p for _, p in tools)})"
    return reason


@dataclass
class Recording:
    path: Path
    events: int  # lines conntrack printed
    labels: list[tuple[float, str]] = field(default_factory=list)  # (unix time, step) as the traffic went


def ruleset(lan_interface: str, *, nat: bool) -> str:
    """The gateway's nftables rules. A `ct state` rule is what switches the connection
    tracker on in a namespace; the NAT tables masquerade towards the LAN and forward a port."""
    lines = [
        "table inet wgsiem_ct {",
        "  chain input { type filter hook input priority 0; ct state established,related accept; }",
        "  chain forward { type filter hook forward priority 0; ct state established,related accept; }",
        "}",
    ]
    if nat:
        lines += [
            "table ip wgsiem_nat {",
            f"  chain prerouting {{ type nat hook prerouting priority dstnat; tcp dport 8080 dnat to {LAN4}:80; }}",
            f'  chain postrouting {{ type nat hook postrouting priority srcnat; oifname "{lan_interface}" masquerade; }}',
            "}",
            "table ip6 wgsiem_nat6 {",
            f'  chain postrouting {{ type nat hook postrouting priority srcnat; oifname "{lan_interface}" masquerade; }}',
            "}",
        ]
    return "\n".join(lines) + "\n"


class Namespaces:
    """The client, gateway and (for NAT) LAN namespaces; removed on exit, with every process started in them."""

    def __init__(self, prefix: str, *, nat: bool, accounting: bool) -> None:
        self.prefix, self.nat, self.accounting = prefix, nat, accounting
        self.names = {role: f"{prefix}-{role}" for role in (("client", "gw", "lan") if nat else ("client", "gw"))}
        self._procs: list[subprocess.Popen[str]] = []

    def __enter__(self) -> Namespaces:
        try:
            self._build()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._procs = []
        left = [n for n in self.names.values() if (NETNS_DIR / n).exists()]
        if left:
            run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in left), check=False)

    def ns(self, role: str) -> str:
        return self.names[role]

    def exec(self, role: str, args: Sequence[str], **kw: object) -> subprocess.CompletedProcess[str]:
        return run(["ip", "netns", "exec", self.ns(role), *args], **kw)  # type: ignore[arg-type]

    def spawn(self, role: str, args: Sequence[str], stdout: int | IO[str] = subprocess.PIPE) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(role), *args], stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
        self._procs.append(proc)
        return proc

    def _link(self, a: str, b: str, a_if: str, b_if: str, a_addrs: tuple[str, str], b_addrs: tuple[str, str], prefix6: int = 64) -> None:
        run(["ip", "link", "add", a_if, "netns", self.ns(a), "type", "veth", "peer", "name", b_if, "netns", self.ns(b)])
        for role, ifname, (v4, v6) in ((a, a_if, a_addrs), (b, b_if, b_addrs)):
            script = f"addr add {v4}/24 dev {ifname}\naddr add {v6}/{prefix6} dev {ifname} nodad\nlink set {ifname} up\n"
            run(["ip", "-n", self.ns(role), "-batch", "-"], input=script)

    def _build(self) -> None:
        for name in self.names.values():
            run(["ip", "netns", "add", name])
            run(["ip", "-n", name, "link", "set", "lo", "up"])
        p = self.prefix
        self._link("client", "gw", f"{p}c", f"{p}g", (CLIENT4, CLIENT6), (GATEWAY4, GATEWAY6))
        gw_sysctls = {"nf_conntrack_acct": int(self.accounting), "nf_conntrack_timestamp": 1, **SHORT_TIMEOUTS}
        self.exec("gw", ["sysctl", "-q", "-w", *(f"net.netfilter.{k}={v}" for k, v in gw_sysctls.items())])
        if self.nat:
            self._link("gw", "lan", f"{p}l", f"{p}n", (GATEWAY_LAN4, GATEWAY_LAN6), (LAN4, LAN6))
            self.exec("gw", ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])
            run(["ip", "-n", self.ns("client"), "-batch", "-"],
                input=f"route add 10.98.1.0/24 via {GATEWAY4}\nroute add fd98:1::/64 via {GATEWAY6}\n")  # fmt: skip
        self.exec("gw", ["nft", "-f", "-"], input=ruleset(f"{p}l", nat=self.nat))

    def table(self) -> list[str]:
        """The gateway's connections (`conntrack -L`). Listing the table also reaps the
        connections that have timed out, as the kernel's garbage collector would on its
        own within a minute: their DESTROY events are the timeouts' (no [USERSPACE])."""
        return self.exec("gw", ["conntrack", "-L"]).stdout.splitlines()


def _await(proc: subprocess.Popen[str], word: str, what: str, timeout: float = 10.0) -> None:
    """Wait for `proc` to print `word` on a line of its own; else stop it and say why."""
    assert proc.stdout is not None and proc.stderr is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if ready and proc.stdout.readline().strip() == word:
        return
    proc.kill()
    proc.wait()
    raise LabError(f"{what}: {proc.stderr.read().strip()[-500:] or f'nothing within {timeout:g} s'}")


def _start_services(site: Namespaces, plan: Plan) -> None:
    proc = site.spawn(plan.server_namespace, [sys.executable, "-c", _SERVER, *plan.services])
    _await(proc, "ready", f"the services of {plan.name} did not start")


def _hold(site: Namespaces, step: Step) -> None:
    _await(site.spawn("client", step.argv()), "held", f"{step.label}: the connection did not open")


def record(plan: Plan, out: Path, *, settle: float = 15.0, say: Callable[[str], None] = lambda _: None) -> Recording:
    """Record `conntrack -E -o timestamp,extended,id` in the gateway while `plan` runs.

    Waits up to `settle` seconds for the short timeouts to end every connection but the
    ones held open, then flushes what is left (`conntrack -F`) and stops the listener."""
    reason = conntrack_lab_available()
    if reason:
        raise LabError(reason)
    prefix = free_prefix("wgct", 3)
    recording = Recording(out, 0)
    with Namespaces(prefix, nat=plan.nat, accounting=plan.accounting) as site:
        _start_services(site, plan)
        with open(out, "w") as sink:
            listener = site.spawn("gw", CONNTRACK_EVENTS, stdout=sink)
            try:
                time.sleep(1.0)  # conntrack subscribes to the events in milliseconds; a second is ample
                if listener.poll() is not None:
                    raise LabError(f"conntrack -E exited at once: {listener.communicate()[1].strip()}")
                held = 0
                for step in plan.steps:
                    recording.labels.append((time.time(), step.label))
                    say(step.label)
                    if step.hold:
                        _hold(site, step)
                        held += 1
                    else:
                        site.exec("client", step.argv(), timeout=30)
                deadline = time.monotonic() + settle
                while len(site.table()) > held and time.monotonic() < deadline:
                    time.sleep(0.5)
                left = len(site.table())
                if left:
                    recording.labels.append((time.time(), f"conntrack -F: flush the {left} connection(s) left"))
                    say(recording.labels[-1][1])
                    site.exec("gw", ["conntrack", "-F"])
                time.sleep(0.5)
            finally:
                if listener.poll() is None:
                    listener.send_signal(signal.SIGINT)
                try:
                    listener.wait(5)
                except subprocess.TimeoutExpired:
                    listener.kill()
    recording.events = len(out.read_text().splitlines())
    return recording


def versions() -> dict[str, str]:
    """Kernel, conntrack-tools, libnetfilter_conntrack and nftables of this machine."""

    def first_line(args: list[str]) -> str:
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr).strip() else "unknown"

    def package(name: str) -> str:
        return first_line(["dpkg-query", "-W", "-f", "${Version}", name])

    return {
        "kernel": platform.release(),
        "conntrack": f"{first_line(['conntrack', '--version'])} (Debian conntrack {package('conntrack')})",
        "libnetfilter_conntrack": f"Debian libnetfilter-conntrack3 {package('libnetfilter-conntrack3')}",
        "nftables": f"{first_line(['nft', '--version'])} (Debian nftables {package('nftables')})",
    }


def sample(out_dir: Path) -> int:
    """`python -m wgsiem.lab conntrack-sample OUT_DIR`: record every plan of `PLANS` into
    OUT_DIR/<name>.log and write OUT_DIR/README.md saying how."""
    reason = conntrack_lab_available()
    if reason:
        print(f"wgsiem lab: {reason}", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    done = {}
    for name, plan in PLANS.items():
        print(f"wgsiem lab: recording {name}: {plan.description}", flush=True)
        done[name] = record(plan, out_dir / f"{name}.log", say=lambda label: print(f"  - {label}", flush=True))
        print(f"  {done[name].events} lines in {done[name].path}", flush=True)
    (out_dir / "README.md").write_text(readme(versions(), done))
    print(f"wgsiem lab: wrote {out_dir / 'README.md'}")
    return 0


def readme(found: dict[str, str], done: dict[str, Recording]) -> str:
    sysctls = ", ".join(f"`{k}={v}`" for k, v in SHORT_TIMEOUTS.items())
    parts = [
        "# conntrack-tools event text, recorded from the real kernel\n",
        "Written by `python -m wgsiem.lab conntrack-sample fixtures/conntrack` (wgsiem/lab/conntrack.py),",
        "as root; run it again to re-record (it replaces these files). tests/test_conntrack_parse.py",
        "parses every line and checks what the traffic was; docs/conntrack.md describes the parser.\n",
        f"Recorded on {time.strftime('%Y-%m-%d', time.gmtime())} (UTC, the machine's clock) with:\n",
        *(f"- {what}: {version}" for what, version in found.items()),
        "",
        "## How\n",
        f"Two network namespaces joined by a veth pair: `client` ({CLIENT4}/24, {CLIENT6}/64) and `gw`",
        f"({GATEWAY4}/24, {GATEWAY6}/64). In `gw`, an nftables rule `ct state established,related accept` in",
        "an input and a forward chain switches the connection tracker on, and the listener runs there:\n",
        "```sh",
        f"ip netns exec <prefix>-gw {' '.join(CONNTRACK_EVENTS)} > <name>.log",
        "```\n",
        "with this ruleset in `gw` (`nft -f -`; the nat tables only for nat.log, `<lan veth>` the",
        "gateway's interface towards `lan`):\n",
        "```",
        ruleset("<lan veth>", nat=True).rstrip(),
        "```\n",
        "and these sysctls in `gw` (`sysctl -w net.netfilter.NAME=VALUE`): `nf_conntrack_acct=1` (0 for",
        "acct-off), `nf_conntrack_timestamp=1` (hence `delta-time=`), and timeouts cut short so that",
        f"connections end within the recording: {sysctls}.\n",
        "The services (Python sockets) run in `gw`, or in `lan` for nat; each step below runs in `client`.",
        "After the traffic the recorder lists the table (`conntrack -L`) every half second, which reaps",
        "the connections that have timed out (their DESTROY lines are the timeouts'), until only the",
        "connection held open is left, then flushes it with `conntrack -F`: that DESTROY line ends in",
        "`[USERSPACE] portid=..`, with `progname=conntrack` when conntrack found the program still running.",
        "",
    ]
    for name, rec in done.items():
        plan = PLANS[name]
        parts.append(f"## {name}.log ({rec.events} lines)\n")
        parts.append(plan.description[0].upper() + plan.description[1:] + ".")
        if plan.nat:
            parts.append(
                f"A third namespace `lan` ({LAN4}/24, {LAN6}/64) sits behind `gw` ({GATEWAY_LAN4}, {GATEWAY_LAN6}), "
                "which forwards; nftables in `gw` masquerades everything leaving towards `lan` (ip and ip6) and "
                f"forwards tcp port 8080 to {LAN4}:80 (`dnat`)."
            )
        parts.append("")
        parts += [f"{i}. {label}" for i, (_, label) in enumerate(rec.labels, 1)]
        parts.append("")
    return "\n".join(parts)
