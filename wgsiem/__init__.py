"""wgsiem: WireGuard security monitoring for the Elastic stack."""

__version__ = "0.1.0"
