"""A real Kafka broker and a real PostgreSQL server for orderpulse tests and the demo.

Entry points: ``orderpulse_devkit.kafka`` (``kafka_bootstrap``, ``create_topics``, and the
``python -m orderpulse_devkit.kafka`` CLI) and ``orderpulse_devkit.postgres`` (``postgres_url``).
Nothing is imported or started at import time.
"""
