"""Where the graph lives. A store spec (`Config.store`, `--store`) is one of:

* `oxigraph` (the default) — Oxigraph on disk in the cache directory, one store per dataset
  version: built once (parse, closure, validation), then opened read-only in milliseconds by
  every later start, and by any number of processes at once (`oxigraph.py`);
* `memory` — rdflib in memory, everything recomputed at each start (`memory.py`);
* a directory path (or `oxigraph:PATH`) — Oxigraph on disk there, reopened without reloading;
* `http://…` / `https://…` — a SPARQL 1.1 endpoint we published to (`remote.py`).

Each opens into a `KnowledgeGraph` whose `engine` implements `engine.Engine`; `open.py` picks one.
This file imports nothing, so that `graph.py` can name the Engine type without loading the stores.
"""

