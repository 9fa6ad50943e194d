"""Processors that take web identifiers apart: uri_parts, registered_domain, user_agent."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument, java_type
from wgsiem.ingest.errors import IngestError, invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


def _string_field(doc: IngestDocument, field: str, ignore_missing: bool) -> str | None:
    """IngestDocument.getFieldValue(field, String.class, ignoreMissing): None for a missing
    field (when ignored) or a null value; a value of another type fails the cast."""
    value = doc.get(field, ignore_missing)
    if value is not None and not isinstance(value, str):
        raise invalid(f"field [{field}] of type [{java_type(value)}] cannot be cast to [java.lang.String]")
    return value


def uri_parts(text: str) -> dict[str, Any]:
    """UriPartsProcessor.apply (also Painless's Processors.uriParts): the url.* map, without
    `original`; JavaUriError "unable to parse URI [...]" when neither URI nor URL takes it."""
    from wgsiem.ingest.formats.uri import java_uri_parts

    found = java_uri_parts(text)
    parts: dict[str, Any] = {"domain": found.host}
    if found.fragment is not None:
        parts["fragment"] = found.fragment
    if found.path is not None:
        parts["path"] = found.path
        slash = found.path.rfind("/")
        if slash >= 0:
            dot = found.path.rfind(".", slash)
            if dot >= 0:
                parts["extension"] = found.path[dot + 1 :]
    if found.port != -1:
        parts["port"] = found.port
    if found.query is not None:
        parts["query"] = found.query
    parts["scheme"] = found.scheme
    if found.user_info is not None:
        parts["user_info"] = found.user_info
        username, colon, password = found.user_info.partition(":")
        if colon:
            parts["username"] = username
            parts["password"] = password
    return parts


class UriParts(Processor):
    """UriPartsProcessor: url.* (ECS) from a URI, java.net.URI first and java.net.URL after."""

    type = "uri_parts"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.target = opts.string("target_field", "url")
        self.remove_if_successful = opts.boolean("remove_if_successful", False)
        self.keep_original = opts.boolean("keep_original", True)
        self.ignore_missing = opts.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.formats.uri import JavaUriError

        value = _string_field(doc, self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            # new URI(null): Java's helpful NullPointerException, not a parse error
            raise IngestError('Cannot invoke "String.length()" because "this.input" is null', "null_pointer_exception")
        try:
            parts = uri_parts(value)
        except JavaUriError as error:
            raise invalid(str(error)) from None
        if self.keep_original:
            parts["original"] = value
        if self.remove_if_successful and self.target != self.field:
            doc.remove(self.field)
        doc.set(self.target, parts)

    def produced_fields(self) -> list[str]:
        return [self.target]


class RegisteredDomain(Processor):
    """RegisteredDomainProcessor: domain, registered_domain, top_level_domain and subdomain
    from a fully qualified domain name, by the public suffix list."""

    type = "registered_domain"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.target = opts.string("target_field", "")
        self.ignore_missing = opts.boolean("ignore_missing", True)
        prefix = self.target + "." if self.target else ""
        self.targets = {key: prefix + key for key in ("domain", "registered_domain", "top_level_domain", "subdomain")}

    def _info(self, doc: IngestDocument) -> dict[str, str | None] | None:
        from wgsiem.ingest.formats.public_suffix import default_list

        name = _string_field(doc, self.field, self.ignore_missing)
        if name is None:
            return None
        suffixes = default_list()
        root = suffixes.domain_root(name)
        if root is None:
            if suffixes.matches(name):  # the name is itself a public suffix
                return {"domain": name, "registered_domain": None, "top_level_domain": name, "subdomain": None}
            return None
        if "." not in root:
            return None  # no known suffix: the matcher fell through to the last label
        dot = root.index(".") + 1
        if dot >= len(root):
            return {}
        # Case-sensitive on purpose: the root is lowercased, the name is as given, and
        # Elasticsearch then finds no subdomain in a name written in capitals.
        at = name.rfind("." + root)
        return {
            "domain": name,
            "registered_domain": root,
            "top_level_domain": root[dot:],
            "subdomain": name[:at] if at > 0 else None,
        }

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        info = self._info(doc)
        if info is None:
            if self.ignore_missing:
                return
            raise invalid("unable to set domain information for document")
        for key in ("domain", "registered_domain", "top_level_domain", "subdomain"):
            value = info.get(key)
            if value is not None:
                doc.set(self.targets[key], value)

    def produced_fields(self) -> list[str]:
        return list(self.targets.values())


_PROPERTIES = ("NAME", "OS", "DEVICE", "ORIGINAL", "VERSION")  # UserAgentProcessor.Property, in order


class UserAgent(Processor):
    """UserAgentProcessor: user_agent.name, .version, .os.{name,version,full}, .device.name
    (and .type with extract_device_type), .original."""

    type = "user_agent"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.user_agent import DEFAULT_PARSER_NAME, UserAgentRegexError

        self.field = opts.string("field")
        self.target = opts.string("target_field", "user_agent")
        regex_file = opts.string("regex_file", DEFAULT_PARSER_NAME)
        names = opts.list("properties", None)
        self.extract_device_type = opts.boolean("extract_device_type", False)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        try:
            parser = builder.user_agents.get(regex_file)
        except UserAgentRegexError as error:
            raise opts.error(str(error), "regex_file") from None
        if parser is None:
            raise opts.error(f"regex file [{regex_file}] doesn't exist (has to exist at node startup)", "regex_file")
        self.parser = parser
        self.properties: tuple[str, ...] = _PROPERTIES
        if names is not None:
            chosen = set()
            for name in names:
                upper = str(name).upper()
                if upper not in _PROPERTIES:
                    raise opts.error(f"illegal property value [{name}]. valid values are [{', '.join(_PROPERTIES)}]", "properties")
                chosen.add(upper)
            self.properties = tuple(p for p in _PROPERTIES if p in chosen)  # an EnumSet iterates in declaration order

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        agent = _string_field(doc, self.field, self.ignore_missing)
        if agent is None:
            if self.ignore_missing:
                return
            raise invalid(f"field [{self.field}] is null, cannot parse user-agent.")
        details = self.parser.parse(agent, self.extract_device_type)
        out: dict[str, Any] = {}
        for prop in self.properties:
            if prop == "ORIGINAL":
                out["original"] = agent
            elif prop == "NAME":
                out["name"] = details.name if details.name is not None else "Other"
            elif prop == "VERSION":
                if details.version is not None:
                    out["version"] = details.version
            elif prop == "OS":
                if details.os is not None:
                    os: dict[str, str] = {"name": details.os.name}
                    if details.os.version is not None:
                        os["version"] = details.os.version
                        os["full"] = details.os_full or ""
                    out["os"] = os
            else:  # DEVICE
                device: dict[str, Any] = {"name": details.device.name if details.device is not None else "Other"}
                if self.extract_device_type:
                    if details.device is not None:
                        device["type"] = details.device_type
                    else:
                        device["type"] = details.device_type if details.device_type is not None else "Other"
                out["device"] = device
        doc.set(self.target, out)

    def produced_fields(self) -> list[str]:
        return [self.target]

