"""The import contracts of pyproject.toml (design/layers.md): kept by the code as it is, and broken, loudly, by
an upward import or by one app reaching into another's private modules."""

import importlib
import inspect
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import models

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def project_copy(tmp_path: Path) -> Path:
    for name in ("apps", "aitbc_site", "lint"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " 0 broken" in result.stdout


def test_an_upward_import_and_a_reach_into_another_apps_models_break_the_contracts(tmp_path):
    # given: a copy of the project where the plugin registry (layer 2) imports the job pipeline (layer 4), and
    # ai reads gpu's models instead of its facade
    copy = project_copy(tmp_path)
    (copy / "apps" / "plugin" / "upward.py").write_text("from apps.ai import facade  # noqa: F401\n")
    (copy / "apps" / "ai" / "peek.py").write_text("from apps.gpu.models import Miner  # noqa: F401\n")

    # when: the linter runs over it
    result = lint_imports(copy)

    # then: it fails and names both imports
    assert result.returncode != 0
    assert "apps.plugin is not allowed to import apps.ai" in result.stdout
    assert "apps.plugin.upward -> apps.ai.facade" in result.stdout
    assert "apps.ai.peek -> apps.gpu.models (l.1) is not public" in result.stdout


def _returns(function) -> list:
    hint = typing.get_type_hints(function).get("return")
    return [hint, *typing.get_args(hint)] if hint is not None else []


FACADES = [f"{a.name}.facade" for a in django_apps.get_app_configs() if (Path(a.path) / "facade.py").exists()]


@pytest.mark.parametrize("facade_name", FACADES)
def test_no_facade_function_is_declared_to_return_an_orm_object(facade_name):
    facade = importlib.import_module(facade_name)
    # what it offers: the functions it defines and those it re-exports in __all__
    offered = [f for name, f in inspect.getmembers(facade, inspect.isfunction) if f.__module__ == facade_name]
    functions = offered + [
        getattr(facade, n) for n in getattr(facade, "__all__", ()) if inspect.isfunction(getattr(facade, n))
    ]
    orm = [
        f"{f.__module__}.{f.__name__} -> {hint}"
        for f in functions
        for hint in _returns(f)
        if isinstance(hint, type) and issubclass(hint, (models.Model, models.QuerySet))
    ]
    assert functions and orm == []
