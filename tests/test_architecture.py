"""The package's structure rules, proved from source with `ast` (the modules are never imported to
build the graph): no import cycle, no intra-package import inside a function, the web layer and the
scale tooling kept apart, small modules, settings only in Config and documented in the README, and a
README Architecture map that names every module and subpackage."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "server"
PKG = "caspian_kg"
PKG_DIR = SRC / PKG
README = ROOT / "README.md"
MAX_LINES = 450

# Documented exceptions to the size rule: path from the project root -> why it may be longer.
ALLOWED_LONGER: dict[str, str] = {}

WEB, SCALE, CLI = f"{PKG}.web", f"{PKG}.scale", f"{PKG}.cli"
ENV_ATTRS = {"environ", "environb", "getenv", "getenvb"}


@dataclass(frozen=True)
class ImportSite:
    """One import statement: who holds it, where, and the absolute dotted names it refers to."""

    importer: str
    path: Path
    line: int
    names: tuple[str, ...]  # "caspian_kg.store.load", "flask.Flask", "pyoxigraph"
    base: str | None  # for `from B import n`: B, absolute ("caspian_kg.store"); None for `import`
    in_function: bool

    def where(self) -> str:
        return f"{rel(self.path)}:{self.line}: {source_line(self.path, self.line)}"

    def targets(self, known: Collection[str]) -> list[str | None]:
        """Per name, the module it lands on: `P.n` if that is a module, else (from-imports) `P`."""
        return [next((c for c in (name, self.base) if c in known), None) for name in self.names]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def source_line(path: Path, line: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[line - 1].strip()


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package is its `__init__.py`."""
    return {module_name(path): path for path in sorted(PKG_DIR.rglob("*.py"))}


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def read_import(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool
) -> tuple[tuple[str, ...], str | None]:
    """The absolute names a statement refers to (`from P import n` gives `P.n`, `P` for `*`) and,
    for a from-import, `P`; relative imports resolve against the importer's package (an
    `__init__.py` is its own package)."""
    if isinstance(node, ast.Import):
        return tuple(alias.name for alias in node.names), None
    base = node.module or ""
    if node.level:
        parts = (importer if is_package else importer.rpartition(".")[0]).split(".")
        if node.level - 1 >= len(parts):
            raise ValueError(f"{importer}: relative import (level {node.level}) beyond the top-level package")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    return tuple(base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names), base


def import_sites(module: str, path: Path) -> list[ImportSite]:
    """Every import statement in the file: module level, in functions, under `if TYPE_CHECKING:`."""
    is_package = path.name == "__init__.py"
    sites: list[ImportSite] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                names, base = read_import(child, module, is_package)
                sites.append(ImportSite(module, path, child.lineno, names, base, in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(parse(path), False)
    return sites


@cache
def all_sites() -> tuple[ImportSite, ...]:
    return tuple(site for module, path in modules().items() for site in import_sites(module, path))


def intra(site: ImportSite) -> bool:
    """Whether the statement imports anything of caspian_kg (relative imports always do)."""
    return any(under(name, PKG) for name in site.names)


def import_graph() -> dict[str, dict[str, list[ImportSite]]]:
    """module -> {imported module -> the statements that import it}; explicit edges only (importing
    `caspian_kg.a.b` does not add an edge to `caspian_kg.a`, although Python runs its `__init__`)."""
    known = modules()
    graph: dict[str, dict[str, list[ImportSite]]] = {module: {} for module in known}
    for site in all_sites():
        for target in site.targets(known):
            if target is not None and site not in graph[site.importer].get(target, []):
                graph[site.importer].setdefault(target, []).append(site)
    return graph


def strongly_connected(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative (no recursion limit), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def enter(node: str) -> tuple[str, Iterator[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(sorted(graph.get(node, ())))

    for root in sorted(graph):
        if root in index:
            continue
        work = [enter(root)]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    work.append(enter(child))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    components.append(sorted(component))
    return components


def cycles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """The components that are cycles: more than one module, or one module importing itself."""
    return [c for c in strongly_connected(graph) if len(c) > 1 or c[0] in graph.get(c[0], ())]


# --- the checker checks itself on small known inputs, so a broken scanner cannot pass silently ---


def test_cycle_finder_on_known_graphs() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a", "e"], "e": ["e"], "f": [], "g": ["h"], "h": ["g"]}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["e"], ["g", "h"]]
    assert cycles({"a": ["b", "c"], "b": ["c"], "c": [], "d": ["a"]}) == []
    chain = {str(i): [str(i + 1)] for i in range(5000)}
    assert cycles(chain) == []
    assert cycles({**chain, "5000": ["0"]}) == [sorted(str(i) for i in range(5001))]


def test_import_resolution_on_known_statements() -> None:
    known = {PKG, f"{PKG}.config", f"{PKG}.stores", f"{PKG}.stores.memory", f"{PKG}.stores.base"}

    def targets(source: str, importer: str, is_package: bool = False) -> list[str | None]:
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.Import | ast.ImportFrom)
        names, base = read_import(node, importer, is_package)
        return ImportSite(importer, PKG_DIR, 1, names, base, False).targets(known)

    memory = f"{PKG}.stores.memory"
    assert targets("from . import base", memory) == [f"{PKG}.stores.base"]
    assert targets("from .base import Store", memory) == [f"{PKG}.stores.base"]
    assert targets("from ..config import Config", memory) == [f"{PKG}.config"]
    assert targets("from .. import config, DEFAULT", memory) == [f"{PKG}.config", PKG]
    assert targets("from . import memory", f"{PKG}.stores", is_package=True) == [memory]
    assert targets("from .memory import X", f"{PKG}.stores", is_package=True) == [memory]
    assert targets("from .. import config", f"{PKG}.stores", is_package=True) == [f"{PKG}.config"]
    assert targets("from . import stores", PKG, is_package=True) == [f"{PKG}.stores"]
    assert targets(f"import {PKG}.stores.memory", f"{PKG}.config") == [memory]
    assert targets(f"from {PKG}.stores import memory, Base", f"{PKG}.config") == [memory, f"{PKG}.stores"]
    assert targets(f"from {PKG} import *", f"{PKG}.config") == [PKG]
    assert targets("from .missing import X", memory) == [None]
    assert targets(f"import {PKG}.missing", memory) == [None]
    assert targets("import pyoxigraph, os.path", memory) == [None, None]
    assert targets("from __future__ import annotations", memory) == [None]


# --- the rules ---


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 1 and any(graph.values()), "the scanner found no intra-package import: it is broken"
    found = cycles(graph)
    report = []
    for component in found:
        members = set(component)
        edges = [
            f"    {src} -> {dst}  ({'; '.join(site.where() for site in sites)})"
            for src in component
            for dst, sites in sorted(graph[src].items())
            if dst in members
        ]
        report.append(f"cycle among {', '.join(component)}:\n" + "\n".join(edges))
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(report)


def test_every_intra_package_import_names_a_module() -> None:
    """Not one of the six rules, but what keeps the cycle check honest: an import of a caspian_kg
    module that does not exist (a stale name after a move) would otherwise just drop out of the graph."""
    known = modules()
    dangling = [
        f"{site.where()}  (no module {site.base or site.names[0]})"
        for site in all_sites()
        if any(under(n, PKG) and t is None for n, t in zip(site.names, site.targets(known), strict=True))
    ]
    assert not dangling, "imports of caspian_kg modules that do not exist:\n" + "\n".join(dangling)


# Deferred imports that dodge no cycle: the command line loads the web server and the scale tools
# only for the commands that use them, so `caspian-kg query` starts without Flask. (importer, prefix)
DEFERRED: dict[tuple[str, str], str] = {
    (CLI, WEB): "only `caspian-kg serve` pays for Flask and Granian",
    (CLI, SCALE): "the benchmark and the generator are tooling, not the server",
}


def deferred(site: ImportSite) -> bool:
    return all(any(site.importer == importer and under(name, prefix) for importer, prefix in DEFERRED)
               for name in site.names)


def test_no_intra_package_import_inside_a_function() -> None:
    lazy = [site.where() for site in all_sites() if site.in_function and intra(site) and not deferred(site)]
    assert not lazy, "caspian_kg modules imported inside a function (import at module level):\n" + "\n".join(
        lazy
    )


BOUNDARIES: list[tuple[tuple[str, ...], str, Callable[[str], bool]]] = [
    (
        (WEB,),
        f"only {WEB}, {CLI} and the package face may import",
        lambda m: under(m, WEB) or under(m, CLI) or m == PKG,
    ),
    ((SCALE,), f"only {SCALE} and {CLI} may import", lambda m: under(m, SCALE) or under(m, CLI)),
    (("flask", "werkzeug"), f"only {WEB} may import", lambda m: under(m, WEB)),
]


def test_domain_modules_do_not_import_web_scale_or_flask() -> None:
    problems = [
        f"{site.where()}  ({rule} {' / '.join(protected)})"
        for site in all_sites()
        for protected, rule, allowed in BOUNDARIES
        if not allowed(site.importer) and any(under(n, p) for n in site.names for p in protected)
    ]
    assert not problems, "imports across a layer boundary:\n" + "\n".join(problems)


def test_modules_are_small() -> None:
    lengths = {rel(path): len(path.read_text(encoding="utf-8").splitlines()) for path in modules().values()}
    too_long = [
        f"{path}: {n} lines (limit {MAX_LINES})"
        for path, n in sorted(lengths.items())
        if n > MAX_LINES and path not in ALLOWED_LONGER
    ]
    stale = [
        f"{path}: {lengths.get(path, 'missing')}"
        for path in ALLOWED_LONGER
        if lengths.get(path, 0) <= MAX_LINES
    ]
    assert not too_long, (
        "modules over the size limit (split them, or document in ALLOWED_LONGER):\n" + "\n".join(too_long)
    )
    assert not stale, "ALLOWED_LONGER entries no longer needed (remove them):\n" + "\n".join(stale)


def environment_reads(path: Path) -> list[int]:
    """Lines that read the process environment: `os.environ`, `os.getenv`, `from os import environ`."""
    tree = parse(path)
    os_names = {"os"} | {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os"
    }
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
            and node.attr in ENV_ATTRS
        )
        or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ENV_ATTRS for alias in node.names)
        )
    )


def test_environment_is_read_only_in_config() -> None:
    exempt = {PKG_DIR / "config.py"}
    problems = [
        f"{rel(path)}:{line}: {source_line(path, line)}"
        for path in modules().values()
        if path not in exempt and PKG_DIR / "scale" not in path.parents
        for line in environment_reads(path)
    ]
    assert not problems, "environment read outside config.py (add a Config field instead):\n" + "\n".join(
        problems
    )


def test_every_config_field_names_a_documented_environment_variable() -> None:
    from caspian_kg.config import Config

    readme = README.read_text(encoding="utf-8")
    no_env = [f.name for f in fields(Config) if not f.metadata.get("env")]
    undocumented = [
        f"{f.name} ({f.metadata['env']})"
        for f in fields(Config)
        if f.metadata.get("env")
        and not re.search(rf"(?<![A-Za-z0-9_]){re.escape(f.metadata['env'])}(?![A-Za-z0-9_])", readme)
    ]
    assert not no_env, f"Config fields without metadata['env']: {', '.join(no_env)}"
    assert not undocumented, f"environment variables not named in README.md: {', '.join(undocumented)}"


def architecture_section(text: str) -> str | None:
    """README text from the `## Architecture...` heading line to the next `## ` heading."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## Architecture")), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def test_readme_architecture_map_covers_the_package() -> None:
    section = architecture_section(README.read_text(encoding="utf-8"))
    assert section is not None, "README.md has no section whose heading starts with '## Architecture'"
    names = [p.name for p in sorted(PKG_DIR.glob("*.py")) if p.name != "__init__.py"]
    names += [f"{p.parent.name}/" for p in sorted(PKG_DIR.glob("*/__init__.py"))]
    missing = [name for name in names if not re.search(rf"(?<![\w]){re.escape(name)}", section)]
    assert not missing, f"not named in README.md's Architecture section: {', '.join(missing)}"


def test_architecture_section_stops_at_the_next_heading() -> None:
    section = architecture_section(
        "intro web/\n## Architecture map\nconfig.py\n### sub\nstores/\n## Next\nweb/\n"
    )
    assert section is not None and "stores/" in section and "web/" not in section


def test_the_domain_and_the_command_line_load_without_flask() -> None:
    """Loading a graph or asking a question (`import caspian_kg`, `caspian_kg.cli`) never imports
    Flask or pyshacl: `caspian-kg query` and the benchmark's load child start lean."""
    import subprocess
    import sys

    probe = ("import sys, caspian_kg, caspian_kg.cli\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'granian', 'pyshacl'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
