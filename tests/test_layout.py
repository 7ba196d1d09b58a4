"""The tests' own layout: a module under tests/ imports support modules (factories, helpers, fakes, the API client),
never a test module, so that each test module can move, be renamed or run alone."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports_of(source: str, package: str) -> set[str]:
    """Every module the imports in `source` (a module of `package`) may name: `from a.b import c` may be a.b or
    a.b.c; relative imports resolved against the package."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")


def test_no_module_under_tests_imports_a_test_module():
    """Given every Python file under tests/ (test modules, conftests, support modules), none imports from a
    tests/**/test_*.py module: what two test modules share lives in a support module (factories.py, helpers.py)."""
    offenders = sorted(
        f"{module_name(path)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in imports_of(path.read_text(), module_name(path).rsplit(".", 1)[0])
        if is_test_module(name)
    )
    assert offenders == [], "move what they share into a support module:\n" + "\n".join(offenders)


def test_the_check_sees_a_test_module_imported_in_each_way_python_allows():
    source = (
        "import tests.trading.test_blocks\n"
        "from tests.governance import test_execution\n"
        "from tests.marketplace.test_market import bid\n"
        "from .test_escrow import BID\n"
        "from . import test_gpus\n"
        "from tests.marketplace.helpers import bid\n"
    )
    found = {name for name in imports_of(source, "tests.marketplace") if is_test_module(name)}
    assert found == {
        "tests.trading.test_blocks",
        "tests.governance.test_execution",
        "tests.marketplace.test_market",
        "tests.marketplace.test_escrow",
        "tests.marketplace.test_gpus",
    }
