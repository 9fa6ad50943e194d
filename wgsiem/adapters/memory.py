"""Give the memory a poll freed back to the operating system.

A poll's transient data (the dump text and its lines, the encoded documents, a loaded
state file) is freed when the poll ends, but glibc keeps freed pages for reuse, so a
long-running shipper would sit at its peak resident size. malloc_trim returns them.
Where there is no glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util


def _malloc_trim():  # noqa: ANN202
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


def release_free_memory() -> None:
    if _trim is not None:
        _trim(0)
