"""Processors that set, move and remove fields: set, append, remove, rename, dot_expander.

Each follows its Elasticsearch class (SetProcessor, AppendProcessor, RemoveProcessor,
RenameProcessor, DotExpanderProcessor): options read in the factory's order, messages
word for word.
"""

from __future__ import annotations

import copy
from typing import Any

from wgsiem.ingest.document import METADATA_KEYS, IngestDocument, java_type
from wgsiem.ingest.errors import IngestError, PipelineConfigError, invalid
from wgsiem.ingest.mustache import MEDIA_TYPES, Template, ValueSource, template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

_METADATA = frozenset(METADATA_KEYS)


def media_type(opts: Options) -> str:
    value = opts.string("media_type", "application/json")
    if value not in MEDIA_TYPES:
        raise opts.error(f"property does not contain a supported media type [{value}]", "media_type")
    return str(value)


def compile_template(opts: Options, name: str, text: str) -> Template:
    """ConfigurationUtils.compileTemplate: a field name that may hold `{{ }}`."""
    try:
        return template(text)
    except PipelineConfigError as error:  # a tag outside the subset
        raise opts.error(error.reason, name) from None


def field_template(opts: Options, name: str = "field", default: Any = ...) -> Any:
    """A field name that may hold `{{ }}`; plain names skip rendering at run time."""
    text = opts.string(name) if default is ... else opts.string(name, default)
    if text is None:
        return None
    return compile_template(opts, name, text)


def _value_or_copy_from(opts: Options) -> tuple[str | None, ValueSource | None, bool]:
    """(copy_from, value, templated), read as SetProcessor's factory reads them: copy_from,
    media_type, then `value`, required unless copy_from is given and refused beside it.
    `templated` is ValueSource's TemplatedValue (a string holding `{{`), the only value whose
    empty rendering ignore_empty_value skips."""
    copy_from = opts.string("copy_from", None)
    kind = media_type(opts)
    if copy_from is None:
        value = opts.raw("value")
        return None, ValueSource(value, kind), isinstance(value, str) and "{{" in value
    if opts.raw("value", None) is not None:
        raise opts.error("cannot set both `copy_from` and `value` in the same processor", "copy_from")
    return copy_from, None, False


def _empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value)


class Set(Processor):
    type = "set"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.copy_from, self.value, self.templated = _value_or_copy_from(opts)
        self.override = opts.boolean("override", True)
        self.ignore_empty_value = opts.boolean("ignore_empty_value", False)
        self.static_field = self.field.source if self.field.static else None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        field = self.static_field or self.field.render(doc)
        if not self.override and doc.has(field) and doc.get(field) is not None:
            return
        if self.copy_from is not None:
            value = copy.deepcopy(doc.get(self.copy_from, self.ignore_empty_value))
            if self.ignore_empty_value and _empty(value):
                return
        else:
            value = self.value.resolve(doc)  # type: ignore[union-attr]
            if self.templated and self.ignore_empty_value and _empty(value):
                return
        doc.set(field, value)

    def produced_fields(self) -> list[str]:
        return [self.field.source]


class Append(Processor):
    """Appends to a list, making one of a scalar or an absent field. Without duplicates, or
    ignoring empty values (null, ""), an append that adds nothing changes nothing: no list
    is made and no field created (360_append_allow_duplicates.yml, 380_append_edge_cases.yml)."""

    type = "append"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.copy_from, self.value, _ = _value_or_copy_from(opts)
        self.allow_duplicates = opts.boolean("allow_duplicates", True)
        self.ignore_empty_values = opts.boolean("ignore_empty_values", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        field = self.field.source if self.field.static else self.field.render(doc)
        if self.copy_from is not None:
            value = copy.deepcopy(doc.get(self.copy_from, self.ignore_empty_values))
        else:
            value = self.value.resolve(doc)  # type: ignore[union-attr]
        if self.ignore_empty_values:
            value = [item for item in (value if isinstance(value, list) else [value]) if not _empty(item)]
            if not value:
                return
        doc.append(field, value, self.allow_duplicates)

    def produced_fields(self) -> list[str]:
        return [self.field.source]


def _class_cast(value: Any, to: str) -> str:
    cls = java_type(value)
    return f"class {cls} cannot be cast to class {to} ({cls} and {to} are in module java.base of loader 'bootstrap')"


def _remove_templates(opts: Options, name: str) -> list[Template]:
    """RemoveProcessor.Factory.getFields: a string or a list of strings, each a template.
    A key given as null is required; what is not a string fails as the Java cast does."""
    if name not in opts.config:
        return []
    value = opts.raw(name)
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None:
            raise PipelineConfigError.java(
                "java.lang.NullPointerException",
                'Cannot invoke "String.contains(java.lang.CharSequence)" because "propertyValue" is null',
                processor_type=opts.type,
                processor_tag=opts.tag,
                property_name=name,
            )
        if not isinstance(item, str):
            raise PipelineConfigError.java(
                "java.lang.ClassCastException", _class_cast(item, "java.lang.String"), processor_type=opts.type, processor_tag=opts.tag
            )
        out.append(compile_template(opts, name, item))
    return out


class Remove(Processor):
    type = "remove"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.fields = _remove_templates(opts, "field")
        self.keep = _remove_templates(opts, "keep")
        if not self.fields and not self.keep:
            raise opts.error("or [field] must be specified", "keep")
        if self.fields and self.keep:
            raise opts.error("and [field] cannot both be used in the same processor", "keep")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        plain = all(f.static and not f.source.startswith(("_ingest.", "_source.")) and f.source for f in self.fields)
        self.static_keys = _key_tree([f.source.split(".") for f in self.fields]) if plain and self.ignore_missing else None

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
        """The hot case (static names, ignore_missing, objects only): the names as a tree,
        walked once through the document. False when a list is on the way (or a name is
        both removed and a parent of another): then the general path decides."""
        return _prune(doc.ctx, self.static_keys)  # type: ignore[arg-type]

    def _keep_only(self, doc: IngestDocument) -> None:
        """fieldsToKeepProcessor: every path of the source through objects (not lists),
        metadata aside, is removed unless it is a kept path, lies under one, or leads to one."""
        keep = [field.source if field.static else field.render(doc) for field in self.keep]
        for path in _all_fields(doc.ctx, ""):
            if path in _METADATA:
                continue
            if any(path == k or k.startswith(path + ".") or path.startswith(k + ".") for k in keep):
                continue
            if doc.has(path):
                doc.remove(path)


def _key_tree(names: list[list[str]]) -> dict[str, Any] | None:
    """{key: subtree or None for a leaf}; None when a name is also a prefix of another."""
    tree: dict[str, Any] = {}
    for keys in names:
        node = tree
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if child is None:
                return None
            node = child
        if node.get(keys[-1]) is not None:
            return None
        node[keys[-1]] = None
    return tree


def _prune(node: dict[str, Any], tree: dict[str, Any]) -> bool:
    for key, sub in tree.items():
        if sub is None:
            node.pop(key, None)
            continue
        child = node.get(key)
        if type(child) is dict:
            if not _prune(child, sub):
                return False
        elif isinstance(child, list):
            return False
    return True


def _all_fields(node: dict[str, Any], prefix: str) -> list[str]:
    """IngestDocument.getAllFields: each key's dotted path, recursing into objects."""
    found = []
    for key, value in node.items():
        found.append(prefix + key)
        if isinstance(value, dict):
            found.extend(_all_fields(value, prefix + key + "."))
    return found


class Rename(Processor):
    type = "rename"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.target = field_template(opts, "target_field")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.override = opts.boolean("override", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        path = self.field.source if self.field.static else self.field.render(doc)
        # A template that renders empty names no field: missing, not an invalid path.
        if not path or not doc.has(path, True):
            if self.ignore_missing:
                return
            raise invalid(f"field [{path}] doesn't exist")
        target = self.target.source if self.target.static else self.target.render(doc)
        # Checked first, out-of-range list slots included, so that a failure leaves the
        # document as it was for on_failure handlers.
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
        if "." not in self.field and self.field != "*":
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
            if container is None:
                call = "keySet()" if self.field == "*" else "containsKey(Object)"
                raise IngestError(f'Cannot invoke "java.util.Map.{call}" because "map" is null', "null_pointer_exception")
            if not isinstance(container, dict):
                raise invalid(f"field [{self.path}] of type [{java_type(container)}] cannot be cast to [java.util.Map]")
        else:
            container = doc.ctx
        prefix = f"{self.path}." if self.path is not None else ""
        if self.field == "*":
            for name in list(container):
                if name.find(".") > 0:  # a key starting with a dot is left alone
                    self._expand(doc, container, prefix + name, name)
        else:
            self._expand(doc, container, prefix + self.field, self.field)

    def _expand(self, doc: IngestDocument, container: dict[str, Any], path: str, name: str) -> None:
        if name not in container:
            return
        value = container.pop(name)
        if doc.has(path):
            if self.override:
                doc.set(path, value)
            else:
                doc.append(path, value)
            return
        # Only checked when the expanded path is new: a value field on the way is a clearer
        # failure than the one setting the path would give (the key is already taken out).
        position = path.find(".")
        while position != -1:
            partial = path[:position]
            if not doc.has(partial):
                break
            if not isinstance(doc.get(partial), dict):
                raise invalid(f"cannot expand [{path}], because [{partial}] is not an object field, but a value field")
            position = path.find(".", position + 1)
        doc.set(path, value)
