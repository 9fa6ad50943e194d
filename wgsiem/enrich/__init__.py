"""Enrichment of events: GeoIP/ASN and peer names."""
