"""Turn settings into the working parts: logging, the enrichment context, the shipper."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import typer

from ..adapters.statefile import load_state
from ..config import ShipConfig
from ..ecs.document import Context
from ..enrich.geoip import GeoIP
from ..enrich.names import NamesWatcher
from ..shipper import PollOutcome, Shipper
from ..status.state import State
from ..wgdump import PresharedKeyHasher

log = logging.getLogger("wgsiem")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="wgsiem: %(levelname)s: %(message)s",
    )


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (systemd's stop) or SIGINT: the loop finishes its poll and ends."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    return stop


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"wgsiem: error: {message}", err=True)
    return typer.Exit(code)


def make_names(cfg: ShipConfig) -> NamesWatcher:
    return NamesWatcher(cfg.wg_config_dirs, cfg.peers, warn=log.warning)


def make_context(cfg: ShipConfig, names: dict[str, str], registry: NamesWatcher | None = None) -> Context:
    """The enrichment context; `registry`: the names file's change windows and entries."""
    geoip = GeoIP(city=cfg.geoip_city, asn=cfg.geoip_asn)
    return Context(
        host_name=cfg.resolved_host_name, names=names, geoip=geoip, namespace=cfg.namespace,
        change_windows=registry.windows if registry is not None else None,
        registry=registry.registry if registry is not None else {},
    )  # fmt: skip


def make_shipper(
    cfg: ShipConfig, secret: bytes, names: dict[str, str], state: State | None = None, registry: NamesWatcher | None = None
) -> Shipper:
    if state is None:
        state = load_state(cfg.state_file)
    return Shipper(
        state,
        PresharedKeyHasher(secret),
        make_context(cfg, names, registry),
        cfg.diff_settings(),
        interfaces=cfg.interfaces,
        drift_after=cfg.wg_config_drift_after,
        flow_events=cfg.flow_events,
    )


def report(outcome: PollOutcome) -> None:
    """Say what went wrong in a poll: each malformed line with its place, each notice."""
    if outcome.failure:
        log.error("%s", outcome.failure)
    for problem in outcome.problems:
        log.warning("malformed line skipped: %s", problem)
    for notice in outcome.notices:
        log.warning("%s", notice)
