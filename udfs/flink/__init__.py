"""PyFlink wrappers around udfs.alerting. Imported by the Flink driver and the Python workers."""
