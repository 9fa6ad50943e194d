"""An offline Elasticsearch ingest engine: pipelines run with Elasticsearch's semantics."""
