"""Benchmark scenarios, one module per service; see tanktop/bench.py."""
