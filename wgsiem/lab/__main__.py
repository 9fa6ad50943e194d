"""`python -m wgsiem.lab`: the test lab by hand.

  demo [--workdir DIR]        start real wireguard-go tunnels, ship from them with
                              `wgsiem ship` while the story plays, print the events (root)
  record-story OUT_DIR        record the story with `wgsiem record` into a capture (root)
  record-scenario NAME DIR    record a story of wgsiem/lab/stories.py into a scenario
                              folder: captures/ and scenario.yaml; a story on the LAN
                              behind the hub also captures/conntrack.log (root)
  geoip-world OUT_DIR         build the test GeoIP world's .mmdb files
  conntrack-sample OUT_DIR    record real `conntrack -E` text from network namespaces into
                              OUT_DIR (fixtures/conntrack/, its README.md says how) (root)
  es-install                  download and unpack the test Elasticsearch (Maven Central)
  es-node [--port N]          run a test Elasticsearch node until Ctrl-C (docs/elasticsearch.md)
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import yaml

from .. import geoworld
from ..adapters.capture import CONNTRACK_LOG
from . import conntrack, esnode, stories, story
from .lan import Lan
from .runner import LiveRecorder, LiveShipper, write_names
from .tunnels import Lab, free_prefix, lab_available

# Thresholds small enough for a story of a few seconds (defaults: a day of history, 100 MiB).
# wireguard-go prints nothing to the kernel log, so the demo ships with --kernel-log off.
LAB_SHIP_ARGS = ["--spike-min-history", "3", "--spike-min-bytes", "5000000"]


def demo(workdir: Path) -> int:
    reason = lab_available()
    if reason:
        print(f"wgsiem lab: cannot start the tunnel lab: {reason}", file=sys.stderr)
        return 2
    city, asn = geoworld.build_world(geoworld.DEFAULT_SOURCE, workdir / "geoip")
    names = workdir / "peers.yaml"
    with Lab(workdir / "lab", prefix=free_prefix("wgdemo", 0)) as lab:
        shipper = LiveShipper(
            workdir / "ship",
            ["--interface", lab.hub_interface, "--peers", str(names), "--host-name", "lab-hub",
             "--geoip-city", str(city), "--geoip-asn", str(asn), "--wg-config-dir", str(workdir / "no-configs"),
             "--kernel-log", "off", *LAB_SHIP_ARGS],
        )  # fmt: skip
        names.write_text("{}\n")
        shipper.start()
        print(f"wgsiem lab: wireguard-go hub {lab.hub_interface} in namespace {lab.hub_namespace}; "
              f"`wgsiem ship` polls it every second into {shipper.output}")  # fmt: skip

        def tick(label: str) -> None:
            shipper.wait_for_poll(time.time())
            print(f"  - {label}")

        try:
            story.play(lab, tick, lambda client: write_names(names, lab.clients))
        finally:
            status = shipper.stop()
    print(f"wgsiem lab: the shipper stopped (exit {status}); the events it shipped:")
    for doc in shipper.documents():
        print(f"  {doc['@timestamp']}  {doc['event']['action']:<20} {doc['message']}")
    print(f"wgsiem lab: NDJSON for Filebeat: {shipper.output}; lab torn down.")
    return status


def record_story(out: Path, workdir: Path) -> int:
    reason = lab_available()
    if reason:
        print(f"wgsiem lab: cannot start the tunnel lab: {reason}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    with Lab(workdir / "lab", prefix=free_prefix("wgrec", 0)) as lab:
        recorder = LiveRecorder(out, workdir, ["--interface", lab.hub_interface])
        recorder.start()
        try:
            story.play(lab, lambda label: recorder.wait_for_poll(time.time()), lambda c: write_names(out / "peers.yaml", lab.clients))
        finally:
            status = recorder.stop()
    print(f"wgsiem lab: recorded {len(list(out.glob('*.dump')))} polls into {out}")
    return status


class _ScenarioRecorder:
    """`wgsiem record` while a story of stories.py plays: one poll a second for the
    scripted steps, polls at the production interval while the story idles. Recording
    starts at the story's first tick, so the first poll is the baseline with its peers."""

    def __init__(self, capture: Path, workdir: Path, hub_interface: str, idle_interval: float, config_dir: Path) -> None:
        self.capture, self.workdir = capture, workdir
        self.args = ["--interface", hub_interface, "--wg-config-dir", str(config_dir)]
        self.idle_interval = idle_interval
        self.recorder: LiveRecorder | None = None
        self.fast = False
        self.steps: list[tuple[int, str]] = []  # (the poll that saw the step, its label)
        self.idle_end: int | None = None  # the first poll after the idle time

    def _switch(self, fast: bool) -> LiveRecorder:
        self.stop()
        interval = 1.0 if fast else self.idle_interval
        self.recorder = LiveRecorder(self.capture, self.workdir, self.args, interval=interval)
        self.recorder.start()
        self.fast = fast
        return self.recorder

    def tick(self, label: str) -> None:
        now = time.time()
        recorder = self.recorder if self.recorder is not None and self.fast else self._switch(True)
        recorder.wait_for_poll(now)
        self.steps.append((recorder.last_poll(), label))
        print(f"  {self.steps[-1][0]}  {label}", flush=True)

    def idle(self, seconds: float, label: str) -> None:
        recorder = self._switch(False)
        print(f"  ...         idling {seconds:.0f} s, one poll every {self.idle_interval:g} s", flush=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not recorder.running():
                raise RuntimeError(f"wgsiem record exited: {recorder.log.read_text()[-2000:]}")
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        self.tick(label)
        self.idle_end = self.steps[-1][0]

    def stop(self) -> int:
        status = self.recorder.stop() if self.recorder is not None else 0
        self.recorder = None
        return status


def record_scenario(name: str, out: Path, workdir: Path, history: float, idle_interval: float) -> int:
    reason = lab_available()
    if reason:
        print(f"wgsiem lab: cannot start the tunnel lab: {reason}", file=sys.stderr)
        return 2
    chosen = stories.STORIES[name]
    capture = out / "captures"
    if capture.exists() and any(capture.iterdir()):
        print(f"wgsiem lab: {capture} is not empty; remove it to record again", file=sys.stderr)
        return 2
    capture.mkdir(parents=True, exist_ok=True)
    print(f"wgsiem lab: recording the {name} story into {capture}")
    with Lab(workdir / "lab", prefix=free_prefix("wgrec", 0)) as lab, ExitStack() as on_lan:
        # The LAN's conntrack events go beside the polls, from before the first of them.
        lan = {"lan": on_lan.enter_context(Lan(lab, capture / CONNTRACK_LOG))} if chosen.lan else {}
        rec = _ScenarioRecorder(capture, workdir, lab.hub_interface, idle_interval, stories.wg_config_dir(lab))
        try:
            clients = chosen.play(lab, rec.tick, idle=rec.idle, history_seconds=history, **lan)
        finally:
            status = rec.stop()
    if status != 0:
        return status
    if chosen.lan:
        print(f"wgsiem lab: {len((capture / CONNTRACK_LOG).read_text().splitlines())} conntrack events in {capture / CONNTRACK_LOG}")
    baseline, idled = min(int(p.stem) for p in capture.glob("*.dump")), rec.idle_end
    assert idled is not None, "the story never idled"
    if idled - baseline <= 360:
        print(f"wgsiem lab: warning: only {idled - baseline} s of history before rules_start; the new-terms "
              "rules look back 6 minutes, so the baseline's terms will count as new", file=sys.stderr)
    write_scenario_yaml(out, name, {c.public_key: c.name for c in clients.values()}, baseline, idled)
    print(f"wgsiem lab: recorded {len(list(capture.glob('*.dump')))} polls into {capture}; "
          f"wrote {out / 'scenario.yaml'} (rules_start {idled - baseline} s after the baseline)")  # fmt: skip
    return 0


def write_scenario_yaml(out: Path, name: str, peers: dict[str, str], baseline: int, rules_start: int) -> None:
    """scenario.yaml of a story: no alert expected from `rules_start` on, which a normal-life
    story must keep and an attack's recorder replaces with the alerts it should raise."""
    when = datetime.fromtimestamp(rules_start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (out / "scenario.yaml").write_text(
        f"name: lab-{name}\n"
        "description: >-\n" + textwrap.indent(textwrap.fill(stories.STORIES[name].description, 88, break_on_hyphens=False), "  ") + "\n"
        f"kind: {stories.STORIES[name].kind}\n"
        "host_name: vpn1\n"
        "peers:\n" + textwrap.indent(yaml.safe_dump(peers, sort_keys=True), "  ") +
        f"# The first rule execution is the first poll after the story's idle time, {rules_start - baseline} s\n"
        "# after the baseline poll: the baseline is history (the new-terms rules look back 6 minutes).\n"
        f"rules_start: {when}\n"
        "expect:\n"
        "  alerts: []\n"
    )  # fmt: skip


def es_install() -> int:
    try:
        home = esnode.install()
        java = esnode.find_java()
    except (esnode.EsNodeError, OSError, subprocess.CalledProcessError) as err:
        print(f"wgsiem lab: {err}", file=sys.stderr)
        return 1
    print(f"wgsiem lab: Elasticsearch {esnode.VERSION} in {home}, Java {java}")
    return 0


def es_node(port: int) -> int:
    # SIGTERM as well as Ctrl-C: the node runs in a session of its own and would outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    node = None
    try:
        node = esnode.EsNode(port=port)
        node.start()
        print(f"wgsiem lab: Elasticsearch {esnode.VERSION} at {node.url} (data in {node.workdir}); Ctrl-C stops it", flush=True)
        while node.process is not None and node.process.poll() is None:
            time.sleep(1)
    except esnode.EsNodeError as err:
        print(f"wgsiem lab: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if node is not None:
            node.remove()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wgsiem.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="ship from live wireguard-go tunnels while a story plays (root)")
    d.add_argument("--workdir", type=Path, default=Path("var/demo"))
    r = sub.add_parser("record-story", help="record the story into a capture directory (root)")
    r.add_argument("out", type=Path)
    r.add_argument("--workdir", type=Path, default=Path("var/record-story"))
    s = sub.add_parser("record-scenario", help="record a story of stories.py into a scenario folder (root)")
    s.add_argument("name", choices=sorted(stories.STORIES))
    s.add_argument("out", type=Path, help="the scenario folder, e.g. fixtures/scenarios/lab-phone-roaming")
    s.add_argument("--workdir", type=Path, default=Path("var/record-scenario"))
    s.add_argument("--history", type=float, default=stories.HISTORY_SECONDS,
                   help="seconds between the baseline and the scripted part (default %(default)s)")
    s.add_argument("--idle-interval", type=float, default=30.0,
                   help="seconds between polls while the story idles (default: the shipper's 30)")
    c = sub.add_parser("conntrack-sample", help="record real conntrack -E text into fixtures (root)")
    c.add_argument("out", type=Path, help="e.g. fixtures/conntrack")
    g = sub.add_parser("geoip-world", help="build the test GeoIP world")
    g.add_argument("out", type=Path)
    sub.add_parser("es-install", help=f"download and unpack Elasticsearch {esnode.VERSION} (integ-test-zip) with Maven")
    e = sub.add_parser("es-node", help="run a test Elasticsearch node until interrupted")
    e.add_argument("--port", type=int, default=9200)
    args = parser.parse_args(argv)
    if args.command == "es-install":
        return es_install()
    if args.command == "es-node":
        return es_node(args.port)
    if args.command == "demo":
        return demo(args.workdir)
    if args.command == "record-story":
        return record_story(args.out, args.workdir)
    if args.command == "conntrack-sample":
        return conntrack.sample(args.out)
    if args.command == "record-scenario":
        return record_scenario(args.name, args.out, args.workdir, args.history, args.idle_interval)
    return geoworld.main([str(args.out)])


if __name__ == "__main__":
    sys.exit(main())
