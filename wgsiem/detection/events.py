"""The events a replay searches: NDJSON loading, and `EventSet`, the time-sorted store
every rule reads.

Each event is parsed once: its `@timestamp` to epoch milliseconds, its index (the data
stream Elasticsearch would have written it to), and its `event.action` values for the
prefilter index. Rules then work on positions into these parallel lists, so a rule's
query runs once per candidate event and windows are bisects over sorted ints.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..mappings.datastreams import data_stream_index, data_stream_of
from .fields import normalize, raw_values
from .timestamps import TimestampError, parse_ms

# How many problems a report spells out; the rest are only counted.
REPORTED = 10


@dataclass
class LoadedEvents:
    """What `load_events` read: the documents, and the lines that were not documents."""

    events: list[dict[str, Any]]
    bad_lines: int = 0
    errors: list[str] = field(default_factory=list)  # the first REPORTED, "line N: why"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


@contextmanager
def without_gc() -> Iterator[None]:
    """Building a million small dicts trips the cyclic collector over and over, each pass
    walking everything built so far; nothing built here is cyclic, so pause it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_events(source: str | Path | Iterable[str | bytes]) -> LoadedEvents:
    """NDJSON from a path or from lines. Blank lines are skipped; a line that is not a
    JSON object is counted and reported by its line number, never raised."""
    with without_gc():
        if isinstance(source, (str, Path)):
            with open(source, "rb") as handle:
                return _load_lines(handle)
        return _load_lines(source)


def json_objects(lines: Iterable[str | bytes], bad: Callable[[int, str], None]) -> Iterator[dict[str, Any]]:
    """The JSON objects of NDJSON lines, one at a time. Blank lines are skipped; a line that
    is not a JSON object goes to `bad` with its number and what is wrong, never raised."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            bad(number, f"not valid JSON: {err}")
            continue
        if not isinstance(doc, dict):
            bad(number, f"a JSON {type(doc).__name__}, not an object")
            continue
        yield doc


def _load_lines(lines: Iterable[str | bytes]) -> LoadedEvents:
    loaded = LoadedEvents(events=[])
    loaded.events.extend(json_objects(lines, lambda number, problem: _bad(loaded, f"line {number}: {problem}")))
    return loaded


def _bad(loaded: LoadedEvents, message: str) -> None:
    loaded.bad_lines += 1
    if len(loaded.errors) < REPORTED:
        loaded.errors.append(message)


class EventSet:
    """Events sorted by time with what rules need. Equal times are in Elasticsearch's order
    behind Kibana's `@timestamp` sort: by index name (a search's shards come in that order,
    data streams having one shard each), then input order (a shard keeps indexing order).

    A document is either an event `_source` or a search hit (`_source` plus `_index`,
    `_id`). `_index` and `_id` are metadata and never part of the source a rule or an
    alert sees.
    """

    def __init__(self, docs: Iterable[Mapping[str, Any]]) -> None:
        with without_gc():
            self._build(docs)

    def _build(self, docs: Iterable[Mapping[str, Any]]) -> None:
        rows: list[tuple[int, int, dict[str, Any], str, str | None]] = []
        self.skipped = 0
        self.skip_reasons: list[str] = []
        for number, doc in enumerate(docs, start=1):
            source, index, doc_id = _split_hit(doc)
            if "@timestamp" not in source:
                self._skip(f"event {number}: no @timestamp")
                continue
            try:
                ts = parse_ms(source["@timestamp"])
            except TimestampError as err:
                self._skip(f"event {number}: @timestamp {err}")
                continue
            # A backing index stands for its data stream, as the cluster engine names hits.
            rows.append((ts, number, source, data_stream_of(index) if index else data_stream_index(source), doc_id))
        # One int per row, time then index rank (no tuple per row: a million of them cost a
        # second); the sort is stable and rows are in input order already.
        rank = {name: i for i, name in enumerate(sorted({row[3] for row in rows}))}
        width = len(rank)
        rows.sort(key=lambda row: row[0] * width + rank[row[3]])
        self.ts: list[int] = [row[0] for row in rows]
        self.docs: list[dict[str, Any]] = [row[2] for row in rows]
        # Index names repeat (a handful of data streams): keep one string per name.
        names: dict[str, int] = {}
        self.index_names: list[str] = []
        self.index_ids: list[int] = []
        for row in rows:
            ident = names.get(row[3])
            if ident is None:
                ident = names[row[3]] = len(self.index_names)
                self.index_names.append(row[3])
            self.index_ids.append(ident)
        self._ids = [row[4] for row in rows]
        self._by_action: dict[Any, list[int]] | None = None

    def _skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.skip_reasons) < REPORTED:
            self.skip_reasons.append(reason)

    def __len__(self) -> int:
        return len(self.ts)

    def index(self, pos: int) -> str:
        return self.index_names[self.index_ids[pos]]

    def doc_id(self, pos: int) -> str:
        """The Elasticsearch `_id`: the hit's, else `event.id` (deploy/filebeat.yml writes
        it as the `_id`), else a hash of the source standing in for an auto-generated id."""
        known = self._ids[pos]
        if known is None:
            event_id = raw_values(self.docs[pos], "event.id")
            if event_id:
                known = str(event_id[0])
            else:
                known = hashlib.sha256(orjson.dumps(self.docs[pos], option=orjson.OPT_SORT_KEYS)).hexdigest()[:20]
            self._ids[pos] = known
        return known

    def by_action(self) -> dict[Any, list[int]]:
        """event.action value → positions having it (ascending), built on first use."""
        if self._by_action is None:
            index: dict[Any, list[int]] = {}
            for pos, doc in enumerate(self.docs):
                event = doc.get("event")
                action = event.get("action") if isinstance(event, dict) else None
                if action is None or isinstance(action, (list, dict)) or "event.action" in doc:
                    values = set(_hashable(raw_values(doc, "event.action")))
                else:
                    values = (action,)
                for value in values:
                    # constant_terms speaks keyword: 5 and True are indexed as "5", "true".
                    if type(value) is not str:
                        value = normalize("keyword", value)
                    index.setdefault(value, []).append(pos)
            self._by_action = index
        return self._by_action


def _hashable(values: list[Any]) -> Iterator[Any]:
    for value in values:
        try:
            hash(value)
        except TypeError:
            continue
        yield value


def _split_hit(doc: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    source = doc.get("_source")
    if isinstance(source, dict):
        return source, _text(doc.get("_index")), _text(doc.get("_id"))
    if "_index" in doc or "_id" in doc:
        plain = {k: v for k, v in doc.items() if k not in ("_index", "_id")}
        return plain, _text(doc.get("_index")), _text(doc.get("_id"))
    return doc if isinstance(doc, dict) else dict(doc), None, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
