"""The detection tests' own tiny query language behaves like the real matcher on arrays."""

from __future__ import annotations

from tests.support.detection import at, event, tiny_compile


def test_tiny_query_matches_any_value_of_an_array() -> None:
    query = tiny_compile('event.action: "handshake" and user.name: "bob"', None)
    assert query.matches(event(at(), user__name=["alice", "bob"]))
    assert not query.matches(event(at(), user__name=["alice"]))
    assert query.constant_terms("event.action") == frozenset({"handshake"})
