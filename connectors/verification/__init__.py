"""Connectors and resilience for verification checks.

The modules here call search and registry providers, fetch websites, match
sanctions lists and deliver signed webhooks. They need neither Kafka nor
Postgres: the verification stream stage and the API call them. Every error
they raise derives from `VerificationError`, a `ConnectorError`.
"""
