"""The local stack: a Kafka broker and an embedded Postgres for one machine."""
