"""Benchmarks of the hub (run as modules: python -m bench.ingest)."""
