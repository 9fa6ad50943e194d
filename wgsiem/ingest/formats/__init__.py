"""The text formats and data sets processors read, each with Elasticsearch's semantics.

One module a format: grok and dissect patterns, key-value pairs, CSV lines, dates, Java's
number conversions, byte sizes, URIs and URL encoding, HTML, user agents (uap-core's
regexes) and the public suffix list. Processors (`processors/`) wrap them with options and
field access; the modules themselves know nothing of documents.
"""
