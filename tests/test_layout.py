"""The package's import graph: no module of deblur3d/ imports one that imports it back, and
no subpackage imports one above it in LAYERS.

LAYERS, lowest first (README's Layout lists them in this order): a subpackage may import
the ones before it and the top-level modules (paths, atomic, quiet_tensorflow), never one
after it. face is geometry and rendering; train the model-agnostic training machinery; data
the cache, its blur and the on-disk stores read beside it (the exported priors too); recon
the ReconNet; priors what ReconNet makes of a frame; deblur the DeblurNet and its loaded
form; eval the scores; video the tool.
"""
import ast

from deblur3d import paths

PACKAGE = paths.REPO_ROOT / "deblur3d"
LAYERS = ("face", "train", "data", "recon", "priors", "deblur", "eval", "video")


def module_name(path):
    parts = list(path.relative_to(paths.REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path, known):
    """deblur3d modules `path` imports, anywhere in the file (lazy imports inside functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import sub` imports the submodule; `from pkg import name`, the package
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known}
    return out


def import_graph():
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: imports(p, set(files)) - {m} for m, p in files.items()}


def cycles(graph):
    """Every cycle found by a depth-first search, as lists of module names."""
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def layer(module):
    """The index in LAYERS of a module's subpackage; -1 for a top-level module (deblur3d.paths)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def upward_imports(graph):
    """'a -> b' for every import of a module in a higher layer than the importer's."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and graph["deblur3d.deblur.inference"] >= {"deblur3d.deblur.archs"}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_subpackage_is_in_a_layer():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LAYERS)


def test_no_subpackage_imports_one_above_it():
    assert upward_imports(import_graph()) == []


def test_an_upward_import_is_found():
    graph = {"deblur3d.data.samples": {"deblur3d.priors.store", "deblur3d.face.coeffs", "deblur3d.paths"},
             "deblur3d.priors.store": {"deblur3d.data.cache"}, "deblur3d.paths": set()}
    assert upward_imports(graph) == ["deblur3d.data.samples -> deblur3d.priors.store"]
