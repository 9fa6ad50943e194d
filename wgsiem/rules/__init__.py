"""Detection rules: the TOML files, their Kibana import form, and the checks on both."""
