"""Seeded synthetic customer data with known segments, for tests, benchmarks and local runs."""
