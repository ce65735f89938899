"""The finding-code registry (homedeploy.doctor.codes) is complete and agrees with the rules."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from homedeploy.doctor.codes import (
    ALL_CODES,
    CODES,
    BootCode,
    BuildCode,
    FixerName,
    RepositoryCode,
)
from homedeploy.doctor.fixes import FIXERS

PACKAGE = Path(__file__).resolve().parent.parent / "homedeploy"


def test_every_code_has_one_entry() -> None:
    assert len(ALL_CODES) == len(set(ALL_CODES))
    assert set(CODES) == set(ALL_CODES)


def test_stage_literals_match_the_registry() -> None:
    for literal, stage in (
        (BuildCode, "build"),
        (BootCode, "boot"),
        (RepositoryCode, "repository"),
    ):
        for code in get_args(literal):
            assert CODES[code].stage == stage, code


def test_every_fixer_is_named_and_used() -> None:
    assert set(FIXERS) == set(get_args(FixerName))
    used = {info.fixer for info in CODES.values() if info.fixer is not None}
    assert used == set(FIXERS)


def test_codes_emitted_in_source_are_registered() -> None:
    """Every string literal a rule passes as a finding code is in the registry (mypy checks the
    types; this catches a code spelt in a module mypy does not see as a rule)."""
    emitted: set[str] = set()
    for path in (PACKAGE / "doctor").rglob("*.py"):
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Finding", "_build", "_boot", "_repo")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                emitted.add(node.args[0].value)
    assert emitted, "no finding constructions found"
    assert emitted <= set(CODES), emitted - set(CODES)


def test_each_rule_module_emits_codes_of_its_stage() -> None:
    """``rules/build.py`` emits build codes, ``boot.py`` boot codes, ``repository.py``
    repository codes: the registry's stage is the module a reader finds the rule in."""
    for module, helper, stage in (
        ("build", "_build", "build"),
        ("boot", "_boot", "boot"),
        ("repository", "_repo", "repository"),
    ):
        path = PACKAGE / "doctor" / "rules" / f"{module}.py"
        codes = {
            node.args[0].value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == helper
            and node.args
            and isinstance(node.args[0], ast.Constant)
        }
        assert codes, module
        assert {code: CODES[code].stage for code in codes if CODES[code].stage != stage} == {}
