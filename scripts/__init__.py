"""Benchmarks, report and deploy scripts."""
