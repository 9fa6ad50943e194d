"""Data stream names: the data stream a document lands in, and the data stream behind a
backing index. The shipper's Elasticsearch output, the detection engine (offline and on a
cluster) and the replay all name indices this one way, so their alert ids agree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .fields import leaves

# A data stream's backing index: .ds-<data stream>-<yyyy.mm.dd>-<generation>.
_BACKING_INDEX = re.compile(r"\.ds-(.+)-\d{4}\.\d{2}\.\d{2}-\d{6}")
_NAMING_FIELDS = ("data_stream.type", "data_stream.dataset", "data_stream.namespace", "event.dataset")


def data_stream_index(source: Mapping[str, Any]) -> str:
    """`<type>-<dataset>-<namespace>`, from data_stream.* with event.dataset, `logs` and
    `default` standing in (Fleet's rule)."""
    stream = source.get("data_stream")
    if type(stream) is dict and "data_stream.type" not in source:  # the common, nested shape
        kind, dataset, namespace = stream.get("type"), stream.get("dataset"), stream.get("namespace")
        if type(kind) is str and type(dataset) is str and type(namespace) is str and kind and dataset and namespace:
            return f"{kind}-{dataset}-{namespace}"
    found: dict[str, str] = {}
    for name, value in leaves(source, {}):
        if name in _NAMING_FIELDS and name not in found:
            text = next((v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v), None)
            if text is not None:
                found[name] = text
    kind = found.get("data_stream.type") or "logs"
    dataset = found.get("data_stream.dataset") or found.get("event.dataset") or "generic"
    namespace = found.get("data_stream.namespace") or "default"
    return f"{kind}-{dataset}-{namespace}"


def data_stream_of(index: str) -> str:
    """The data stream a backing index belongs to; any other index name as it is."""
    backing = _BACKING_INDEX.fullmatch(index)
    return backing[1] if backing else index
