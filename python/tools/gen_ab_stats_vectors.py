"""Reference vectors for the A/B statistics added beside the mSPRT, written to test/fixtures/ab-stats-vectors.json.

Computed with scipy 1.11.4 / numpy 1.26.4, independently of the TypeScript code:
  python -m venv /tmp/venv-ab && /tmp/venv-ab/bin/pip install numpy==1.26.4 scipy==1.11.4
  /tmp/venv-ab/bin/python python/tools/gen_ab_stats_vectors.py

- sequential sample-ratio test (src/stats/sequential-srm.ts): the Beta-binomial Bayes factor of
  Lindon & Malek (2022) in closed form with scipy.special.betaln, cross-checked against the product of
  its one-user factors (math.fsum), and the running-minimum p over whole streams with split changes;
- clustered mean (src/stats/clustered-mean.ts): the delta-method variance with users as units, computed
  per cluster with numpy on seeded data sets and cross-checked in exact rational arithmetic (fractions);
- mixture bounds (src/stats/msprt.ts): the one-sided always-valid bounds by scipy.optimize.brentq on the
  half-normal mixture with scipy.stats.norm.logcdf, the two-sided half width in closed form (checked by
  brentq on the symmetric mixture), and a seeded sequential path of running p's and bounds.
"""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy
from scipy import optimize, special, stats

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "ab-stats-vectors.json"

# --- sequential sample-ratio mismatch -------------------------------------------------------------


def srm_log_bf(a: np.ndarray | int, b: np.ndarray | int, s: float, k: float) -> np.ndarray:
    """ln BF of Beta(k s, k(1-s)) on B's share against the point null s, after a users in A and b in B."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return special.betaln(k * s + b, k * (1 - s) + a) - special.betaln(k * s, k * (1 - s)) - b * np.log(s) - a * np.log1p(-s)


def srm_log_bf_by_product(a: int, b: int, s: float, k: float) -> float:
    """The same Bayes factor as the product of one-user predictive ratios (all A first, then all B: it is exchangeable)."""
    terms = [math.log((k * (1 - s) + i) / (k + i)) - math.log1p(-s) for i in range(a)]
    terms += [math.log((k * s + j) / (k + a + j)) - math.log(s) for j in range(b)]
    return math.fsum(terms)


def srm_closed_form_cases() -> list[dict[str, float]]:
    inputs = [(0, 0, 0.5, 100), (1, 0, 0.5, 100), (0, 1, 0.5, 100), (50, 50, 0.5, 100), (5, 15, 0.5, 100), (600, 400, 0.5, 100),
              (520, 480, 0.5, 100), (5000, 5000, 0.5, 100), (5200, 4800, 0.5, 100), (9000, 1000, 0.1, 100), (8800, 1200, 0.1, 100),
              (700, 300, 0.25, 100), (30, 70, 0.3, 10), (300, 700, 0.3, 1), (300, 700, 0.3, 1000), (990, 10, 0.01, 100),
              (10, 990, 0.99, 100), (2, 998, 0.5, 100), (751, 249, 0.2, 50)]
    cases = []
    for a, b, s, k in inputs:
        closed = float(srm_log_bf(a, b, s, k))
        product = srm_log_bf_by_product(a, b, s, k)
        if abs(closed - product) > 1e-10 * max(1.0, a + b):
            sys.exit(f"betaln and the product of one-user factors disagree at {(a, b, s, k)}: {closed} vs {product}")
        cases.append({"usersA": a, "usersB": b, "shareB": s, "concentration": k, "logBayesFactor": closed})
    return cases


def srm_stream(segments: list[tuple[float, str]], k: float) -> dict[str, object]:
    """Total ln BF and running-min p after every user; a share other than the last counted one starts a period."""
    log_bf, p_value, periods = [], [], []
    done = 0.0  # ln BF of the finished periods
    p = 1.0
    last_share = None
    a = b = 0
    for share, arms in segments:
        for arm in arms:
            if share in (0.0, 1.0):
                log_bf.append(done + (float(srm_log_bf(a, b, last_share, k)) if last_share is not None else 0.0))
                p_value.append(p)
                continue
            if share != last_share:
                if last_share is not None:
                    done += float(srm_log_bf(a, b, last_share, k))
                    periods.append({"shareB": last_share, "users": {"A": a, "B": b}, "logBayesFactor": float(srm_log_bf(a, b, last_share, k))})
                last_share, a, b = share, 0, 0
            if arm == "A":
                a += 1
            else:
                b += 1
            total = done + float(srm_log_bf(a, b, share, k))
            p = min(p, 1.0, math.exp(-total))
            log_bf.append(total)
            p_value.append(p)
    if last_share is not None:
        periods.append({"shareB": last_share, "users": {"A": a, "B": b}, "logBayesFactor": float(srm_log_bf(a, b, last_share, k))})
    return {"segments": [{"shareB": s, "arms": arms} for s, arms in segments], "concentration": k, "logBayesFactor": log_bf,
            "pValue": p_value, "periods": periods}


def arms_string(rng: np.random.Generator, n: int, true_share: float) -> str:
    return "".join("B" if u < true_share else "A" for u in rng.random(n))


def srm_streams() -> dict[str, object]:
    k = 100.0
    balanced = srm_stream([(0.5, "AB" * 500)], k)
    # 600 A and 400 B, interleaved as AABAB so the imbalance grows steadily.
    skewed = srm_stream([(0.5, "AABAB" * 200)], k)
    rng = np.random.default_rng(20251202)
    # A broken start (B gets 62% at a 50% split), then a long healthy period at 20%, a pause at 0 and 1
    # (skipped), more users at 20% (the same period), and a new healthy period at 50%.
    periods = srm_stream([(0.5, arms_string(rng, 400, 0.62)), (0.2, arms_string(rng, 800, 0.2)), (0.0, "A" * 20), (1.0, "B" * 5),
                          (0.2, arms_string(rng, 200, 0.2)), (0.5, arms_string(rng, 400, 0.5))], k)
    # The running minimum must matter: the evidence at the end is weaker than at the lowest point.
    if not (min(1.0, math.exp(-periods["logBayesFactor"][-1])) > periods["pValue"][-1]):
        sys.exit("the periods stream should end with 1/BF above its running minimum; pick another seed")
    return {"balanced": balanced, "skewed": skewed, "periods": periods}


# --- clustered mean -------------------------------------------------------------------------------


def clustered_reference(keys: np.ndarray, values: np.ndarray) -> dict[str, float]:
    n = len(values)
    mean = float(values.sum() / n)
    _, idx = np.unique(keys, return_inverse=True)
    k = int(idx.max()) + 1
    # Deviations from the mean of values shifted by the first one: the mean itself of 1e6-offset data
    # rounds by ~1e-10, an error every deviation x − m would carry.
    shifted = values - values[0]
    centred = shifted - shifted.sum() / n
    # S_i − m n_i as the cluster's sum of deviations: no cancellation between S_i and m n_i.
    deviations = np.bincount(idx, weights=centred, minlength=k)
    nbar = n / k
    variance = float((deviations**2).sum() / (k * (k - 1) * nbar**2)) if k >= 2 else math.nan
    iid = float((centred**2).sum() / (n - 1) / n) if n >= 2 else math.nan
    return {"n": n, "clusters": k, "sum": float(values.sum()), "mean": mean, "variance": variance, "iidVariance": iid}


def clustered_exact(keys: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """The same two variances in exact rational arithmetic on the given doubles."""
    xs = [Fraction(float(v)) for v in values]
    n = len(xs)
    m = sum(xs) / n
    sums: dict[int, Fraction] = {}
    counts: dict[int, int] = {}
    for key, x in zip(keys.tolist(), xs):
        sums[key] = sums.get(key, Fraction(0)) + x
        counts[key] = counts.get(key, 0) + 1
    k = len(sums)
    nbar = Fraction(n, k)
    cluster = sum((sums[c] - m * counts[c]) ** 2 for c in sums) / (k * (k - 1) * nbar**2)
    iid = sum((x - m) ** 2 for x in xs) / (n - 1) / n
    return float(cluster), float(iid)


def clustered_case(name: str, keys: np.ndarray, values: np.ndarray) -> dict[str, object]:
    for label, ref, exact in zip(("variance", "iidVariance"), (clustered_reference(keys, values)[x] for x in ("variance", "iidVariance")),
                                 clustered_exact(keys, values)):
        if abs(ref - exact) > 1e-13 * exact:
            sys.exit(f"{name}: numpy and exact arithmetic disagree on {label}: {ref} vs {exact}")
    n = len(values)
    prefixes = sorted({2, 10, 100, n // 2, n} & set(range(2, n + 1)))
    return {
        "name": name,
        "keys": keys.tolist(),
        "values": values.tolist(),
        # JSON has no NaN: a variance with fewer than 2 clusters is written as null.
        "prefixes": [{"length": p, **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in clustered_reference(keys[:p], values[:p]).items()}}
                     for p in prefixes],
    }


def with_heavy_users(rng: np.random.Generator, users: int, mean_extra: float, heavy: list[int]) -> np.ndarray:
    """Cluster ids of every observation, shuffled: 1 + Poisson(mean_extra) observations per user plus a few heavy users."""
    sizes = np.concatenate([1 + rng.poisson(mean_extra, users), heavy])
    keys = np.repeat(np.arange(len(sizes)), sizes)
    return rng.permutation(keys)


def clustered_cases() -> list[dict[str, object]]:
    rng = np.random.default_rng(7)
    cases = []
    # Correct (1) / wrong (0) labels: each user has their own accuracy, so one user's rows are correlated.
    keys = with_heavy_users(rng, 150, 2.0, [300, 120])
    user_accuracy = rng.beta(9, 2, keys.max() + 1)
    cases.append(clustered_case("0/1 labels, per-user accuracy, two heavy users", keys, (rng.random(len(keys)) < user_accuracy[keys]).astype(float)))
    # Latencies in ms: lognormal around a per-user level.
    keys = with_heavy_users(rng, 200, 4.0, [400, 250, 90])
    user_level = rng.normal(4.0, 0.5, keys.max() + 1)
    cases.append(clustered_case("lognormal latencies, per-user level, three heavy users", keys, np.exp(rng.normal(user_level[keys], 0.6))))
    # A large offset and a small spread: running sums of raw values would cancel.
    keys = with_heavy_users(rng, 80, 3.0, [60])
    cases.append(clustered_case("offset 1e6, spread 1", keys, 1e6 + rng.normal(0.0, 1.0, len(keys))))
    keys = np.array([0, 0, 1, 2, 2, 2])
    cases.append(clustered_case("three clusters by hand", keys, np.array([1.0, 0.0, 1.0, 1.0, 1.0, 0.0])))
    return cases


def singletons_case() -> dict[str, object]:
    rng = np.random.default_rng(11)
    values = np.exp(rng.normal(3.0, 0.8, 300))
    n = len(values)
    m = values.sum() / n
    return {"values": values.tolist(), "mean": float(m), "variance": float(((values - m) ** 2).sum() / (n * (n - 1))),
            "iidVariance": float(np.var(values, ddof=1) / n)}


# --- mixture statistics and bounds ----------------------------------------------------------------


def log_lambdas(est: float, v: float, tau: float, theta0: float) -> tuple[float, float, float]:
    t2 = tau * tau
    d = est - theta0
    log_lam = 0.5 * np.log(v / (v + t2)) + t2 * d**2 / (2 * v * (v + t2))
    w = tau * d / np.sqrt(v * (v + t2))
    return float(log_lam), float(np.log(2) + log_lam + stats.norm.logcdf(w)), float(np.log(2) + log_lam + stats.norm.logcdf(-w))


def half_width(v: float, tau: float, alpha: float) -> float:
    t2 = tau * tau
    return float(np.sqrt(v * (v + t2) / t2 * (2 * np.log(1 / alpha) + np.log((v + t2) / v))))


def bounds(est: float, v: float, tau: float, alpha: float) -> tuple[float, float]:
    """θ0 where Λ+ = 1/alpha (lower) and where Λ− = 1/alpha (upper), by brentq on θ0 itself."""
    target = math.log(1 / alpha)
    h = half_width(v, tau, alpha)
    # At θ0 = est, Λ± < 1; at est ∓ h the symmetric Λ is 1/alpha and Λ± = 2ΛΦ(w) exceeds it.
    lower = optimize.brentq(lambda t: log_lambdas(est, v, tau, t)[1] - target, est - h, est, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    upper = optimize.brentq(lambda t: log_lambdas(est, v, tau, t)[2] - target, est, est + h, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    # The symmetric mixture reaches 1/alpha at est ± h: the half width's closed form, checked by root finding.
    sym = optimize.brentq(lambda t: log_lambdas(est, v, tau, t)[0] - target, est - 2 * h - 1, est, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    if abs((est - sym) - h) > 1e-10 * h:
        sys.exit(f"the half width's closed form disagrees with brentq at {(est, v, tau, alpha)}: {h} vs {est - sym}")
    return float(lower), float(upper)


def mixture_cases() -> list[dict[str, float]]:
    inputs = [(0.0, 1e-3, 0.08, 0.0), (0.05, 1e-3, 0.08, 0.0), (-0.05, 1e-3, 0.08, 0.0), (0.02, 4e-4, 0.08, -0.02), (0.1, 1e-5, 0.08, 0.0),
              (-0.3, 1e-4, 0.05, 0.0), (0.01, 0.5, 0.08, 0.0), (12.5, 16.0, 10.0, -5.0), (0.0953, 0.002, 0.2, 0.0953), (3.0, 1e-6, 0.1, 1.5)]
    cases = []
    for est, v, tau, theta0 in inputs:
        lam, better, worse = log_lambdas(est, v, tau, theta0)
        cases.append({"estimate": est, "variance": v, "tau": tau, "theta0": theta0, "logLambda": lam, "logLambdaBetter": better, "logLambdaWorse": worse})
    return cases


def bound_cases() -> list[dict[str, float]]:
    inputs = [(0.0, 1e-3, 0.08, 0.05), (0.05, 1e-3, 0.08, 0.05), (-0.05, 1e-3, 0.08, 0.05), (0.02, 4e-4, 0.08, 0.05), (0.1, 1e-5, 0.08, 0.05),
              (0.1, 1e-5, 0.08, 0.001), (0.03, 2e-4, 0.08, 0.01), (0.01, 0.5, 0.08, 0.05), (0.01, 0.5, 0.08, 0.9), (0.0, 1e-8, 0.08, 0.05),
              (12.5, 16.0, 10.0, 0.05), (0.0953, 0.002, 0.2, 0.2), (-0.8, 0.01, 0.3, 1e-6), (0.5, 0.04, 0.02, 0.05)]
    cases = []
    for est, v, tau, alpha in inputs:
        lower, upper = bounds(est, v, tau, alpha)
        cases.append({"estimate": est, "variance": v, "tau": tau, "alpha": alpha, "lower": lower, "upper": upper, "halfWidth": half_width(v, tau, alpha)})
    return cases


def sequential_path() -> dict[str, object]:
    """A seeded two-arm 0/1 path (B better by 6 points), a look every 25 rows per arm: running p's, bounds."""
    rng = np.random.default_rng(20251203)
    tau, theta0, alpha = 0.08, 0.0, 0.05
    a = (rng.random(2000) < 0.80).astype(float)
    b = (rng.random(2000) < 0.86).astype(float)
    points = []
    p = pb = pw = 1.0
    lo, hi = -math.inf, math.inf
    for n in range(25, 2001, 25):
        ma, mb = a[:n].mean(), b[:n].mean()
        est = float(mb - ma)
        v = float(max(ma * (1 - ma), (n - 1) / n**2) / n + max(mb * (1 - mb), (n - 1) / n**2) / n)
        lam, better, worse = log_lambdas(est, v, tau, theta0)
        p, pb, pw = min(p, 1.0, math.exp(-lam)), min(pb, 1.0, math.exp(-better)), min(pw, 1.0, math.exp(-worse))
        lower, upper = bounds(est, v, tau, alpha)
        lo, hi = max(lo, lower), min(hi, upper)
        points.append({"estimate": est, "variance": v, "pValue": p, "pBetter": pb, "pWorse": pw, "lower": lo, "upper": hi})
    if not (points[0]["pBetter"] >= alpha > points[-1]["pBetter"]):
        sys.exit("the sequential path should cross alpha; pick another seed")
    return {"tau": tau, "theta0": theta0, "alpha": alpha, "points": points}


def main() -> None:
    if (np.__version__, scipy.__version__) != ("1.26.4", "1.11.4"):
        sys.exit(f"expected numpy 1.26.4 and scipy 1.11.4, got numpy {np.__version__} and scipy {scipy.__version__}")
    vectors = {
        "generator": "python/tools/gen_ab_stats_vectors.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "python": sys.version.split()[0]},
        "srmClosedForm": srm_closed_form_cases(),
        "srmStreams": srm_streams(),
        "clustered": clustered_cases(),
        "clusteredSingletons": singletons_case(),
        "mixture": mixture_cases(),
        "mixtureBounds": bound_cases(),
        "sequentialPath": sequential_path(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(vectors, indent=1, allow_nan=False) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
