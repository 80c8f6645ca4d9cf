"""Saved-query enumerations: the values a `#+ enumerate:` parameter may take, computed from the data.

When the query types the parameter (`?_org_iri a org:Organization`), every instance of those
classes; otherwise the distinct values the variable takes when the query's WHERE pattern
matches with every parameter left open. grlc does the latter by rewriting the query text; we
rewrite the algebra, which braces inside strings cannot fool, and ask the query service: the
memory engine evaluates the algebra, a native engine the pattern written back as text
(`enumeration_sparql`), or the algebra when the writer declines.
"""

from __future__ import annotations

import re
from typing import Any

from rdflib import RDF, Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Identifier

from .query import QueryService

# IRIs: an absolute IRI with a scheme, none of the characters SPARQL's IRIREF forbids
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|^`\\]*")

def _where_pattern(algebra: CompValue) -> CompValue:
    """The graph pattern under a SELECT's solution modifiers (ORDER BY, projections, GROUP BY)."""
    node = algebra.p
    while node.name in ("Slice", "Distinct", "Reduced", "Project", "OrderBy"):
        node = node.p
    chain, probe = [], node
    while isinstance(probe, CompValue) and probe.name in ("Extend", "Filter", "AggregateJoin", "Group"):
        chain.append(probe.name)
        probe = probe.p
    if "AggregateJoin" in chain:  # peel off the aggregation: what is grouped is the WHERE
        return probe
    while node.name == "Extend":  # SELECT (expr AS ?x) on top of the WHERE
        node = node.p
    return node


def _required_types(node: Any, var: Variable) -> list[URIRef]:
    """Classes the WHERE pattern requires of `var` (`?var a C` in a BGP that every solution
    passes through: joins, filters, the left side of OPTIONAL; not inside OPTIONAL or UNION)."""
    if not isinstance(node, CompValue):
        return []
    if node.name == "BGP":
        return [o for s, p, o in node.triples if s == var and p == RDF.type and isinstance(o, URIRef)]
    if node.name == "Join":
        return _required_types(node.p1, var) + _required_types(node.p2, var)
    if node.name == "LeftJoin":
        return _required_types(node.p1, var)
    if node.name in ("Filter", "Extend", "Graph", "ToMultiSet"):
        return _required_types(node.get("p"), var)
    return []


def compute_enumeration(service: QueryService, query: Query, variable: str) -> tuple[Identifier, ...]:
    """The values a `#+ enumerate: - name` parameter may take, computed from the data, sorted.

    When the query types the parameter (`?_org_iri a org:Organization`), every instance of those
    classes (all organisations, even those the query finds nothing for); otherwise the distinct
    values the variable takes when the query's WHERE pattern matches with every parameter left
    open (e.g. nodes that have evidence). grlc does the latter by rewriting the query text; we
    rewrite the algebra, which braces inside strings cannot fool.

    On a native store (Oxigraph on disk, a remote endpoint) the rewritten pattern is written back
    as query text (`enumeration_sparql`) and the engine answers it: rdflib's evaluator would
    otherwise run it over one triple lookup at a time (25 s for `evidence` at a million triples,
    one HTTP request per lookup on a remote store). A pattern the writer declines runs in rdflib.
    """
    if query.algebra.name != "SelectQuery":
        return ()
    var = Variable(variable)
    pattern = _where_pattern(query.algebra)
    classes = _required_types(pattern, var)
    if classes:
        pattern = CompValue("BGP", triples=[(var, RDF.type, c) for c in classes])
        pattern["_vars"] = {var}
    text = None if service.engine.needs_algebra else enumeration_sparql(pattern, var)
    values = set(service.values(text, distinct_values_query(query.prologue, pattern, var)))
    return tuple(sorted(values, key=lambda t: (str(t).lower(), str(t))))


def distinct_values_query(prologue: Any, pattern: CompValue, var: Variable) -> Query:
    """`SELECT DISTINCT ?var WHERE pattern` as a parsed query (rdflib's evaluator runs it)."""
    projected = CompValue("Distinct", p=CompValue("Project", p=pattern, PV=[var]))
    algebra = CompValue("SelectQuery", p=projected, PV=[var], datasetClause=None)
    algebra["_vars"] = {var}
    return Query(prologue, algebra)


# --- the enumeration pattern written back as SPARQL text -----------------------------------------
#
# rdflib's translateAlgebra is not used: it changes the meaning of some OPTIONAL patterns. This
# writer knows a handful of nodes, writes them literally, and declines (None) everything else,
# so that a pattern it cannot write for certain runs in rdflib's evaluator as before.

# graph pattern nodes written as they are; anything else (Filter, Minus, ToMultiSet for VALUES and
# subqueries, a LeftJoin or Extend off the spine, ...) makes the writer decline
_WRITTEN = frozenset({"BGP", "Join", "Union", "Graph"})


def enumeration_sparql(pattern: CompValue, var: Variable) -> str | None:
    """`SELECT DISTINCT ?var WHERE { ... }` with the same values of ?var as `pattern`, or None.

    The query only asks which values ?var takes, so parts of the *spine* (the pattern itself,
    then down through the left side of OPTIONAL and through BIND) that cannot change that set
    are dropped before writing (`_spine`): that is what turns `evidence` (a GRAPH, a join and an
    OPTIONAL) into a pattern any engine answers from its indexes. Below the spine every node is
    written as it is, or not at all: an OPTIONAL there can decide which solutions join.
    """
    group = _group(_spine(pattern, var))
    if group is None:
        return None
    return f"SELECT DISTINCT {var.n3()} WHERE {{ {group} }}"


def _spine(node: Any, var: Variable) -> Any:
    """`node` without the OPTIONALs and BINDs along its spine that cannot change ?var's values.

    * OPTIONAL (LeftJoin(A, B, expr)): every solution is a solution of A, extended or not by
      B, and each solution of A is kept at least once; so when A certainly binds ?var, the
      values of ?var are exactly those of A, whatever B and expr are.
    * BIND (Extend(P, ?x, expr)) of another variable: never removes a solution nor touches ?var.
    FILTER is never dropped (it removes solutions); a BIND of ?var itself is not written.
    """
    while isinstance(node, CompValue):
        if node.name == "LeftJoin" and _binds(node.p1, var):
            node = node.p1
        elif node.name == "Extend" and node.var != var:
            node = node.p
        else:
            break
    return node


def _binds(node: Any, var: Variable) -> bool:
    """Whether every solution of `node` binds ?var: it occurs in a triple pattern (or as the
    GRAPH name) that every solution passes through. Deliberately simple: a UNION, the right side
    of an OPTIONAL or a BIND never counts."""
    if not isinstance(node, CompValue):
        return False
    if node.name == "BGP":
        return any(term == var for triple in node.triples for term in triple if isinstance(term, Variable))
    if node.name == "Graph":
        return node.term == var or _binds(node.p, var)
    if node.name == "Join":
        return _binds(node.p1, var) or _binds(node.p2, var)
    if node.name == "LeftJoin":
        return _binds(node.p1, var)
    if node.name == "Filter":
        return _binds(node.p, var)
    if node.name == "Extend":
        return node.var != var and _binds(node.p, var)
    return False


def _group(node: Any) -> str | None:
    """The inside of a group graph pattern `{ ... }` meaning `node`, or None when it has a node
    (or a term) this writer does not know."""
    if not isinstance(node, CompValue) or node.name not in _WRITTEN:
        return None
    if node.name == "BGP":
        triples = [[_term(t) for t in triple] for triple in node.triples]
        if any(t is None for triple in triples for t in triple):
            return None
        return " ".join(f"{s} {p} {o} ." for s, p, o in triples)
    if node.name == "Graph":
        inner = _group(node.p)
        if not isinstance(node.term, (URIRef, Variable)) or inner is None:
            return None
        return f"GRAPH {_term(node.term)} {{ {inner} }}"
    left, right = _group(node.p1), _group(node.p2)
    if left is None or right is None:
        return None
    return f"{{ {left} }} {'UNION ' if node.name == 'Union' else ''}{{ {right} }}"


def _term(term: Any) -> str | None:
    """An IRI, literal or variable as query text (its N-Triples form); None for anything else:
    a property path, a blank node (in a query it is a variable that cannot be projected, and the
    same label in two places of the text would not mean what the algebra means), or an IRI that
    is not absolute or has characters IRIREF forbids (rdflib's n3() would raise)."""
    if isinstance(term, Variable):
        return term.n3()
    if isinstance(term, URIRef):
        return f"<{term}>" if ABSOLUTE_IRI.fullmatch(term) else None
    if isinstance(term, Literal):
        return term.n3() if term.datatype is None or ABSOLUTE_IRI.fullmatch(term.datatype) else None
    return None


