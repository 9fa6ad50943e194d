"""Data stream names: the data stream a document lands in, and the data stream behind a
backing index. The shipper's Elasticsearch output, the detection engine (offline and on a
cluster) and the replay all name indices this one way, so their alert ids agree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .fields import raw_values

# Every wireguard.* data stream of every namespace: what the dashboards' data view, the
# report and `wgsiem query` read.
WIREGUARD_INDICES = "logs-wireguard.*"
# A data stream's backing index: .ds-<data stream>-<yyyy.mm.dd>-<generation>.
_BACKING_INDEX = re.compile(r"\.ds-(.+)-\d{4}\.\d{2}\.\d{2}-\d{6}")


def data_stream_index(source: Mapping[str, Any]) -> str:
    """`<type>-<dataset>-<namespace>`, from data_stream.* with event.dataset, `logs` and
    `default` standing in (Fleet's rule)."""
    stream = source.get("data_stream")
    if type(stream) is dict and "data_stream.type" not in source:  # the common, nested shape
        kind, dataset, namespace = stream.get("type"), stream.get("dataset"), stream.get("namespace")
        if type(kind) is str and type(dataset) is str and type(namespace) is str and kind and dataset and namespace:
            return f"{kind}-{dataset}-{namespace}"
    kind = _first_text(source, "data_stream.type") or "logs"
    dataset = _first_text(source, "data_stream.dataset") or _first_text(source, "event.dataset") or "generic"
    namespace = _first_text(source, "data_stream.namespace") or "default"
    return f"{kind}-{dataset}-{namespace}"


def _first_text(source: Mapping[str, Any], name: str) -> str | None:
    for value in raw_values(source, name):
        if isinstance(value, str) and value:
            return value
    return None


def data_stream_of(index: str) -> str:
    """The data stream a backing index belongs to; any other index name as it is."""
    backing = _BACKING_INDEX.fullmatch(index)
    return backing[1] if backing else index
