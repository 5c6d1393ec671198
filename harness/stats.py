"""Honest statistics for probabilistic cases: rates with intervals, bounds from zero hits, pair tests."""
import math

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def zero_hit_bound(n: int, confidence: float = 0.95) -> float:
    """Exact upper bound on the per-run probability after 0 hits in n runs (≈ 3/n, the rule of three)."""
    return 1.0 if n == 0 else 1 - (1 - confidence) ** (1 / n)


def rate_bound(seconds: float, confidence: float = 0.95) -> float:
    """Upper bound on a Poisson crash rate (per second) after 0 crashes in `seconds` of exposure (≈ 3/T)."""
    return math.inf if seconds <= 0 else -math.log(1 - confidence) / seconds


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value: do two builds reproduce at different rates? (exact integers)"""
    total_k, total = k1 + k2, n1 + n2

    def weight(a: int) -> int:
        return math.comb(n1, a) * math.comb(n2, total_k - a)

    lo, hi = max(0, total_k - n2), min(n1, total_k)
    observed = weight(k1)
    return min(1.0, sum(w for a in range(lo, hi + 1) if (w := weight(a)) <= observed) / math.comb(total, total_k))


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu)."""
    term = total = math.exp(-mu)
    for i in range(1, k + 1):
        term *= mu / i
        total += term
    return min(1.0, total)


def poisson_interval(k: int, seconds: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) two-sided interval on a Poisson rate (per second) after k events in `seconds`."""
    if seconds <= 0:
        return (0.0, math.inf)
    alpha = (1 - confidence) / 2

    def solve(f, target: float) -> float:   # f decreasing in mu: the mu where f(mu) = target
        lo, hi = 0.0, max(10.0, 10.0 * (k + 1))
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > target else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if k == 0 else solve(lambda mu: _poisson_cdf(k - 1, mu), 1 - alpha)  # P(X >= k) = alpha
    upper = solve(lambda mu: _poisson_cdf(k, mu), alpha)                              # P(X <= k) = alpha
    return (lower / seconds, upper / seconds)


def exposure_text(crashes: int, seconds: float, events: str = "") -> str:
    """A probabilistic case's rate per second of load: the one-sided 95% bound (≈ 3/T) after zero
    crashes, else the rate with its exact 95% interval; `events` names the trigger path's own count."""
    load = f"{seconds:.0f} s of load" + (f" ({events})" if events else "")
    if crashes == 0:
        return f"0 crashes in {load}: rate < {rate_bound(seconds):.3g}/s (95%)"
    lo, hi = poisson_interval(crashes, seconds)
    return (f"{crashes} crash{'es' if crashes > 1 else ''} in {load}: "
            f"rate {crashes / seconds:.3g}/s (95% CI {lo:.3g}-{hi:.3g})")


def rate_comparison(k1: int, t1: float, k2: int, t2: float) -> float:
    """Two-sided exact p-value that two Poisson rates are equal (k1 events in t1 seconds vs k2 in t2):
    conditional on the k1 + k2 events, k1 ~ Binomial(k1 + k2, t1 / (t1 + t2)) under equal rates."""
    n = k1 + k2
    if n == 0 or t1 <= 0 or t2 <= 0:
        return 1.0
    p = t1 / (t1 + t2)

    def prob(a: int) -> float:
        return math.comb(n, a) * p ** a * (1 - p) ** (n - a)

    observed = prob(k1)
    return min(1.0, sum(q for a in range(n + 1) if (q := prob(a)) <= observed * (1 + 1e-9)))
