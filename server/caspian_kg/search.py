"""Search over the names of resources: labels and alternative names, folded so that
"Türkiye", "TURKIYE" and "turkiye" match alike, ranked the way people look for things."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

SEARCH_LIMIT = 50
# kinds of resource in search results, most wanted first (others follow, then these last)
KIND_ORDER = ("state", "org", "person", "event", "place", "quote", "agreement", "infrastructure", "doc")
KIND_LAST = ("membership", "interval", "claim", "stance", "relation", "post")
# Azerbaijani and other letters that Unicode does not decompose into a base letter + accent
FOLD = str.maketrans({"ə": "e", "Ə": "e", "ı": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d",
                      "ß": "ss", "æ": "ae", "œ": "oe", "’": "'", "‘": "'"})


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Türkiye", "TURKIYE" and "turkiye" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@dataclass(frozen=True)
class Name:
    """One searchable name of a resource (its label, or an alternative name)."""

    folded: str
    text: str
    is_label: bool
    iri: str
    label: str
    kind: str


def search(names: list[Name], query: str, limit: int = SEARCH_LIMIT) -> list[Name]:
    """Resources with a name containing every word of `query` (folded), best first: label
    matches before alternative names; exact names first; then the kinds people look for most
    (states, organisations, persons, events...) before n-ary nodes and claims; then prefix >
    word start > anywhere; then A-Z. One result per resource (its best name)."""
    words = fold(query).split()
    if not words:
        return []
    phrase = " ".join(words)

    def rank(n: Name) -> tuple[Any, ...]:
        position = (0 if n.folded == phrase else 1 if n.folded.startswith(phrase)
                    else 2 if re.search(r"\b" + re.escape(phrase), n.folded) else 3)
        kind = (KIND_ORDER.index(n.kind) if n.kind in KIND_ORDER
                else len(KIND_ORDER) + 1 + KIND_LAST.index(n.kind) if n.kind in KIND_LAST else len(KIND_ORDER))
        return (not n.is_label, position > 0, kind, position, fold(n.label))

    best: dict[str, tuple[tuple[Any, ...], Name]] = {}
    for name in names:
        if all(w in name.folded for w in words):
            key = rank(name)
            if name.iri not in best or key < best[name.iri][0]:
                best[name.iri] = (key, name)
    return [n for _, n in sorted(best.values(), key=lambda item: item[0])][:limit]
