"""The project's ingest pipelines as content: `ingest_pipelines/` read and built (`files.py`),
checked against `ecs_mappings/` (`validate.py`), tested with their `_dev/test/pipeline`
fixtures (`testing.py`), and the raw-line pipeline's grok derived from the kernel message
templates (`raw_grok.py`). The engine that runs them is `wgsiem.ingest`.
"""
