"""The benchmark suite (`python -m benchmarks`, `make bench`). See BENCHMARKS.md."""
