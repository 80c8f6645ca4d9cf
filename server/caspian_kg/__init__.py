"""caspian-kg: a knowledge graph of Azerbaijan's relations with Central Asia and the Turkic world."""

__version__ = "0.1.0"
