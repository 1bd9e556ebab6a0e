"""The import picture: rooms that import only downwards, no circle, no private name borrowed, and
gradio only in the page's room. Read from the source (ast), every import counted, lazy ones too."""
import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "dcgan"


def _module(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[tuple[str, str | None]]]:
    """module -> {(imported module, imported name or None)} for every import inside dcgan."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        mod = _module(path)
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg
                for _ in range(max(node.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                for alias in node.names:
                    found.add((target, alias.name))
            elif isinstance(node, ast.Import):
                found |= {(a.name, None) for a in node.names}
        out[mod] = found
    return out


def _edges(imports) -> dict[str, set[str]]:
    modules = set(imports)
    graph = {m: set() for m in modules}
    for mod, found in imports.items():
        for target, name in found:
            if f"{target}.{name}" in modules:  # `from . import data` names a module
                graph[mod].add(f"{target}.{name}")
            elif target in modules and target != mod:
                graph[mod].add(target)
    return graph


def test_no_import_circle():
    graph = _edges(_imports())
    # a package's __init__ re-exporting its own modules is not a circle through its children
    for mod in graph:
        graph[mod] = {t for t in graph[mod] if not (t.startswith(mod + ".") or mod.startswith(t + "."))}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for t in sorted(graph[m]):
            visit(t)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not cycles, cycles


def test_no_private_name_is_imported_from_another_module():
    bad = [(mod, target, name) for mod, found in _imports().items() for target, name in found
           if target and target.startswith("dcgan") and name and name.startswith("_") and name != "__version__"]
    assert not bad, bad


def test_only_the_page_imports_gradio_and_the_use_cases_sit_between():
    imports = _imports()
    for mod, found in imports.items():
        uses_gradio = any(t and t.split(".")[0] == "gradio" for t, _ in found)
        assert not uses_gradio or mod.startswith("dcgan.ui."), mod
        if mod.startswith("dcgan.api") or not mod.startswith("dcgan."):
            continue
        # the library below the use cases never reaches up into them or into the page
        if not mod.startswith(("dcgan.ui", "dcgan.cli")):
            assert not any(t and (t.startswith("dcgan.api") or t.startswith("dcgan.ui")) for t, _ in found), mod


def test_the_page_reaches_the_project_only_through_the_use_cases():
    """dcgan/ui imports nothing of the project but dcgan.api (the package itself, not its modules)
    and dcgan.config (the settings' fields the form is built from), besides its own modules."""
    allowed = {"dcgan.api", "dcgan.config"}
    bad = []
    for mod, found in _imports().items():
        if not mod.startswith("dcgan.ui"):
            continue
        for target, name in found:
            if not target or not target.startswith("dcgan"):
                continue
            if target.startswith("dcgan.ui") or target in allowed:
                continue
            if target == "dcgan" and name in ("api", "config"):
                continue
            bad.append((mod, target, name))
    assert not bad, bad
