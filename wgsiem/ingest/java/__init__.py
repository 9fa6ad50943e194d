"""What Elasticsearch inherits from the Java platform and the libraries it calls: the Java
classes of JSON values, String's UTF-16 indexing and trim, the regex syntax
(java.util.regex), Collections.sort's ordering and failures, MurmurHash3 as Elasticsearch's
hasher gives it. Painless, the formats and the processors share them; nothing here imports
the rest of the engine."""
