"""A fake `journalctl`: a script that follows a JSON-lines file of records the test
appends to, with journalctl's argument handling, cursors and failures."""

from __future__ import annotations

import json
import stat
import sys
import time
from pathlib import Path

from wgsiem.adapters.follow import DEFAULT_MATCHES, JournalFollower

FAKE = r'''#!{python}
import json, os, re, sys, time

RECORDS = {records!r}
EXPECTED_MATCHES = {matches!r}

def fail(message, status=1):
    sys.stderr.write(message + "\n")
    sys.exit(status)

args = sys.argv[1:]
if args == ["--version"]:
    print("systemd 252 (252.39-1~deb12u2)")
    sys.exit(0)
with open(RECORDS + ".argv", "a") as log:
    log.write(json.dumps(args) + "\n")
opts = [a for a in args if a.startswith("-")]
matches = [a for a in args if not a.startswith("-")]
known = {{"--follow", "--output=json", "--no-pager", "--quiet", "--lines=0",
         "--no-tail", "--merge", "--boot=all"}}
for opt in opts:
    if opt not in known and not opt.startswith(("--after-cursor=", "--output-fields=")):
        fail(f"journalctl: unrecognized option '{{opt}}'")
for needed in ("--follow", "--output=json", "--no-pager", "--quiet"):
    if needed not in opts:
        fail(f"fake journalctl: {{needed}} missing")
after = [o.split("=", 1)[1] for o in opts if o.startswith("--after-cursor=")]
if after:
    for needed in ("--no-tail", "--merge", "--boot=all"):
        if needed not in opts:
            fail(f"fake journalctl: {{needed}} missing with --after-cursor")
elif "--lines=0" not in opts:
    fail("fake journalctl: neither --after-cursor nor --lines=0")
if matches != EXPECTED_MATCHES:
    fail(f"fake journalctl: matches {{matches}}, expected {{EXPECTED_MATCHES}}", 2)

# "+" ORs groups; within a group, the same field ORs and different fields AND.
groups, group = [], {{}}
for m in matches:
    if m == "+":
        if not group:
            fail('"+" can only be used between terms')
        groups.append(group)
        group = {{}}
    else:
        field, _, value = m.partition("=")
        group.setdefault(field, []).append(value)
if not group and groups:
    fail('"+" can only be used between terms')
if group:
    groups.append(group)

def wanted(record):
    return not groups or any(
        all(record.get(field) in values for field, values in g.items()) for g in groups
    )

def journal():
    with open(RECORDS) as f:
        return [json.loads(line) for line in f.read().splitlines(keepends=True) if line.endswith("\n")]

if after:
    found = re.fullmatch(r"c([0-9]+)", after[0])
    if not found:
        fail("Failed to seek to cursor: Invalid argument")
    shown = int(found.group(1))
else:
    shown = len(journal())
open(RECORDS + ".ready", "w").close()
while True:
    if os.path.exists(RECORDS + ".die"):
        sys.stdout.write('{{"__CURSOR":"half a li')
        sys.stdout.flush()
        fail(open(RECORDS + ".die").read().strip(), 3)
    records = journal()
    for number, record in enumerate(records[shown:], start=shown + 1):
        if wanted(record):
            print(json.dumps({{"__CURSOR": f"c{{number}}", **record}}), flush=True)
    shown = len(records)
    time.sleep(0.05)
'''


class FakeJournal:
    def __init__(self, tmp_path: Path, matches=DEFAULT_MATCHES) -> None:
        self.records = tmp_path / "journal.jsonl"
        self.records.write_text("")
        self.journalctl = tmp_path / "journalctl"
        self.journalctl.write_text(
            FAKE.format(python=sys.executable, records=str(self.records), matches=list(matches))
        )
        self.journalctl.chmod(self.journalctl.stat().st_mode | stat.S_IXUSR)
        self.ready = Path(f"{self.records}.ready")

    def log(self, *messages: str, identifier: str = "wg-quick", kernel: bool = False) -> None:
        with open(self.records, "a") as f:
            for message in messages:
                record = {"MESSAGE": message, "_TRANSPORT": "kernel"} if kernel else {
                    "MESSAGE": message, "_TRANSPORT": "stdout", "SYSLOG_IDENTIFIER": identifier}
                f.write(json.dumps(record) + "\n")

    def follower(self, position: str | None = None) -> JournalFollower:
        self.ready.unlink(missing_ok=True)
        f = JournalFollower(str(self.journalctl))
        f.start(position)
        deadline = time.monotonic() + 3
        while not self.ready.exists() and f.failure is None and time.monotonic() < deadline:
            f.read()  # picks up an early exit
            time.sleep(0.01)
        return f

    def argv(self) -> list[list[str]]:
        return [json.loads(line) for line in Path(f"{self.records}.argv").read_text().splitlines()]
