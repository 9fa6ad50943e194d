"""A lab of real WireGuard tunnels (userspace wireguard-go) in network namespaces.

Topology::

    <prefix>-hub   (netns)  wireguard-go <prefix>hub  10.77.0.1/16, fd77::1/64, port 51820
                            bridge <prefix>br carrying a gateway address in every
                            underlay subnet of the test GeoIP world (see UNDERLAYS)
        |  veth <prefix>v<N> (bridge port) <-> eth0 (in the client namespace)
    <prefix>-<name> (netns) eth0: underlay address, default route via its subnet's gateway
                            wireguard-go <prefix>c<N>  10.77.0.(N+10)/32, fd77::(N+10)/128
                            peer = the hub, endpoint 192.0.2.1:51820 or [2001:db8::1]:51820

Every client endpoint therefore comes from an address that the test GeoIP world
geolocates. The UAPI sockets in /var/run/wireguard are not per namespace, so
`wg show all dump` run anywhere on the machine lists the hub and every client.

Key material never appears on a command line or in an error message: keys are
written to 0600 files in the work directory (or piped through stdin) and every
error text is scrubbed of the lab's secrets and of anything shaped like a key.

Needs root, `wireguard-go`, `wg`, `ip` and `ping` (see `lab_available()`).
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import random
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WgsiemError

__all__ = [
    "Client",
    "Lab",
    "LabError",
    "UNDERLAYS",
    "Underlay",
    "free_prefix",
    "lab_available",
    "run",
]

HUB_PORT = 51820
HUB_TUNNEL_V4 = "10.77.0.1"
HUB_TUNNEL_V6 = "fd77::1"
TUNNEL_NET_V4 = "10.77.0.0/16"
TUNNEL_NET_V6 = "fd77::/64"
HUB_ENDPOINT_V4 = f"192.0.2.1:{HUB_PORT}"
HUB_ENDPOINT_V6 = f"[2001:db8::1]:{HUB_PORT}"
# Tunnel MTU a bit above wireguard-go's 1420 so that 1400-byte UDP datagrams cross the
# tunnel unfragmented; the underlay (bridge, veths) is 1600 so that no outer packet,
# IPv4 (+60) or IPv6 (+80), is ever fragmented either.
TUNNEL_MTU = 1440
UNDERLAY_MTU = 1600
DATAGRAM = 1400
MAX_INDEX = 244  # 10.77.0.(N+10) must stay <= 254

WG_SOCKET_DIR = Path("/var/run/wireguard")
NETNS_DIR = Path("/var/run/netns")
IFNAMSIZ = 15

_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,10}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_KEYLIKE = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


@dataclass(frozen=True)
class Underlay:
    """One subnet of the test GeoIP world, with the hub's gateway address in it."""

    label: str
    gateway: str  # address/prefixlen as configured on the hub's bridge
    where: str

    @property
    def interface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
        return ipaddress.ip_interface(self.gateway)

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return self.interface.network

    @property
    def gateway_ip(self) -> str:
        return str(self.interface.ip)


UNDERLAYS: dict[str, Underlay] = {
    u.label: u
    for u in (
        Underlay("us-lasvegas", "192.0.2.1/24", "US, Las Vegas"),
        Underlay("nl-amsterdam", "198.51.100.1/24", "NL, Amsterdam"),
        Underlay("es-madrid", "203.0.113.1/24", "ES, Madrid"),
        Underlay("gb-v6", "2001:db8::1/64", "GB"),
        Underlay("gb-london", "81.2.69.145/28", "GB, London"),
        Underlay("se", "89.160.20.129/25", "SE"),
        Underlay("cn", "175.16.199.1/24", "CN"),
        Underlay("bt", "67.43.156.1/24", "BT"),
        Underlay("us-milton", "216.160.83.57/29", "US, Milton"),
    )
}


class LabError(WgsiemError):
    """A lab operation failed. The message never contains key material."""


def redact(text: str, secrets: Iterable[str] = (), public: Iterable[str] = ()) -> str:
    """Remove every secret, and every key-shaped string that is not a known public key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    allowed = set(public)
    return _KEYLIKE.sub(lambda m: m.group(0) if m.group(0) in allowed else "<key-shaped text>", text)


def run(
    args: Sequence[str],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float = 20.0,
    describe: str | None = None,
    secrets: Iterable[str] = (),
    public: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise LabError naming the command and its stderr.

    Key material must never be passed in `args` (use files or `input`); the error text
    is scrubbed of `secrets` and of any other key-shaped string anyway.
    """
    shown = describe or shlex.join(args)
    try:
        proc = subprocess.run(
            list(args),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise LabError(redact(f"command not found: {args[0]} (running: {shown})", secrets, public)) from None
    except subprocess.TimeoutExpired:
        raise LabError(redact(f"command timed out after {timeout:g} s: {shown}", secrets, public)) from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or "").strip() or (proc.stdout or "").strip() or "no output"
        raise LabError(redact(f"command failed (exit {proc.returncode}): {shown}: {detail}", secrets, public))
    return proc


def lab_available() -> str | None:
    """None if the lab can run here, else a sentence saying what is missing."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (for network namespaces)")
    tools = [
        (tool, package)
        for tool, package in (
            ("wireguard-go", "wireguard-go"),
            ("wg", "wireguard-tools"),
            ("ip", "iproute2"),
            ("ping", "iputils-ping"),
        )
        if shutil.which(tool) is None
    ]
    missing += [f"`{tool}`" for tool, _ in tools]
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun (TUN devices)")
    if not missing:
        return None
    reason = "the WireGuard lab needs " + ", ".join(missing)
    if tools:
        packages = " ".join(package for _, package in tools)
        reason += f" (apt-get install -y --no-install-recommends {packages})"
    return reason


def _in_use(prefix: str) -> bool:
    try:
        if any(n.startswith(prefix + "-") for n in os.listdir(NETNS_DIR)):
            return True
    except OSError:
        pass
    try:
        if any(n.startswith(prefix) for n in os.listdir(WG_SOCKET_DIR)):
            return True
    except OSError:
        pass
    return False


def free_prefix(base: str = "wgl", letters: int = 3) -> str:
    """`base` + random lowercase letters, not used by any namespace or socket right now."""
    rng = random.SystemRandom()
    for _ in range(200):
        prefix = base + "".join(rng.choice(string.ascii_lowercase) for _ in range(letters))
        if not _in_use(prefix):
            return prefix
    raise LabError(f"no free lab prefix starting with {base!r}")


@dataclass
class Client:
    name: str
    index: int
    namespace: str | None  # None for a silent peer
    interface: str | None  # None for a silent peer
    public_key: str
    tunnel_ip: str
    underlay: str | None  # current underlay address (None for a silent peer)
    preshared_key_set: bool
    tunnel_ip6: str = ""
    allowed_ips: list[str] = field(default_factory=list)  # what the hub allows for this peer
    hub_endpoint: str | None = None  # the endpoint the client dials
    keepalive: int | None = None
    hub_keepalive: int | None = None
    silent: bool = False
    removed: bool = False


def _new_client(
    name: str, index: int, preshared_key: bool, allowed_ips: list[str] | None, **kw: object
) -> Client:
    """A Client with its tunnel addresses, which follow from its index."""
    tunnel_ip = f"10.77.0.{index + 10}"
    return Client(
        name=name,
        index=index,
        public_key="",
        tunnel_ip=tunnel_ip,
        preshared_key_set=preshared_key,
        tunnel_ip6=f"fd77::{index + 10}",
        allowed_ips=list(allowed_ips) if allowed_ips is not None else [f"{tunnel_ip}/32"],
        **kw,
    )


class Lab:
    def __init__(self, workdir: Path, prefix: str = "wgl") -> None:
        if not _PREFIX.match(prefix):
            raise LabError(f"lab prefix must be 1-11 lowercase letters/digits starting with a letter, got {prefix!r}")
        self.workdir = Path(workdir)
        self.prefix = prefix
        self.hub_namespace = f"{prefix}-hub"
        self.hub_interface = f"{prefix}hub"
        self.bridge = f"{prefix}br"
        self.hub_public_key = ""
        self.clients: dict[str, Client] = {}
        self._secrets: list[str] = []
        self._public: list[str] = []
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._next_index = 1
        self._used_underlay: set[str] = set()
        self._started = False
        self._iface_re = re.compile(rf"^{re.escape(prefix)}(hub|c\d+)$")

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._started:
            raise LabError(f"lab {self.prefix!r} is already started")
        try:
            self._start()
        except BaseException:
            try:
                self.stop()
            except Exception:  # noqa: BLE001, S110 - the original error matters more; stop() is retried by the next lab
                pass
            raise

    def _start(self) -> None:
        self._cleanup()
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self._started = True
        atexit.register(self.stop)
        hub_ns, br = self.hub_namespace, self.bridge
        proc = self._spawn_wireguard(hub_ns, self.hub_interface)
        lines = [
            "link set lo up",
            f"link add {br} mtu {UNDERLAY_MTU} type bridge stp_state 0 forward_delay 0",
            # A bridge without an address of its own takes the lowest MAC of its ports, so a
            # client added later could change the gateway's MAC under the others' neighbour
            # caches (their frames dropped for up to ~30 s). A fixed address pins it.
            f"link set {br} address 02:77:00:00:00:01",
        ]
        for u in UNDERLAYS.values():
            lines.append(f"addr add {u.gateway} dev {br}" + (" nodad" if u.interface.version == 6 else ""))
        lines.append(f"link set {br} up")
        self._ip(hub_ns, lines)
        private = self._keyfile("hub.key", self._genkey())
        self.hub_public_key = self._pubkey(private)
        self._wait_socket(self.hub_interface, proc)
        self._wg(["set", self.hub_interface, "private-key", str(private), "listen-port", str(HUB_PORT)])
        self._hub_link_up()

    def _hub_link_up(self) -> None:
        hub = self.hub_interface
        self._ip(
            self.hub_namespace,
            [f"addr add {HUB_TUNNEL_V4}/16 dev {hub}", f"addr add {HUB_TUNNEL_V6}/64 dev {hub} nodad", f"link set {hub} mtu {TUNNEL_MTU} up"],
        )

    def hub_down(self, timeout: float = 10.0) -> Path:
        """`wg-quick down` of the hub as wg-quick does it for wireguard-go: the link is
        deleted and wireguard-go exits. Returns the configuration `hub_up` brings back:
        the hub's own (`wg showconf`) without the endpoints it learnt, as an
        /etc/wireguard/*.conf without SaveConfig has it, in a 0600 file (never on a
        command line)."""
        self._require_started()
        hub = self.hub_interface
        text = "".join(line + "\n" for line in self._wg(["showconf", hub]).splitlines() if not line.startswith("Endpoint"))
        conf = self._keyfile(f"{hub}.conf", text.rstrip("\n"))
        proc = self._procs.pop(hub)
        self._run(["ip", "-n", self.hub_namespace, "link", "delete", "dev", hub])
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill({proc.pid: proc})
            proc.wait()
        try:
            os.unlink(WG_SOCKET_DIR / f"{hub}.sock")  # normally wireguard-go removed it
        except FileNotFoundError:
            pass
        return conf

    def hub_up(self, conf: Path) -> None:
        """`wg-quick up` of the hub: wireguard-go, `wg setconf`, addresses, MTU, link up."""
        hub = self.hub_interface
        proc = self._spawn_wireguard(self.hub_namespace, hub)
        self._wait_socket(hub, proc)
        self._wg(["setconf", hub, str(conf)])
        self._hub_link_up()

    def hub_to_wg_quick(self, conf_dir: Path, names: dict[str, str] | None = None, *, save_config: bool = False) -> Path:
        """Hand the hub to real wg-quick: its running configuration (key, port, peers, preshared
        keys, allowed IPs; no learnt endpoints) becomes `conf_dir/<hub>.conf` (0600, with
        Address, MTU, `Table = off` and a `# friendly_name` per named peer), the lab's own
        wireguard-go stops, and `wg-quick up` brings the interface back from the file, with
        wireguard-go as its userspace implementation. `save_config`: `SaveConfig = true`, so
        `wg-quick down` writes the running configuration back. Returns the file."""
        conf = self.hub_down()
        lines = []
        for line in conf.read_text().splitlines():
            lines.append(line)
            if line.strip() == "[Interface]":
                lines += [f"Address = {HUB_TUNNEL_V4}/16, {HUB_TUNNEL_V6}/64", f"MTU = {TUNNEL_MTU}", "Table = off"]
                lines += ["SaveConfig = true"] if save_config else []
            elif line.startswith("PublicKey") and names:
                name = names.get(line.partition("=")[2].strip())
                if name:
                    lines.append(f"# friendly_name = {name}")
        conf.unlink()
        conf_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(conf_dir, 0o700)
        path = self._keyfile_at(conf_dir / f"{self.hub_interface}.conf", "\n".join(lines))
        self.wg_quick("up", path)
        return path

    def wg_quick(self, action: str, conf: Path) -> None:
        """`wg-quick up|down CONF` in the hub's namespace (wireguard-go where the kernel has no WireGuard)."""
        self._run(["ip", "netns", "exec", self.hub_namespace, "env", "WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go",
                   "wg-quick", action, str(conf)], timeout=30)  # fmt: skip
        sock = WG_SOCKET_DIR / f"{self.hub_interface}.sock"
        if action == "up" and not sock.exists():
            raise LabError(f"wg-quick up made no wireguard-go socket {sock}: the kernel's WireGuard took the interface, "
                           "which `wg` outside the hub's namespace cannot see")  # fmt: skip

    def _keyfile_at(self, path: Path, text: str) -> Path:
        """`text` in a new 0600 file (never on a command line)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (text + "\n").encode())
        finally:
            os.close(fd)
        return path

    def _hub_pid(self) -> int:
        """The hub's wireguard-go: the lab's own, or the one `wg-quick up` started."""
        proc = self._procs.get(self.hub_interface)
        if proc is not None:
            return proc.pid
        for pid in self._stray_pids():
            argv = Path("/proc", str(pid), "cmdline").read_bytes().split(b"\0")
            if self.hub_interface.encode() in argv[1:]:
                return pid
        raise LabError(f"no wireguard-go runs the hub interface {self.hub_interface}")

    def new_key_pair(self) -> tuple[str, str]:
        """A fresh (private, public) key pair that no tunnel uses (its private key is a lab secret)."""
        private = self._genkey()
        path = self._keyfile(f"spare-{len(self._secrets)}.key", private)
        return private, self._pubkey(path)

    def stop(self) -> None:
        """Tear everything down; idempotent; also removes leftovers of a crashed lab with this prefix."""
        try:
            atexit.unregister(self.stop)
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown
            pass
        self._cleanup()
        self._started = False
        self.clients = {}
        self._used_underlay = set()
        self._next_index = 1

    def _cleanup(self) -> None:
        # 1. wireguard-go processes: ours, then any left by an earlier lab with this prefix.
        pids = {p.pid: p for p in self._procs.values() if p.poll() is None}
        for pid in self._stray_pids():
            pids.setdefault(pid, None)
        self._kill(pids)
        for p in self._procs.values():
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self._procs = {}
        # 2. namespaces (veths and the bridge go with them).
        names = self._namespaces()
        if names:
            run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in names), check=False)
            left = [n for n in names if (NETNS_DIR / n).exists()]
            if left:
                raise LabError(f"could not delete network namespaces: {', '.join(left)}")
        # 3. UAPI sockets wireguard-go did not remove.
        try:
            for entry in os.listdir(WG_SOCKET_DIR):
                stem, _, ext = entry.partition(".")
                if ext in ("sock", "name") and self._iface_re.match(stem):
                    try:
                        os.unlink(WG_SOCKET_DIR / entry)
                    except FileNotFoundError:
                        pass
        except FileNotFoundError:
            pass

    def _namespaces(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(self.prefix + "-"))
        except FileNotFoundError:
            return []

    def _stray_pids(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                argv = Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if not argv or not argv[0] or os.path.basename(argv[0]) != b"wireguard-go":
                continue
            if any(self._iface_re.match(a.decode(errors="replace")) for a in argv[1:] if a):
                found.append(int(entry))
        return found

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            stat = Path("/proc", str(pid), "stat").read_text()
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z"

    def _kill(self, pids: dict[int, subprocess.Popen[bytes] | None]) -> None:
        if not pids:
            return
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                for proc in pids.values():
                    if proc is not None:
                        proc.poll()
                if not any(self._alive(pid) for pid in pids):
                    return
                time.sleep(0.005)

    # ------------------------------------------------------------------ helpers

    def _run(self, args: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return run(args, secrets=self._secrets, public=self._public, **kw)

    def _ip(self, namespace: str, lines: list[str]) -> None:
        script = "".join(line + "\n" for line in lines)
        self._run(
            ["ip", "-n", namespace, "-batch", "-"],
            input=script,
            describe=f"ip -n {namespace} -batch - <<< {'; '.join(lines)!r}",
        )

    def _wg(self, args: list[str], **kw: Any) -> str:
        return self._run(["wg", *args], **kw).stdout

    def _genkey(self, command: str = "genkey") -> str:
        key = self._wg([command]).strip()
        self._secrets.append(key)
        return key

    def _pubkey(self, private_file: Path) -> str:
        with open(private_file) as fh:
            public = self._run(["wg", "pubkey"], input=fh.read()).stdout.strip()
        self._public.append(public)
        return public

    def _keyfile(self, name: str, key: str) -> Path:
        return self._keyfile_at(self.workdir / name, key)

    def _spawn_wireguard(self, namespace: str, interface: str) -> subprocess.Popen[bytes]:
        """Start `wireguard-go -f` in `namespace` (created here if missing); does not wait."""
        if len(interface) > IFNAMSIZ:
            raise LabError(f"interface name {interface!r} is longer than {IFNAMSIZ} characters")
        if not (NETNS_DIR / namespace).exists():
            self._run(["ip", "netns", "add", namespace])
        log = open(self.workdir / f"{interface}.log", "wb")  # noqa: SIM115 - wireguard-go writes to it as long as it runs
        # WGSIEM_LAB_LOG_LEVEL=verbose makes wireguard-go log to workdir/<interface>.log.
        env = dict(os.environ, LOG_LEVEL=os.environ.get("WGSIEM_LAB_LOG_LEVEL", "error"))
        try:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", namespace, "wireguard-go", "-f", interface],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        finally:
            log.close()
        self._procs[interface] = proc
        return proc

    def _wait_socket(self, interface: str, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        sock = WG_SOCKET_DIR / f"{interface}.sock"
        deadline = time.monotonic() + timeout
        while not sock.exists():
            if proc.poll() is not None:
                raise LabError(
                    f"wireguard-go for {interface} exited with status {proc.returncode}: {self._log_tail(interface)}"
                )
            if time.monotonic() > deadline:
                raise LabError(f"wireguard-go for {interface} did not create {sock} within {timeout:g} s")
            time.sleep(0.002)

    def _log_tail(self, interface: str) -> str:
        try:
            lines = (self.workdir / f"{interface}.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        useful = [line for line in lines if line.strip() and not any(c in line for c in "│┌└─")]
        return redact(" | ".join(useful[-5:]) or "no output", self._secrets, self._public)

    def _client(self, client: Client | str) -> Client:
        name = client if isinstance(client, str) else client.name
        found = self.clients.get(name)
        if found is None or (not isinstance(client, str) and found is not client):
            raise LabError(f"unknown client {name!r} in lab {self.prefix!r}")
        return found

    def _require_started(self) -> None:
        if not self._started:
            raise LabError(f"lab {self.prefix!r} is not started")

    def _allocate_index(self) -> int:
        index = self._next_index
        if index > MAX_INDEX:
            raise LabError(f"the lab supports at most {MAX_INDEX} peers")
        self._next_index += 1
        return index

    def _check_name(self, name: str) -> None:
        # <prefix>-hub and <prefix>-lan (lan.py) are the hub's namespace and the LAN's.
        if not _NAME.match(name) or name in ("hub", "lan"):
            raise LabError(f"client name must be lowercase letters, digits, '_', '.', '-' (not 'hub' or 'lan'), got {name!r}")
        if name in self.clients:
            raise LabError(f"client {name!r} already exists")

    def _allocate_underlay(self, spec: str) -> tuple[str, Underlay]:
        """An address for `spec`: a label of UNDERLAYS, a subnet (next free address) or an address."""
        if spec in UNDERLAYS:
            underlay = UNDERLAYS[spec]
            return self._next_free(underlay), underlay
        try:
            if "/" in spec:
                iface = ipaddress.ip_interface(spec)
                address = None if iface.ip == iface.network.network_address else iface.ip
                network = iface.network
            else:
                address = ipaddress.ip_address(spec)
                network = None
        except ValueError:
            raise LabError(
                f"underlay {spec!r} is neither an address, a subnet nor one of {sorted(UNDERLAYS)}"
            ) from None
        for underlay in UNDERLAYS.values():
            net = underlay.network
            if network is not None and network.version == net.version and network.subnet_of(net) and address is None:
                return self._next_free(underlay, network), underlay
            if address is not None and address.version == net.version and address in net:
                text = str(address)
                if address in (net.network_address, underlay.interface.ip) or (
                    net.version == 4 and address == net.broadcast_address
                ):
                    raise LabError(f"underlay address {text} is the network, broadcast or gateway address of {net}")
                if text in self._used_underlay:
                    raise LabError(f"underlay address {text} is already used by another client")
                return text, underlay
        known = ", ".join(str(u.network) for u in UNDERLAYS.values())
        raise LabError(f"underlay {spec!r} is outside the lab's underlay subnets ({known})")

    def _next_free(self, underlay: Underlay, within: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None) -> str:
        net = within or underlay.network
        gateway = underlay.interface.ip
        for host in net.hosts():
            if host == gateway:
                continue
            text = str(host)
            if text not in self._used_underlay:
                return text
        raise LabError(f"no free underlay address left in {net}")

    def _hub_table(self, what: str) -> dict[str, list[str]]:
        out = self._wg(["show", self.hub_interface, what])
        table = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                table[parts[0]] = parts[1:]
        return table

    def _handshake(self, client: Client) -> int:
        row = self._hub_table("latest-handshakes").get(client.public_key)
        return int(row[0]) if row else 0

    def _transfer(self, client: Client) -> tuple[int, int]:
        row = self._hub_table("transfer").get(client.public_key)
        if not row:
            raise LabError(f"client {client.name!r} is not a peer of {self.hub_interface}")
        return int(row[0]), int(row[1])

    def _hub_endpoint_of(self, client: Client) -> str | None:
        row = self._hub_table("endpoints").get(client.public_key)
        return row[0] if row and row[0] != "(none)" else None

    def _ping(self, client: Client, timeout: float = 1.0) -> bool:
        proc = self._run(
            ["ip", "netns", "exec", client.namespace,
             "ping", "-n", "-q", "-c", "1", "-W", f"{timeout:g}", HUB_TUNNEL_V4],
            check=False,
            timeout=timeout + 5,
        )
        return proc.returncode == 0

    # ------------------------------------------------------------------ peers

    def add_client(
        self,
        name: str,
        underlay: str,
        *,
        preshared_key: bool = False,
        allowed_ips: list[str] | None = None,
        keepalive: int | None = None,
        hub_keepalive: int | None = None,
    ) -> Client:
        """A client namespace with its own wireguard-go whose peer is the hub; both sides configured."""
        self._require_started()
        self._check_name(name)
        address, net = self._allocate_underlay(underlay)
        index = self._allocate_index()
        namespace = f"{self.prefix}-{name}"
        interface = f"{self.prefix}c{index}"
        veth = f"{self.prefix}v{index}"
        if len(veth) > IFNAMSIZ:
            raise LabError(f"interface name {veth!r} is longer than {IFNAMSIZ} characters")
        v6 = net.interface.version == 6
        client = _new_client(
            name,
            index,
            preshared_key,
            allowed_ips,
            namespace=namespace,
            interface=interface,
            underlay=address,
            hub_endpoint=HUB_ENDPOINT_V6 if v6 else HUB_ENDPOINT_V4,
            keepalive=keepalive,
            hub_keepalive=hub_keepalive,
        )
        self._used_underlay.add(address)
        self.clients[name] = client
        try:
            self._build_client(client, net, veth, preshared_key)
        except BaseException:
            self._discard(client)
            raise
        return client

    def _build_client(self, client: Client, net: Underlay, veth: str, preshared_key: bool) -> None:
        name, namespace, interface, address = client.name, client.namespace, client.interface, client.underlay
        v6 = net.interface.version == 6
        proc = self._spawn_wireguard(namespace, interface)  # starts while we wire the underlay
        private = self._keyfile(f"{name}.key", self._genkey())
        client.public_key = self._pubkey(private)
        psk_file = self._keyfile(f"{name}.psk", self._genkey("genpsk")) if preshared_key else None
        # The hub knows the peer before the client can send its first handshake initiation
        # (with a keepalive it sends one as soon as its interface is up); an initiation the
        # hub drops would only be retried after wireguard's 5 s rekey timeout.
        self._add_hub_peer(client, psk_file)
        self._ip(
            self.hub_namespace,
            [
                f"link add {veth} mtu {UNDERLAY_MTU} type veth peer name eth0 mtu {UNDERLAY_MTU} netns {namespace}",
                f"link set {veth} master {self.bridge} up",
            ],
        )
        plen = net.network.prefixlen
        self._ip(
            namespace,
            [
                "link set lo up",
                f"addr add {address}/{plen} dev eth0" + (" nodad" if v6 else ""),
                "link set eth0 up",
                f"route add default via {net.gateway_ip} dev eth0",
            ],
        )
        self._wait_socket(interface, proc)
        args = ["set", interface, "private-key", str(private), "peer", self.hub_public_key]
        if psk_file:
            args += ["preshared-key", str(psk_file)]
        args += ["allowed-ips", f"{TUNNEL_NET_V4},{TUNNEL_NET_V6}", "endpoint", client.hub_endpoint]
        if client.keepalive is not None:
            args += ["persistent-keepalive", str(client.keepalive)]
        self._wg(args)
        self._ip(
            namespace,
            [
                f"addr add {client.tunnel_ip}/32 dev {interface}",
                f"addr add {client.tunnel_ip6}/128 dev {interface} nodad",
                f"link set {interface} mtu {TUNNEL_MTU} up",
                f"route add {TUNNEL_NET_V4} dev {interface}",
                f"route add {TUNNEL_NET_V6} dev {interface}",
            ],
        )

    def _discard(self, client: Client) -> None:
        """Undo a half-built client (best effort; stop() removes whatever is left)."""
        self.clients.pop(client.name, None)
        if client.underlay:
            self._used_underlay.discard(client.underlay)
        if client.public_key:
            self._run(["wg", "set", self.hub_interface, "peer", client.public_key, "remove"], check=False)
        proc = self._procs.pop(client.interface, None) if client.interface else None
        if proc is not None:
            self._kill({proc.pid: proc})
            proc.wait()
        if client.namespace:
            self._run(["ip", "netns", "del", client.namespace], check=False)
        if client.interface:
            try:
                os.unlink(WG_SOCKET_DIR / f"{client.interface}.sock")
            except FileNotFoundError:
                pass

    def add_silent_peer(
        self, name: str, *, preshared_key: bool = False, allowed_ips: list[str] | None = None
    ) -> Client:
        """A peer configured on the hub only; it never connects (no namespace, no process)."""
        self._require_started()
        self._check_name(name)
        index = self._allocate_index()
        client = _new_client(
            name, index, preshared_key, allowed_ips, namespace=None, interface=None, underlay=None, silent=True
        )
        self.clients[name] = client
        try:
            private = self._keyfile(f"{name}.key", self._genkey())
            client.public_key = self._pubkey(private)
            psk_file = self._keyfile(f"{name}.psk", self._genkey("genpsk")) if preshared_key else None
            self._add_hub_peer(client, psk_file)
        except BaseException:
            self._discard(client)
            raise
        return client

    def _add_hub_peer(self, client: Client, psk_file: Path | None) -> None:
        args = ["set", self.hub_interface, "peer", client.public_key]
        if psk_file:
            args += ["preshared-key", str(psk_file)]
        args += ["allowed-ips", ",".join(client.allowed_ips)]
        if client.hub_keepalive is not None:
            args += ["persistent-keepalive", str(client.hub_keepalive)]
        self._wg(args)

    def _connected(self, client: Client | str) -> Client:
        self._require_started()
        c = self._client(client)
        if c.silent:
            raise LabError(f"{c.name!r} is a silent peer: it has no namespace and never connects")
        if c.removed:
            raise LabError(f"client {c.name!r} was removed from the hub")
        return c

    def connect(self, client: Client | str, timeout: float = 10.0) -> None:
        """Ping the hub through the tunnel until the hub's latest-handshake for the client is non-zero."""
        c = self._connected(client)
        deadline = time.monotonic() + timeout
        while True:
            if self._handshake(c) > 0:
                return
            if time.monotonic() > deadline:
                break
            self._ping(c, timeout=min(1.0, max(0.2, deadline - time.monotonic())))
        raise LabError(
            f"client {c.name!r} ({c.interface} in {c.namespace}, underlay {c.underlay}) did not complete a "
            f"handshake with {self.hub_interface} within {timeout:g} s (hub latest-handshake still 0)"
        )

    def send(self, client: Client | str, nbytes: int, *, to_hub: bool = True, timeout: float | None = None) -> None:
        """Push about `nbytes` of UDP payload through the tunnel in 1400-byte datagrams.

        Waits until the hub's rx (to_hub) or tx counter for the peer has grown by at least
        `nbytes`; datagrams dropped on the way (tun queue, socket buffers) are sent again.
        """
        c = self._connected(client)
        if nbytes <= 0:
            return
        if self._handshake(c) == 0:
            self.connect(c)
        if timeout is None:
            timeout = 20.0 + nbytes / 2_000_000
        column = 0 if to_hub else 1
        hub_pid, client_pid = self._hub_pid(), self._procs[c.interface].pid
        namespace, dest, ifname, rx_pid = (
            (c.namespace, HUB_TUNNEL_V4, c.interface, hub_pid)
            if to_hub
            else (self.hub_namespace, c.tunnel_ip, self.hub_interface, client_pid)
        )
        target = self._transfer(c)[column] + nbytes
        deadline = time.monotonic() + timeout
        remaining = nbytes
        while True:
            start = self._transfer(c)[column]
            args = [dest, str(remaining), str(DATAGRAM), ifname, str(rx_pid)]
            self._run(
                ["ip", "netns", "exec", namespace, sys.executable, "-I", "-c", _SENDER, *args],
                timeout=max(5.0, deadline - time.monotonic()),
                describe=shlex.join(["ip", "netns", "exec", namespace, "python3", "-c", "<udp sender>", *args]),
            )
            # Let the counter settle: stop when the target is reached or it stopped moving.
            last, still_since = start, time.monotonic()
            while True:
                now_value = self._transfer(c)[column]
                if now_value >= target:
                    return
                now = time.monotonic()
                if now_value != last:
                    last, still_since = now_value, now
                elif now - still_since > 0.15:
                    break
                if now > deadline:
                    break
                time.sleep(0.01)
            direction = f"{c.name} -> hub" if to_hub else f"hub -> {c.name}"
            if last <= start:
                raise LabError(
                    f"send {direction}: the hub's {'rx' if to_hub else 'tx'} counter did not move"
                    + ("" if to_hub else f" (does the hub's allowed-ips for {c.name!r} include {c.tunnel_ip}?)")
                )
            if time.monotonic() > deadline:
                done = last - (target - nbytes)
                raise LabError(f"send {direction}: only {done} of {nbytes} bytes within {timeout:g} s")
            remaining = target - last

    def roam(self, client: Client | str, new_underlay: str, timeout: float = 10.0) -> None:
        """Move the client's underlay address; wait until the hub has learnt the new endpoint."""
        c = self._connected(client)
        address, net = self._allocate_underlay(new_underlay)
        old = c.underlay
        assert old is not None
        old_version = ipaddress.ip_address(old).version
        new_version = net.interface.version
        old_net = next(u for u in UNDERLAYS.values() if ipaddress.ip_address(old) in u.network)
        if old_version == 4:
            # Within one subnet the old address is the primary, and deleting a primary deletes
            # its secondaries (the new one) too unless the kernel is told to promote them.
            self.netns_exec(c.namespace, ["sysctl", "-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1"])
        lines = [
            f"addr add {address}/{net.network.prefixlen} dev eth0" + (" nodad" if new_version == 6 else ""),
            f"addr del {old}/{old_net.network.prefixlen} dev eth0",
        ]
        if new_version != old_version:
            lines.append(f"route add default via {net.gateway_ip} dev eth0")
        else:
            lines.append(f"route replace default via {net.gateway_ip} dev eth0")
        self._ip(c.namespace, lines)
        if new_version != old_version:
            self._run(["ip", "-n", c.namespace, f"-{old_version}", "route", "flush", "default"], check=False)
            c.hub_endpoint = HUB_ENDPOINT_V6 if new_version == 6 else HUB_ENDPOINT_V4
        # Always set the endpoint again, even when it is unchanged: wireguard-go (userspace)
        # keeps a "sticky" source address per peer and, when that address is gone, fails with
        # ENETUNREACH instead of retrying without it. A fresh endpoint has no sticky source.
        self._wg(["set", c.interface, "peer", self.hub_public_key, "endpoint", c.hub_endpoint])
        self._used_underlay.discard(old)
        self._used_underlay.add(address)
        c.underlay = address
        deadline = time.monotonic() + timeout
        while True:
            endpoint = self._hub_endpoint_of(c)
            if endpoint is not None and endpoint.rpartition(":")[0].strip("[]") == address:
                return
            if time.monotonic() > deadline:
                raise LabError(
                    f"roam {c.name!r}: the hub still shows endpoint {endpoint} after {timeout:g} s, expected {address}"
                )
            self._ping(c, timeout=0.5)

    def remove(self, client: Client | str) -> None:
        """Remove the peer from the hub (`wg set HUB peer PUB remove`); the client namespace stays."""
        self._require_started()
        c = self._client(client)
        self._wg(["set", self.hub_interface, "peer", c.public_key, "remove"])
        c.removed = True

    # ------------------------------------------------------------------ inspection

    def hub_dump(self) -> str:
        """`wg show <hub> dump` (no interface column; contains the hub's private key and the PSKs)."""
        self._require_started()
        return self._wg(["show", self.hub_interface, "dump"])

    def hub_peer(self, client: Client | str) -> dict[str, str] | None:
        """The hub's dump line for a peer as a dict; the preshared key is shown as '(set)'."""
        c = self._client(client)
        names = ("public_key", "preshared_key", "endpoint", "allowed_ips", "latest_handshake",
                 "transfer_rx", "transfer_tx", "persistent_keepalive")
        for line in self.hub_dump().splitlines()[1:]:
            fields = line.split("\t")
            if len(fields) == 8 and fields[0] == c.public_key:
                peer = dict(zip(names, fields, strict=False))
                if peer["preshared_key"] != "(none)":
                    peer["preshared_key"] = "(set)"
                return peer
        return None

    def secrets(self) -> list[str]:
        """Every private key and preshared key in the lab (hub, clients, silent peers)."""
        return list(self._secrets)

    def netns_exec(self, namespace: str, args: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        """Run a command inside one of the lab's namespaces (errors are scrubbed of secrets)."""
        return self._run(["ip", "netns", "exec", namespace, *args], **kw)


# Runs inside the sending namespace: sends argv[2] bytes of UDP payload to argv[1]:9 in
# argv[3]-byte datagrams through the WireGuard interface argv[4]. Python writes to the TUN
# device faster than wireguard-go reads it, and the receiving wireguard-go drains its UDP
# socket more slowly than the sending one fills it; the kernel drops the excess silently.
# So the sender watches both drop counters (the TUN's tx_dropped here, UDP RcvbufErrors in
# the receiving namespace, read through /proc/<pid of its wireguard-go>/net/snmp), sends
# in bursts, halves the burst and backs off when drops appear, and resends what was lost.
_SENDER = r"""
import errno, os, socket, sys, time
dest, total, size, ifname, rx_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
family = socket.AF_INET6 if ":" in dest else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
sendto, addr = s.sendto, (dest, 9)
payload = memoryview(bytes(size))
tun = os.open("/sys/class/net/%s/statistics/tx_dropped" % ifname, os.O_RDONLY)
try:
    snmp = os.open("/proc/%s/net/snmp" % rx_pid, os.O_RDONLY)
except OSError:
    snmp = None
def dropped():
    n = int(os.pread(tun, 32, 0))
    if snmp is not None:
        lines = [l.split() for l in os.pread(snmp, 65536, 0).decode().splitlines() if l.startswith("Udp:")]
        if len(lines) >= 2 and "RcvbufErrors" in lines[0]:
            n += int(lines[1][lines[0].index("RcvbufErrors")])
    return n
base = dropped()
sent = 0  # bytes handed to the kernel, lost ones included
lost = 0
burst = 16
pause = 0.0  # between bursts: doubled on loss, shrunk while nothing is lost
while sent - lost < total:
    for _ in range(burst):
        n = min(size, total - (sent - lost))
        if n <= 0:
            break
        try:
            sendto(payload[:n], addr)
        except OSError as e:
            if e.errno in (errno.ENOBUFS, errno.EAGAIN, errno.ECONNREFUSED):
                time.sleep(0.0005)
                continue
            raise
        sent += n
    now = (dropped() - base) * size
    if now > lost:
        lost = now
        pause = min(0.02, max(0.0002, pause * 2))
    else:
        pause = pause * 0.97 if pause > 0.00005 else 0.0
    if pause:
        time.sleep(pause)
    if sent - lost >= total:  # let the last bursts land, then count again
        time.sleep(0.005)
        lost = max(lost, (dropped() - base) * size)
"""
