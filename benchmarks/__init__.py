"""Throughput and memory benchmarks (``make bench``): workload generator, naive baseline, I/O floor."""
