"""A real, throwaway Elasticsearch 9 node for the `es` tests and for trying wgsiem by hand.

The node is Elastic's integ-test-zip distribution from Maven Central
(`org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip`): the real
server with x-pack core and security, and nothing else. It lacks ingest-common (so the
logs-wireguard pipeline cannot be installed), lang-painless (no scripts, so no
`bucket_selector` either), mapper-extras (match_only_text, scaled_float), the x-pack
mappers (constant_keyword, wildcard, unsigned_long) and the data-streams module's REST
API (`/_data_stream`), although a data stream template still makes a data stream.
docs/elasticsearch.md lists what follows from that.

`install()` fetches and unpacks it (scripts/install.sh calls `python -m wgsiem.lab
es-install`); `EsNode` runs one node: single-node discovery, security off, a small heap,
bound to 127.0.0.1 on free ports, data in a fresh directory. Elasticsearch refuses to run
as root, so under root the node runs as the system user `wgsiem-es`.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from ..errors import WgsiemError

VERSION = "9.4.6"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
RUN_AS = "wgsiem-es"  # the system user the node runs as when we are root
MIN_JAVA = 21
HEAP = "512m"


class EsNodeError(WgsiemError):
    """The node could not be installed or started; the message says why and what to do."""


class _PortTaken(Exception):  # noqa: N818 - a signal: choose another port
    """The node exited at start because its HTTP port was taken meanwhile."""


def default_home() -> Path:
    """Where the distribution is unpacked: $WGSIEM_ES_HOME, else a place the node's user
    can read (/opt for root, whose home the `wgsiem-es` user cannot enter; else ~/.cache)."""
    if os.environ.get("WGSIEM_ES_HOME"):
        return Path(os.environ["WGSIEM_ES_HOME"])
    if os.geteuid() == 0:
        return Path("/opt/wgsiem") / f"elasticsearch-{VERSION}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "wgsiem" / f"elasticsearch-{VERSION}"


def installed(home: Path | None = None) -> bool:
    return ((home or default_home()) / "bin" / "elasticsearch").is_file()


def install(home: Path | None = None, mvn: str = "mvn") -> Path:
    """Download the distribution with Maven (Maven Central, cached in ~/.m2) and unpack it.
    Nothing happens when it is already there."""
    home = home or default_home()
    if installed(home):
        return home
    if shutil.which(mvn) is None:
        raise EsNodeError(f"cannot download {ARTIFACT}: `{mvn}` (Maven) is not installed")
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=".download-") as tmp:
        cmd = [mvn, "-B", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={tmp}"]
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        archive = Path(tmp) / f"elasticsearch-{VERSION}.zip"
        if done.returncode != 0 or not archive.is_file():
            output = (done.stdout + done.stderr).strip().splitlines()
            raise EsNodeError(f"{' '.join(cmd)} failed (exit {done.returncode}):\n" + "\n".join(output[-20:]))
        unpacked = Path(tmp) / "unpacked"
        _unzip(archive, unpacked)
        top = unpacked / f"elasticsearch-{VERSION}"
        if not (top / "bin" / "elasticsearch").is_file():
            raise EsNodeError(f"{archive}: no elasticsearch-{VERSION}/bin/elasticsearch in the archive")
        top.rename(home)
    return home


def _unzip(archive: Path, target: Path) -> None:
    """zipfile drops the Unix modes that bin/ needs; they are in each entry's external_attr."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, target))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                path.chmod(mode & 0o777)


def find_java(jvm: Path = Path("/usr/lib/jvm")) -> Path:
    """A JDK of version 21 or newer: $ES_JAVA_HOME, $JAVA_HOME, then the Temurin and other
    JDKs in /usr/lib/jvm, newest first."""
    candidates = [Path(p) for p in (os.environ.get("ES_JAVA_HOME"), os.environ.get("JAVA_HOME")) if p]
    if jvm.is_dir():
        found = [p for p in jvm.iterdir() if (p / "bin" / "java").is_file() and not p.is_symlink()]
        candidates += sorted(found, key=lambda p: (_java_version(p) or 0, "temurin" in p.name), reverse=True)
    seen = []
    for home in candidates:
        version = _java_version(home)
        if version is not None and version >= MIN_JAVA:
            return home
        seen.append(f"{home} ({version or 'unknown version'})")
    raise EsNodeError(
        f"Elasticsearch {VERSION} needs a JDK {MIN_JAVA} or newer (set ES_JAVA_HOME); found "
        + (", ".join(seen) if seen else "none in $ES_JAVA_HOME, $JAVA_HOME or /usr/lib/jvm")
    )


def _java_version(home: Path) -> int | None:
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    found = re.search(r'^JAVA_VERSION="(\d+)', text, re.M)
    return int(found.group(1)) if found else None


def ensure_user() -> None:
    """Create the system user the node runs as under root (no home, no login shell)."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", RUN_AS],
            check=True,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EsNode:
    """One single-node cluster. `start()` returns once the cluster is yellow or green;
    `stop()` and `start()` again keep the data and the port, as a restarted server would.

        with EsNode() as node:
            requests.get(node.url + "/_cluster/health")
    """

    def __init__(self, workdir: Path | None = None, port: int | None = None, home: Path | None = None, heap: str = HEAP) -> None:
        self.home = home or default_home()
        if not installed(self.home):
            raise EsNodeError(f"no Elasticsearch in {self.home}: run `python -m wgsiem.lab es-install` (scripts/install.sh does)")
        self.java = find_java()
        self.heap = heap
        # A free port can be taken by someone else before the node binds it: an automatic
        # port is chosen again when that happens (see start).
        self.auto_port = port is None
        self.port = port or free_port()
        # Our own cluster name: a health answer from another node that got "our" port is
        # not mistaken for ours.
        self.cluster_name = f"wgsiem-test-{secrets.token_hex(4)}"
        # Under root the node's user must reach its directory: pytest's tmp_path is inside a
        # root-only 0700 folder, so the default is a fresh folder of /tmp given to that user.
        self.owned = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="wgsiem-es-")) if workdir is None else Path(workdir)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_from = 0  # where this launch's output starts in log_file
        self._started = False
        self._prepare()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "stdout.log"

    def _prepare(self) -> None:
        config = self.workdir / "config"
        for sub in ("data", "logs", "tmp"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        if not config.exists():
            shutil.copytree(self.home / "config", config)
        settings = {
            "cluster.name": self.cluster_name,
            "node.name": "wgsiem-test",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self.port,
            # Nobody connects to it: let the node take the first free one of its range.
            "transport.port": "9300-9399",
            "xpack.security.enabled": False,
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
            # Tests fill a small disk now and then; the default watermarks would make
            # every index read-only at 95 % and fail the tests for a reason not theirs.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        (config / "elasticsearch.yml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items()))
        if os.geteuid() == 0:
            ensure_user()
            closed = [p for p in self.workdir.resolve().parents if not os.stat(p).st_mode & 0o001]
            if closed:
                raise EsNodeError(
                    f"{self.workdir}: the node's user {RUN_AS} cannot reach it ({closed[0]} is closed to others); "
                    "leave workdir out to get a fresh folder in /tmp"
                )
            user = pwd.getpwnam(RUN_AS)
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)

    def start(self, timeout: float = 180) -> EsNode:
        if self.process is not None and self.process.poll() is None:
            return self
        for attempt in range(3):
            try:
                self._launch(timeout)
                self._started = True
                return self
            except _PortTaken:
                # A restart keeps its port: whoever talks to the node knows it by that URL.
                if not self.auto_port or self._started or attempt == 2:
                    raise EsNodeError(f"port {self.port} is taken:\n{self._log_tail()}") from None
                self.port = free_port()
                self._prepare()
        return self

    def _launch(self, timeout: float) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(self.java),
            "ES_PATH_CONF": str(self.workdir / "config"),
            "ES_TMPDIR": str(self.workdir / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
            "LANG": "C.UTF-8",
        }
        cmd = [str(self.home / "bin" / "elasticsearch")]
        if os.geteuid() == 0:
            cmd = ["setpriv", f"--reuid={RUN_AS}", f"--regid={RUN_AS}", "--init-groups", "--", *cmd]
        with open(self.log_file, "ab") as log:
            self._log_from = log.tell()
            self.process = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                status, tail = self.process.returncode, self._log_tail()
                self.stop()
                with open(self.log_file, "rb") as log:
                    log.seek(self._log_from)
                    output = log.read().decode(errors="replace")
                if "BindException" in output or "Address already in use" in output:
                    raise _PortTaken()
                raise EsNodeError(f"Elasticsearch exited with {status} while starting:\n{tail}")
            try:
                health_url = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=5s"  # http://127.0.0.1:<port>, ours
                with urllib.request.urlopen(health_url, timeout=10) as reply:  # noqa: S310
                    health = json.load(reply)
                    if health.get("cluster_name") == self.cluster_name and health.get("status") in ("yellow", "green"):
                        return
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                pass
            time.sleep(0.5)
        self.stop()
        raise EsNodeError(f"Elasticsearch at {self.url} was not healthy within {timeout:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (Elasticsearch shuts down cleanly on it), SIGKILL if that takes too long."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        # bin/elasticsearch is a launcher with the server as its child: wait for the whole
        # process group, or a restart could find the data directory still locked.
        deadline = time.monotonic() + timeout
        while process.poll() is None or _group_alive(process.pid):  # poll() reaps the launcher
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
            time.sleep(0.1)

    def remove(self) -> None:
        """Stop, and delete the data directory when this node made it."""
        self.stop()
        if self.owned:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> EsNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the node's user is not ours, but the group is there
        return True
    return True
