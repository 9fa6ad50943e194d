"""wg-quick configuration files: parse, watch for changes, compare with the running interface."""
