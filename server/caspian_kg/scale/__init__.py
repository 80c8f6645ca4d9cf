"""Tooling, not the server: synthetic data in the project's ontology (`synth.py`) and the benchmark
against Oxigraph server (`bench.py`). Only the CLI imports it."""
