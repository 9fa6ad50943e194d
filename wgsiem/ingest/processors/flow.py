"""Processors that steer execution: pipeline, foreach, drop, terminate, fail, reroute."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument, java_type
from wgsiem.ingest.errors import DropDocument, IngestError, PipelineConfigError, invalid
from wgsiem.ingest.java.strings import java_trim
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Step, Trace
from wgsiem.ingest.processors.fields import field_template


class PipelineCall(Processor):
    """PipelineProcessor: the named pipeline (a template) runs on the document, resolved per
    document; a missing one fails (illegal_state_exception) unless ignore_missing_pipeline."""

    type = "pipeline"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.name = field_template(opts, "name")
        self.ignore_missing_pipeline = opts.boolean("ignore_missing_pipeline", False)
        self.pipelines = builder.pipelines

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        name = self.name.source if self.name.static else self.name.render(doc)
        pipeline = self.pipelines.get(name)
        if pipeline is None:
            if self.ignore_missing_pipeline:
                return
            raise IngestError(f"Pipeline processor configured for non-existent pipeline [{name}]", "illegal_state_exception")
        pipeline.execute(doc, trace)

    def execute_traced(self, doc: IngestDocument, trace: list[dict[str, Any]], step: Step) -> None:
        """_simulate?verbose, as TrackingResultProcessor runs a pipeline processor: a missing
        pipeline is recorded as an illegal_argument_exception (ignored with its document under
        ignore_missing_pipeline); a pipeline that could be part of a cycle is first run on a
        copy of the document, and a cycle found there is the step's only result; otherwise the
        step's success comes before the results of the pipeline it calls."""
        name = self.name.source if self.name.static else self.name.render(doc)
        pipeline = self.pipelines.get(name)
        if pipeline is None:
            error = invalid(f"Pipeline processor configured for non-existent pipeline [{name}]")
            if self.ignore_missing_pipeline:
                trace.append(step._result("error_ignored", ignored_error={"error": error.body()}, doc=doc.snapshot().to_simulate()))
                return
            trace.append(step._result("error", error=error.body()))
            raise error
        # Elasticsearch checks where its decorated processors do: in the simulated pipeline,
        # and in any step with on_failure or ignore_failure.
        if len(doc.executed) <= 1 or step.ignore_failure or step.on_failure:
            try:
                pipeline.execute(doc.snapshot(), None)
            except IngestError as error:
                if error.error_type == "graph_structure_exception":
                    if step.ignore_failure:
                        trace.append(step._result("error_ignored", ignored_error={"error": error.body()}, doc=doc.snapshot().to_simulate()))
                    else:
                        trace.append(step._result("error", error=error.body()))
                    raise
            except DropDocument:
                pass
        trace.append(step._result("success"))
        pipeline.execute(doc, trace)

    def referenced_pipelines(self) -> list[str]:
        return [self.name.source]


class Foreach(Processor):
    """ForEachProcessor: the inner processor runs once per element of a list (or entry of a
    map, with `_ingest._key`), and the field is replaced by the collected `_ingest._value`s
    once every element has run. `_ingest._value` / `_key` are put back to what they were,
    null included, as Elasticsearch's map put does. In verbose simulation only the foreach
    itself has a result: TrackingResultProcessor does not look inside it."""

    type = "foreach"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        inner = opts.map("processor")
        if len(inner) != 1:
            raise opts.error("Must specify exactly one processor type", "processor")
        self.inner = builder.step(inner)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise invalid(f"field [{self.field}] is null, cannot loop over its elements.")
        ingest = doc.ingest
        pipeline_id = doc.executed[-1] if doc.executed else ""
        inner = self.inner
        if isinstance(value, dict):
            entries: dict[str, Any] = {}
            for key, item in list(value.items()):
                previous_key, previous_value = ingest.get("_key"), ingest.get("_value")
                ingest["_key"], ingest["_value"] = key, item
                try:
                    inner.run(doc, None, pipeline_id)
                finally:
                    new_key = ingest.get("_key")
                    if isinstance(new_key, str) and new_key.strip():  # Strings.hasText
                        entries[new_key] = ingest.get("_value")
                    ingest["_value"], ingest["_key"] = previous_value, previous_key
            doc.set(self.field, entries)
        elif isinstance(value, list):
            items: list[Any] = []
            for item in list(value):
                previous_value = ingest.get("_value")
                ingest["_value"] = item
                try:
                    inner.run(doc, None, pipeline_id)
                finally:
                    items.append(ingest.get("_value"))
                    ingest["_value"] = previous_value
            doc.set(self.field, items)
        else:
            raise invalid(f"field [{self.field}] of type [{java_type(value)}] cannot be cast to a list or map")


class Drop(Processor):
    type = "drop"

    def __init__(self, opts: Options, builder: Any) -> None:
        pass

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        raise DropDocument


class Terminate(Processor):
    """TerminateProcessor: no further processor of the current pipeline runs (a calling
    pipeline goes on); usually given an `if`."""

    type = "terminate"

    def __init__(self, opts: Options, builder: Any) -> None:
        pass

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        doc.terminated = True


class Fail(Processor):
    type = "fail"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.message = field_template(opts, "message")

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        raise IngestError(self.message.render(doc), "fail_processor_exception")


# --- reroute ------------------------------------------------------------------------------
#
# Elasticsearch 9's RerouteProcessor (modules/ingest-common), with its DataStreamValueSource
# and the sanitizers of DataStream: what is read, resolved and refused follows them, message
# for message.

_NAMING_SCHEME = "invalid data stream name: [{}]; must follow naming scheme <type>-<dataset>-<namespace>"
_MAX_LENGTH = 100  # UTF-16 code units, as String.substring counts
# Index-name criteria; the type and the dataset may not hold `-` either (it separates the parts).
_DISALLOWED_IN_DATASET = frozenset('\\/*?"<>| ,#:-')
_DISALLOWED_IN_NAMESPACE = frozenset('\\/*?"<>| ,#:')


def _utf16_prefix(text: str, units: int) -> str:
    """`text.substring(0, min(length, units))`. Where Java would cut a surrogate pair in two,
    the whole character is left out rather than keeping half of it."""
    if text.isascii():
        return text[:units]
    count = 0
    for position, char in enumerate(text):
        count += 2 if ord(char) > 0xFFFF else 1
        if count > units:
            return text[:position]
    return text


def sanitize_data_stream_part(value: str, disallowed: frozenset[str]) -> str:
    """Lowercased (Locale.ROOT), cut to 100 chars, each disallowed char replaced by `_`."""
    value = _utf16_prefix(value.lower(), _MAX_LENGTH)
    return "".join("_" if char in disallowed else char for char in value)


def _cast_error(reference: str, value: Any) -> IngestError:
    return invalid(f"field [{reference}] of type [{java_type(value)}] cannot be cast to [java.lang.String]")


class DataStreamValue:
    """One entry of `type`, `dataset` or `namespace`: a static value, or a `{{field}}`
    (two or three braces, spaces inside allowed) read from the document and sanitized."""

    __slots__ = ("value", "reference", "disallowed")

    def __init__(self, value: str, disallowed: frozenset[str]) -> None:
        self.value = value
        self.disallowed = disallowed
        self.reference: str | None = None
        if "{{" in value or "}}" in value:
            if not (value.startswith("{{") and value.endswith("}}")):
                raise ValueError(f"'{value}' is not a valid field reference")
            reference = value[2:-2]
            if reference.startswith("{") and reference.endswith("}"):
                reference = reference[1:-1]
            reference = java_trim(reference)
            if "{" in reference or "}" in reference:  # one reference only: no {{a}}-{{b}}
                raise ValueError(f"'{value}' is not a valid field reference")
            self.reference = reference
        elif sanitize_data_stream_part(value, disallowed) != value:
            raise ValueError(f"'{value}' contains disallowed characters")

    def resolve(self, doc: IngestDocument) -> str | None:
        """The static value; or the referenced string, sanitized; None when the field is
        missing or null (the next entry is tried). A value that is not a string fails."""
        reference = self.reference
        if reference is None:
            return self.value
        value = doc.get(reference, ignore_missing=True)
        if value is None:
            # A key with dots in its name ("data_stream.dataset" at the top level).
            value = doc.ctx.get(reference)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _cast_error(reference, value)
        return sanitize_data_stream_part(value, self.disallowed)


def _value_sources(opts: Options, name: str, disallowed: frozenset[str]) -> list[DataStreamValue]:
    """ConfigurationUtils.readOptionalListOrString, each entry made a DataStreamValue."""
    raw = opts.raw(name, None)
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, list):
        items = raw
    else:
        raise opts.error(f"property isn't a list, but of type [{java_type(raw)}]", name)
    sources = []
    for item in items:
        if not isinstance(item, str):
            # The list is taken unchecked; mapping an entry to DataStreamValueSource fails in
            # Java, and readProcessor wraps that exception as it is (type `exception`).
            if item is None:
                exception, message = "java.lang.NullPointerException", 'Cannot invoke "String.contains(java.lang.CharSequence)" because "value" is null'
            else:
                cls = java_type(item)
                exception = "java.lang.ClassCastException"
                message = (
                    f"class {cls} cannot be cast to class java.lang.String "
                    f"({cls} and java.lang.String are in module java.base of loader 'bootstrap')"
                )
            raise PipelineConfigError.java(exception, message, processor_type=opts.type, processor_tag=opts.tag)
        try:
            sources.append(DataStreamValue(item, disallowed))
        except ValueError as error:
            raise opts.error(str(error), name) from None
    return sources


def _set_keeping_notation(doc: IngestDocument, path_text: str, value: str) -> None:
    """A top-level key spelled with dots is updated as it is; otherwise the nested path is set."""
    if path_text in doc.ctx:
        doc.ctx[path_text] = value
    else:
        doc.set(path_text, value)


class Reroute(Processor):
    """Sends the document to another target and ends the pipeline chain (IngestDocument.rerouted).

    With `destination`, that name as it is. Otherwise the current `_index` must be
    `<type>-<dataset>-<namespace>`; each part is the first of its configured values that
    resolves (default: the document's `data_stream.<part>`), else the part of `_index`; the
    parts are written to `data_stream.*`, and to `event.dataset` when the document has one.
    """

    type = "reroute"

    def __init__(self, opts: Options, builder: Any) -> None:
        types = _value_sources(opts, "type", _DISALLOWED_IN_DATASET)
        datasets = _value_sources(opts, "dataset", _DISALLOWED_IN_DATASET)
        namespaces = _value_sources(opts, "namespace", _DISALLOWED_IN_NAMESPACE)
        self.destination: str | None = opts.string("destination", None)
        if self.destination is not None and (types or datasets or namespaces):
            raise opts.error("can only be set if type, dataset, and namespace are not set", "destination")
        self.types = types or [DataStreamValue("{{data_stream.type}}", _DISALLOWED_IN_DATASET)]
        self.datasets = datasets or [DataStreamValue("{{data_stream.dataset}}", _DISALLOWED_IN_DATASET)]
        self.namespaces = namespaces or [DataStreamValue("{{data_stream.namespace}}", _DISALLOWED_IN_NAMESPACE)]

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        if self.destination is not None:
            doc.reroute(self.destination)
            return
        index = doc.get("_index")
        if not isinstance(index, str):
            if index is None:
                raise IngestError('Cannot invoke "String.indexOf(int)" because "indexName" is null', "null_pointer_exception")
            raise _cast_error("_index", index)
        first = index.find("-")
        second = index.find("-", first + 1) if first >= 0 else -1
        if second < 0:
            raise invalid(_NAMING_SCHEME.format(index))
        type_ = _first_resolved(doc, self.types, index[:first])
        dataset = _first_resolved(doc, self.datasets, index[first + 1 : second])
        namespace = _first_resolved(doc, self.namespaces, index[second + 1 :])
        doc.reroute(f"{type_}-{dataset}-{namespace}")
        _set_keeping_notation(doc, "data_stream.type", type_)
        _set_keeping_notation(doc, "data_stream.dataset", dataset)
        _set_keeping_notation(doc, "data_stream.namespace", namespace)
        # ECS: event.dataset equals data_stream.dataset; only kept in step, never added.
        if "event.dataset" in doc.ctx or doc.has("event.dataset"):
            _set_keeping_notation(doc, "event.dataset", dataset)

    def produced_fields(self) -> list[str]:
        if self.destination is not None:
            return []
        return ["data_stream.type", "data_stream.dataset", "data_stream.namespace", "event.dataset"]


def _first_resolved(doc: IngestDocument, sources: list[DataStreamValue], from_index: str) -> str:
    for source in sources:
        value = source.resolve(doc)
        if value is not None:
            return value
    return from_index  # the part of the current _index, as it is (not sanitized)
