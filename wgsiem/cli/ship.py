"""`wgsiem ship`: the live shipper. Poll, turn into documents, write them, save the state."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..adapters import elasticsearch as es
from ..adapters.bulk import Backoff
from ..adapters.config_files import ConfigDirReader
from ..adapters.elasticsearch_output import ElasticsearchOutput
from ..adapters.follow import FileFollower, Follower, JournalFollower
from ..adapters.host import boot_time
from ..adapters.memory import release_free_memory
from ..adapters.output import NdjsonFileOutput, Output, StreamOutput
from ..adapters.secret import load_or_create_secret
from ..adapters.spool import Spool, SpoolError
from ..adapters.statefile import save_state
from ..adapters.wg import run_wg
from ..config import ShipConfig
from ..ecs import health as health_docs
from ..ecs.health import Health, HealthEvents
from ..enrich.names import NamesError, NamesWatcher
from ..kernlog.framing import LogRecord, frame
from ..kernlog.timing import line_time
from ..metrics.listen import MetricsListenError, parse_listen
from ..shipper import Shipper
from ..wgdump.raw import RawPoll
from . import options as o
from .flows import FlowWatch, open_conntrack

if TYPE_CHECKING:
    from ..adapters.metrics_http import MetricsServer
from .groups import ShipOptions, with_groups
from .setup import fail, log, make_names, make_shipper, report, setup_logging, stop_on_signals


@with_groups
def ship(
    cfg: Annotated[ShipConfig, ShipOptions()],
    once: Annotated[bool, typer.Option("--once", help="Poll once, write, save the state and exit.")] = False,
    verbose: o.Verbose = False,
) -> None:
    """Poll `wg show all dump` every --interval seconds and ship wireguard.status events,
    follow the kernel log and wg-quick units for wireguard.log events, and with
    --conntrack the connection tracker's events for wireguard.flow events.

    The first poll of a new state directory is the baseline (interface-discovered,
    peer-discovered). After that every change is an event. The state, with where the
    log was read up to, is saved after every poll, so a restart neither repeats nor
    misses anything. SIGTERM or SIGINT stops it cleanly after the current poll.

    --conntrack live runs `conntrack -E -o timestamp,extended,id` (CAP_NET_ADMIN) and
    reads its events as they come: those printed while ship is stopped are lost, and the
    gap is logged at the next start. --conntrack FILE follows a file that command
    appends to, from where it was read up to, so a restart loses none. A peer's
    connections (by its allowed-ips) become flow-started and flow-ended events.

    With --output elasticsearch every batch is fsynced to a bounded spool in the state
    directory first, and delivered from there (bulk create, _id = event.id) by a
    background thread that retries with backoff while the cluster is away.

    The wg-quick files of --wg-config-dir are read before each poll (--wg-config-watch
    off to stop it): a file added, changed (content, mode, owner) or removed is an event,
    said in WireGuard terms (peers, keys as public keys and hashes, hooks), and after each
    poll the running interface is compared with its file (drift).

    With --metrics-listen HOST:PORT it also serves Prometheus metrics from its polls:
    prometheus_wireguard_exporter's (same names and labels) and its own health (wgsiem_*).

    Its own health is also an event: shipper-health, after the first poll and every
    --health-interval seconds (0: none; --once writes none), with the polls, failed
    polls, wg errors, malformed lines, documents written and dropped since the previous
    one, and the spool; event.outcome failure when anything failed. A host whose
    shipper-health events stop has stopped sending (docs/operate.md).
    """
    setup_logging(verbose)
    secret = load_or_create_secret(cfg.secret_file)
    names = make_names(cfg)
    shipper = make_shipper(cfg, secret, names.names, registry=names)
    release_free_memory()  # what loading the state file took
    out = open_output(cfg, verbose)
    follower = open_follower(cfg)
    if follower is not None:
        follower.start(shipper.state.log_positions.get(follower.name))
    flows = FlowWatch(open_conntrack(cfg))
    flows.start(shipper)
    try:
        metrics = open_metrics(cfg)
    except MetricsListenError as err:
        out.close()
        flows.stop()
        if follower is not None:
            follower.stop()
        raise fail(err.message) from None
    stop = stop_on_signals()
    log.info(
        "shipping %s every %ss to %s (state %s)%s",
        ", ".join(cfg.interfaces) or "all interfaces",
        cfg.interval,
        _destination(cfg),
        cfg.state_file,
        "" if not shipper.state.is_new else "; the first poll is the baseline",
    )
    if metrics is not None:
        log.info("serving Prometheus metrics at http://%s/metrics", _url_host(metrics.address))
    try:
        ok = run_loop(cfg, shipper, out, _poller(cfg), time.time, stop, once, names, follower, metrics, flows)
    finally:
        out.close()
        if follower is not None:
            follower.stop()
        flows.stop()
        if metrics is not None:
            metrics.close()
    raise typer.Exit(0 if ok else 1)


def _poller(cfg: ShipConfig) -> Callable[[int], RawPoll]:
    """`wg show all dump`, with the wg-quick files read just before it when they are watched."""
    if cfg.wg_config_watch == "off":
        return lambda t: run_wg(t, cfg.wg)
    reader = ConfigDirReader(cfg.wg_config_dirs)

    def poll(t: int) -> RawPoll:
        config = reader.read()
        return replace(run_wg(t, cfg.wg), config=config)

    return poll


def _refresh_names(names: NamesWatcher, shipper: Shipper) -> None:
    try:
        fresh = names.refresh()
    except NamesError as err:  # keep the names we had: a typo must not stop the audit trail
        log.error("peer names not reloaded: %s", err)
        return
    if fresh is not None:
        shipper.context.names = fresh
        shipper.context.change_windows = names.windows
        shipper.context.registry = names.registry
        log.info("peer names reloaded: %d names", len(fresh))


def open_metrics(cfg: ShipConfig) -> MetricsServer | None:
    if not cfg.metrics_listen:
        return None
    # prometheus_client is loaded only by a shipper that serves metrics.
    from ..adapters.metrics_http import MetricsServer
    from ..metrics.peers import LabelOptions, PeerMetrics

    options = LabelOptions(cfg.metrics_remote_endpoint, cfg.metrics_split_allowed_ips, cfg.metrics_friendly_names)
    return MetricsServer(parse_listen(cfg.metrics_listen), PeerMetrics(options), Health()).start()


def _url_host(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _tally(health: Health, shipper: Shipper, out: Output, ok: bool, started: float, written: int) -> None:
    """The loop's health after a poll: for the Prometheus endpoint and the health events."""
    health_docs.tally(health, shipper, ok, started, written)
    _backlog(health, out)


def _backlog(health: Health, out: Output) -> None:
    if isinstance(out, ElasticsearchOutput):
        health.spooled_documents, health.spooled_bytes, health.dropped_documents = out.backlog()


def _publish_peers(metrics: MetricsServer, shipper: Shipper, names: NamesWatcher | None = None) -> None:
    from ..metrics.peers import snapshot

    metrics.publish(snapshot(shipper.state, shipper.context.names, names.json_labels if names is not None else None))


def _write_health(beat: HealthEvents, shipper: Shipper, out: Output, now: float) -> None:
    _backlog(beat.health, out)  # the spool drains between polls
    doc = beat.take(now, shipper.context)
    beat.health.documents_written += out.write_batch([doc])
    log.debug("shipper health at %.0f: %s", now, doc["event"]["outcome"])


def open_follower(cfg: ShipConfig) -> Follower | None:
    if cfg.kernel_log == "off":
        return None
    if cfg.kernel_log == "journal":
        return JournalFollower(cfg.journalctl)
    return FileFollower(Path(cfg.kernel_log))


def _destination(cfg: ShipConfig) -> str:
    if cfg.output == "elasticsearch":
        return f"Elasticsearch at {cfg.es_url} (spool {cfg.spool_dir}, at most {cfg.spool_max_bytes} bytes, {cfg.spool_full} when full)"
    return str(cfg.output_file) if cfg.output == "file" else "stdout"


def open_output(cfg: ShipConfig, verbose: bool = False) -> Output:
    if cfg.output == "stdout":
        return StreamOutput()
    if cfg.output == "elasticsearch":
        return open_elasticsearch(cfg, verbose)
    try:
        return NdjsonFileOutput(cfg.output_file, cfg.rotate_bytes, cfg.rotate_keep)
    except OSError as err:
        raise fail(f"{cfg.output_file}: cannot open for writing: {err.strerror}") from None


def open_elasticsearch(cfg: ShipConfig, verbose: bool = False) -> ElasticsearchOutput:
    settings = es.EsSettings(cfg.es_url, cfg.es_ca_file, cfg.es_api_key_file, cfg.es_user or None, cfg.es_password_file, cfg.es_insecure)
    secrets = es.secret_values(settings)

    def scrub(text: str) -> str:
        return es.redact(text, secrets)

    # The client logs every request at INFO and every failure at WARNING: the output says
    # what matters itself, once and rate-limited.
    if not verbose:
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    if cfg.es_user and cfg.es_password_file is None and not os.environ.get(es.PASSWORD_ENV):
        raise fail(f"es_user {cfg.es_user}: the password comes from es_password_file (--es-password-file) or ${es.PASSWORD_ENV}")
    if cfg.es_insecure and cfg.es_url.startswith("https:"):
        log.warning("es_insecure: the cluster's TLS certificate is not verified; for tests only")
    try:
        client = es.connect(settings)
        spool = Spool(cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_full)
    except (es.EsError, SpoolError) as err:
        raise fail(scrub(str(err))) from None
    except OSError as err:
        raise fail(f"{cfg.spool_dir}: {err.strerror}") from None
    return ElasticsearchOutput(
        spool,
        es.bulk_sender(client, cfg.es_timeout),
        cfg.dead_letter_file,
        url=cfg.es_url,
        flush_timeout=cfg.es_flush_timeout,
        backoff=Backoff(cap=cfg.es_backoff_max),
        bulk_docs=cfg.es_bulk_docs,
        scrub=scrub,
        logger=log,
    )


def run_loop(  # noqa: PLR0913 - every part is injected, so tests drive the loop with fakes
    cfg: ShipConfig,
    shipper: Shipper,
    out: Output,
    poll: Callable[[int], RawPoll],
    clock: Callable[[], float],
    stop: threading.Event,
    once: bool = False,
    names: NamesWatcher | None = None,
    follower: Follower | None = None,
    metrics: MetricsServer | None = None,
    flows: FlowWatch | None = None,
) -> bool:
    """Poll until stopped. Documents are written (and fsynced) before the state is saved:
    a crash in between repeats a poll's documents, with the same event.id, rather than
    losing them. Log lines and conntrack records read since the last poll go first, tied
    to peers with that poll or, failing it, the poll that follows them
    (`Shipper.process_interval`); where they were read up to is saved with the state.
    `metrics`, when served, get the peers and the loop's health after each poll. A
    shipper-health event is written after the first poll and every --health-interval
    seconds after that, between polls if need be (not with `once`). Returns whether the
    last poll succeeded."""
    written = 0
    ok = True
    logs = _LogWatch(follower, boot_time())
    flows = flows if flows is not None else FlowWatch(None)
    health = metrics.health if metrics is not None else Health()
    beat = None if once or cfg.health_interval <= 0 else HealthEvents(health, cfg.health_interval, clock())
    while True:
        started = clock()
        if names is not None:
            _refresh_names(names, shipper)
        items, records = logs.read(started), flows.read(shipper)
        log_docs, outcome = shipper.process_interval(items, poll(int(started)), flows=records)
        del items, records  # documents now: the lines' memory goes back before the next read
        logs.check_suppressed(shipper)
        report(outcome)
        ok = outcome.failure is None
        n = 0
        if ok or log_docs:
            n = out.write_batch(chain(log_docs, outcome.documents if ok else ()))
            logs.saved(shipper)
            flows.saved(shipper)
            save_state(cfg.state_file, shipper.state)
            release_free_memory()
            written += n
            log.debug("poll at %d: %d documents", outcome.time, n)
        _tally(health, shipper, out, ok, started, n)
        if metrics is not None:
            _publish_peers(metrics, shipper, names)
        if beat is not None and beat.is_due(clock()):
            _write_health(beat, shipper, out, clock())
        logs.check_debug(shipper)
        if once or stop.is_set():
            break
        if not _wait(stop, clock, started + cfg.interval, beat, shipper, out):
            break
    counts = shipper.log_counts
    log.info(
        "stopped after %d polls: %d documents written, %d malformed lines skipped%s",
        shipper.polls,
        written,
        shipper.problem_count,
        (f"; {counts['wireguard']} WireGuard log lines ({counts['unrecognized']} unrecognized)" if follower else "")
        + (flows.summary(shipper) if flows.follower is not None else ""),
    )
    return ok


def _wait(
    stop: threading.Event, clock: Callable[[], float], next_poll: float, beat: HealthEvents | None, shipper: Shipper, out: Output
) -> bool:
    """Until the next poll, writing the health events that fall due before it; False when
    stopped. A health event due with a poll waits for that poll, so that it counts it."""
    while True:
        now = clock()
        if now >= next_poll:
            return True
        if beat is not None and beat.is_due(now, next_poll):
            _write_health(beat, shipper, out, now)
            continue
        wake = next_poll if beat is None else min(next_poll, beat.due)
        if stop.wait(wake - now):
            return False


class _LogWatch:
    """The live log side of the loop: read, frame, date; say once what goes wrong."""

    def __init__(self, follower: Follower | None, boot: float | None) -> None:
        self.follower = follower
        self.boot = boot
        self.position: str | None = None
        self.failed = False
        self.warned_debug = False
        self.suppressed = 0

    def read(self, now: float) -> list[tuple[LogRecord, float]]:
        """The lines read since the last call, framed and dated."""
        follower = self.follower
        if follower is None:
            return []
        lines = follower.read()
        if follower.failure is not None and not self.failed:
            log.error("kernel log: %s; wireguard.status events go on without it", follower.failure)
            self.failed = True
        if not lines:
            return []
        year = datetime.fromtimestamp(now, UTC).year
        items = []
        for line, _position in lines:
            record = frame(line, year=year)
            if record is not None and record.time is not None and record.time > now + 86400:
                # A year-less line (syslog "Dec 31 23:59:59") read in the new year.
                record = frame(line, year=year - 1)
            if record is not None:
                items.append((record, line_time(record, self.boot, now)))
        self.position = lines[-1][1]
        return items

    def check_suppressed(self, shipper: Shipper) -> None:
        if shipper.messages.suppressed > self.suppressed:
            log.warning(
                "the kernel suppressed %d log callbacks (net_ratelimit): some WireGuard lines are missing",
                shipper.messages.suppressed - self.suppressed,
            )
            self.suppressed = shipper.messages.suppressed

    def saved(self, shipper: Shipper) -> None:
        if self.follower is not None and self.position is not None:
            shipper.state.log_positions[self.follower.name] = self.position

    def check_debug(self, shipper: Shipper) -> None:
        # Handshakes happened (two, to allow for a line still in flight) but the kernel
        # printed none of its debug lines: dynamic debug is off.
        if self.follower is None or self.warned_debug or self.failed:
            return
        if shipper.handshakes >= 2 and shipper.log_counts["debug"] == 0:
            log.warning(
                "the kernel log shows no WireGuard debug lines although peers handshake: dynamic debug is off,"
                " so handshakes, invalid packets and key events between polls are not seen. Enable it as root with"
                " `echo 'module wireguard +p' > /sys/kernel/debug/dynamic_debug/control` (and wireguard.dyndbg=+p on"
                " the kernel command line to keep it). wireguard-go and boringtun print nothing to the kernel log."
            )
            self.warned_debug = True
