"""Test lab: real wireguard-go tunnels and the test GeoIP world."""
