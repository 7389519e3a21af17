"""NAB (Numenta Anomaly Benchmark) scorer and benchmark runner for the seasonal detector."""
