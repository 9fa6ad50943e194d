"""Options shared by several commands, declared once so their names and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Config = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="YAML settings file; every key is also an option (session_timeout = --session-timeout).", exists=True, dir_okay=False),
]
HostName = Annotated[Optional[str], typer.Option("--host-name", help="host.name of the documents [default: this machine's host name]")]
Namespace = Annotated[
    Optional[str],
    typer.Option("--namespace", help="Data stream namespace: logs-wireguard.status-<namespace>, logs-wireguard.log-<namespace> [default: default]"),
]
Peers = Annotated[
    Optional[Path],
    typer.Option("--peers", help="YAML or TOML file mapping peer public keys to names (user.name).", dir_okay=False),
]
WgConfigDir = Annotated[
    Optional[list[Path]],
    typer.Option("--wg-config-dir", help="Directory of wg-quick *.conf files read for '# friendly_name = ...' peer names (repeatable) [ship default: /etc/wireguard]"),
]
GeoipCity = Annotated[Optional[Path], typer.Option("--geoip-city", help="GeoLite2/GeoIP2 City .mmdb for source.geo (optional).", dir_okay=False)]
GeoipAsn = Annotated[Optional[Path], typer.Option("--geoip-asn", help="GeoLite2/GeoIP2 ASN .mmdb for source.as (optional).", dir_okay=False)]
SessionTimeout = Annotated[
    Optional[int],
    typer.Option("--session-timeout", help="Seconds after the latest handshake that a session is over [default: 180, the kernel's REJECT_AFTER_TIME]"),
]
SpikeFactor = Annotated[Optional[float], typer.Option("--spike-factor", help="transfer-spike: rate above FACTOR x the peer's baseline [default: 10]")]
SpikeMinBytes = Annotated[Optional[int], typer.Option("--spike-min-bytes", help="transfer-spike: bytes an interval must move at least [default: 104857600]")]
SpikeMinHistory = Annotated[
    Optional[int],
    typer.Option("--spike-min-history", help="transfer-spike: seconds a peer must have been watched before it can spike [default: 86400]"),
]
SpikeWindowDays = Annotated[Optional[int], typer.Option("--spike-window-days", help="transfer-spike: days of history in the baseline [default: 14]")]
Interfaces = Annotated[
    Optional[list[str]],
    typer.Option("--interface", "-i", help="Only this interface (repeatable) [default: every interface wg shows]"),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")]


def diff_overrides(
    session_timeout: int | None,
    spike_factor: float | None,
    spike_min_bytes: int | None,
    spike_min_history: int | None,
    spike_window_days: int | None,
) -> dict[str, object]:
    return {
        "session_timeout": session_timeout,
        "spike_factor": spike_factor,
        "spike_min_bytes": spike_min_bytes,
        "spike_min_history": spike_min_history,
        "spike_window_days": spike_window_days,
    }
