"""Processors that set, move and remove fields: set, append, remove, rename, dot_expander."""

from __future__ import annotations

import copy
from typing import Any

from wgsiem.ingest.document import METADATA_KEYS, IngestDocument, java_type
from wgsiem.ingest.errors import invalid
from wgsiem.ingest.mustache import MEDIA_TYPES, ValueSource, template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


def media_type(opts: Options) -> str:
    value = opts.string("media_type", "application/json")
    if value not in MEDIA_TYPES:
        raise opts.error(f"property does not contain a supported media type [{value}]", "media_type")
    return value


def field_template(opts: Options, name: str = "field", default: Any = ...):  # noqa: ANN201
    """A field name that may hold `{{ }}`; plain names skip rendering at run time."""
    text = opts.string(name) if default is ... else opts.string(name, default)
    if text is None:
        return None
    try:
        return template(text)
    except Exception as error:  # noqa: BLE001 - a tag outside the subset, whatever the template engine raised
        raise opts.error(str(error), name) from None


class Set(Processor):
    type = "set"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.copy_from = opts.string("copy_from", None)
        kind = media_type(opts)
        if self.copy_from is None:
            self.value = ValueSource(opts.raw("value"), kind)
        else:
            if opts.raw("value", None) is not None:
                raise opts.error("cannot set both `copy_from` and `value` in the same processor", "copy_from")
            self.value = None
        self.override = opts.boolean("override", True)
        self.ignore_empty_value = opts.boolean("ignore_empty_value", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        field = self.field.source if self.field.static else self.field.render(doc)
        if not self.override and doc.has(field) and doc.get(field) is not None:
            return
        if self.copy_from is not None:
            value = copy.deepcopy(doc.get(self.copy_from, self.ignore_empty_value))
        else:
            value = self.value.resolve(doc)  # type: ignore[union-attr]
        if self.ignore_empty_value and (value is None or value == ""):
            return
        doc.set(field, value)

    def produced_fields(self) -> list[str]:
        return [self.field.source]


class Append(Processor):
    type = "append"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        kind = media_type(opts)
        self.value = ValueSource(opts.raw("value"), kind)
        self.allow_duplicates = opts.boolean("allow_duplicates", True)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        field = self.field.source if self.field.static else self.field.render(doc)
        doc.append(field, self.value.resolve(doc), self.allow_duplicates)

    def produced_fields(self) -> list[str]:
        return [self.field.source]


class Remove(Processor):
    type = "remove"

    def __init__(self, opts: Options, builder: Any) -> None:
        fields = opts.string_or_list("field", None)
        keep = opts.string_or_list("keep", None)
        if not fields and not keep:
            raise opts.error("or [field] must be specified", "keep")
        if fields and keep:
            raise opts.error("and [field] cannot both be used in the same processor", "keep")
        self.fields = [template(f) for f in fields or []]
        self.keep = keep
        self.ignore_missing = opts.boolean("ignore_missing", False)
        plain = all(f.static and not f.source.startswith(("_ingest.", "_source.")) for f in self.fields)
        self.static_keys = [tuple(f.source.split(".")) for f in self.fields] if plain and self.ignore_missing else None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        if self.keep:
            self._keep_only(doc)
            return
        if self.static_keys is not None and self._remove_present(doc):
            return
        for field in self.fields:
            path = field.source if field.static else field.render(doc)
            if self.ignore_missing:
                if doc.has(path):
                    doc.remove(path)
            else:
                doc.remove(path)

    def _remove_present(self, doc: IngestDocument) -> bool:
        """The hot case (static names, ignore_missing, objects only): one dict walk per name.
        False when a list is on the way, and the general path must decide."""
        for keys in self.static_keys:
            node = doc.ctx
            for key in keys[:-1]:
                node = node.get(key)
                if type(node) is not dict:
                    if isinstance(node, list):
                        return False
                    break
            else:
                node.pop(keys[-1], None)
        return True

    def _keep_only(self, doc: IngestDocument) -> None:
        keep = [k.split(".") for k in self.keep or []]

        def prune(node: dict[str, Any], prefix: list[str]) -> None:
            for key in list(node):
                here = prefix + [key]
                if not prefix and key in METADATA_KEYS:
                    continue
                if any(k[: len(here)] == here and len(k) == len(here) for k in keep):
                    continue  # kept, with everything under it
                if any(k[: len(here)] == here for k in keep) and isinstance(node[key], dict):
                    prune(node[key], here)
                    continue
                del node[key]

        prune(doc.ctx, [])


class Rename(Processor):
    type = "rename"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.target = field_template(opts, "target_field")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.override = opts.boolean("override", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        path = self.field.render(doc)
        if not doc.has(path, True):
            if self.ignore_missing:
                return
            raise invalid(f"field [{path}] doesn't exist")
        target = self.target.render(doc)
        if doc.has(target, True) and not self.override:
            raise invalid(f"field [{target}] already exists")
        value = doc.get(path)
        doc.remove(path)
        try:
            doc.set(target, value)
        except Exception:
            doc.set(path, value)  # put it back, as Elasticsearch does
            raise

    def produced_fields(self) -> list[str]:
        return [self.target.source]


class DotExpander(Processor):
    type = "dot_expander"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        if self.field != "*":
            if "." not in self.field:
                raise opts.error("field does not contain a dot and is not a wildcard", "field")
            if self.field.startswith(".") or self.field.endswith("."):
                raise opts.error("Field can't start or end with a dot", "field")
            if ".." in self.field:
                raise opts.error("No space between dots", "field")
        self.path = opts.string("path", None)
        self.override = opts.boolean("override", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        if self.path is not None:
            container = doc.get(self.path)
            if not isinstance(container, dict):
                raise invalid(
                    f"field [{self.path}] of type [{java_type(container)}] cannot be cast to [java.util.Map]"
                )
        else:
            container = doc.ctx
        names = [k for k in container if "." in k] if self.field == "*" else [self.field]
        for name in names:
            if name in container:
                self._expand(doc, container, name)

    def _expand(self, doc: IngestDocument, container: dict[str, Any], name: str) -> None:
        path = f"{self.path}.{name}" if self.path else name
        position = path.find(".")
        while position != -1:
            partial = path[:position]
            if not doc.has(partial):
                break
            if not isinstance(doc.get(partial), dict):
                raise invalid(f"cannot expand [{path}], because [{partial}] is not an object field, but a value field")
            position = path.find(".", position + 1)
        value = container.pop(name)
        if doc.has(path) and not self.override:
            doc.append(path, value)
        else:
            doc.set(path, value)
