"""caspian-kg: a knowledge graph of Azerbaijan's relations with Central Asia and the Turkic world.

The public API: `Config` (every setting), `open_graph` (load, reason, validate), `KnowledgeGraph`
(the loaded graph), `QueryService` (ask it questions); the web application is
`caspian_kg.web.create_app`, kept out of this face so that loading a graph or asking a question
from Python or the command line never imports Flask (9 MB and 0.3 s of start-up).
"""

import warnings

# rdflib 7 calls its own deprecated Dataset.default_context on every quad lookup; the warning is
# not ours to fix and costs time on hot paths, so it is silenced here once.
warnings.filterwarnings("ignore", message="Dataset.default_context is deprecated", category=DeprecationWarning)

from .config import VERSION, Config
from .graph import KnowledgeGraph
from .open import open_graph
from .query import QueryService

__version__ = VERSION
__all__ = ["Config", "KnowledgeGraph", "QueryService", "__version__", "open_graph"]
