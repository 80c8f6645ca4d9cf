"""Tooling, not the server: synthetic data in the project's ontology (`synth.py`), the benchmark
against Oxigraph server and the other peers (`bench.py`, `peers.py`, `workloads.py`), and a
throw-away Virtuoso for it and the remote-store tests (`virtuoso.py`), and its Jena ARQ peer
(`jena.py`, which builds and starts `java/ArqServer.java`). Only the CLI imports it."""
