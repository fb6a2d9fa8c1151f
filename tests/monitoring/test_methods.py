"""Each built-in method: its formula against an independent computation, and its direction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from modelwright.monitoring import BUILTINS, EmptyColumn, get_method, method_names
from modelwright.monitoring._counts import binned_percents, count_distinct, fill_zeroes
from modelwright.monitoring.methods import wasserstein_1d
from modelwright.testing import check_drift_method

rng = np.random.default_rng(7)
REF = rng.normal(0, 1, 400)
CUR = rng.normal(0.5, 1.2, 900)
CATS = np.array(["a", "b", "c"], dtype=object)
REF_C = rng.choice(CATS, 400, p=[0.5, 0.3, 0.2])
CUR_C = rng.choice(CATS, 900, p=[0.3, 0.3, 0.4])


@pytest.mark.parametrize("method", BUILTINS, ids=lambda m: m.name)
def test_every_builtin_passes_the_conformance_kit(method) -> None:  # type: ignore[no-untyped-def]
    check_drift_method(method)


def test_the_registry_lists_the_builtins_by_name() -> None:
    names = method_names()
    for name in (
        "ks",
        "chisquare",
        "z",
        "anderson",
        "wasserstein",
        "wasserstein_raw",
        "wasserstein_ddof1",
        "jensenshannon",
        "jensenshannon_base2",
        "psi",
        "kl_div",
        "hellinger",
    ):
        assert name in names
        assert get_method(name).name == name


def test_ks_is_scipys_and_drifts_at_equality() -> None:
    ks = get_method("ks")
    score = ks.compute(REF, CUR, "numerical")
    want = stats.ks_2samp(REF, CUR)
    assert score.value == want.pvalue and score.statistic == want.statistic
    assert ks.detects(0.05, 0.05)  # Evidently: p <= threshold
    assert not get_method("chisquare").detects(0.05, 0.05)  # its other tests: p < threshold


def test_wasserstein_matches_scipy_to_the_last_bits() -> None:
    for u, v in (
        (REF, CUR),
        (np.round(REF, 1), np.round(CUR, 1)),
        (np.arange(5.0), np.arange(3.0)),
    ):
        assert wasserstein_1d(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-15)
    ints = rng.integers(0, 5, 300)
    assert wasserstein_1d(ints, ints + 1) == pytest.approx(1.0)


def test_wasserstein_variants_normalise_differently() -> None:
    raw = get_method("wasserstein_raw").compute(REF, CUR, "numerical").value
    normed = get_method("wasserstein").compute(REF, CUR, "numerical").value
    sample = get_method("wasserstein_ddof1").compute(REF, CUR, "numerical").value
    assert normed == pytest.approx(raw / np.std(REF))
    assert sample == pytest.approx(raw / np.std(REF, ddof=1))
    constant = np.zeros(50)
    # A constant reference divides by 0.001, not 0.
    assert get_method("wasserstein").compute(
        constant, constant + 1, "numerical"
    ).value == pytest.approx(1000)


def test_chisquare_scales_reference_counts_to_the_current_size() -> None:
    score = get_method("chisquare").compute(REF_C, CUR_C, "categorical")
    ref = np.array([np.sum(k == REF_C) for k in CATS])
    cur = np.array([np.sum(k == CUR_C) for k in CATS])
    want = stats.chisquare(cur, ref * (cur.sum() / ref.sum()))
    assert score.value == pytest.approx(want.pvalue, rel=1e-12)
    new_value = np.append(CUR_C, "z")
    assert get_method("chisquare").compute(REF_C, new_value, "categorical").value == 0.0


def test_z_test_compares_the_share_of_the_smallest_value() -> None:
    ref = np.array([True] * 30 + [False] * 70)
    cur = np.array([True] * 50 + [False] * 50)
    score = get_method("z").compute(ref, cur, "categorical")
    p1, p2 = 0.3, 0.5  # share of values other than False (the smallest)
    pooled = 0.4
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert score.statistic == pytest.approx(z)
    assert score.value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))))
    same = np.array(["x"] * 10)
    assert get_method("z").compute(same, same[:4], "categorical").value == 1.0


def test_jensenshannon_bases() -> None:
    e = get_method("jensenshannon").compute(REF_C, CUR_C, "categorical").value
    two = get_method("jensenshannon_base2").compute(REF_C, CUR_C, "categorical").value
    assert two == pytest.approx(e / math.sqrt(math.log(2)))
    ref_p, cur_p = binned_percents(REF, CUR, True, fill=False)
    assert ref_p.size == math.ceil(math.log2(REF.size + CUR.size) + 1)  # Sturges over both
    assert get_method("jensenshannon").compute(REF, CUR, "numerical").value == pytest.approx(
        distance.jensenshannon(ref_p, cur_p)
    )


def test_psi_and_kl_fill_empty_bins() -> None:
    ref = np.array(["a"] * 60 + ["b"] * 40, dtype=object)
    cur = np.array(["a"] * 50 + ["c"] * 50, dtype=object)
    ref_p, cur_p = binned_percents(ref, cur, False, fill=True)
    assert np.all(ref_p > 0) and np.all(cur_p > 0)
    psi = get_method("psi").compute(ref, cur, "categorical").value
    assert psi == pytest.approx(float(np.sum((ref_p - cur_p) * np.log(ref_p / cur_p))))
    kl = get_method("kl_div").compute(ref, cur, "categorical").value
    assert kl == pytest.approx(float(stats.entropy(ref_p, cur_p)))
    assert fill_zeroes(np.array([0.0, 0.00005, 1.0]))[0] == pytest.approx(0.00005 / 1e6)


def test_hellinger_is_zero_for_the_same_and_one_for_disjoint() -> None:
    h = get_method("hellinger")
    assert h.compute(REF_C, REF_C.copy(), "categorical").value == pytest.approx(0.0, abs=1e-7)
    a = np.array(["a"] * 10, dtype=object)
    b = np.array(["b"] * 10, dtype=object)
    assert h.compute(a, b, "categorical").value == pytest.approx(1.0)
    assert 0 < h.compute(REF, CUR, "numerical").value < 1


def test_anderson_darling_p_value_is_capped_by_scipy() -> None:
    score = get_method("anderson").compute(REF, CUR, "numerical")
    assert score.value == pytest.approx(0.001)
    assert get_method("anderson").detects(score.value, 0.1)


def test_empty_side_is_a_named_error() -> None:
    with pytest.raises(EmptyColumn, match="reference"):
        get_method("ks").compute(REF[:0], CUR, "numerical")


def test_count_distinct_stops_early_but_counts_exactly_below_the_cap() -> None:
    many = np.arange(100_000, dtype=float)
    assert count_distinct(many, 5) == 6
    few = np.tile(np.array([1.0, 2.0, 3.0]), 50_000)
    assert count_distinct(few, 5) == 3
    assert count_distinct(np.append(few, 9.0), 3) == 4


def test_large_sample_ks_is_scipys_to_the_bit() -> None:
    from modelwright.monitoring.methods._tests import ks_2samp

    gen = np.random.default_rng(1)
    for a, b in (
        (gen.normal(size=1000), gen.normal(0.05, 1, 60_000)),
        (gen.normal(size=30_000), gen.normal(0.01, 1, 20_000)),
        (np.round(gen.normal(size=20_000), 1), np.round(gen.normal(size=15_000), 1)),  # ties
        (gen.integers(0, 50, 20_000), gen.integers(0, 50, 11_000)),
    ):
        want = stats.ks_2samp(a, b)
        assert ks_2samp(a, b) == (want.statistic, want.pvalue)
