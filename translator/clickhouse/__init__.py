"""The polling back end: the relational IR evaluated on ClickHouse (docs/polling.md)."""
