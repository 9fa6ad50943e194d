"""Shipper settings: defaults, a YAML config file over them, command-line options over that.

Every key of the config file is also a `wgsiem ship` option (`session_timeout` is
`--session-timeout`); docs/operate.md shows a full file.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .adapters.elasticsearch import EsSettings
from .adapters.spool import POLICIES as SPOOL_POLICIES
from .errors import Location, WgsiemError
from .metrics.listen import MetricsListenError, parse_listen
from .settings import description, setting
from .shipper import DRIFT_AFTER
from .status.diff import SESSION_TIMEOUT, DiffSettings
from .status.spike import SpikeSettings


class ConfigError(WgsiemError):
    """A setting that is wrong, unknown or unreadable; the location names the file and key."""


# Elasticsearch's data stream naming: what `logs-wireguard.status-<namespace>` allows.
_NAMESPACE = re.compile(r'[^A-Z\\/*?"<>|,#\s-]{1,100}')


def _connection(name: str, default: Any) -> Any:
    """A connection setting as EsSettings describes it, under its config key es_<name>: the
    option --es-<name>, with the name the other commands give it (--<name>) as an alias."""
    es = description(EsSettings, name)
    flags = ("--es-" + name.replace("_", "-"), *(es.flags or ("--" + name.replace("_", "-"),)))
    return setting(
        default, help=f"--output elasticsearch: {es.help}", flags=flags, metavar=es.metavar, path=es.path, default_text=es.default_text
    )


@dataclass(frozen=True, slots=True)
class ShipConfig:
    """Every setting of `wgsiem ship`: a key of its config file and an option of the same name."""

    interval: float = setting(30.0, help="Seconds between polls")
    health_interval: float = setting(
        300.0, help="Seconds between two shipper-health events (the shipper's own counts; one also at start-up); 0: none"
    )
    output: str = setting(
        "file",
        help="Where documents go: 'file' (NDJSON for Filebeat), 'stdout', or 'elasticsearch' (bulk, through a disk spool)",
        flags=("--output", "-o"),
    )
    output_file: Path = setting(Path("/var/log/wgsiem/wireguard-status.ndjson"), help="The NDJSON file")
    rotate_bytes: int = setting(100 * 1024 * 1024, help="Rotate the NDJSON file (to .1, .2, ...) when a batch would take it past this size")
    rotate_keep: int = setting(5, help="Rotated files to keep")
    state_dir: Path = setting(Path("/var/lib/wgsiem"), help="Where state.json and the install secret live")
    host_name: str = setting("", help="host.name of the documents", default_text="this machine's host name")
    namespace: str = setting(
        "default",
        help="Data stream namespace: logs-wireguard.status-<namespace>, logs-wireguard.log-<namespace> (lowercase, no '-')",
    )
    interfaces: tuple[str, ...] = setting(
        (), help="Only this interface (repeatable)", flags=("--interface", "-i"), metavar="NAME", default_text="every interface wg shows"
    )
    wg: str = setting("wg", help="The wg program")
    kernel_log: str = setting(
        "journal",
        help="Kernel and wg-quick lines to follow: 'journal' (journalctl -f), a log file's path (kern.log), or 'off'",
    )
    journalctl: str = setting("journalctl", help="The journalctl program")
    conntrack: str = setting(
        "off",
        help="Inner flows (wireguard.flow) to follow: 'live' (conntrack -E in this network namespace), the path of a file"
        " `conntrack -E -o timestamp,extended,id` writes, or 'off'",
    )
    conntrack_program: str = setting("conntrack", help="The conntrack program (conntrack-tools)")
    flow_events: str = setting(
        "all",
        help="Which flow events to write: 'all' (flow-started and flow-ended) or 'ended' (flow-ended only: half the"
        " documents, each flow's totals, but a connection is seen only once it ends, and the flow rules that judge"
        " connections as they start stay silent)",
    )
    wg_config_dirs: tuple[Path, ...] = setting(
        (Path("/etc/wireguard"),),
        help="Directory of wg-quick *.conf files: watched (--wg-config-watch) and read for '# friendly_name = alice' under [Peer] (repeatable)",
        flags=("--wg-config-dir",),
        metavar="DIR",
        path="dir",
    )
    wg_config_watch: str = setting(
        "on",
        help="'on': watch the --wg-config-dir files (hash, owner, mode, peers, hooks) and compare them with the running"
        " interfaces after each poll (drift); 'off'",
        metavar="on|off",
    )
    wg_config_drift_after: int = setting(
        DRIFT_AFTER, help="Seconds the running interface and its wg-quick file may disagree before config-drift-persists"
    )
    peers: Path | None = setting(
        None,
        help="YAML or TOML names file: PUBLIC_KEY: name (or a table with name), user.name of the peer's events;"
        " its change_windows mark configuration events",
        path="file",
    )
    geoip_city: Path | None = setting(None, help="GeoLite2/GeoIP2 City .mmdb for source.geo", path="file")
    geoip_asn: Path | None = setting(None, help="GeoLite2/GeoIP2 ASN .mmdb for source.as", path="file")
    session_timeout: int = setting(
        SESSION_TIMEOUT,
        help="Seconds after the latest handshake that a session is over",
        default_text=f"{SESSION_TIMEOUT}, the kernel's REJECT_AFTER_TIME",
    )
    spike_factor: float = setting(10.0, help="transfer-spike: rate above FACTOR x the peer's baseline")
    spike_min_bytes: int = setting(100 * 1024 * 1024, help="transfer-spike: bytes an interval must move at least")
    spike_min_history: int = setting(86400, help="transfer-spike: seconds a peer must have been watched before it can spike")
    spike_window_days: int = setting(14, help="transfer-spike: days of history in the baseline")
    # output: elasticsearch. Credentials come from files or the environment only
    # (WGSIEM_ES_API_KEY, WGSIEM_ES_PASSWORD): a config key or an option holding one
    # would put it in `ps`, shell history and config management.
    es_url: str = _connection("url", "")
    es_ca_file: Path | None = _connection("ca_file", None)
    es_api_key_file: Path | None = _connection("api_key_file", None)
    es_user: str = _connection("user", "")
    es_password_file: Path | None = _connection("password_file", None)
    es_insecure: bool = _connection("insecure", False)  # tests only: no TLS verification
    es_timeout: float = setting(30.0, help="Seconds a bulk request may take")
    es_bulk_docs: int = setting(1000, help="Documents per bulk request (and at most about 10 MB)")
    es_backoff_max: float = setting(30.0, help="Longest wait in seconds between two delivery attempts")
    es_flush_timeout: float = setting(
        10.0, help="Seconds at stop to deliver what is spooled; the rest waits for the next start"
    )
    spool_max_bytes: int = setting(1024**3, help="Bound of the spool in <state-dir>/spool (at least 65536)", default_text="1073741824, 1 GiB")
    spool_full: str = setting("drop-oldest", help="When the spool is full: 'drop-oldest' or 'drop-newest' documents")
    # Prometheus: prometheus_wireguard_exporter's metrics and the shipper's health, from its own polls.
    metrics_listen: str = setting(
        "",
        help="Serve Prometheus metrics at HOST:PORT (127.0.0.1:9586, [::1]:9586, :9586 for every address): "
        "prometheus_wireguard_exporter's peer metrics and wgsiem_* health",
        metavar="HOST:PORT",
        default_text="off",
    )
    metrics_remote_endpoint: bool = setting(False, help="Metrics: remote_ip and remote_port labels (the exporter's -r)")
    metrics_split_allowed_ips: bool = setting(
        False, help="Metrics: allowed_ip_N and allowed_subnet_N labels instead of allowed_ips (the exporter's -s)"
    )
    metrics_friendly_names: bool = setting(False, help="Metrics: a friendly_name label with the peer's name (the exporter's -n)")

    @property
    def spool_dir(self) -> Path:
        return self.state_dir / "spool"

    @property
    def dead_letter_file(self) -> Path:
        return self.state_dir / "dead-letter.ndjson"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def secret_file(self) -> Path:
        return self.state_dir / "secret"

    @property
    def resolved_host_name(self) -> str:
        return self.host_name or socket.gethostname()

    def diff_settings(self) -> DiffSettings:
        return DiffSettings(
            session_timeout=self.session_timeout,
            spike=SpikeSettings(
                factor=self.spike_factor,
                min_bytes=self.spike_min_bytes,
                min_history=self.spike_min_history,
                window_days=self.spike_window_days,
            ),
        )

    def validate(self) -> ShipConfig:
        problems = []
        if self.interval <= 0:
            problems.append("interval must be more than 0 seconds")
        if self.flow_events not in FLOW_EVENTS:
            problems.append(f"flow_events must be 'all' or 'ended', not {self.flow_events!r}")
        if self.health_interval < 0:
            problems.append("health_interval must be 0 (no health events) or more seconds")
        if not _NAMESPACE.fullmatch(self.namespace):
            problems.append(
                f"namespace {self.namespace!r}: a data stream namespace is lowercase, at most 100"
                " characters, without '-' or any of \\/*?\"<>|,# or spaces"
            )
        if self.output not in OUTPUTS:
            problems.append(f"output must be 'file' or 'stdout' or 'elasticsearch', not {self.output!r}")
        if self.output == "elasticsearch":
            problems += self._elasticsearch_problems()
        if self.rotate_bytes <= 0 or self.rotate_keep < 0:
            problems.append("rotate_bytes must be > 0 and rotate_keep >= 0")
        if self.session_timeout <= 0:
            problems.append("session_timeout must be more than 0 seconds")
        if self.wg_config_watch not in ("on", "off"):
            problems.append(f"wg_config_watch must be 'on' or 'off', not {self.wg_config_watch!r}")
        if self.wg_config_drift_after < 0:
            problems.append("wg_config_drift_after must be 0 seconds or more")
        if self.spike_factor <= 1:
            problems.append("spike_factor must be more than 1")
        if self.spike_min_bytes < 0 or self.spike_min_history < 0 or self.spike_window_days < 1:
            problems.append("spike_min_bytes and spike_min_history must be >= 0, spike_window_days >= 1")
        if self.metrics_listen:
            try:
                parse_listen(self.metrics_listen)
            except MetricsListenError as err:
                problems.append(err.message)
        for name in _OPTIONAL_PATHS:
            path = getattr(self, name)
            if path is not None and not path.is_file():
                problems.append(f"{name}: {path}: no such file")
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    def _elasticsearch_problems(self) -> list[str]:
        problems = []
        if not self.es_url:
            problems.append("es_url: output 'elasticsearch' needs the cluster's URL (es_url, --es-url), e.g. https://es.example:9200")
        else:
            problems += _url_problems(self.es_url)
        if self.es_api_key_file is not None and self.es_user:
            problems.append("es_api_key_file and es_user: give one, an API key or a user with a password")
        if self.es_password_file is not None and not self.es_user:
            problems.append("es_password_file: a password needs es_user")
        if self.es_timeout <= 0:
            problems.append("es_timeout must be more than 0 seconds")
        if self.es_bulk_docs < 1:
            problems.append("es_bulk_docs must be at least 1")
        if self.es_backoff_max < 1:
            problems.append("es_backoff_max must be at least 1 second")
        if self.es_flush_timeout < 0:
            problems.append("es_flush_timeout must be 0 seconds or more")
        if self.spool_max_bytes < MIN_SPOOL_BYTES:
            problems.append(f"spool_max_bytes must be at least {MIN_SPOOL_BYTES} (64 KiB)")
        if self.spool_full not in SPOOL_POLICIES:
            problems.append(f"spool_full must be 'drop-oldest' or 'drop-newest', not {self.spool_full!r}")
        return problems


OUTPUTS = ("file", "stdout", "elasticsearch")
FLOW_EVENTS = ("all", "ended")
MIN_SPOOL_BYTES = 64 * 1024


def _url_problems(url: str) -> list[str]:
    # Any @, even in a URL too broken to parse (no scheme: "elastic:pw@es:9200"), may
    # follow a password: such a URL is refused without being echoed.
    if "@" in url:
        return [
            "es_url: put no user name or password in the URL (it shows in `ps`, shell history and logs);"
            " use es_api_key_file or $WGSIEM_ES_API_KEY, or es_user with es_password_file or $WGSIEM_ES_PASSWORD"
        ]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return ["es_url: not a URL (expected e.g. https://es.example:9200)"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"es_url: {url!r} is not an http:// or https:// URL with a host"]
    if parts.query or parts.fragment:
        return [f"es_url: {url!r}: no query or fragment, only scheme, host, port and path"]
    return []


_FIELDS = {f.name: f for f in fields(ShipConfig)}
_OPTIONAL_PATHS = ("peers", "geoip_city", "geoip_asn", "es_ca_file", "es_api_key_file", "es_password_file")
_PATHS = {"output_file", "state_dir", *_OPTIONAL_PATHS}


def load_config(path: Path | None, overrides: dict[str, Any]) -> ShipConfig:
    """Defaults, then the YAML file, then every override that is not None."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_file(path))
    values.update({k: v for k, v in overrides.items() if v is not None and v != ()})
    try:
        return replace(ShipConfig(), **values).validate()
    except TypeError as err:
        raise ConfigError(str(err)) from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", Location(path)) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"not valid YAML: {err}", Location(path)) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError("expected a mapping of settings", Location(path))
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        where = Location(path, lines.get(str(key)), key=str(key))
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting (known: {', '.join(sorted(_FIELDS))})", where)
        values[name] = _coerce(where, name, value)
    return values


def _coerce(where: Location, name: str, value: Any) -> Any:
    default = getattr(ShipConfig(), name)
    if value is None:
        return None if name in _OPTIONAL_PATHS else default
    if name in _PATHS:
        return Path(str(value))
    if name == "wg_config_dirs":
        return tuple(Path(str(v)) for v in _as_list(where, value))
    if name == "interfaces":
        return tuple(str(v) for v in _as_list(where, value))
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool):
        raise ConfigError(f"expected {expected.__name__}, got {value!r}", where)
    return value


def _as_list(where: Location, value: Any) -> list[Any]:
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, list):
        return value
    raise ConfigError("expected a list", where)
