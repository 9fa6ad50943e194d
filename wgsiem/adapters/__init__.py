"""The edges: subprocesses, files and streams. Everything here is thin on purpose."""
