"""The test GeoIP world: fixtures/geoip/world.yaml built into MaxMind DB files."""

from __future__ import annotations

import copy
import ipaddress
import re
import struct
import time
from pathlib import Path
from typing import Any

import geoip2.database
import geoip2.errors
import maxminddb
import pytest
import yaml

from wgsiem.geoworld import BUILD_EPOCH, DEFAULT_SOURCE, WorldError, build_world, main

WORLD_YAML = Path(__file__).resolve().parents[1] / "fixtures" / "geoip" / "world.yaml"
WORLD = yaml.safe_load(WORLD_YAML.read_text(encoding="utf-8"))["networks"]


@pytest.fixture(scope="module")
def city(geoip_world):
    with geoip2.database.Reader(str(geoip_world.city)) as reader:
        yield reader


@pytest.fixture(scope="module")
def asn(geoip_world):
    with geoip2.database.Reader(str(geoip_world.asn)) as reader:
        yield reader


def test_default_source_is_the_committed_world():
    assert DEFAULT_SOURCE == WORLD_YAML


def test_world_gives_every_network_its_own_as():
    numbers = [entry["asn"]["number"] for entry in WORLD]
    assert len(set(numbers)) == len(numbers) == 9


def test_build_is_deterministic_and_fast(tmp_path, geoip_world):
    started = time.perf_counter()
    first = build_world(WORLD_YAML, tmp_path / "a")
    elapsed = time.perf_counter() - started
    second = build_world(WORLD_YAML, tmp_path / "b")
    for one, other, session in zip(first, second, geoip_world, strict=True):
        assert one.read_bytes() == other.read_bytes() == session.read_bytes()
    assert elapsed < 1.0


@pytest.mark.parametrize("entry", WORLD, ids=[e["network"] for e in WORLD])
def test_every_network_resolves_from_first_to_last_address(city, asn, entry):
    network = ipaddress.ip_network(entry["network"])
    for address in (network.network_address, network.broadcast_address):
        place = city.city(str(address))
        assert place.traits.network == network
        assert place.continent.code == entry["continent"]["code"]
        assert place.continent.name == entry["continent"]["name"]
        assert place.country.iso_code == entry["country"]["iso_code"]
        assert place.country.name == entry["country"]["name"]
        assert place.registered_country.iso_code == entry["country"]["iso_code"]
        assert place.city.name == entry.get("city")
        if "region" in entry:
            region = place.subdivisions.most_specific
            assert f"{place.country.iso_code}-{region.iso_code}" == entry["region"]["iso_code"]
            assert region.name == entry["region"]["name"]
        else:
            assert not place.subdivisions
        location = entry["location"]
        assert place.location.latitude == pytest.approx(location["lat"])
        assert place.location.longitude == pytest.approx(location["lon"])
        assert place.location.time_zone == location["time_zone"]
        assert place.location.accuracy_radius == location["accuracy_radius"]

        owner = asn.asn(str(address))
        assert owner.network == network
        assert owner.autonomous_system_number == entry["asn"]["number"]
        assert owner.autonomous_system_organization == entry["asn"]["organization"]


@pytest.mark.parametrize("entry", WORLD, ids=[e["network"] for e in WORLD])
def test_nothing_just_outside_a_network(city, entry):
    network = ipaddress.ip_network(entry["network"])
    for address in (network.network_address - 1, network.broadcast_address + 1):
        with pytest.raises(geoip2.errors.AddressNotFoundError):
            city.city(str(address))


def test_known_places(city, asn):
    amsterdam = city.city("198.51.100.7")
    assert (amsterdam.country.iso_code, amsterdam.city.name) == ("NL", "Amsterdam")
    assert amsterdam.subdivisions.most_specific.iso_code == "NH"
    assert asn.asn("198.51.100.7").autonomous_system_number == 64497

    greenwich = city.city("2001:db8::5")
    assert (greenwich.country.iso_code, greenwich.city.name) == ("GB", "Greenwich")

    bhutan = city.city("67.43.156.9")
    assert (bhutan.continent.code, bhutan.country.iso_code) == ("AS", "BT")
    assert bhutan.city.name is None
    assert bhutan.city.geoname_id is None
    assert not bhutan.subdivisions

    assert city.city("89.160.20.129").city.name == "Linköping"


@pytest.mark.parametrize(
    "address",
    ["::ffff:203.0.113.9", "2002:cb00:7109::1", "2001:0:cb00:7109::1"],
    ids=["ipv4-mapped", "6to4", "teredo"],
)
def test_ipv4_aliases_reach_the_ipv4_network(city, address):
    assert city.city(address).city.name == "Madrid"


def test_metadata(geoip_world):
    for path, kind in ((geoip_world.city, "GeoLite2-City"), (geoip_world.asn, "GeoLite2-ASN")):
        with maxminddb.open_database(str(path)) as reader:
            meta = reader.metadata()
        assert meta.database_type == kind
        assert meta.ip_version == 6
        assert meta.languages == ["en"]
        assert set(meta.description) == {"en"}
        assert meta.build_epoch == BUILD_EPOCH
        assert meta.binary_format_major_version == 2


def test_database_type_where_elasticsearch_reads_it(geoip_world):
    # Elasticsearch takes the type from the last 512 bytes without a full reader:
    # the key, then an inline UTF-8 string of under 29 bytes; smaller files are refused.
    for path in geoip_world:
        data = path.read_bytes()
        assert len(data) > 512
        tail = data[-512:]
        marker = tail.index(b"database_type") + len(b"database_type")
        control = tail[marker]
        assert control >> 5 == 2
        assert tail[marker + 1 : marker + 1 + (control & 0x1F)].decode() == path.stem


# --- the MMDB types of the values -----------------------------------------------------
# Readers turn every unsigned type into int, so the types are checked by decoding the
# record by hand (https://maxmind.github.io/MaxMind-DB/). Elasticsearch's Java reader
# rejects a uint16 where MaxMind's model has a uint32 (geoname_id, ASN).

_TYPE_NAMES = {2: "utf8_string", 3: "double", 5: "uint16", 6: "uint32", 9: "uint64", 10: "uint128"}
_POINTER_BIAS = (0, 2048, 526336, 0)


def _decode_typed(data: bytes, offset: int, data_start: int) -> tuple[Any, int]:
    """Decode one value; leaves come back as (type name, value)."""
    control = data[offset]
    offset += 1
    kind, size = control >> 5, control & 0x1F
    if kind == 0:  # extended type
        kind, offset = data[offset] + 7, offset + 1
    if kind == 1:  # pointer: the value lives elsewhere in the data section
        length = ((size >> 3) & 0x3) + 1
        raw = int.from_bytes(data[offset : offset + length], "big")
        target = raw if length == 4 else ((size & 0x7) << (8 * length) | raw) + _POINTER_BIAS[length - 1]
        return _decode_typed(data, data_start + target, data_start)[0], offset + length
    if size >= 29:
        extra = size - 28
        size = (29, 285, 65821)[extra - 1] + int.from_bytes(data[offset : offset + extra], "big")
        offset += extra
    if kind == 7:
        mapping = {}
        for _ in range(size):
            (_, key), offset = _decode_typed(data, offset, data_start)
            mapping[key], offset = _decode_typed(data, offset, data_start)
        return mapping, offset
    if kind == 11:
        items = []
        for _ in range(size):
            item, offset = _decode_typed(data, offset, data_start)
            items.append(item)
        return items, offset
    payload = data[offset : offset + size]
    if kind == 2:
        value: Any = payload.decode()
    elif kind == 3:
        (value,) = struct.unpack(">d", payload)
    elif kind in (5, 6, 9, 10):
        value = int.from_bytes(payload, "big")
    else:
        raise AssertionError(f"MMDB type {kind} is not used by the test world")
    return (_TYPE_NAMES[kind], value), offset + size


def _typed_record(path: Path, ip: str) -> Any:
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
        expected = reader.get(ip)
    # The world is small, so records are 24 bits: 6 bytes a node.
    assert meta.record_size == 24
    data = path.read_bytes()
    bits = int(ipaddress.ip_address(ip))  # an IPv4 address sits under ::/96
    node = 0
    for shift in range(127, -1, -1):
        if node >= meta.node_count:
            break
        at = node * 6 + ((bits >> shift) & 1) * 3
        node = int.from_bytes(data[at : at + 3], "big")
    assert node > meta.node_count, f"{ip} not in {path}"
    tree_size = meta.node_count * 6
    data_start = tree_size + 16  # after the 16-byte separator
    typed, _ = _decode_typed(data, node - meta.node_count + tree_size, data_start)
    assert _untyped(typed) == expected  # the hand decoder agrees with maxminddb
    return typed


def _untyped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untyped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return value[1]


@pytest.mark.parametrize("entry", WORLD, ids=[e["network"] for e in WORLD])
def test_value_types_are_maxminds(geoip_world, entry):
    address = str(ipaddress.ip_network(entry["network"]).network_address)

    owner = _typed_record(geoip_world.asn, address)
    assert owner["autonomous_system_number"] == ("uint32", entry["asn"]["number"])
    assert owner["autonomous_system_organization"][0] == "utf8_string"

    place = _typed_record(geoip_world.city, address)
    named = [place["continent"], place["country"], place["registered_country"]]
    named += place.get("subdivisions", []) + ([place["city"]] if "city" in place else [])
    for record in named:
        assert record["geoname_id"][0] == "uint32"
        assert record["names"]["en"][0] == "utf8_string"
    assert place["location"]["accuracy_radius"] == ("uint16", entry["location"]["accuracy_radius"])
    assert place["location"]["latitude"][0] == place["location"]["longitude"][0] == "double"
    assert place["location"]["time_zone"][0] == "utf8_string"


def test_asn_read_back_as_int(geoip_world):
    with maxminddb.open_database(str(geoip_world.asn)) as reader:
        number = reader.get("198.51.100.7")["autonomous_system_number"]
    assert isinstance(number, int) and number == 64497


# --- bad input -------------------------------------------------------------------------


def _write_world(path: Path, networks: Any) -> Path:
    path.write_text(yaml.safe_dump({"networks": networks}, allow_unicode=True), encoding="utf-8")
    return path


def test_missing_field_names_file_and_entry(tmp_path):
    networks = copy.deepcopy(WORLD)
    del networks[2]["country"]
    source = _write_world(tmp_path / "world.yaml", networks)
    with pytest.raises(WorldError) as caught:
        build_world(source, tmp_path / "out")
    assert str(caught.value) == f"{source}: network 3 (203.0.113.0/24): missing 'country'"
    assert not (tmp_path / "out").exists()


def _set(key: str, value: Any):
    def change(entry: dict) -> None:
        *path, last = key.split(".")
        target = entry
        for part in path:
            target = target[part]
        target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set("network", "203.0.113.1/24"),
            "network 3 (203.0.113.1/24): 'network': 203.0.113.1/24 has host bits set",
        ),
        (
            _set("network", "198.51.100.128/25"),
            "network 3 (198.51.100.128/25) overlaps network 2 (198.51.100.0/24)",
        ),
        (  # through the IPv4-mapped alias of 192.0.2.0/24
            _set("network", "::ffff:192.0.2.0/120"),
            "network 3 (::ffff:c000:200/120) overlaps network 1 (192.0.2.0/24)",
        ),
        (_set("region.iso_code", "FR-75"), "'region.iso_code' must be ISO 3166-2 within ES"),
        (_set("country.iso_code", "Spain"), "'country.iso_code' must be two capital letters"),
        (_set("continent.code", "XX"), "'continent.code' must be one of"),
        (_set("location.lat", 140.0), "'location.lat' must be a number from -90 to 90, got 140.0"),
        (
            _set("location.accuracy_radius", 70000),
            "'location.accuracy_radius' must be an integer from 0 to 65535",
        ),
        (_set("asn.number", 2**32), "'asn.number' must be an integer from 1 to 4294967295"),
        (_set("asn.organization", ""), "'asn.organization' must be a non-empty string"),
        (_set("asn.org", "x"), "unknown key 'asn.org'"),
        (_set("city", None), "'city' must be a non-empty string"),
        (_set("ciy", "Madrid"), "unknown key 'ciy'"),
        (lambda entry: entry["location"].pop("time_zone"), "missing 'location.time_zone'"),
    ],
)
def test_bad_entries(tmp_path, change, message):
    networks = copy.deepcopy(WORLD)
    change(networks[2])
    source = _write_world(tmp_path / "world.yaml", networks)
    with pytest.raises(WorldError, match=re.escape(message)) as caught:
        build_world(source, tmp_path / "out")
    assert str(caught.value).startswith(f"{source}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("networks: [\n", "not valid YAML"),
        ("- network: 192.0.2.0/24\n", "expected a mapping with one key, 'networks'"),
        ("networks: []\n", "'networks' must be a non-empty list"),
        ("networks: [192.0.2.0/24]\n", "network 1: expected a mapping, got str"),
    ],
)
def test_bad_files(tmp_path, text, message):
    source = tmp_path / "world.yaml"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(WorldError, match=re.escape(f"{source}: {message}")):
        build_world(source, tmp_path / "out")


def test_missing_file(tmp_path):
    with pytest.raises(WorldError, match=re.escape(f"{tmp_path / 'nope.yaml'}: cannot read")):
        build_world(tmp_path / "nope.yaml", tmp_path / "out")


# --- command line ----------------------------------------------------------------------


def test_main_prints_the_two_paths(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--source", str(WORLD_YAML)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "out" / name) for name in ("GeoLite2-City.mmdb", "GeoLite2-ASN.mmdb")]
    assert all(Path(p).is_file() for p in printed)


def test_main_default_source(tmp_path, capsys, geoip_world):
    assert main([str(tmp_path)]) == 0
    capsys.readouterr()
    assert (tmp_path / "GeoLite2-City.mmdb").read_bytes() == geoip_world.city.read_bytes()


def test_main_reports_a_bad_world(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--source", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml: cannot read" in capsys.readouterr().err
