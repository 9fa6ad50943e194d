"""The recover_failure_document processor (wgsiem/ingest/processors/failure_store.py) against Elasticsearch.

Everything runs as `POST _ingest/pipeline/_simulate` requests through the engine. Sources
named in the comments (paths under elastic/elasticsearch, read at the newest stored copies):
  UNIT    = modules/ingest-common/src/test/java/org/elasticsearch/ingest/common/
            RecoverFailureDocumentProcessorTests.java (9f41327a: failure documents built by
            FailureStoreDocumentConverter, the processor's MISSING_*_ERROR_MSG constants);
  FACTORY = the same directory's RecoverFailureDocumentProcessorFactoryTests.java;
  RFD     = modules/ingest-common/src/main/java/org/elasticsearch/ingest/common/
            RecoverFailureDocumentProcessor.java (d6d74620: execute, storePreRecoveryData);
  REST    = modules/ingest-common/src/yamlRestTest/resources/rest-api-spec/test/ingest/
            350_recover_failure_document_processor.yml (afb62822);
  FSDC    = server/src/main/java/org/elasticsearch/action/bulk/FailureStoreDocumentConverter.java
            (the shape of a failure-store document: @timestamp, document.{id,routing,index,source},
            error.{type,message,stack_trace});
  CU      = server/src/main/java/org/elasticsearch/ingest/ConfigurationUtils.java (readProcessor).
"""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate

MISSING = "failure store document has unexpected structure, missing required [{}] field"


def failure_document(source: dict[str, Any], *, index: str | None = "original-index", routing: str | None = None, id: str | None = None) -> dict[str, Any]:
    """What FSDC writes for a request that failed with `new Exception("simulated failure")`,
    as UNIT's createFailureDoc makes it (keys only for what the request had)."""
    document: dict[str, Any] = {}
    if id is not None:
        document["id"] = id
    if routing is not None:
        document["routing"] = routing
    if index is not None:
        document["index"] = index
    document["source"] = source
    return {
        "@timestamp": "2025-01-01T00:00:00.000Z",
        "document": document,
        "error": {"type": "exception", "message": "simulated failure", "stack_trace": "java.lang.Exception: simulated failure"},
    }


def run(
    source: dict[str, Any],
    processors: list[dict[str, Any]] | None = None,
    *,
    index: str = "current-index",
    id: str = "test-id",
    verbose: bool = False,
    **metadata: Any,
) -> dict[str, Any]:
    """The one document's result, for a failure document stored as `index`/`id` (UNIT's
    current-index, test-id, _version 1)."""
    doc = {"_index": index, "_id": id, "_version": 1, "_source": source, **metadata}
    doc = {key: value for key, value in doc.items() if value is not None}  # _version=None: the request gives none
    body = {"pipeline": {"processors": processors or [{"recover_failure_document": {}}]}, "docs": [doc]}
    status, response = simulate(body, PipelineSet(), verbose=verbose)
    assert status == 200, response
    (result,) = response["docs"]
    assert isinstance(result, dict), result
    return result


def recovered(source: dict[str, Any], processors: list[dict[str, Any]] | None = None, **kwargs: Any) -> dict[str, Any]:
    result = run(source, processors, **kwargs)
    doc = result.get("doc")
    assert isinstance(doc, dict), result
    return doc


def error(source: dict[str, Any], processors: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    result = run(source, processors)
    assert "error" in result, result
    return result["error"]["type"], result["error"]["reason"]


def test_execute() -> None:
    # pins: UNIT.testExecute
    doc = recovered(failure_document({"field1": "value1", "field2": "value2"}, routing="routing-value"))
    assert doc["_source"] == {"field1": "value1", "field2": "value2"}  # error and document gone with the rest
    assert doc["_index"] == "original-index"
    assert doc["_routing"] == "routing-value"
    assert doc["_id"] == "test-id"  # no document.id: the failure document's own id stays
    pre = doc["_ingest"]["pre_recovery"]
    assert pre["_index"] == "current-index"
    assert pre["error"]["type"] == "exception"
    assert pre["error"]["message"] == "simulated failure"
    assert pre["document"] == {"index": "original-index", "routing": "routing-value"}  # all but source
    assert pre["@timestamp"] == "2025-01-01T00:00:00.000Z"
    assert pre["_version"] == 1


def test_execute_with_original_id() -> None:
    # pins: UNIT.testExecuteWithOriginalId
    doc = recovered(failure_document({"data": "test"}, routing="routing-value", id="original-doc-id"))
    assert doc["_id"] == "original-doc-id"
    assert doc["_ingest"]["pre_recovery"]["_id"] == "test-id"
    assert doc["_ingest"]["pre_recovery"]["document"]["id"] == "original-doc-id"


def test_missing_error_field() -> None:
    # pins: UNIT.testExecuteWithMissingErrorField
    source = failure_document({"field1": "value1"})
    del source["error"]
    assert error(source) == ("illegal_argument_exception", MISSING.format("error"))


def test_missing_document_field() -> None:
    # pins: UNIT.testExecuteWithMissingDocumentField; REST "error handling - missing document field"
    assert error({"error": "simulated failure", "message": "test message", "count": 42}) == (
        "illegal_argument_exception",
        MISSING.format("document"),
    )


def test_missing_source_field() -> None:
    # pins: UNIT.testExecuteWithMissingSourceField; REST "error handling - missing source field"
    assert error({"error": "simulated failure", "document": {"index": "original-index"}}) == (
        "illegal_argument_exception",
        MISSING.format("document.source"),
    )


def test_checks_run_in_order_and_count_a_null_as_present() -> None:
    # pins: RFD.execute (hasField on document, document.source, error, in that order; hasField
    # is a containsKey, so a key holding null is there, and `source` is only found in an object)
    assert error({}) == ("illegal_argument_exception", MISSING.format("document"))
    assert error({"document": {"source": {}}}) == ("illegal_argument_exception", MISSING.format("error"))
    for not_an_object in (None, "text", ["source"], 5):
        assert error({"document": not_an_object, "error": "e"}) == ("illegal_argument_exception", MISSING.format("document.source"))
    doc = recovered({"document": {"source": {"a": 1}}, "error": None})
    assert doc["_source"] == {"a": 1}
    assert doc["_ingest"]["pre_recovery"]["error"] is None


def test_null_metadata_fields_leave_the_metadata_alone() -> None:
    # pins: UNIT.testExecuteWithNullMetadataFields (FSDC leaves the keys out; the older UNIT
    # put them as nulls: either way nothing is overwritten)
    for source in (failure_document({"field1": "value1"}, index=None), {"document": {"index": None, "routing": None, "id": None, "source": {"field1": "value1"}}, "error": "x"}):
        doc = recovered(source)
        assert doc["_source"] == {"field1": "value1"}
        assert doc["_index"] == "current-index"
        assert doc["_id"] == "test-id"
        assert "_routing" not in doc


def test_completely_replaces_source() -> None:
    # pins: UNIT.testExecuteCompletelyReplacesSource
    source = failure_document({"original_field": "original_value"})
    source.update(extra_field="should_be_removed", another_field="also_removed")
    doc = recovered(source)
    assert doc["_source"] == {"original_field": "original_value"}
    pre = doc["_ingest"]["pre_recovery"]
    assert pre["extra_field"] == "should_be_removed"
    assert pre["another_field"] == "also_removed"


def test_the_original_source_comes_back_whole() -> None:
    # pins: RFD.execute (source.putAll of document.source: nested values as they were, and an
    # original `error` or `document` field is the original's, not the failure document's)
    original = {"error": "the original's own", "document": {"nested": [1, {"deep": True}]}, "n": 1.5, "none": None}
    doc = recovered(failure_document(original))
    assert doc["_source"] == original


def test_the_failure_store_section_through_simulate() -> None:
    # pins: REST "Test recover_failure_document processor with data stream failure store",
    # its _simulate half, fed the document FSDC stored for the failed index request (routing
    # custom-route-123, a `set` making count a string the long mapping refuses)
    stored = {
        "@timestamp": "2023-01-01T00:00:01.234Z",
        "document": {
            "routing": "custom-route-123",
            "index": "test-logs-recover_failure_document",
            "source": {"@timestamp": "2023-01-01T00:00:00Z", "message": "test message", "count": "not_a_number"},
        },
        "error": {"type": "document_parsing_exception", "message": "[1:67] failed to parse field [count] of type [long]", "stack_trace": "..."},
    }
    doc = recovered(stored, index="test-logs-recover_failure_document", id="failure-doc-id", _version=None)
    assert doc["_index"] == "test-logs-recover_failure_document"
    assert doc["_routing"] == "custom-route-123"
    assert doc["_source"]["message"] == "test message"
    assert doc["_source"]["count"] == "not_a_number"
    assert "error" not in doc["_source"] and "document" not in doc["_source"]
    assert doc["_ingest"]["timestamp"]
    pre = doc["_ingest"]["pre_recovery"]
    assert pre["@timestamp"] == "2023-01-01T00:00:01.234Z"
    assert pre["_index"] == "test-logs-recover_failure_document"
    assert pre["_id"] == "failure-doc-id"
    assert pre["_version"] == -3  # the request gave none: Versions.MATCH_ANY, a number here
    assert pre["document"]["index"] == "test-logs-recover_failure_document"
    assert pre["document"]["routing"] == "custom-route-123"
    assert pre["error"]["type"] == "document_parsing_exception"


def test_a_metadata_value_that_is_not_a_string_is_a_class_cast() -> None:
    # pins: RFD.execute ((String) casts of document.index, .routing, .id; (Map) of .source)
    def cast(value_class: str, to_class: str) -> tuple[str, str]:
        reason = f"class {value_class} cannot be cast to class {to_class} ({value_class} and {to_class} are in module java.base of loader 'bootstrap')"
        return "class_cast_exception", reason

    assert error({"document": {"index": 5, "source": {}}, "error": "e"}) == cast("java.lang.Integer", "java.lang.String")
    assert error({"document": {"routing": True, "source": {}}, "error": "e"}) == cast("java.lang.Boolean", "java.lang.String")
    assert error({"document": {"id": 1.5, "source": {}}, "error": "e"}) == cast("java.lang.Double", "java.lang.String")
    assert error({"document": {"id": 2**40, "source": {}}, "error": "e"}) == cast("java.lang.Long", "java.lang.String")
    assert error({"document": {"index": {"a": 1}, "source": {}}, "error": "e"}) == cast("java.util.HashMap", "java.lang.String")
    assert error({"document": {"source": "text"}, "error": "e"}) == cast("java.lang.String", "java.util.Map")
    assert error({"document": {"source": ["a"]}, "error": "e"}) == cast("java.util.ArrayList", "java.util.Map")


def test_a_failure_part_way_keeps_what_was_done() -> None:
    # pins: RFD.execute (pre_recovery stored, then _index, _routing, _id set one by one, then
    # the source cleared and refilled, with no rollback): what ignore_failure lets through
    ignoring = [{"recover_failure_document": {"ignore_failure": True}}]
    source = {"document": {"index": "original-index", "routing": 7, "source": {"a": 1}}, "error": "e"}
    doc = recovered(source, ignoring)
    assert doc["_index"] == "original-index"  # set before the routing's cast failed
    assert "_routing" not in doc
    assert doc["_source"] == source  # not yet replaced
    assert doc["_ingest"]["pre_recovery"]["document"] == {"index": "original-index", "routing": 7}
    # A null document.source: Map.clear runs, then HashMap.putAll(null) throws.
    null_source = {"document": {"index": "original-index", "source": None}, "error": "e", "other": 1}
    assert error(null_source) == ("null_pointer_exception", 'Cannot invoke "java.util.Map.size()" because "m" is null')
    doc = recovered(null_source, ignoring)
    assert doc["_source"] == {}
    assert doc["_index"] == "original-index"
    assert doc["_ingest"]["pre_recovery"]["other"] == 1


def test_on_failure_sees_the_error() -> None:
    # pins: RFD.execute with CompoundProcessor's on_failure (the processor's type in _ingest)
    processors = [
        {
            "recover_failure_document": {
                "tag": "recover",
                "on_failure": [{"set": {"field": "why", "value": "{{_ingest.on_failure_message}} at {{_ingest.on_failure_processor_tag}}"}}],
            }
        }
    ]
    doc = recovered({"error": "e"}, processors)
    assert doc["_source"]["why"] == MISSING.format("document") + " at recover"


def test_later_processors_see_the_recovered_document() -> None:
    # pins: RFD.execute (the metadata set through setFieldValue, the source in place) followed
    # by a `set` reading both, as a remediation pipeline does before it reindexes
    processors: list[dict[str, Any]] = [{"recover_failure_document": {}}, {"set": {"field": "origin", "value": "{{_index}}/{{_routing}}/{{message}}"}}]
    doc = recovered(failure_document({"message": "m"}, routing="r"), processors)
    assert doc["_source"] == {"message": "m", "origin": "original-index/r/m"}


def test_verbose_shows_the_recovered_document() -> None:
    # pins: RFD.execute under _simulate?verbose (one processor result, its doc the recovered one)
    result = run(failure_document({"field1": "value1"}), [{"recover_failure_document": {"tag": "t", "description": "d"}}], verbose=True)
    (step,) = result["processor_results"]
    assert step["processor_type"] == "recover_failure_document"
    assert step["status"] == "success"
    assert (step["tag"], step["description"]) == ("t", "d")
    assert step["doc"]["_source"] == {"field1": "value1"}
    assert step["doc"]["_index"] == "original-index"


def test_factory() -> None:
    # pins: FACTORY.testCreate, testCreateWithDescription (tag and description taken); CU.readProcessor
    # (the factory reads no option, so any other key is left over and refused)
    recovered(failure_document({}), [{"recover_failure_document": {"tag": "t", "description": "d", "if": "ctx.document != null"}}])
    status, response = simulate(
        {"pipeline": {"processors": [{"recover_failure_document": {"field": "document"}}]}, "docs": [{"_source": {}}]}, PipelineSet()
    )
    assert status == 400
    assert response["error"]["type"] == "parse_exception"
    assert response["error"]["reason"] == "processor [recover_failure_document] doesn't support one or more provided configuration parameters [field]"


def test_a_source_field_named_like_metadata_is_refused_clearly() -> None:
    # Not Elasticsearch's answer: ES puts such a key in the raw _source map beside the metadata
    # (RFD.execute's source.putAll); this engine keeps both in one map, so it fails naming the
    # limit instead of overwriting the metadata. A source with `_id` is exactly what a mapping
    # failure sends to the failure store ("Field [_id] is a metadata field ...").
    kind, reason = error(failure_document({"_id": "x", "_routing": "y", "a": 1}))
    assert kind == "unsupported_operation_exception"
    assert "[_id, _routing]" in reason and "offline engine" in reason
