"""The Prometheus side: the peers' counters under prometheus_wireguard_exporter's names,
and the shipper's own health, from what the shipper already holds (no `wg` run per scrape)."""
