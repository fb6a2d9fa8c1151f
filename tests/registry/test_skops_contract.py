"""The skops the sklearn flavor relies on, checked against the version pinned in
pyproject.toml: its public trust API (``get_untrusted_types``, ``trusted=`` adding to the
defaults) and what the fast import of ``_skops`` assumes. Each check runs in a fresh
interpreter, since ``skops.io`` builds its defaults once per process."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import modelwright

pytest.importorskip("skops")

ROOT = Path(__file__).resolve().parents[2]

MODELS = """
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


class Shift(TransformerMixin, BaseEstimator):
    def fit(self, x, y=None):
        return self

    def transform(self, x):
        return x + 1


rng = np.random.default_rng(0)
x = rng.normal(size=(40, 3))
y = (x[:, 0] > 0).astype(int)
plain = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
custom = make_pipeline(Shift(), StandardScaler(), LogisticRegression()).fit(x, y)
ESTIMATORS = [
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
]


def same(a, b):
    assert (a.predict(x) == b.predict(x)).all()
"""

PUBLIC_API = """
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

# An estimator round-trips under skops's defaults alone.
data = sio.dumps(plain)
assert sio.get_untrusted_types(data=data) == []
same(sio.loads(data), plain)

# An unknown type is reported untrusted and refused...
data = sio.dumps(custom)
assert sio.get_untrusted_types(data=data) == ["__main__.Shift"]
try:
    sio.loads(data)
except UntrustedTypesFoundException:
    pass
else:
    raise AssertionError("an untrusted type was loaded")
# ...unless trusted: ``trusted`` adds to the defaults, it does not replace them.
same(sio.loads(data, trusted=["__main__.Shift"]), custom)
print("ok")
"""

FAST_IMPORT = """
import sys

import scipy.special

from modelwright.registry.flavors import _skops

sio = _skops.skops_io()
assert sio is sys.modules["skops.io"]
# The estimator discovery (all of scikit-learn, and pytest with it) was skipped, and skops's
# own whichmodule is back in place.
assert "pytest" not in sys.modules and "sklearn.calibration" not in sys.modules
original = sys.modules["skops.io._utils"].whichmodule
assert original.__module__ == "skops.io._utils"
# The faster whichmodule answers as skops's does for the objects it was written for.
ufuncs = [n for n in dir(scipy.special) if type(getattr(scipy.special, n)).__name__ == "ufunc"]
assert len(ufuncs) > 100
for name in ufuncs:
    obj = getattr(scipy.special, name)
    assert _skops._whichmodule(obj, name) == original(obj, name), name

from skops.io.exceptions import UntrustedTypesFoundException

# Stricter defaults, never looser: the estimators are untrusted until passed as trusted.
data = sio.dumps(plain)
assert sorted(sio.get_untrusted_types(data=data)) == ESTIMATORS
try:
    sio.loads(data)
except UntrustedTypesFoundException:
    pass
else:
    raise AssertionError("the fast import trusted an estimator by default")
assert _skops.recorded_estimators(ESTIMATORS + ["os.system"]) == ESTIMATORS
same(sio.loads(data, trusted=_skops.recorded_estimators(ESTIMATORS)), plain)
# Judged as skops's full defaults judge: the estimators are trusted, a custom type is not.
import tempfile, pathlib
with tempfile.TemporaryDirectory() as tmp:
    for model, expected in ((plain, []), (custom, ["__main__.Shift"])):
        file = pathlib.Path(tmp) / "m.skops"
        sio.dump(model, file)
        assert _skops.untrusted_types(sio, file) == expected
print("ok")
"""


def _run(code: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(modelwright.__file__).resolve().parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(MODELS) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().splitlines()[-1] == "ok"


def test_the_installed_skops_is_the_pinned_one() -> None:
    pinned = re.search(r'"skops==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None, "skops is pinned in pyproject.toml"
    assert importlib.metadata.version("skops") == pinned.group(1)


def test_the_public_trust_api_behaves_as_the_flavor_relies_on() -> None:
    _run(PUBLIC_API)


def test_the_fast_import_skips_only_the_discovery_and_trusts_nothing_more() -> None:
    _run(FAST_IMPORT)
