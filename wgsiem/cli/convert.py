"""`wgsiem convert CAPTURE_DIR`: the shipper's code path on a recorded capture."""

from __future__ import annotations

import secrets
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.capture import CONNTRACK_LOG, capture_files, read_capture
from ..adapters.output import StreamOutput
from ..config import ShipConfig
from ..replay.capture import capture_documents, flow_summary, read_flows, read_logs
from ..status.state import State
from . import options as o
from .groups import ShipOptions, with_groups
from .setup import fail, log, make_names, make_shipper, report, setup_logging

# The shipper's settings that shape a capture's events. A capture comes from another host,
# so this host's wg-quick configs (and a config file's wg_config_dirs) say nothing about it.
CAPTURE_SETTINGS = ShipOptions(
    keys=("host_name", "namespace", "interfaces", "peers", "wg_config_dirs", "geoip_city", "geoip_asn",
          "session_timeout", "spike_factor", "spike_min_bytes", "spike_min_history", "spike_window_days",
          "wg_config_drift_after", "flow_events"),
    fixed=(("wg_config_dirs", (), "none: a capture comes from another host"),),
)  # fmt: skip


@with_groups
def convert(
    capture_dir: Annotated[Path, typer.Argument(help="Directory of <unix-seconds>.dump files (wgsiem record, or wg show all dump > $(date +%s).dump).")],
    cfg: Annotated[ShipConfig, CAPTURE_SETTINGS],
    kernel_log: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--kernel-log",
            help="Kernel / wg-quick log of the same host and time (dmesg, journalctl short/short-iso/json, kern.log, bare lines); repeatable.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    conntrack_log: Annotated[
        Optional[Path],
        typer.Option(
            "--conntrack-log",
            help="Inner flows: what `conntrack -E -o timestamp,extended,id` printed on the same host and time"
            " (default: the capture's own conntrack.log, if it has one).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    boot_time: Annotated[
        Optional[float],
        typer.Option("--boot-time", help="Unix time the host booted, to date dmesg lines printed without -T (seconds since boot)."),
    ] = None,
    verbose: o.Verbose = False,
) -> None:
    """Print the ECS events of a capture as NDJSON on stdout, in time order.

    The first poll is the baseline of a new install, exactly as `wgsiem ship` would have
    seen it; problems go to stderr with file, line and field, and the run goes on.
    Kernel and wg-quick lines (--kernel-log) interleave with the polls in time, and are
    tied to peers using the poll state of their time. A capture's wg-config/ snapshots
    (`wgsiem record`) give the wg-quick files' events and drift, as `ship` gives them.
    Conntrack events (--conntrack-log, or the capture's conntrack.log) become wireguard.flow
    events, attributed with the allowed-ips of the poll before them or, failing it, after.
    """
    setup_logging(verbose)
    # Preshared-key hashes only need to be comparable within this run.
    names = make_names(cfg)
    shipper = make_shipper(cfg, secrets.token_bytes(32), names.names, State(), registry=names)
    out = StreamOutput(sys.stdout)
    documents = 0
    # The capture is read one file at a time as the polls are processed: a month of polls
    # converts in the memory of one.
    first = capture_files(capture_dir)[0][0]
    try:
        lines = read_logs(kernel_log or (), boot_time, first, first)
    except OSError as err:
        raise fail(f"{err.filename}: cannot read: {err.strerror}") from None
    if conntrack_log is None and (capture_dir / CONNTRACK_LOG).is_file():
        conntrack_log = capture_dir / CONNTRACK_LOG
    flow_counts: Counter[str] = Counter()
    flows = read_flows(conntrack_log, flow_counts, lambda p: log.warning("malformed conntrack line skipped: %s", p)) if conntrack_log else ()
    for batch in capture_documents(shipper, read_capture(capture_dir), lines, on_poll=report, flows=flows):
        documents += out.write_batch(batch)
    counts = shipper.log_counts
    log.info(
        "%d polls, %d events, %d malformed lines skipped%s",
        shipper.polls,
        documents,
        shipper.problem_count,
        f"; {counts['lines']} log lines, {counts['wireguard']} WireGuard's, {counts['unrecognized']} unrecognized"
        if kernel_log
        else "",
    )
    if conntrack_log is not None:
        log.info("%s: %s", conntrack_log, flow_summary(flow_counts, shipper.flows.counts))
    if shipper.messages.suppressed:
        log.warning("the kernel suppressed %d log callbacks (net_ratelimit): some lines are missing", shipper.messages.suppressed)
