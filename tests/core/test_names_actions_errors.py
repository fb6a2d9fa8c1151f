"""The kernel's vocabulary: safe names, actions and built-in roles, typed errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import modelwright
from modelwright import errors
from modelwright.core.actions import ALL, BUILTIN_ROLES, Action
from modelwright.core.names import MAX_NAME, Name, ScopeName, check_name

MIGRATION = (
    Path(modelwright.__file__).parent / "store" / "migrations" / "versions" / "0001_foundation.py"
)


@pytest.mark.parametrize("name", ["a", "dev", "Team-1", "model_v2.1", "x" * MAX_NAME, "9lives"])
def test_good_names_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "must not be empty"),
        ("x" * (MAX_NAME + 1), "at most 64 characters (got 65)"),
        ("../x", "not contain '..'"),
        ("a..b", "not contain '..'"),
        ("a/b", "letters, digits"),
        ("a\\b", "letters, digits"),
        (".hidden", "start with a letter or digit"),
        ("-flag", "start with a letter or digit"),
        ("a b", "letters, digits"),
        ("a\x00b", "control characters"),
        ("a\nb", "control characters"),
        ("a\x7fb", "control characters"),
        ("caf\u00e9", "letters, digits"),
        ("*", "letters, digits"),
    ],
)
def test_bad_names_are_invalid_input_naming_the_field(name: str, words: str) -> None:
    with pytest.raises(errors.InvalidInput) as exc:
        check_name(name, "workspace")
    assert exc.value.message.startswith("workspace: ")
    assert words in exc.value.message
    assert exc.value.details == {"field": "workspace", "value": name}


class _Named(BaseModel):
    name: Name
    scope: ScopeName = "*"


def test_name_types_validate_in_models() -> None:
    assert _Named(name="ok", scope="dev").scope == "dev"
    assert _Named(name="ok").scope == ALL
    for bad in ("../x", "", "a\x01"):
        with pytest.raises(ValidationError):
            _Named(name=bad)
        with pytest.raises(ValidationError):
            _Named(name="ok", scope=bad)
    with pytest.raises(ValidationError):
        _Named(name="*")  # "*" is a scope, never a name


def test_builtin_roles_match_the_migration_that_seeds_them() -> None:
    spec = importlib.util.spec_from_file_location("mw_migration_0001", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    seeded = {name: (description, set(actions)) for name, description, actions in migration._ROLES}
    declared = {
        name: (d, {a.value for a in actions}) for name, (d, actions) in BUILTIN_ROLES.items()
    }
    assert seeded == declared, "changing a built-in role needs a migration for existing databases"


def test_builtin_roles_keep_four_eyes() -> None:
    roles = {name: set(actions) for name, (_, actions) in BUILTIN_ROLES.items()}
    assert set(roles) == {"viewer", "data-scientist", "ml-engineer", "approver", "admin"}
    assert roles["admin"] == set(Action)
    assert roles["viewer"] == {Action.DATA_READ}
    assert roles["data-scientist"] < roles["ml-engineer"]
    assert Action.ENDPOINT_DEPLOY in roles["ml-engineer"] - roles["data-scientist"]
    # Whoever approves a promotion cannot also request it or deploy.
    assert Action.PROMOTION_APPROVE in roles["approver"]
    assert not roles["approver"] & {Action.PROMOTION_REQUEST, Action.ENDPOINT_DEPLOY}
    for name in ("viewer", "data-scientist", "ml-engineer"):
        assert Action.PROMOTION_APPROVE not in roles[name]
        assert Action.ACCESS_MANAGE not in roles[name]


ERRORS = [
    (errors.InvalidInput, "invalid_input", 400),
    (errors.Unauthenticated, "unauthenticated", 401),
    (errors.PermissionDenied, "permission_denied", 403),
    (errors.NotFound, "not_found", 404),
    (errors.AlreadyExists, "already_exists", 409),
    (errors.Conflict, "conflict", 409),
    (errors.GateFailed, "gate_failed", 422),
    (errors.ArtifactCorrupted, "artifact_corrupted", 500),
    (errors.ServiceUnavailable, "unavailable", 503),
    (errors.StorageError, "storage_error", 507),
]


@pytest.mark.parametrize(("cls", "code", "status"), ERRORS)
def test_errors_have_stable_codes_statuses_and_one_body(
    cls: type[errors.ModelwrightError], code: str, status: int
) -> None:
    assert (cls.code, cls.status) == (code, status)
    err = cls("something is wrong", details={"field": "x"})
    assert err.to_body() == {
        "error": {"code": code, "message": "something is wrong", "details": {"field": "x"}}
    }
    assert cls("no details").to_body()["error"]["details"] == {}
    assert errors.error_class_for_code(code) is cls
    assert issubclass(cls, errors.ModelwrightError)


def test_unknown_error_codes_map_to_the_base_class() -> None:
    assert errors.error_class_for_code("teapot") is errors.ModelwrightError
    assert len({code for _, code, _ in ERRORS}) == len(ERRORS)
