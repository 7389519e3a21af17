"""Pure-Python alert logic (no PyFlink import): unit-testable, wrapped by udfs.flink."""
