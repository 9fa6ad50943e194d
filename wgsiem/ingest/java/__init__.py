"""What Elasticsearch inherits from the Java platform and the libraries it calls: the regex
syntax (java.util.regex), Collections.sort's ordering and failures, MurmurHash3 as
Elasticsearch's hasher gives it. Painless and the processors share them."""
