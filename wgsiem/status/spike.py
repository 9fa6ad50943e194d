"""transfer-spike: an interval far above anything the peer itself has done.

The method, per peer and per direction (rx = received from the peer, tx = sent to it):

* An interval's rate is its byte delta divided by its length, so a late poll (a restart,
  an interface that could not be read for a while) does not look like a burst.
* The peer's baseline is the highest rate it reached in the history window (default
  14 days), kept as one peak per UTC day, so the history costs at most
  `window_days` numbers per direction, whatever the poll interval.
* An interval is a spike when the peer has been watched for at least `min_history`
  seconds, the interval moved at least `min_bytes`, and its rate is more than `factor`
  times the baseline. A peer with a zero baseline (silent all along) spikes on its first
  interval above `min_bytes`.
* Every interval, spike or not, is then added to the history. A nightly backup therefore
  alerts at most once, the first night it runs (and only if the peer was watched long
  enough by then); from the next night on it is part of what is normal for that peer.
  An exfiltration far above anything the peer did before alerts on its first interval.

Settings (`wgsiem ship` options, or keys of its config file): `--spike-factor` (10),
`--spike-min-bytes` (104857600, 100 MiB), `--spike-min-history` (86400 s),
`--spike-window-days` (14).
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400


@dataclass(frozen=True, slots=True)
class SpikeSettings:
    factor: float = 10.0
    min_bytes: int = 100 * 1024 * 1024
    min_history: int = DAY
    window_days: int = 14


@dataclass(frozen=True, slots=True)
class Spike:
    direction: str  # "rx" or "tx"
    bytes: int
    rate: float  # bytes per second over the interval
    baseline: float  # the peer's highest rate in the window, bytes per second


def baseline(history: list[list[float]], direction: int, day: int, window_days: int) -> float:
    oldest = day - window_days + 1
    peak = 0.0
    for bucket in history:
        if bucket[0] >= oldest and bucket[direction] > peak:
            peak = bucket[direction]
    return peak


def observe(
    history: list[list[float]],
    *,
    end: int,
    seconds: int,
    rx: int,
    tx: int,
    watched_for: int,
    settings: SpikeSettings,
) -> list[Spike]:
    """Judge one interval against the history, then add it to the history (in place)."""
    if seconds <= 0 or (rx == 0 and tx == 0):
        return []
    day = end // DAY
    spikes = []
    rates = (rx / seconds, tx / seconds)
    if watched_for >= settings.min_history:
        for direction, (name, volume) in enumerate((("rx", rx), ("tx", tx)), 1):
            if volume < settings.min_bytes:
                continue
            peak = baseline(history, direction, day, settings.window_days)
            if rates[direction - 1] > settings.factor * peak:
                spikes.append(Spike(name, volume, rates[direction - 1], peak))
    _record(history, day, rates, settings.window_days)
    return spikes


def _record(history: list[list[float]], day: int, rates: tuple[float, float], window_days: int) -> None:
    for bucket in reversed(history):
        if bucket[0] == day:
            bucket[1] = max(bucket[1], rates[0])
            bucket[2] = max(bucket[2], rates[1])
            break
    else:
        history.append([day, rates[0], rates[1]])
        if len(history) > 1 and history[-2][0] > day:  # the wall clock went back a day
            history.sort(key=lambda bucket: bucket[0])
    oldest = history[-1][0] - window_days + 1
    while history[0][0] < oldest:
        history.pop(0)
