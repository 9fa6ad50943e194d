"""`python -m wgsiem.lab`: the test lab by hand.

  demo [--workdir DIR]        start real wireguard-go tunnels, ship from them with
                              `wgsiem ship` while the story plays, print the events (root)
  record-story OUT_DIR        record the story with `wgsiem record` into a capture (root)
  geoip-world OUT_DIR         build the test GeoIP world's .mmdb files
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import geoworld, story
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wgsiem.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="ship from live wireguard-go tunnels while a story plays (root)")
    d.add_argument("--workdir", type=Path, default=Path("var/demo"))
    r = sub.add_parser("record-story", help="record the story into a capture directory (root)")
    r.add_argument("out", type=Path)
    r.add_argument("--workdir", type=Path, default=Path("var/record-story"))
    g = sub.add_parser("geoip-world", help="build the test GeoIP world")
    g.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.workdir)
    if args.command == "record-story":
        return record_story(args.out, args.workdir)
    return geoworld.main([str(args.out)])


if __name__ == "__main__":
    sys.exit(main())
