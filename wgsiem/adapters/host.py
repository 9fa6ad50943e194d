"""Facts about the machine the shipper runs on."""

from __future__ import annotations

from pathlib import Path


def boot_time(stat: Path = Path("/proc/stat")) -> float | None:
    """When the machine booted (unix seconds): dates dmesg-framed lines (seconds since boot)."""
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
