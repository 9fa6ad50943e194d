"""Threshold rules: threshold/threshold.ts, find_threshold_signals.ts,
build_threshold_aggregation.ts, get_threshold_bucket_filters.ts, build_signal_history.ts,
utils.ts (getSignalHistory, calculateThresholdSignalUuid) and
bulk_create_threshold_signals.ts."""

from __future__ import annotations

import hashlib
import uuid

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import run_rules
from wgsiem.detection.alerts import rule_uuid


def _rule(fields=("source.ip",), value=3, cardinality=None, **kw):
    return make_rule(type="threshold", threshold=(tuple(fields), value, cardinality), **kw)


def _run(rule, events, start=at(5), end=at(5)):
    return run_rules([rule], events, start=start, end=end, compile=tiny_compile)


def test_a_bucket_reaching_the_count_alerts_with_its_threshold_result() -> None:
    events = [event(at(1), source__ip="10.0.0.1"), event(at(2), source__ip="10.0.0.2"), event(at(2), source__ip="10.0.0.1"), event(at(3), source__ip="10.0.0.1")]
    (alert,) = _run(_rule(), events).alerts
    assert alert["kibana.alert.threshold_result"] == {"terms": [{"field": "source.ip", "value": "10.0.0.1"}], "count": 3, "from": stamp(at(1))}
    # bulk_create_threshold_signals.ts: the synthetic hit's @timestamp is max_timestamp,
    # which build_alert.ts turns into original_time; the group-by value is a top-level key.
    assert alert["kibana.alert.original_time"] == stamp(at(3))
    assert alert["@timestamp"] == stamp(at(5))
    assert alert["source.ip"] == "10.0.0.1"
    assert "host" not in alert  # the alert is built from the bucket, not from an event
    assert alert["kibana.alert.reason"] == "event with source 10.0.0.1 created medium alert Test rule."


def test_events_an_earlier_alert_covered_are_not_counted_again() -> None:
    # get_threshold_bucket_filters.ts: must_not(@timestamp lte lastSignalTimestamp and the
    # bucket's terms). The three events are in both [09:59, 10:05] and [10:04, 10:10].
    events = [event(at(4, s), source__ip="10.0.0.1") for s in (10, 20, 30)]
    result = _run(_rule(), events, end=at(10))
    assert [a["@timestamp"] for a in result.alerts] == [stamp(at(5))]


def test_enough_new_events_alert_again() -> None:
    old = [event(at(4, s), source__ip="10.0.0.1") for s in (10, 20, 30)]
    two_more = [event(at(7), source__ip="10.0.0.1"), event(at(8), source__ip="10.0.0.1")]
    assert len(_run(_rule(), old + two_more, end=at(10)).alerts) == 1  # 2 new < 3
    third = [event(at(9), source__ip="10.0.0.1")]
    result = _run(_rule(), old + two_more + third, end=at(10))
    second = result.alerts[1]
    assert second["@timestamp"] == stamp(at(10))
    assert second["kibana.alert.threshold_result"]["count"] == 3
    assert second["kibana.alert.threshold_result"]["from"] == stamp(at(7))
    assert second["kibana.alert.original_time"] == stamp(at(9))


def test_the_history_filter_drops_a_whole_document_even_for_its_other_buckets() -> None:
    # The filter is per document: an event holding the alerted value is excluded from
    # every bucket, also from the bucket of its other value.
    events = [
        event(at(4, 10), source__ip="10.0.0.1"),
        event(at(4, 20), source__ip=["10.0.0.1", "10.0.0.2"]),
        event(at(6), source__ip="10.0.0.2"),
    ]
    result = _run(_rule(value=2), events, end=at(10))
    assert [a["source.ip"] for a in result.alerts] == ["10.0.0.1"]


def test_cardinality_at_the_limit_alerts_and_one_below_does_not() -> None:
    # build_threshold_aggregation.ts: bucket_selector `cardinalityCount >= value`.
    rule = _rule(value=1, cardinality=("user.name", 3))
    three = [event(at(m), source__ip="10.0.0.1", user__name=u) for m, u in ((1, "u1"), (2, "u2"), (3, "u3"))]
    (alert,) = _run(rule, three).alerts
    assert alert["kibana.alert.threshold_result"]["cardinality"] == [{"field": "user.name", "value": 3}]
    two = [event(at(m), source__ip="10.0.0.1", user__name=u) for m, u in ((1, "u1"), (2, "u2"), (3, "u2"))]
    assert _run(rule, two).alerts == []


def test_count_exactly_at_the_value_alerts() -> None:
    events = [event(at(m), source__ip="10.0.0.1") for m in (1, 2)]
    assert len(_run(_rule(value=2), events).alerts) == 1
    assert _run(_rule(value=3), events).alerts == []


def test_an_array_puts_the_event_in_one_bucket_per_value() -> None:
    events = [event(at(1), wireguard__peer__name=["a", "b"]), event(at(2), wireguard__peer__name=["a"])]
    result = _run(_rule(fields=("wireguard.peer.name",), value=2), events)
    assert [a["wireguard.peer.name"] for a in result.alerts] == ["a"]
    # A value repeated in one document's array is one term of that document.
    assert _run(_rule(fields=("wireguard.peer.name",), value=2), [event(at(1), wireguard__peer__name=["a", "a"])]).alerts == []


def test_several_fields_bucket_by_each_combination_of_values() -> None:
    events = [event(at(1), user__name=["u2", "u1"])]
    result = _run(_rule(fields=("host.name", "user.name"), value=1), events)
    assert [a["kibana.alert.threshold_result"]["terms"] for a in result.alerts] == [
        [{"field": "host.name", "value": "gw1"}, {"field": "user.name", "value": "u1"}],
        [{"field": "host.name", "value": "gw1"}, {"field": "user.name", "value": "u2"}],
    ]


def test_an_event_lacking_a_group_by_field_is_in_no_bucket() -> None:
    events = [event(at(1)), event(at(2), source__ip="10.0.0.1")]
    assert _run(_rule(fields=("source.ip",), value=2), events).alerts == []
    # Without group-by fields every event counts (one bucket).
    (alert,) = _run(_rule(fields=(), value=2), events).alerts
    assert alert["kibana.alert.threshold_result"] == {"terms": [], "count": 2, "from": stamp(at(1))}
    assert alert["kibana.alert.reason"] == "event created medium alert Test rule."


def test_the_single_bucket_count_is_hits_total_which_stops_at_10000() -> None:
    # find_threshold_signals.ts reads hits.total.value, tracked exactly up to 10,000.
    events = [event(at(0, ms=i * 20)) for i in range(10_001)]
    assert _run(_rule(fields=(), value=10_001), events).alerts == []
    (alert,) = _run(_rule(fields=(), value=10_000), events).alerts
    assert alert["kibana.alert.threshold_result"]["count"] == 10_000


def test_max_signals_keeps_the_first_buckets_in_composite_key_order() -> None:
    # Composite sources sort ascending; an ip field sorts by address, so 9.0.0.1 comes
    # before 10.0.0.1 (a string sort would put it last).
    events = [event(at(1), source__ip=ip) for ip in ("192.168.0.1", "10.0.0.1", "9.0.0.1")]
    rule = _rule(value=1, max_signals=2)
    result = _run(rule, events)
    assert [a["source.ip"] for a in result.alerts] == ["9.0.0.1", "10.0.0.1"]
    assert result.stats[rule.rule_id].max_signals_executions == 1


def test_threshold_alert_ids_follow_calculate_threshold_signal_uuid() -> None:
    rule = _rule(value=1)
    (alert,) = _run(rule, [event(at(1), source__ip="10.0.0.1")]).alerts
    hit_id = str(uuid.uuid5(uuid.UUID("0684ec03-7201-4ee0-8ee0-3a3f6b2479b2"), f"{rule.rule_id}{stamp(at(5))}source.ip10.0.0.1"))
    assert alert["kibana.alert.ancestors"] == [{"id": hit_id, "type": "event", "index": "logs-wireguard.*", "depth": 0}]
    expected = hashlib.sha256(f"logs-wireguard.*{hit_id}undefineddefault:{rule_uuid(rule)}".encode()).hexdigest()
    assert alert["kibana.alert.uuid"] == expected


def test_ip_values_are_compared_in_canonical_form() -> None:
    events = [event(at(1), source__ip="::ffff:10.0.0.1"), event(at(2), source__ip="10.0.0.1")]
    (alert,) = _run(_rule(value=2), events).alerts
    assert alert["source.ip"] == "10.0.0.1"


def test_a_history_entry_ends_when_its_time_is_not_after_from() -> None:
    # utils.ts getSignalHistory keeps entries with lastSignalTimestamp > tuple.from: one
    # exactly at the next range's start is dropped, so the event there counts again.
    events = [event(at(3, 58), source__ip="10.0.0.1"), event(at(3, 59), source__ip="10.0.0.1"), event(at(4), source__ip="10.0.0.1")]
    later = [event(at(6), source__ip="10.0.0.1"), event(at(7), source__ip="10.0.0.1")]
    result = _run(_rule(), events + later, end=at(10))
    assert [(a["@timestamp"], a["kibana.alert.threshold_result"]["from"]) for a in result.alerts] == [
        (stamp(at(5)), stamp(at(3, 58))),
        (stamp(at(10)), stamp(at(4))),
    ]


def test_group_by_values_are_read_as_the_caller_s_field_types() -> None:
    # An ip field indexes ::ffff:10.0.0.1 as 10.0.0.1 (IpFieldMapper): one bucket, not two,
    # when --schema says the field is an ip, as the query is compiled with that type too.
    from wgsiem.kql import FieldTypes

    rule = make_rule("lab.client: *", type="threshold", threshold=(("lab.client",), 2, None))
    events = [event(at(1), lab__client="10.0.0.1"), event(at(2), lab__client="::ffff:10.0.0.1")]
    typed = run_rules([rule], events, start=at(5), end=at(5), field_types=FieldTypes.default().with_types({"lab.client": "ip"}))
    assert [a["kibana.alert.threshold_result"]["terms"] for a in typed.alerts] == [[{"field": "lab.client", "value": "10.0.0.1"}]]
    as_keyword = run_rules([rule], events, start=at(5), end=at(5), field_types=FieldTypes.default().with_types({"lab.client": "keyword"}))
    assert as_keyword.alerts == []
