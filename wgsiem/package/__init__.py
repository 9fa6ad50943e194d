"""The `wireguard` Elastic integration package: build, validate, install."""
