"""URI and URL parsing as Java's `java.net.URI` and `java.net.URL` do it, for `uri_parts`.

Elasticsearch's UriPartsProcessor parses with `new URI(s)` (RFC 2396, with Java's
deviations: IPv6 literals, empty authorities, a registry-based authority when the
authority is not a valid server) and, when that throws, with `new URL(s)` (lenient, and
only for the protocols the JDK has handlers for). The components it reads differ in
decoding: URI's user info, path, query and fragment are percent-decoded (UTF-8, bad
sequences become U+FFFD), URL's are raw. What is written here reproduces what those
getters return on JDK 25 (the JDK Elasticsearch 9.4 bundles), checked against it.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass

from wgsiem.errors import WgsiemError


class JavaUriError(WgsiemError, ValueError):
    """The string is neither a java.net.URI nor a java.net.URL."""


@dataclass(frozen=True, slots=True)
class UriParts:
    """The getters UriPartsProcessor reads; None where Java returns null, port -1 for none."""

    scheme: str | None
    user_info: str | None
    host: str | None
    port: int
    path: str | None
    query: str | None
    fragment: str | None


# --- character classes of RFC 2396 as java.net.URI spells them -----------------------

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_ALPHANUM = _ALPHA | _DIGIT
_HEX = _DIGIT | frozenset("abcdefABCDEF")
_UNRESERVED = _ALPHANUM | frozenset("-_.!~*'()")
_RESERVED = frozenset(";/?:@&=+$,[]")
_URIC = _RESERVED | _UNRESERVED
_PCHAR = _UNRESERVED | frozenset(":@&=+$,")
_PATH = _PCHAR | frozenset(";/")
_USERINFO = _UNRESERVED | frozenset(";:&=+$,")
_REG_NAME = _UNRESERVED | frozenset("$,;:@&=+")
_SERVER = _USERINFO | _ALPHANUM | frozenset("-.:@[]")
_SERVER_PERCENT = _SERVER | frozenset("%")
_SCHEME = _ALPHANUM | frozenset("+-.")
_SCOPE_ID = _ALPHANUM | frozenset("_.")


def _is_space_char(c: str) -> bool:
    """Character.isSpaceChar: the Unicode space separators."""
    return unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _is_iso_control(c: str) -> bool:
    code = ord(c)
    return code <= 0x1F or 0x7F <= code <= 0x9F


class _UriParser:
    """java.net.URI.Parser, for parse(false): a registry-based authority is accepted."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.scheme: str | None = None
        self.user_info: str | None = None
        self.host: str | None = None
        self.port = -1
        self.path: str | None = None
        self.query: str | None = None
        self.fragment: str | None = None
        self.ipv6_bytes = 0

    # -- scanning, as URI.Parser's scan/checkChars --------------------------------------

    def _scan_until(self, start: int, end: int, stop: str, err: str = "") -> int:
        p = start
        while p < end:
            c = self.s[p]
            if c in err:
                return -1
            if c in stop:
                break
            p += 1
        return p

    def _scan(self, start: int, end: int, allowed: frozenset[str], escaped: bool = False) -> int:
        s = self.s
        p = start
        while p < end:
            c = s[p]
            if c in allowed:
                p += 1
                continue
            if escaped:
                if c == "%":
                    if p + 3 <= end and s[p + 1] in _HEX and s[p + 2] in _HEX:
                        p += 3
                        continue
                    raise JavaUriError("Malformed escape pair")
                if ord(c) > 128 and not _is_space_char(c) and not _is_iso_control(c):
                    p += 1
                    continue
            break
        return p

    def _check(self, start: int, end: int, allowed: frozenset[str], escaped: bool = False) -> None:
        if self._scan(start, end, allowed, escaped) < end:
            raise JavaUriError("Illegal character")

    # -- the grammar ----------------------------------------------------------------------

    def parse(self) -> None:
        s, n = self.s, len(self.s)
        p = self._scan_until(0, n, ":", err="/?#")
        if p >= 0 and p < n and s[p] == ":":
            if p == 0 or s[0] not in _ALPHA:
                raise JavaUriError("Expected scheme name")
            self._check(1, p, _SCHEME)
            self.scheme = s[:p]
            p += 1
            if p < n and s[p] == "/":
                p = self._hierarchical(p, n)
            else:
                q = self._scan_until(p, n, "#")
                if q <= p:
                    raise JavaUriError("Expected scheme-specific part")
                self._check(p, q, _URIC, escaped=True)
                p = q  # opaque: no path, host or query
        else:
            p = self._hierarchical(0, n)
        if p < n and s[p] == "#":
            self._check(p + 1, n, _URIC, escaped=True)
            self.fragment = s[p + 1 :]
            p = n
        if p < n:
            raise JavaUriError("Expected end of URI")

    def _hierarchical(self, start: int, n: int) -> int:
        s = self.s
        p = start
        if s.startswith("//", p):
            p += 2
            q = self._scan_until(p, n, "/?#")
            if q > p:
                p = self._authority(p, q)
            elif q >= n:
                raise JavaUriError("Expected authority")
        q = self._scan_until(p, n, "?#")
        self._check(p, q, _PATH, escaped=True)
        self.path = s[p:q]
        p = q
        if p < n and s[p] == "?":
            p += 1
            q = self._scan_until(p, n, "#")
            self._check(p, q, _URIC, escaped=True)
            self.query = s[p:q]
            p = q
        return p

    def _authority(self, start: int, n: int) -> int:
        s = self.s
        p = start
        server_set = _SERVER_PERCENT if self._scan_until(p, n, "]") > p else _SERVER
        server_chars = self._scan(p, n, server_set, escaped=True) == n
        reg_chars = self._scan(p, n, _REG_NAME, escaped=True) == n
        if reg_chars and not server_chars:
            return n  # registry-based: no user info, host or port
        skip = reg_chars
        error: JavaUriError | None = None
        q = p
        if server_chars:
            try:
                q = self._server(p, n, skip)
                if q < n:
                    if not skip:
                        raise JavaUriError("Expected end of authority")
                    self.user_info, self.host, self.port, q = None, None, -1, p
            except JavaUriError as why:
                self.user_info, self.host, self.port = None, None, -1
                error, q = why, p
        if q < n:
            if reg_chars:
                return n
            if error is not None:
                raise error
            raise JavaUriError(f"Illegal character in authority at {s[p:n]!r}")
        return n

    def _server(self, start: int, n: int, skip: bool) -> int:
        s = self.s
        p = start
        q = self._scan_until(p, n, "@", err="/?#")
        if q >= p and q < n and s[q] == "@":
            self._check(p, q, _USERINFO, escaped=True)
            self.user_info = s[p:q]
            p = q + 1
        if p < n and s[p] == "[":
            p += 1
            q = self._scan_until(p, n, "]", err="/?#")
            if not (q > p and q < n and s[q] == "]"):
                raise JavaUriError("Expected closing bracket for IPv6 address")
            r = self._scan_until(p, q, "%")
            if r > p:
                self._ipv6(p, r)
                if r + 1 == q:
                    raise JavaUriError("scope id expected")
                self._check(r + 1, q, _SCOPE_ID)
            else:
                self._ipv6(p, q)
            self.host = s[p - 1 : q + 1]
            p = q + 1
        else:
            q = self._ipv4_host(p, n)
            if q <= p:
                q = self._hostname(p, n, skip)
            p = q
        if p < n and s[p] == ":":
            p += 1
            q = self._scan_until(p, n, "/")
            if q > p:
                self._check(p, q, _DIGIT)
                port = int(s[p:q])
                if port > 2**31 - 1:
                    raise JavaUriError("Malformed port number")
                self.port = port
                p = q
        elif skip:
            return p
        if p < n:
            raise JavaUriError("Expected port number")
        return p

    def _scan_byte(self, start: int, n: int) -> int:
        q = self._scan(start, n, _DIGIT)
        if q <= start:
            return q
        return start if int(self.s[start:q]) > 255 else q

    def _scan_ipv4(self, start: int, n: int, strict: bool) -> int:
        """URI.Parser.scanIPv4Address: -1 when no digits-and-dots run starts here."""
        m = self._scan(start, n, _DIGIT | frozenset("."))
        if m <= start or (strict and m != n):
            return -1
        p = start
        for index in range(7):
            if index % 2 == 0:
                q = self._scan_byte(p, m)
            else:
                q = p + 1 if p < m and self.s[p] == "." else p
            if q <= p:
                raise JavaUriError("Malformed IPv4 address")
            p = q
        if p < m:
            raise JavaUriError("Malformed IPv4 address")
        return p

    def _ipv4_host(self, start: int, n: int) -> int:
        try:
            p = self._scan_ipv4(start, n, False)
        except (JavaUriError, ValueError):
            return -1
        if start < p < n and self.s[p] != ":":
            p = -1
        if p > start:
            self.host = self.s[start:p]
        return p

    def _hostname(self, start: int, n: int, skip: bool) -> int:
        s = self.s
        p = start
        last = -1
        while True:
            q = self._scan(p, n, _ALPHANUM)
            if q <= p:
                break
            last = p
            p = q
            q = self._scan(p, n, _ALPHANUM | frozenset("-"))
            if q > p:
                if s[q - 1] == "-":
                    raise JavaUriError("Illegal character in hostname")
                p = q
            if not (p < n and s[p] == "."):
                break
            p += 1
            if p >= n:
                break
        if p < n and s[p] != ":":
            if skip:
                return p
            raise JavaUriError("Illegal character in hostname")
        if last < 0:
            raise JavaUriError("Expected hostname")
        if last > start and s[last] not in _ALPHA:
            raise JavaUriError("Illegal character in hostname")
        self.host = s[start:p]
        return p

    def _ipv6(self, start: int, n: int) -> None:
        s = self.s
        self.ipv6_bytes = 0
        compressed = False
        p = start
        q = self._hex_seq(p, n)
        if q > p:
            p = q
            if s.startswith("::", p) and p + 2 <= n:
                compressed = True
                p = self._hex_post(p + 2, n)
            elif p < n and s[p] == ":":
                p = self._take_ipv4(p + 1, n)
                self.ipv6_bytes += 4
        elif s.startswith("::", p) and p + 2 <= n:
            compressed = True
            p = self._hex_post(p + 2, n)
        if p < n:
            raise JavaUriError("Malformed IPv6 address")
        if self.ipv6_bytes > 16:
            raise JavaUriError("IPv6 address too long")
        if not compressed and self.ipv6_bytes < 16:
            raise JavaUriError("IPv6 address too short")
        if compressed and self.ipv6_bytes == 16:
            raise JavaUriError("Malformed IPv6 address")

    def _take_ipv4(self, start: int, n: int) -> int:
        p = self._scan_ipv4(start, n, True)
        if p <= start:
            raise JavaUriError("Expected IPv4 address")
        return p

    def _hex_post(self, start: int, n: int) -> int:
        if start == n:
            return start
        q = self._hex_seq(start, n)
        if q > start:
            p = q
            if p < n and self.s[p] == ":":
                p = self._take_ipv4(p + 1, n)
                self.ipv6_bytes += 4
            return p
        p = self._take_ipv4(start, n)
        self.ipv6_bytes += 4
        return p

    def _hex_seq(self, start: int, n: int) -> int:
        s = self.s
        q = self._scan(start, n, _HEX)
        if q <= start or (q < n and s[q] == "."):
            return -1
        if q > start + 4:
            raise JavaUriError("IPv6 hexadecimal digit sequence too long")
        self.ipv6_bytes += 2
        p = q
        while p < n:
            if s[p] != ":" or (p + 1 < n and s[p + 1] == ":"):
                break
            p += 1
            q = self._scan(p, n, _HEX)
            if q <= p:
                raise JavaUriError("Expected digits for an IPv6 address")
            if q < n and s[q] == ".":
                p -= 1
                break
            if q > p + 4:
                raise JavaUriError("IPv6 hexadecimal digit sequence too long")
            self.ipv6_bytes += 2
            p = q
        return p


def java_uri_decode(text: str | None, ignore_in_brackets: bool) -> str | None:
    """URI.decode: %XX runs decoded as UTF-8 (malformed bytes become U+FFFD); with
    `ignore_in_brackets`, a '%' between '[' and ']' (an IPv6 scope) is left as it is."""
    if not text or "%" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    in_brackets = False
    while i < n:
        c = text[i]
        if c == "[":
            in_brackets = True
        elif in_brackets and c == "]":
            in_brackets = False
        if c != "%" or (in_brackets and ignore_in_brackets):
            out.append(c)
            i += 1
            continue
        run = bytearray()
        while i < n and text[i] == "%":
            run.append(int(text[i + 1 : i + 3], 16))
            i += 3
        out.append(run.decode("utf-8", errors="replace"))
    return "".join(out)


def parse_uri(text: str) -> UriParts:
    """new URI(text) and its decoded getters; JavaUriError when Java throws."""
    parser = _UriParser(text)
    parser.parse()
    return UriParts(
        scheme=parser.scheme,
        user_info=java_uri_decode(parser.user_info, True),
        host=parser.host,
        port=parser.port,
        path=java_uri_decode(parser.path, False),
        query=java_uri_decode(parser.query, False),
        fragment=java_uri_decode(parser.fragment, False),
    )


# --- java.net.URL ----------------------------------------------------------------------

# The JDK's built-in stream handlers: any other protocol is "unknown protocol".
_DEFAULT_HANDLERS = frozenset({"http", "https", "ftp", "file", "jrt", "jmod"})
# Characters the JDK 20+ URL constructor refuses in a host ("early parsing"): controls,
# RFC 3986 gen-delims, "unwise" and excluded delimiters, and a few look-alike symbols.
_HOST_REFUSED = frozenset(
    [chr(c) for c in range(32)] + ["\x7f"] + list(":/?#[]@") + list("{}|\\^`") + list('<>" ')
    + [chr(c) for c in (8263, 8264, 8265, 8448, 8449, 8453, 8454, 10868, 65109, 65110, 65119, 65131, 65283, 65295, 65306, 65311, 65312)]
)  # fmt: skip
_USERINFO_REFUSED = frozenset([chr(c) for c in range(32)] + ["\x7f"] + list("/?#[]@\\"))
# What IPAddressUtil.checkAuth refuses in an authority that gave neither host nor user info.
_AUTHORITY_REFUSED = frozenset([chr(c) for c in range(32)] + ["\x7f"] + list("/?#\\"))
_PROTOCOL_CHARS = frozenset(".+-")


def _valid_protocol(name: str) -> bool:
    return bool(name) and name[0].isalpha() and all(c.isalnum() or c in _PROTOCOL_CHARS for c in name[1:])


def _java_int(text: str) -> int:
    """Integer.parseInt(text, 10): an optional sign, ASCII digits, within 32 bits."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not all("0" <= c <= "9" for c in body):
        raise JavaUriError(f'For input string: "{text}"')
    value = int(text)
    if not -(2**31) <= value <= 2**31 - 1:
        raise JavaUriError(f'For input string: "{text}"')
    return value


def _ipv6_literal(text: str) -> bool:
    """IPAddressUtil.isIPv6LiteralAddress, scope (%...) allowed."""
    address, _, scope = text.partition("%")
    if "%" in text and not scope:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def parse_url(spec: str) -> UriParts:
    """new URL(spec) and its raw getters; JavaUriError when Java throws MalformedURLException."""
    limit = len(spec)
    while limit > 0 and spec[limit - 1] <= " ":
        limit -= 1
    start = 0
    while start < limit and spec[start] <= " ":
        start += 1
    if spec[start : start + 4].lower() == "url:":
        start += 4
    protocol = None
    if not (start < len(spec) and spec[start] == "#"):
        i = start
        while i < limit and spec[i] != "/":
            if spec[i] == ":":
                candidate = spec[start:i].lower()
                if _valid_protocol(candidate):
                    protocol, start = candidate, i + 1
                break
            i += 1
    if protocol is None:
        raise JavaUriError(f"no protocol: {spec}")
    if protocol not in _DEFAULT_HANDLERS and protocol not in ("mailto", "jar"):
        raise JavaUriError(f"unknown protocol: {protocol}")
    ref = None
    hash_at = spec.find("#", start)
    if hash_at >= 0:
        if hash_at + 1 > limit:
            raise JavaUriError("begin > end")
        ref = spec[hash_at + 1 : limit]
        limit = hash_at
    if protocol == "mailto":
        return _mailto(spec, start, limit)
    if protocol == "jar":
        # The jar handler takes its reference again, to the very end (trailing blanks kept).
        return _jar(spec, start, limit, spec[hash_at + 1 :] if hash_at >= 0 else None)
    parts, authority, no_host = _default_parse(protocol, spec, start, limit, ref)
    _check_authority(parts, authority if no_host else None)
    return parts


def _split_file(file: str) -> tuple[str, str | None]:
    """URLStreamHandler.setURL(..., file, ref): the query is what follows the last '?'."""
    path, mark, query = file.rpartition("?")
    if not mark:
        return file, None
    return path, (query if mark else None)


def _mailto(spec: str, start: int, limit: int) -> UriParts:
    file = spec[start:limit] if start < limit else ""
    if not file or all(c.isspace() for c in file):
        raise JavaUriError("No email address")
    path, query = _split_file(file)
    return UriParts("mailto", None, "", -1, path, query, None)


def _jar(spec: str, start: int, limit: int, ref: str | None) -> UriParts:
    """The jar handler: an absolute `jar:<url>!/<entry>` whose inner URL is itself valid."""
    body = spec[start:limit]
    if not spec[:4].lower() == "jar:":
        raise JavaUriError("no !/ in spec")
    bang = body.find("!/")
    if bang == -1:
        raise JavaUriError("no !/ in spec")
    parse_url(body[:bang])
    path, query = _split_file(body)
    return UriParts("jar", None, "", -1, path, query, ref)


def _default_parse(  # noqa: C901, PLR0912
    protocol: str, spec: str, start: int, limit: int, ref: str | None
) -> tuple[UriParts, str | None, bool]:
    """URLStreamHandler.parseURL with no context URL; also the authority, and whether it gave
    no host (more than one '@'), which the authority check looks at."""
    query = None
    user_info: str | None = None
    host: str | None = None
    authority: str | None = None
    port = -1
    path: str | None = None
    no_host = False
    query_only = False
    if start < limit:
        query_at = spec.find("?")
        query_only = query_at == start
        if query_at != -1 and query_at < limit:
            query = spec[query_at + 1 : limit]
            limit = query_at
            spec = spec[:query_at]
    unc = start <= limit - 4 and spec[start : start + 4] == "////"
    if not unc and start <= limit - 2 and spec[start : start + 2] == "//":
        start += 2
        i = spec.find("/", start)
        if i < 0 or i > limit:
            i = spec.find("?", start)
            if i < 0 or i > limit:
                i = limit
        host = authority = spec[start:i]
        at = authority.find("@")
        if at != -1:
            if at != authority.rfind("@"):
                user_info, host = None, None
            else:
                user_info, host = authority[:at], authority[at + 1 :]
        if host is not None:
            if host.startswith("["):
                close = host.find("]")
                if close <= 2:
                    raise JavaUriError(f"Invalid authority field: {authority}")
                whole = host
                host = whole[: close + 1]
                if not _ipv6_literal(host[1:close]):
                    raise JavaUriError(f"Invalid host: {host}")
                if len(whole) > close + 1:
                    if whole[close + 1] != ":":
                        raise JavaUriError(f"Invalid authority field: {authority}")
                    if len(whole) > close + 2:
                        port = _java_int(whole[close + 2 :])
            else:
                colon = host.find(":")
                if colon >= 0:
                    if len(host) > colon + 1:
                        port = _java_int(host[colon + 1 :])
                    host = host[:colon]
        else:
            host, no_host = "", True
        if port < -1:
            raise JavaUriError(f"Invalid port number :{port}")
        start = i
        if authority:
            path = ""
    if host is None:
        host = ""
    if start < limit:
        rest = spec[start:limit]
        path = rest if spec[start] == "/" else ("/" + rest if authority is not None else rest)
    elif query_only and path is not None:
        path = "/"
    return UriParts(protocol, user_info, host, port, path if path is not None else "", query, ref), authority, no_host


def _check_authority(parts: UriParts, hostless_authority: str | None) -> None:
    """IPAddressUtil.checkAuthority, which the JDK 20+ URL constructor applies at once."""
    if parts.user_info is not None and any(c in _USERINFO_REFUSED for c in parts.user_info):
        raise JavaUriError("Illegal character found in user-info")
    host = parts.host or ""
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        if not _ipv6_literal(inner):
            raise JavaUriError("Unrecognized IPv6 address format")
        _, mark, scope = inner.partition("%")
        if mark and any(c in "[]/\\#?" or ord(c) < 32 or c == "\x7f" for c in scope):
            raise JavaUriError("Illegal character found in IPv6 scoped address")
    elif any(c in _HOST_REFUSED for c in host):
        raise JavaUriError("Illegal character found in host")
    if hostless_authority is not None and parts.user_info is None and any(c in _AUTHORITY_REFUSED for c in hostless_authority):
        raise JavaUriError("Illegal character found in authority")


def java_uri_parts(text: str) -> UriParts:
    """What UriPartsProcessor.apply reads: URI first, URL when URI refuses the string."""
    try:
        return parse_uri(text)
    except JavaUriError:
        pass
    try:
        return parse_url(text)
    except JavaUriError:
        raise JavaUriError(f"unable to parse URI [{text}]") from None
