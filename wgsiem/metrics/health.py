"""The shipper's own health as Prometheus metrics (`wgsiem_*`), so a broken monitor is seen.

The poll loop updates one `Health` (ecs/health.py) after each poll; a scrape reads it.
Each field is one int or float assigned whole, so a scrape sees each value as of some poll.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# The tally is the health event's too (ecs/health.py), so it is kept where both can read it.
from ..ecs.health import Health as Health


class HealthCollector(Collector):
    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        h = self.health
        yield CounterMetricFamily("wgsiem_polls", "Polls of wg show all dump done", value=h.polls)
        yield CounterMetricFamily("wgsiem_poll_failures", "Polls where wg could not be run or read nothing", value=h.poll_failures)
        yield CounterMetricFamily("wgsiem_wg_errors", "Polls where wg printed an error or exited non-zero", value=h.wg_errors)
        yield CounterMetricFamily("wgsiem_malformed_lines", "Lines of wg's output skipped as malformed", value=h.malformed_lines)
        yield CounterMetricFamily("wgsiem_documents_written", "ECS documents handed to the output", value=h.documents_written)
        yield CounterMetricFamily("wgsiem_log_lines", "Kernel and wg-quick lines about WireGuard read", value=h.log_lines)
        yield GaugeMetricFamily(
            "wgsiem_last_successful_poll_timestamp_seconds", "UNIX time of the last poll that read wg (0: none yet)", value=h.last_success
        )
        yield GaugeMetricFamily("wgsiem_spool_documents", "Documents in the spool waiting for Elasticsearch", value=h.spooled_documents)
        yield GaugeMetricFamily("wgsiem_spool_bytes", "Bytes in the spool waiting for Elasticsearch", value=h.spooled_bytes)
        yield CounterMetricFamily("wgsiem_dropped_documents", "Documents dropped because the spool was full", value=h.dropped_documents)
