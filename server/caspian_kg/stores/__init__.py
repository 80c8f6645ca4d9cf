"""Where the graph lives. A store spec (`Config.store`, `--store`) is one of:

* `memory` (the default) — rdflib in memory (`memory.py`);
* a directory path (or `oxigraph:PATH`) — Oxigraph on disk, reopened without reloading (`oxigraph.py`);
* `http://…` / `https://…` — a SPARQL 1.1 endpoint we published to (`remote.py`).

Each opens into a `KnowledgeGraph` whose `engine` implements `engine.Engine`; `open.py` picks one.
This file imports nothing, so that `graph.py` can name the Engine type without loading the stores.
"""

