"""Real single-node Kafka broker for development and tests (see broker.py)."""
from nql_flink.deploy.kafka.broker import BrokerError, KafkaBroker, free_port, probe_metadata

__all__ = ["BrokerError", "KafkaBroker", "free_port", "probe_metadata"]
