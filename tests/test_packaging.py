"""Packaging stays in sync with the source tree."""
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_source_package_is_listed_in_pyproject():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    roots = {"electroforge": REPO / "core", "electroforge.plugins": REPO / "plugins"}
    found = set()
    for prefix, root in roots.items():
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join([prefix, *rel.parts]) if rel.parts else prefix)
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_builtin_plugins_use_the_public_entry_point_group():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    eps = cfg["project"]["entry-points"]["electroforge"]
    for name, target in eps.items():
        assert target == f"electroforge.plugins.{name}"
        assert (REPO / "plugins" / name / "__init__.py").is_file()


def _first_import_line(tree, names: set[str], top_level_only: bool = False) -> int | None:
    import ast

    lines = []
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in names for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in names:
            lines.append(node.lineno)
    return min(lines) if lines else None


def test_scripts_that_use_torch_import_electroforge_first():
    """electroforge/__init__.py sets OMP_WAIT_POLICY=PASSIVE, which torch's OpenMP runtime reads
    once, when torch loads. A benchmark or script that imports torch first gets spinning OpenMP
    threads: a 2-thread TauFactor solve beside a busy core then costs 2-25x its CPU
    (docs/characterizer.md). The benchmarks' timings depend on this order."""
    import ast

    scripts = [*REPO.glob("benchmarks/*.py"), *REPO.glob("scripts/*.py"), *REPO.glob("contrib/*/scripts/*.py"),
               *REPO.glob("contrib/*/benchmarks/*.py")]
    wrong = []
    for path in scripts:
        tree = ast.parse(path.read_text())
        torch_at = _first_import_line(tree, {"torch", "taufactor"})
        # at module level: an import inside a function may run after a torch import elsewhere
        ef_at = _first_import_line(tree, {"electroforge"}, top_level_only=True)
        if torch_at is not None and (ef_at is None or ef_at > torch_at):
            wrong.append(f"{path.relative_to(REPO)} (torch at line {torch_at}, electroforge at {ef_at})")
    assert not wrong, "import electroforge before torch in: " + "; ".join(wrong)
