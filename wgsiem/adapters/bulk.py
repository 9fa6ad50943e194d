"""Bulk delivery to Elasticsearch: the request body, and what each item's answer means.

No I/O here: `attempt(send, items)` builds one `_bulk` request, hands it to `send` (which
posts it, see elasticsearch.bulk_sender) and sorts the documents by the answer:

| answer | outcome |
|---|---|
| 200, 201 | delivered |
| 409 (the `_id` is there) | delivered before: a retry or a re-send after a crash |
| 429, 5xx, 401, 403, 408 | retried: the cluster is busy, failing, or refuses the credentials or writes (disk full) until fixed; the documents are fine |
| any other 4xx (400 mapping error, ...) | rejected: sending it again cannot help, it goes to the dead letter file |

The request as a whole: unreachable, or any status but 400 and 413, is a retry of every
item; 400 or 413 (the body itself is refused, too large or malformed) is split in halves
until the document at fault is alone and rejected.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..mappings.datastreams import data_stream_index
from .elasticsearch import EsUnavailableError

DELIVERED = "delivered"
CONFLICT = "conflict"
RETRY = "retry"
REJECTED = "rejected"

_RETRY_STATUSES = frozenset({401, 403, 408, 429})
_SPLIT_STATUSES = frozenset({400, 413})


class Damaged(ValueError):  # noqa: N818 - a line the spool cannot use, handled where it is read
    """A spooled line that is not a JSON document (the disk or an editor damaged it)."""


@dataclass(frozen=True, slots=True)
class Item:
    line: bytes  # the document as it was spooled
    index: str  # its data stream
    id: str | None  # event.id; None sends it without an _id (then a re-send would double it)


def item(line: bytes) -> Item:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise Damaged(f"not JSON: {error}") from None
    if not isinstance(doc, dict):
        raise Damaged("not a JSON object")
    event = doc.get("event")
    event_id = event.get("id") if isinstance(event, dict) else None
    return Item(line, data_stream_index(doc), event_id if isinstance(event_id, str) and event_id else None)


def action(it: Item) -> bytes:
    meta: dict[str, str] = {"_index": it.index}
    if it.id is not None:
        meta["_id"] = it.id
    # create, not index: a document sent twice is a 409, never a second copy or an overwrite.
    return orjson.dumps({"create": meta})


def bulk_body(items: Iterable[Item]) -> bytes:
    parts: list[bytes] = []
    for it in items:
        parts.append(action(it))
        parts.append(it.line)
    parts.append(b"")
    return b"\n".join(parts)


def chunks(items: Sequence[Item], max_docs: int, max_bytes: int) -> Iterator[list[Item]]:
    """Consecutive runs of at most max_docs items and about max_bytes of body (a single
    larger document is a chunk of its own)."""
    chunk: list[Item] = []
    size = 0
    for it in items:
        cost = len(it.line) + len(it.index) + 80
        if chunk and (len(chunk) >= max_docs or size + cost > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(it)
        size += cost
    if chunk:
        yield chunk


def outcome_of(status: int) -> str:
    if 200 <= status < 300:
        return DELIVERED
    if status == 409:
        return CONFLICT
    if status >= 500 or status in _RETRY_STATUSES:
        return RETRY
    return REJECTED


def describe(error: Any) -> str:  # noqa: ANN401 - whatever the item's "error" holds
    """`type: reason (caused by: reason)` of a bulk item's error."""
    if not isinstance(error, dict):
        return str(error) if error else "no reason given"
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}".rstrip(": ")
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        text += f" (caused by: {cause['reason']})"
    return text[:500]


@dataclass(frozen=True, slots=True)
class ItemResult:
    outcome: str
    status: int
    reason: str | None = None


def item_results(response: Any, count: int) -> list[ItemResult]:  # noqa: ANN401 - a decoded JSON body
    """One result per document sent, in order. A response that does not account for
    every document is not trusted: ValueError, and the caller retries them all."""
    items = response.get("items") if isinstance(response, dict) else None
    if not isinstance(items, list) or len(items) != count:
        got = len(items) if isinstance(items, list) else "no"
        raise ValueError(f"the bulk response has {got} items for {count} documents")
    results = []
    for entry in items:
        op = next(iter(entry.values()), None) if isinstance(entry, dict) and len(entry) == 1 else None
        status = op.get("status") if isinstance(op, dict) else None
        if not isinstance(status, int):
            raise ValueError(f"a bulk response item without a status: {str(entry)[:200]}")
        outcome = outcome_of(status)
        results.append(ItemResult(outcome, status, None if outcome in (DELIVERED, CONFLICT) else describe(op.get("error"))))
    return results


@dataclass(slots=True)
class Attempt:
    """What one bulk request did with its documents."""

    delivered: int = 0
    conflicts: int = 0
    retry: list[Item] = field(default_factory=list)
    rejected: list[tuple[Item, int, str]] = field(default_factory=list)  # item, status, reason
    split: bool = False  # the body was refused as a whole: send it again in halves
    failure: str | None = None  # why the request failed as a whole, or why the first item is retried
    status: int | None = None  # the HTTP status of that failure; None: no answer at all


def attempt(send: Callable[[bytes], Any], items: Sequence[Item]) -> Attempt:
    result = Attempt()
    try:
        response = send(bulk_body(items))
        per_item = item_results(response, len(items))
    except EsUnavailableError as error:
        result.failure, result.status = str(error), error.status
        if error.status in _SPLIT_STATUSES:
            if len(items) > 1:
                result.split = True
            else:
                result.rejected.append((items[0], error.status, str(error)))
        else:
            result.retry = list(items)
        return result
    except ValueError as error:
        result.failure, result.retry = str(error), list(items)
        return result
    for it, res in zip(items, per_item, strict=True):
        if res.outcome == DELIVERED:
            result.delivered += 1
        elif res.outcome == CONFLICT:
            result.conflicts += 1
        elif res.outcome == RETRY:
            if result.failure is None:
                result.failure, result.status = f"HTTP {res.status}: {res.reason}", res.status
            result.retry.append(it)
        else:
            result.rejected.append((it, res.status, res.reason or ""))
    return result


def halves(items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    middle = len(items) // 2
    return list(items[:middle]), list(items[middle:])


@dataclass
class Backoff:
    """Exponential backoff with "equal jitter": the n-th wait in a row is half of
    min(cap, base * 2**n) plus a random part up to as much again. The random part keeps
    shippers that lost the cluster together from coming back all in the same second;
    the fixed half keeps any wait from being near zero."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        step = min(self.cap, self.base * 2 ** min(failures, 40))
        return step / 2 + self.rng.uniform(0, step / 2)
