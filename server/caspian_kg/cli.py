"""The `caspian-kg` command line: validate, query, run, export, stats, serve, and the scale tools.

Questions go to the same query service as the web's (`query.QueryService`, in a forked worker
with the same deadline and limits), so a query means the same thing and fails with the same
message here as at /sparql. Every failure the user can cause (a broken file, a bad query, an
unknown format) prints one line to stderr and exits non-zero (2 = bad input, 1 = invalid data,
3 = a limit); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from rdflib import BNode, Literal, URIRef

from . import dumps, stats
from .config import Config, documented
from .errors import BadRequest, CaspianError, ValidationError
from .explain import explainer, parse_term
from .formats import GRAPH_FORMATS, RESULT_FORMATS, serialize_graph
from .graph import KnowledgeGraph
from .open import open_graph
from .provenance import prov_graph, render_text
from .query import Answer, QueryRequest, QueryService, init_worker
from .saved_queries import QueryLibrary, check_names
from .stores.remote import publish, query_url
from .workers import WorkerPool

# `-f` of query and run: a text table, or any answer format (results or graph) by name
QUERY_FORMATS = ("table", *(f.name for f in RESULT_FORMATS + GRAPH_FORMATS))
# what "table" asks the service for: SPARQL JSON (drawn as a table) or, for a graph, Turtle
TABLE_FORMATS = ("application/sparql-results+json", "text/turtle")
# `-f` of explain: the text tree, or PROV-O in any graph format (by name or alternative name)
EXPLAIN_FORMATS = ("text", *(n for f in GRAPH_FORMATS for n in (f.name, *f.names)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = Config().with_(root=args.root and Path(args.root).resolve(), validate=False if args.no_validate else None,
                            store=getattr(args, "store", None))
    try:
        return int(args.func(args, config) or 0)
    except ValidationError as exc:
        print(f"caspian-kg: invalid data ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return exc.exit_code
    except CaspianError as exc:
        print(f"caspian-kg: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not the user's fault: still one line, with a way to see more
        if args.debug:
            raise
        print(f"caspian-kg: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
              file=sys.stderr)
        return 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caspian-kg", description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="project directory holding ontology/, data/, queries/ (default: found from the cwd)")
    parser.add_argument("--no-validate", action="store_true", help="skip SHACL and evidence checks at load")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="load every file, run SHACL, evidence and OWL 2 RL consistency checks")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("query", help="run a SPARQL query (a file, '-' for stdin, or the query text)")
    p.add_argument("query")
    p.add_argument("-f", "--format", default="table", choices=QUERY_FORMATS)
    p.add_argument("--no-inference", action="store_true", help="asserted facts only (no OWL 2 RL closure)")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="dump the graph in an RDF format")
    p.add_argument("-f", "--format", default="trig", help=f"one of {', '.join(dumps.DUMP_FORMATS)} (or ttl, nq, json-ld...)")
    p.add_argument("--asserted-only", action="store_true", help="leave out the inferred graph")
    p.add_argument("--graph", help="one named graph only (short name, e.g. ontology, background, inferred)")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("stats", help="triples per graph, classes, memberships")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("settings", help="every setting: its environment variable, value and meaning")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("serve", help="serve the SPARQL endpoint and linked data (Granian)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--timeout", type=float, dest="query_timeout", help="per-query deadline in seconds")
    p.add_argument("--workers", type=int, help="query worker processes")
    p.add_argument("--threads", type=int, help="HTTP threads")
    p.add_argument("--base", help="canonical base IRI of the data")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("explain", help="why a statement holds: OWL 2 RL rule, axioms, premises down to the evidence",
                       description="Explain S P O: full IRIs or the data's prefixed names (state:kazakhstan "
                                   "org:memberOf orgn:cica); the object may be a literal in N-Triples syntax.")
    p.add_argument("s")
    p.add_argument("p")
    p.add_argument("o")
    p.add_argument("-f", "--format", default="text", choices=EXPLAIN_FORMATS,
                   help="text (an indented tree, the default) or PROV-O RDF")
    p.set_defaults(func=cmd_explain)
    _add_run_command(sub)
    _add_scale_commands(sub)
    for name in ("query", "stats", "serve", "validate", "export", "run", "explain"):
        if name in sub.choices:
            sub.choices[name].add_argument(
                "--store", help="oxigraph (the default: kept per dataset version in CASPIAN_KG_CACHE_DIR), memory (rdflib), "
                     "a directory (Oxigraph there) or a SPARQL endpoint URL")
    return parser


def _load(config: Config) -> KnowledgeGraph:
    kg = open_graph(config)
    t = kg.timings
    print(
        f"loaded {len(kg.asserted)} asserted + {len(kg.dataset.graph(kg.inferred_graph))} inferred triples "
        f"in {sum(t.values()):.2f}s (parse {t.get('load', 0):.2f}s, closure {t.get('closure', 0):.2f}s, "
        f"validation {t.get('validate', 0):.2f}s)",
        file=sys.stderr,
    )
    return kg


def cmd_explain(args: argparse.Namespace, config: Config) -> int:
    kg = _load(config)
    prefixes = kg.prefixes()
    s, p, o = (parse_term(value, prefixes, position) for value, position in zip((args.s, args.p, args.o), "spo"))
    engine = explainer(kg)
    explanation = engine.explain((s, p, o))
    if args.format == "text":
        print(render_text(kg, engine, explanation))
    else:
        fmt = next(f for f in GRAPH_FORMATS if f.matches(args.format))
        sys.stdout.buffer.write(serialize_graph(prov_graph(kg, explanation, engine.lookup), fmt))
    return 0


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    kg = _load(config.with_(validate=True))
    print(f"valid: {len(kg.files)} files, {len(kg.dataset)} triples, SHACL conforms, evidence verbatim, OWL 2 RL consistent")
    return 0


def read_query(text: str) -> str:
    if text == "-":
        return sys.stdin.read()
    path = Path(text)
    if len(text) < 4096 and "\n" not in text and path.suffix in {".rq", ".sparql", ".txt"}:
        if not path.is_file():
            raise BadRequest(f"{text}: query file not found")
        return path.read_text(encoding="utf-8")
    return text


def ask(kg: KnowledgeGraph, config: Config, job: QueryRequest, library: QueryLibrary | None = None) -> Answer:
    """Answer one request as the server does: the query service, in a forked worker with the
    configured deadline, no network and the same limits."""
    service = QueryService(kg, config.max_results, config.max_query_bytes, library)
    pool = WorkerPool(service.answer, size=1, timeout=config.query_timeout, initializer=partial(init_worker, kg))
    try:
        return pool.submit(job)
    finally:
        pool.close()


def write_answer(answer: Answer, kg: KnowledgeGraph, fmt: str) -> None:
    """The answer's bytes, or for `table` its SPARQL JSON drawn as a text table."""
    if fmt == "table" and answer.content_type.startswith("application/sparql-results+json"):
        sys.stdout.write(render_table(json.loads(answer.body), kg) + "\n")
    else:
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()


def answer_formats(fmt: str) -> tuple[str, ...]:
    return TABLE_FORMATS if fmt == "table" else (fmt,)


def cmd_query(args: argparse.Namespace, config: Config) -> int:
    text = read_query(args.query)
    kg = _load(config)
    job = QueryRequest(text=text, inference=not args.no_inference, formats=answer_formats(args.format))
    write_answer(ask(kg, config, job), kg, args.format)
    return 0


def render_table(data: dict, kg: KnowledgeGraph) -> str:
    """SPARQL JSON results as aligned text columns: IRIs as prefixed names, literals as text."""
    if "boolean" in data:
        return "yes" if data["boolean"] else "no"
    nm = kg.dataset.namespace_manager
    names = data["head"]["vars"]

    def text(value: dict | None) -> str:
        if value is None:
            return ""
        if value["type"] == "uri":
            return URIRef(value["value"]).n3(nm)
        if value["type"] == "bnode":
            return BNode(value["value"]).n3()
        return str(Literal(value["value"]))

    rows = [[text(binding.get(n)) for n in names] for binding in data["results"]["bindings"]]
    widths = [min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    line = lambda cells: "  ".join(c[:60].ljust(w) for c, w in zip(cells, widths))
    body = [line(names), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(body + [f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    dumps.dump_format(args.format)  # fail on a bad format before loading anything
    kg = _load(config)
    data = dumps.serialize(kg, args.format, inference=not args.asserted_only, graph=args.graph)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    figures = stats.compute(_load(config))
    print(json.dumps(figures, indent=2) if args.json else stats.render_text(figures))
    return 0


def cmd_settings(args: argparse.Namespace, config: Config) -> int:
    for env, value, meaning in documented():
        print(f"{env:34} {value:28} {meaning}")
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    # deferred (allowed by tests/test_architecture.py): only `serve` pays for Flask and Granian
    from .web.serve import run as serve

    serve(config.with_(host=args.host, port=args.port, query_timeout=args.query_timeout,
                     workers=args.workers, threads=args.threads, base=args.base))
    return 0


# --- `run`: the saved queries of queries/*.rq (see saved_queries.py) ---

def _add_run_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run a saved query: run <name> --<param> <value>...; run --list",
                       description="Run a saved query from queries/. Parameters are given as "
                                   "--<name> <value> (or --<name>=<value>) and bound, never pasted.")
    p.add_argument("--list", action="store_true", help="list the saved queries and their parameters")
    p.add_argument("name", nargs="?", help="saved query name (the .rq file's stem)")
    p.add_argument("params", nargs=argparse.REMAINDER,
                   help=f"--<param> <value> pairs; also -f/--format ({', '.join(QUERY_FORMATS)}), --no-inference")
    p.set_defaults(func=cmd_run)


def _run_arguments(tokens: Sequence[str]) -> tuple[dict[str, str], str, bool]:
    """(parameter values, output format, inference) from the tokens after the query name."""
    values: dict[str, str] = {}
    fmt, inference = "table", True
    items = list(tokens)
    while items:
        token = items.pop(0)
        if token == "--no-inference":
            inference = False
            continue
        if not token.startswith("-") or token in ("-", "--"):
            raise BadRequest(f"unexpected argument {token!r}; give parameters as --<name> <value>")
        key, eq, value = token.lstrip("-").partition("=")
        if not eq:
            if not items:
                raise BadRequest(f"{token} needs a value")
            value = items.pop(0)
        if key in ("f", "format"):
            if value not in QUERY_FORMATS:
                raise BadRequest(f"unknown format {value!r}; choose one of {', '.join(QUERY_FORMATS)}")
            fmt = value
        elif key in values:
            raise BadRequest(f"parameter {key!r} given twice")
        else:
            values[key] = value
    return values, fmt, inference


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    library = QueryLibrary.load(config)
    if args.list or not args.name:
        if not args.list:
            raise BadRequest("give a saved query name, or --list")
        for query in library:
            params = " ".join(
                f"--{p.name} <{p.type_label}>" if p.api_required else f"[--{p.name} <{p.type_label}>]"
                for p in query.parameters
            )
            print(f"{query.name:32} {query.summary}" + (f"\n{'':32} {params}" if params else ""))
        return 0
    query = library.get(args.name)
    values, fmt, inference = _run_arguments(args.params)
    check_names(query, values)  # before the seconds of loading
    kg = _load(config)
    service = QueryService(kg, config.max_results, config.max_query_bytes, library)
    bindings = library.bind(service, query, values)
    job = QueryRequest(saved=query.name, bindings=tuple(sorted(bindings.items())), inference=inference,
                       formats=answer_formats(fmt))
    write_answer(ask(kg, config, job, library), kg, fmt)
    return 0


# --- scale: generate, publish, bench (see scale/synth.py, stores/remote.py, scale/bench.py) ---

def _add_scale_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="write a synthetic project (ontology, queries, data) of about N triples")
    p.add_argument("directory")
    p.add_argument("-n", "--triples", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("publish", help="PUT every asserted graph and the closure to a SPARQL 1.1 Graph Store")
    p.add_argument("--to", required=True, help="the engine's base URL (Oxigraph: http://host:7878) or its GSP endpoint")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("bench", help="every store we ship at several sizes, side by side with Oxigraph server, "
                                     "rdflib-endpoint, Virtuoso and Jena ARQ: start, load, saved and analytical queries, "
                                     "entity pages")
    p.add_argument("--sizes", default="shipped,100000", type=_sizes,
                   help="comma-separated: `shipped` (the project's data) or synthetic triple counts (e.g. 10000,1000000)")
    p.add_argument("--requests", type=int, default=200, help="requests per workload and server (split over its queries)")
    p.add_argument("--workdir", help="where to generate data and stores (default: a temporary directory)")
    p.add_argument("--markdown", help="also write the table to this file")
    p.add_argument("--peers", type=_peers, help="comma-separated servers to run, of default, memory, oxigraph, "
                                                "rdflib-endpoint, virtuoso, jena (default: every one installed)")
    p.set_defaults(func=cmd_bench)


def _sizes(text: str) -> list[str]:
    sizes = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in sizes if s != "shipped" and not (s.isdigit() and int(s) > 0)]
    if bad or not sizes:
        raise argparse.ArgumentTypeError(f"expected `shipped` or triple counts, not {', '.join(bad) or 'nothing'}")
    return sizes


def _peers(text: str) -> list[str]:
    peers = [p.strip() for p in text.split(",") if p.strip()]
    if not peers:
        raise argparse.ArgumentTypeError("expected peer names, not nothing")
    return peers  # checked against what is installed by the bench (scale/bench.py choose_peers)


def cmd_generate(args: argparse.Namespace, config: Config) -> int:
    from .scale.synth import generate  # deferred: tooling, not the server

    written = generate(Path(args.directory), args.triples, seed=args.seed, source_root=config.root)
    print(f"wrote {written} triples to {args.directory}/data (run: caspian-kg --root {args.directory} validate)")
    return 0


def cmd_publish(args: argparse.Namespace, config: Config) -> int:
    sent = publish(_load(config), args.to)
    for name, count in sent.items():
        print(f"{name}: {count} triples", file=sys.stderr)
    print(f"published {sum(sent.values())} triples; serve with: caspian-kg serve --store {query_url(args.to)}")
    return 0


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from .scale.bench import run_bench  # deferred: tooling, not the server

    table = run_bench(config, args.sizes, requests=args.requests, workdir=args.workdir and Path(args.workdir),
                      peers=args.peers)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
