"""The `tanktop` command: run the platform, manage keys, run benchmarks."""
