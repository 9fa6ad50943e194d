"""`Collections.sort` of a list of JSON values as Elasticsearch's sort processor does it.

Values sort in their natural order when they are all of one Comparable class: strings by
UTF-16 code units, numbers by value (a Double's -0.0 before 0.0, NaN last), false before
true. Java's classes are strict: an Integer (a JSON number that fits an int) and a Long (a
larger one) do not compare, nor a number and a string, and maps and lists do not compare at
all. Sorting such a list fails with the ClassCastException of the first comparison that
meets the mismatch; which pair that is depends on TimSort's order of comparisons, so the
order is followed here: runs found and extended by binary insertion, then merged in the
order of the run stack, a merge starting by comparing the second run's first element to the
first run's (ComparableTimSort for `asc`; TimSort with Collections.reverseOrder() for
`desc`, whose comparator casts both arguments and calls the second's compareTo).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wgsiem.errors import WgsiemError
from wgsiem.ingest.java.types import java_type

_COMPARABLE = frozenset(
    {"java.lang.String", "java.lang.Integer", "java.lang.Long", "java.lang.Double", "java.lang.Boolean", "java.time.ZonedDateTime"}
)
_MIN_MERGE = 32


class JavaSortError(WgsiemError):
    """The exception Java's sort throws: `error_type` is Elasticsearch's name for it."""

    def __init__(self, reason: str, error_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


def _cast_error(value_class: str, to_class: str) -> JavaSortError:
    return JavaSortError(
        f"class {value_class} cannot be cast to class {to_class} ({value_class} and {to_class} are in module java.base of loader 'bootstrap')",
        "class_cast_exception",
    )


def _null_error() -> JavaSortError:
    return JavaSortError('Cannot invoke "java.lang.Comparable.compareTo(Object)" on a null element of the list', "null_pointer_exception")


def _key(value: Any) -> Any:
    """The natural order of one Comparable class, as a Python sort key."""
    if isinstance(value, str):
        return value.encode("utf-16-be", "surrogatepass")
    if isinstance(value, float):
        if math.isnan(value):
            return (1, 0.0, 0)
        return (0, value, -1 if value == 0 and math.copysign(1, value) < 0 else 0)
    if isinstance(value, (int, bool)):
        return value
    return (value, value.replace(tzinfo=None), str(value.tzinfo))  # ZonedDateTime: instant, local time, zone


def _compare_to(receiver: Any, argument: Any) -> int:
    """`receiver.compareTo(argument)`, the receiver already cast to Comparable."""
    if receiver is None or argument is None:
        raise _null_error()
    receiver_class, argument_class = java_type(receiver), java_type(argument)
    if argument_class != receiver_class:
        raise _cast_error(argument_class, receiver_class)
    a, b = _key(receiver), _key(argument)
    return int(a > b) - int(a < b)


def _as_comparable(value: Any) -> None:
    if value is not None and java_type(value) not in _COMPARABLE:
        raise _cast_error(java_type(value), "java.lang.Comparable")


def _ascending(x: Any, y: Any) -> int:
    _as_comparable(x)
    return _compare_to(x, y)


def _descending(x: Any, y: Any) -> int:
    _as_comparable(x)
    _as_comparable(y)
    return _compare_to(y, x)


def java_sort(values: list[Any], descending: bool = False) -> list[Any]:
    """A sorted copy of `values`; raises JavaSortError where Java's sort would throw."""
    if len(values) < 2:
        return list(values)
    classes = {java_type(v) for v in values if v is not None}
    if len(classes) == 1 and None not in values and classes <= _COMPARABLE:
        return sorted(values, key=_key, reverse=descending)  # TimSort is stable, so is this
    _TimSort(list(values), descending).sort()
    raise AssertionError("a list of mixed classes sorted without an error")  # pragma: no cover


class _TimSort:
    """The comparisons of java.util.TimSort up to the first that throws; merges of two runs of
    one class cannot throw, so they are done as a stable sort of the two runs."""

    def __init__(self, a: list[Any], descending: bool) -> None:
        self.a = a
        self.descending = descending
        self.compare: Callable[[Any, Any], int] = _descending if descending else _ascending
        self.runs: list[list[int]] = []  # [base, length]

    def sort(self) -> None:
        a, n = self.a, len(self.a)
        if n < _MIN_MERGE:
            self._binary_sort(0, n, self._count_run(0, n))
            return
        min_run = _min_run_length(n)
        low, remaining = 0, n
        while remaining:
            run = self._count_run(low, n)
            if run < min_run:
                force = min(remaining, min_run)
                self._binary_sort(low, low + force, low + run)
                run = force
            self.runs.append([low, run])
            self._merge_collapse()
            low += run
            remaining -= run
        while len(self.runs) > 1:
            i = len(self.runs) - 2
            if i > 0 and self.runs[i - 1][1] < self.runs[i + 1][1]:
                i -= 1
            self._merge_at(i)
        assert len(a) == n

    def _count_run(self, low: int, high: int) -> int:
        a, compare = self.a, self.compare
        run_high = low + 1
        if run_high == high:
            return 1
        run_high += 1
        if compare(a[run_high - 1], a[low]) < 0:
            while run_high < high and compare(a[run_high], a[run_high - 1]) < 0:
                run_high += 1
            a[low:run_high] = a[low:run_high][::-1]
        else:
            while run_high < high and compare(a[run_high], a[run_high - 1]) >= 0:
                run_high += 1
        return run_high - low

    def _binary_sort(self, low: int, high: int, start: int) -> None:
        a, compare = self.a, self.compare
        start = max(start, low + 1)
        for index in range(start, high):
            pivot = a[index]
            left, right = low, index
            while left < right:
                middle = (left + right) >> 1
                if compare(pivot, a[middle]) < 0:
                    right = middle
                else:
                    left = middle + 1
            a[left + 1 : index + 1] = a[left:index]
            a[left] = pivot

    def _merge_collapse(self) -> None:
        runs = self.runs
        while len(runs) > 1:
            n = len(runs) - 2
            if (n > 0 and runs[n - 1][1] <= runs[n][1] + runs[n + 1][1]) or (n > 1 and runs[n - 2][1] <= runs[n][1] + runs[n - 1][1]):
                if runs[n - 1][1] < runs[n + 1][1]:
                    n -= 1
            elif runs[n][1] > runs[n + 1][1]:
                break
            self._merge_at(n)

    def _merge_at(self, i: int) -> None:
        (base1, length1), (base2, length2) = self.runs[i], self.runs[i + 1]
        self.runs[i] = [base1, length1 + length2]
        del self.runs[i + 1]
        self.compare(self.a[base2], self.a[base1])  # gallopRight's first comparison
        self.a[base1 : base2 + length2] = sorted(self.a[base1 : base2 + length2], key=_key, reverse=self.descending)


def _min_run_length(n: int) -> int:
    low_bits = 0
    while n >= _MIN_MERGE:
        low_bits |= n & 1
        n >>= 1
    return n + low_bits
