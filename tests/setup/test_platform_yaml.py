"""platform.yaml: parse errors and validation errors point at a line and a column."""

from __future__ import annotations

import pytest

from modelwright import InvalidInput
from modelwright.setup.spec import PlatformSpec
from modelwright.setup.yaml_io import dump_spec, load_spec

GOOD = """\
apiVersion: modelwright/v1
principals:
  - name: alice
workspaces:
  - name: churn
    environments:
      - name: dev
      - name: prod
        production: true
        datastores:
          - name: lake
            url: s3://lake/churn
            classification: production
            region: eu-west-1
    grants:
      - principal: alice
        role: approver
        environments: [prod]
"""


def _error(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        load_spec(text, source="platform.yaml")
    return exc.value


def test_a_good_file_loads_and_round_trips() -> None:
    spec = load_spec(GOOD)
    assert spec.api_version == "modelwright/v1"
    churn = spec.workspaces[0]
    assert [e.name for e in churn.environments] == ["dev", "prod"]
    assert churn.environments[1].datastores[0].classification == "production"
    assert churn.grants[0].environments == ["prod"]
    assert load_spec(dump_spec(spec)) == spec


def test_an_empty_file_is_an_empty_spec() -> None:
    assert load_spec("") == PlatformSpec()
    assert load_spec("# nothing here\n") == PlatformSpec()


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("workspaces: [\n  {name: a}\n", 3, 1, "expected ',' or ']'"),
        ("workspaces:\n  - name: a\n\tbad: 1\n", 3, 1, "'\\t'"),
        ("workspaces:\n  - name: a\n   environments: []\n", 3, 4, "expected <block end>"),
        ('principals:\n  - name: "open\n', 3, 1, "unexpected end of stream"),
        ("a: 1\nb: [1, 2\nc: 3\n", 3, 2, "expected ',' or ']'"),
        ("principals:\n  - name: a\x07b\n", 2, 12, "#x0007"),
        ("x: 1\n\x00\n", 2, 1, "#x0000"),
    ],
    ids=["unclosed-flow", "tab", "bad-indent", "unclosed-quote", "flow-sequence", "bell", "nul"],
)
def test_invalid_yaml_names_line_and_column(text: str, line: int, column: int, words: str) -> None:
    err = _error(text)
    assert err.message.startswith(f"platform.yaml:{line}:{column}: invalid YAML: "), err.message
    assert words in err.message
    assert err.details == {"line": line, "column": column}


@pytest.mark.parametrize(
    ("text", "where", "loc", "words"),
    [
        ("workspaces:\n  - name: ../x\n", "2:11", "workspaces[0].name", "not contain '..'"),
        (
            "workspaces:\n  - name: ok\n    environments:\n      - name: dev\n        production: maybe\n",
            "5:21",
            "workspaces[0].environments[0].production",
            "valid boolean",
        ),
        (
            "principals:\n  - name: a\n    colour: red\n",
            "3:13",
            "principals[0].colour",
            "Extra inputs",
        ),
        ("apiVersion: v2\n", "1:13", "apiVersion", "modelwright/v1"),
        (
            "roles:\n  - name: r\n    actions: [data.read, fly]\n",
            "3:26",
            "roles[0].actions[1]",
            "data.read",
        ),
        ("workspaces: {name: a}\n", "1:13", "workspaces", "valid list"),
        (
            "workspaces:\n  - name: w\n    environments:\n      - name: dev\n        datastores:\n          - name: lake\n            url: s3://x\n            classification: production\n",
            "4:9",
            "workspaces[0].environments[0]",
            "classified production",
        ),
    ],
    ids=[
        "bad-name",
        "bad-bool",
        "unknown-field",
        "api-version",
        "bad-action",
        "not-a-list",
        "placement",
    ],
)
def test_invalid_content_names_line_column_and_field(
    text: str, where: str, loc: str, words: str
) -> None:
    err = _error(text)
    assert err.message.startswith(f"platform.yaml:{where}: {loc}: "), err.message
    assert words in err.message
    problem = err.details["problems"][0]
    assert (problem["loc"], f"{problem['line']}:{problem['column']}") == (loc, where)


def test_every_problem_is_listed() -> None:
    err = _error("principals:\n  - name: ''\n  - name: x\n    kind: robot\n")
    assert err.message.endswith("(and 1 more)")
    assert [p["loc"] for p in err.details["problems"]] == [
        "principals[0].name",
        "principals[1].kind",
    ]
    assert [p["line"] for p in err.details["problems"]] == [2, 4]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    err = _error("- just\n- a list\n")
    assert err.message.startswith("platform.yaml:1:1: the document must be a mapping")


_STORE = (
    "workspaces:\n  - name: w\n    environments:\n      - name: dev\n        datastores:\n"
    "          - name: lake\n            url: {url}\n"
)


def _url(url: str, variables: dict[str, str]) -> str:
    spec = load_spec(_STORE.format(url=url), source="platform.yaml", variables=variables)
    return spec.workspaces[0].environments[0].datastores[0].url


def test_values_name_environment_variables_as_in_compose_files() -> None:
    home = {"HOME_DIR": "/srv/ml"}
    assert _url("${HOME_DIR}/data/dev", home) == "/srv/ml/data/dev"
    assert _url("${MISSING:-./local}/dev", home) == "./local/dev"
    assert _url("${EMPTY:-./local}/dev", {"EMPTY": ""}) == "./local/dev"
    assert _url("./data${EMPTY}/dev", {"EMPTY": ""}) == "./data/dev"  # set, if empty
    assert _url("s3://b/$${HOME_DIR}", home) == "s3://b/${HOME_DIR}"  # escaped
    assert _url("s3://b/$5", home) == "s3://b/$5"  # a lone $ is a $
    # Without variables nothing is expanded.
    spec = load_spec(_STORE.format(url="${HOME_DIR}/x"))
    assert spec.workspaces[0].environments[0].datastores[0].url == "${HOME_DIR}/x"


def test_an_unset_variable_names_line_column_field_and_variable() -> None:
    with pytest.raises(InvalidInput) as info:
        _url("${DATA_ROOT}/dev", {})
    err = info.value
    assert err.message.startswith(
        "platform.yaml:7:18: workspaces[0].environments[0].datastores[0].url: "
        "environment variable DATA_ROOT is not set"
    ), err.message
    assert "${DATA_ROOT:-...}" in err.message
    assert err.details["variable"] == "DATA_ROOT"
