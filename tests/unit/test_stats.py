import math

import pytest

from harness.stats import fisher_exact, rate_bound, wilson, zero_hit_bound


def test_wilson_zero_hits():
    lo, hi = wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=5e-4)


def test_wilson_all_hits_is_mirror_of_zero():
    lo, hi = wilson(10, 10)
    assert hi == pytest.approx(1.0)
    assert lo == pytest.approx(1 - 0.2775, abs=5e-4)


def test_wilson_known_value():
    lo, hi = wilson(5, 10)   # textbook: 0.2366 - 0.7634
    assert lo == pytest.approx(0.2366, abs=5e-4)
    assert hi == pytest.approx(0.7634, abs=5e-4)


def test_wilson_contains_point_estimate_and_narrows():
    for k, n in ((1, 10), (3, 7), (50, 100)):
        lo, hi = wilson(k, n)
        assert 0 <= lo <= k / n <= hi <= 1
    assert (wilson(50, 100)[1] - wilson(50, 100)[0]) < (wilson(5, 10)[1] - wilson(5, 10)[0])


def test_wilson_no_runs():
    assert wilson(0, 0) == (0.0, 1.0)


def test_zero_hit_bound():
    assert zero_hit_bound(10) == pytest.approx(0.2589, abs=1e-4)
    assert zero_hit_bound(100) == pytest.approx(3 / 100, rel=0.05)   # the rule of three
    assert zero_hit_bound(0) == 1.0
    assert zero_hit_bound(1) == pytest.approx(0.95)


def test_rate_bound():
    assert rate_bound(100) == pytest.approx(0.02996, abs=1e-5)
    assert rate_bound(0) == math.inf
    assert rate_bound(-1) == math.inf


def test_fisher_exact_different():
    p = fisher_exact(9, 10, 0, 10)
    assert p < 0.001
    assert p == pytest.approx(20 / 167960, rel=1e-9)   # 2 * C(10,9) * C(10,0) / C(20,9)


def test_fisher_exact_same():
    assert fisher_exact(1, 10, 1, 10) == 1.0
    assert fisher_exact(0, 5, 0, 5) == 1.0


def test_fisher_exact_symmetric():
    assert fisher_exact(7, 10, 2, 10) == pytest.approx(fisher_exact(2, 10, 7, 10))
    assert 0.01 < fisher_exact(7, 10, 2, 10) < 0.1   # scipy: 0.0698


def test_fisher_exact_known_value():
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: two-sided p = 0.4857
    assert fisher_exact(3, 4, 1, 4) == pytest.approx(0.4857, abs=1e-4)
