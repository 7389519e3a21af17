"""nql-flink: NQL monitors -> Flink SQL alerting jobs."""

__version__ = "0.1.0"
