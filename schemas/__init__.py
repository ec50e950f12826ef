"""Event contract: envelope, payload models and the topic registry."""
