"""I/O with systems outside Tidings: Kafka, Postgres, object store, parsers."""
