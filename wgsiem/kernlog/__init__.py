"""WireGuard kernel and wg-quick log lines: framings, messages, peer correlation."""
