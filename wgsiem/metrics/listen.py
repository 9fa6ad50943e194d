"""The address `ship --metrics-listen` takes."""

from __future__ import annotations

from ..errors import WgsiemError


class MetricsListenError(WgsiemError):
    """The metrics address is not HOST:PORT, or cannot be listened on."""


def parse_listen(value: str) -> tuple[str, int]:
    """`127.0.0.1:9586`, `[::1]:9586`, `0.0.0.0:9586` or `:9586` (every address) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise MetricsListenError(f"metrics_listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:9586 or [::1]:9586")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise MetricsListenError(f"metrics_listen {value!r}: an IPv6 address goes in brackets, e.g. [::1]:9586")
    return host or "0.0.0.0", int(port)  # noqa: S104 - ':PORT' asks for every address, as the exporter's default
