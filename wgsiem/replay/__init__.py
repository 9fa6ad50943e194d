"""Scenario replay: a recorded WireGuard history through the shipper's code path, the
ingest pipeline and the detection rules, checked against the alerts it must give.

- `capture.py`: captures (+ kernel logs) → documents, the loop `wgsiem convert` runs;
- `scenario.py`: a scenario folder (scenario.yaml) and its checks;
- `expect.py`: which alerts the expectations cover, and what is missing or left over;
- `run.py`: one scenario end to end, and its report.

See docs/scenarios.md.
"""
