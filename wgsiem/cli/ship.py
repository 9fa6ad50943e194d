"""`wgsiem ship`: the live shipper. Poll, turn into documents, write them, save the state."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.memory import release_free_memory
from ..adapters.output import NdjsonFileOutput, Output, StreamOutput
from ..adapters.secret import load_or_create_secret
from ..adapters.statefile import save_state
from ..adapters.wg import RawPoll, run_wg
from ..config import ConfigError, ShipConfig, load_config
from ..enrich.names import NamesError, NamesWatcher
from ..shipper import Shipper
from . import options as o
from .setup import fail, log, make_names, make_shipper, report, setup_logging


def ship(
    config: o.Config = None,
    interval: Annotated[Optional[float], typer.Option("--interval", help="Seconds between polls [default: 30]")] = None,
    once: Annotated[bool, typer.Option("--once", help="Poll once, write, save the state and exit.")] = False,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Where documents go: 'file' (NDJSON for Filebeat) or 'stdout' [default: file]")
    ] = None,
    output_file: Annotated[
        Optional[Path], typer.Option("--output-file", help="The NDJSON file [default: /var/log/wgsiem/wireguard-status.ndjson]")
    ] = None,
    rotate_bytes: Annotated[Optional[int], typer.Option("--rotate-bytes", help="Rotate the NDJSON file at this size [default: 104857600]")] = None,
    rotate_keep: Annotated[Optional[int], typer.Option("--rotate-keep", help="Rotated files to keep [default: 5]")] = None,
    state_dir: Annotated[
        Optional[Path], typer.Option("--state-dir", help="State and install secret live here [default: /var/lib/wgsiem]")
    ] = None,
    host_name: o.HostName = None,
    namespace: o.Namespace = None,
    interface: o.Interfaces = None,
    wg: Annotated[Optional[str], typer.Option("--wg", help="The wg program [default: wg]")] = None,
    wg_config_dir: o.WgConfigDir = None,
    peers: o.Peers = None,
    geoip_city: o.GeoipCity = None,
    geoip_asn: o.GeoipAsn = None,
    session_timeout: o.SessionTimeout = None,
    spike_factor: o.SpikeFactor = None,
    spike_min_bytes: o.SpikeMinBytes = None,
    spike_min_history: o.SpikeMinHistory = None,
    spike_window_days: o.SpikeWindowDays = None,
    verbose: o.Verbose = False,
) -> None:
    """Poll `wg show all dump` every --interval seconds and ship wireguard.status events.

    The first poll of a new state directory is the baseline (interface-discovered,
    peer-discovered). After that every change is an event. The state is saved after every
    poll, so a restart neither repeats nor misses anything. SIGTERM or SIGINT stops it
    cleanly after the current poll.
    """
    setup_logging(verbose)
    try:
        cfg = load_config(
            config,
            {
                "interval": interval,
                "output": output,
                "output_file": output_file,
                "rotate_bytes": rotate_bytes,
                "rotate_keep": rotate_keep,
                "state_dir": state_dir,
                "host_name": host_name,
                "namespace": namespace,
                "interfaces": tuple(interface or ()),
                "wg": wg,
                "wg_config_dirs": tuple(wg_config_dir or ()),
                "peers": peers,
                "geoip_city": geoip_city,
                "geoip_asn": geoip_asn,
                **o.diff_overrides(session_timeout, spike_factor, spike_min_bytes, spike_min_history, spike_window_days),
            },
        )
        secret = load_or_create_secret(cfg.secret_file)
    except (ConfigError, ValueError, OSError) as err:
        raise fail(str(err)) from None
    names = make_names(cfg)
    shipper = make_shipper(cfg, secret, names.names)
    release_free_memory()  # what loading the state file took
    out = open_output(cfg)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    log.info(
        "shipping %s every %ss to %s (state %s)%s",
        ", ".join(cfg.interfaces) or "all interfaces",
        cfg.interval,
        cfg.output_file if cfg.output == "file" else "stdout",
        cfg.state_file,
        "" if not shipper.state.is_new else "; the first poll is the baseline",
    )
    try:
        ok = run_loop(cfg, shipper, out, lambda t: run_wg(t, cfg.wg), time.time, stop, once, names)
    finally:
        out.close()
    raise typer.Exit(0 if ok else 1)


def _refresh_names(names: NamesWatcher, shipper: Shipper) -> None:
    try:
        fresh = names.refresh()
    except NamesError as err:  # keep the names we had: a typo must not stop the audit trail
        log.error("peer names not reloaded: %s", err)
        return
    if fresh is not None:
        shipper.context.names = fresh
        log.info("peer names reloaded: %d names", len(fresh))


def open_output(cfg: ShipConfig) -> Output:
    if cfg.output == "stdout":
        return StreamOutput()
    try:
        return NdjsonFileOutput(cfg.output_file, cfg.rotate_bytes, cfg.rotate_keep)
    except OSError as err:
        raise fail(f"{cfg.output_file}: cannot open for writing: {err.strerror}") from None


def run_loop(
    cfg: ShipConfig,
    shipper: Shipper,
    out: Output,
    poll: Callable[[int], RawPoll],
    clock: Callable[[], float],
    stop: threading.Event,
    once: bool = False,
    names: NamesWatcher | None = None,
) -> bool:
    """Poll until stopped. Documents are written (and fsynced) before the state is saved:
    a crash in between repeats a poll's documents, with the same event.id, rather than
    losing them. Returns whether the last poll succeeded."""
    written = 0
    ok = True
    while True:
        started = clock()
        if names is not None:
            _refresh_names(names, shipper)
        outcome = shipper.process(poll(int(started)))
        report(outcome)
        ok = outcome.failure is None
        if ok:
            n = out.write_batch(outcome.documents)
            save_state(cfg.state_file, shipper.state)
            release_free_memory()
            written += n
            log.debug("poll at %d: %d documents", outcome.time, n)
        if once or stop.is_set():
            break
        stop.wait(max(0.0, cfg.interval - (clock() - started)))
        if stop.is_set():
            break
    log.info(
        "stopped after %d polls: %d documents written, %d malformed lines skipped",
        shipper.polls,
        written,
        shipper.problem_count,
    )
    return ok
