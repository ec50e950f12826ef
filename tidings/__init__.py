"""Tidings: a multi-tenant event-streaming platform on Apache Kafka."""

__version__ = "0.1.0"
