"""Ingest: Kafka records from the producers become stored notifications, exactly once per action."""
