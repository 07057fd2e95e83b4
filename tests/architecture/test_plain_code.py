"""The interfaces are found by reading them: plain imports, commands and routes at module level, errors that
carry their own exit status and HTTP status (issue 15). A newcomer's grep must lead to every command and route."""

from __future__ import annotations

import ast
import re

import click
from flask_restx import Namespace

from core import errors
from core.config import PROJECT_ROOT

HUB = PROJECT_ROOT / "hub"
STRING_LOADERS = re.compile(r"__import__\(|import_module\(|except (ModuleNotFoundError|ImportError)")


def _sources() -> list[tuple[str, str]]:
    return [(str(path.relative_to(PROJECT_ROOT)), path.read_text(encoding="utf-8")) for path in sorted(HUB.rglob("*.py"))]


def test_no_module_is_loaded_by_name_or_guarded_as_optional() -> None:
    found = [f"{name}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for name, text in _sources() for m in STRING_LOADERS.finditer(text)]
    assert not found, "import the module plainly (everything in hub/ ships):\n" + "\n".join(found)


def test_no_command_or_route_is_defined_inside_a_function() -> None:
    """Decorated commands, resources and routes sit at module level, never in a register() closure."""
    nested = []
    for name, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if inner is node or not isinstance(inner, (ast.FunctionDef, ast.ClassDef)):
                    continue
                for decorator in inner.decorator_list:
                    call = decorator.func if isinstance(decorator, ast.Call) else decorator
                    label = ast.unparse(call)
                    if re.search(r"(^click\.|\.command$|\.group$|\.route$|^ns\.|\.get$|\.post$|^action$)", label):
                        nested.append(f"{name}:{inner.lineno} {inner.name} (@{label})")
    assert not nested, "define these at module level:\n" + "\n".join(nested)


def test_every_cli_command_is_attached_to_the_group() -> None:
    import hub.cli
    from hub.cli import cli

    attached = set(cli.commands.values())
    for group in [c for c in attached if isinstance(c, click.Group)]:
        attached |= set(group.commands.values())
    modules = [getattr(hub.cli, name) for name in dir(hub.cli) if type(getattr(hub.cli, name)).__name__ == "module"]
    loose = [f"{m.__name__}.{name}" for m in modules for name, value in vars(m).items()
             if isinstance(value, click.Command) and value is not cli and value not in attached]
    assert not loose, f"add them with cli.add_command(...) in hub/cli/__init__.py: {loose}"


def test_every_api_namespace_is_added_to_the_api() -> None:
    import hub.api

    modules = [getattr(hub.api, name) for name in dir(hub.api) if type(getattr(hub.api, name)).__name__ == "module"]
    loose = [f"{m.__name__}.{name}" for m in modules for name, value in vars(m).items()
             if isinstance(value, Namespace) and value not in hub.api.NAMESPACES]
    assert not loose, f"add them to NAMESPACES in hub/api/__init__.py: {loose}"


def test_the_cli_exits_only_through_error_classes() -> None:
    literal = [f"{name}: {line.strip()}" for name, text in _sources() if name.startswith("hub/cli/")
               for line in text.splitlines() if re.search(r"SystemExit\(\d|sys\.exit\(\d|Exit\(\d", line) and "(130)" not in line]  # 130: interrupted
    assert not literal, "raise a core.errors class (it carries the exit status):\n" + "\n".join(literal)


def test_each_error_class_keeps_the_status_and_exit_code_it_had() -> None:
    """The statuses README and the OpenAPI document promise: the tables the interfaces used to keep."""
    expected = {
        errors.HubError: (400, 1), errors.ConfigError: (400, 3), errors.CatalogError: (400, 3),
        errors.StoreError: (503, 4), errors.InputError: (400, 5), errors.EncodingError: (400, 5),
        errors.HeaderError: (400, 5), errors.ValidationFailed: (422, 6), errors.LoadConflict: (409, 7),
        errors.NotFound: (404, 8), errors.DatasetNotFound: (404, 8), errors.AccessDenied: (403, 1),
        errors.Unauthenticated: (401, 1), errors.IntegrityBroken: (500, 9),
    }
    assert {cls: (cls.http_status, cls.exit_code) for cls in expected} == expected
