"""Run `wg show all dump`: the only place the shipper touches WireGuard."""

from __future__ import annotations

import subprocess

from ..wgdump.raw import RawPoll, exit_failure


def run_wg(time: int, wg: str = "wg", timeout: float = 30.0) -> RawPoll:
    argv = [wg, "show", "all", "dump"]
    try:
        # An interface name is bytes to the kernel; one that is not UTF-8 must cost its own
        # line (the parser refuses it), not the poll.
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
    except FileNotFoundError:
        return RawPoll(time, "", failure=f"{wg!r} not found: install wireguard-tools or pass --wg PATH")
    except PermissionError:
        return RawPoll(time, "", failure=f"{wg!r} is not executable by this user")
    except subprocess.TimeoutExpired:
        return RawPoll(time, "", failure=f"'{' '.join(argv)}' did not answer within {timeout:.0f} s")
    failure = exit_failure(" ".join(argv), proc.returncode, proc.stdout, proc.stderr)
    return RawPoll(time, proc.stdout, proc.stderr, failure=failure, exit_status=proc.returncode)
