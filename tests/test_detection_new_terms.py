"""New terms rules: new_terms/create_new_terms_alert_type.ts (the aggregation approach,
also execute_new_terms_aggregation_approach.ts), build_new_terms_aggregation.ts,
multi_terms_composite.ts and wrap_new_terms_alerts.ts."""

from __future__ import annotations

from datetime import timedelta

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import run_rules


def _rule(fields=("user.name",), **kw):
    return make_rule(type="new_terms", new_terms=tuple(fields), **kw)


def _run(rule, events, start=at(5), end=at(5)):
    return run_rules([rule], events, start=start, end=end, compile=tiny_compile)


def _terms(result):
    return [(a["kibana.alert.original_time"], a["kibana.alert.new_terms"]) for a in result.alerts]


def test_a_term_first_seen_in_the_range_alerts_on_its_oldest_event() -> None:
    # Phase 3 (buildDocFetchAgg): top_hits size 1 sorted @timestamp asc.
    events = [event(at(3), user__name="u1"), event(at(2), user__name="u1")]
    (alert,) = _run(_rule(), events).alerts
    assert alert["kibana.alert.new_terms"] == ["u1"]
    assert alert["kibana.alert.original_time"] == stamp(at(2))
    assert alert["@timestamp"] == stamp(at(5))
    assert alert["user"] == {"name": "u1"}  # built from the event itself


def test_a_term_seen_just_before_the_range_is_not_new() -> None:
    events = [event(at(-1, -59), user__name="u1"), event(at(2), user__name="u1")]  # 09:58:01, range starts 09:59
    assert _run(_rule(), events).alerts == []


def test_a_term_first_seen_exactly_at_the_range_start_is_not_new() -> None:
    # buildNewTermsAgg's bucket_selector: `first_seen_value > start_time`, strictly, while
    # the range filter includes `from` (gte): a term first seen at `from` never alerts.
    events = [event(at(-1), user__name="u1"), event(at(2), user__name="u1")]
    assert _run(_rule(), events).alerts == []
    one_ms_later = [event(at(-1, ms=1), user__name="u1"), event(at(2), user__name="u1")]
    assert _terms(_run(_rule(), one_ms_later)) == [(stamp(at(-1, ms=1)), ["u1"])]


def test_history_window_start_bounds_what_counts_as_seen() -> None:
    history_start = at(5) - timedelta(days=14)
    older = [event(history_start - timedelta(milliseconds=1), user__name="u1"), event(at(2), user__name="u1")]
    assert _terms(_run(_rule(), older)) == [(stamp(at(2)), ["u1"])]
    # Phase 2's range is gte history_window_start: an event exactly there is history.
    at_start = [event(history_start, user__name="u1"), event(at(2), user__name="u1")]
    assert _run(_rule(), at_start).alerts == []


def test_each_value_of_an_array_is_its_own_term() -> None:
    seen_a = [event(at(-60), user__name="a"), event(at(2), user__name=["a", "b"])]
    assert _terms(_run(_rule(), seen_a)) == [(stamp(at(2)), ["b"])]
    # Both new: one event, two alerts, two ids (the term is part of the id).
    result = _run(_rule(), [event(at(2), user__name=["b", "a"])])
    assert sorted(a["kibana.alert.new_terms"][0] for a in result.alerts) == ["a", "b"]
    assert len({a["kibana.alert.uuid"] for a in result.alerts}) == 2


def test_several_fields_make_combinations_of_their_values() -> None:
    # multi_terms_composite.ts pages a composite aggregation: a document is in one
    # bucket per combination, and a document lacking a field is in none.
    rule = _rule(fields=("host.name", "user.name"))
    events = [
        event(at(-60), user__name="u1"),
        event(at(2), user__name=["u1", "u2"]),
        event(at(3), user__name="u3", host={"name": None}),
    ]
    assert _terms(_run(rule, events)) == [(stamp(at(2)), ["gw1", "u2"])]


def test_a_term_never_alerts_twice() -> None:
    # New again in the overlapping next range (first seen 10:04:30 > 10:04), but the id
    # (event, term) is the same, so the alert is not created again; at 10:15 the term
    # is in history.
    events = [event(at(4, 30), user__name="u1"), event(at(8), user__name="u1"), event(at(12), user__name="u1")]
    result = _run(_rule(), events, end=at(15))
    assert _terms(result) == [(stamp(at(4, 30)), ["u1"])]
    assert result.stats[_rule().rule_id].executions == 3


def test_max_signals_keeps_phase_three_order_count_then_key() -> None:
    # buildDocFetchAgg is a terms aggregation: buckets by doc_count desc, then key asc.
    events = [event(at(1), user__name=n) for n in ("c", "b", "a")] + [event(at(2), user__name="c"), event(at(3), user__name="c")]
    rule = _rule(max_signals=2)
    result = _run(rule, events)
    assert [a["kibana.alert.new_terms"] for a in result.alerts] == [["c"], ["a"]]
    assert result.stats[rule.rule_id].max_signals_executions == 1


def test_history_window_must_reach_past_the_range() -> None:
    # validateHistoryWindowStart (new_terms/utils.ts) refuses history_window_start >= from.
    rule = _rule(history="5m")
    result = _run(rule, [event(at(2), user__name="u1")])
    assert "history_window_start must be earlier than from" in result.stats[rule.rule_id].error


def test_query_filters_the_history_too() -> None:
    # Every phase runs under the rule's query: a value seen only in non-matching events
    # is still new.
    events = [event(at(-60), "keepalive", user__name="u1"), event(at(2), user__name="u1")]
    assert _terms(_run(_rule(), events)) == [(stamp(at(2)), ["u1"])]


def test_with_the_real_kql_compiler() -> None:
    events = [event(at(-60), user__name="u1"), event(at(2), user__name="u1"), event(at(3), user__name="u2")]
    result = run_rules([_rule(query="event.action: handshake")], events, start=at(5), end=at(5))
    assert _terms(result) == [(stamp(at(3)), ["u2"])]
