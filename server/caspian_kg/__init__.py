"""caspian-kg: a knowledge graph of Azerbaijan's relations with Central Asia and the Turkic world."""

__version__ = "0.1.0"

import warnings

# rdflib 7 calls its own deprecated Dataset.default_context on every quad lookup; the warning is
# not ours to fix and costs time on hot paths, so it is silenced here once.
warnings.filterwarnings("ignore", message="Dataset.default_context is deprecated", category=DeprecationWarning)
