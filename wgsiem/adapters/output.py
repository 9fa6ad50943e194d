"""Where documents go: an NDJSON file for Filebeat (rotated by size) or standard output
(Elasticsearch, through a disk spool, is elasticsearch_output.py).

A batch is one poll's documents. The file output writes a batch and fsyncs it before
the state is saved, so a crash can repeat a poll's changes (re-found by the next poll,
see docs/operate.md) but never lose them. Documents
are encoded and written as they come, so a huge batch (a baseline of 100,000 peers) is
never held in memory whole.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, TextIO

import orjson

_stdlib = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode(doc: dict[str, Any]) -> bytes:
    """A document as one line of compact UTF-8 JSON.

    orjson writes the same bytes as the json module, several times faster (a baseline of
    100,000 peers is 100 MB of JSON); it refuses integers beyond 64 bits, which the json
    module then writes."""
    try:
        return orjson.dumps(doc)
    except TypeError:
        return _stdlib(doc).encode()


class Output(Protocol):
    def write_batch(self, docs: Iterable[dict[str, Any]]) -> int: ...
    def close(self) -> None: ...


class StreamOutput:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def write_batch(self, docs: Iterable[dict[str, Any]]) -> int:
        n = 0
        for doc in docs:
            self.stream.write(encode(doc).decode() + "\n")
            n += 1
        self.stream.flush()
        return n

    def close(self) -> None:
        self.stream.flush()


class NdjsonFileOutput:
    """`path` is the live file. Once it has reached `max_bytes`, before the next batch, it
    becomes `path.1`, `path.1` becomes `path.2`, and so on up to `keep` old files
    (Filebeat's filestream follows renames). A batch is never split between files."""

    def __init__(self, path: Path, max_bytes: int = 100 * 1024 * 1024, keep: int = 5) -> None:
        if max_bytes <= 0 or keep < 0:
            raise ValueError("rotation needs max_bytes > 0 and keep >= 0")
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # noqa: SIM115 - held open across batches

    def write_batch(self, docs: Iterable[dict[str, Any]]) -> int:
        docs = iter(docs)
        first = next(docs, None)
        if first is None:
            return 0
        if self._file.tell() >= self.max_bytes:
            self._rotate()
        n = 0
        chunk: list[bytes] = [encode(first)]
        for doc in docs:
            chunk.append(encode(doc))
            if len(chunk) == 1000:
                self._file.write(b"\n".join(chunk) + b"\n")
                n += len(chunk)
                chunk.clear()
        if chunk:
            self._file.write(b"\n".join(chunk) + b"\n")
            n += len(chunk)
        self._file.flush()
        os.fsync(self._file.fileno())
        return n

    def _rotate(self) -> None:
        self._file.close()
        if self.keep == 0:
            self.path.unlink(missing_ok=True)
        else:
            for i in range(self.keep - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._file = open(self.path, "ab")  # noqa: SIM115

    def close(self) -> None:
        self._file.close()
