"""Event history tools: topic catalog, replay, rebuild of tables, AsyncAPI."""
