"""Reference vectors for the A/B statistics (src/stats, src/ab), written to test/fixtures/ab-vectors.json.

Computed with scipy 1.11.4 / numpy 1.26.4, independently of the TypeScript code:
  python -m venv /tmp/venv-ab && /tmp/venv-ab/bin/pip install numpy==1.26.4 scipy==1.11.4
  /tmp/venv-ab/bin/python python/tools/gen_ab_vectors.py

- chi-square survival function: scipy.stats.chi2.sf, tails down to ~1e-300;
- standard normal cdf / sf / logcdf / ppf / isf: scipy.stats.norm;
- sample-ratio-mismatch test: scipy.stats.chisquare against the configured split;
- Wilson score interval: the textbook formula in numpy with z = scipy.stats.norm.ppf(0.975);
- mSPRT: the closed form of Johari, Pekelis & Walsh (paired differences, sigma^2 = pA(1-pA) + pB(1-pB))
  for matched sizes, the per-arm variance for unmatched ones, the half-normal one-sided mixtures,
  each cross-checked against direct numerical integration of the mixture with scipy.integrate.quad.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import integrate, stats

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "ab-vectors.json"


def chi_square_cases() -> list[dict[str, float]]:
    cases = []
    dfs = [0.5, 1, 2, 2.5, 3, 4, 5, 7, 10, 19, 20, 21, 50, 100, 333, 1000]
    for df in dfs:
        xs = {1e-10, 1e-3, 0.1, 0.5, 1.0, 2.0, 3.84, 5.0, 10.0, 20.0, 50.0, 100.0, 300.0, 900.0}
        xs |= {df * f for f in (0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0)}
        # Tails around 1e-200 and 1e-300, the "tiny p" the SRM and drift tests must keep.
        xs |= {float(stats.chi2.isf(1e-200, df)), float(stats.chi2.isf(1e-300, df))}
        for x in sorted(xs):
            p = float(stats.chi2.sf(x, df))
            if p > 0:
                cases.append({"x": float(x), "df": float(df), "sf": p})
    return cases


def normal_cases() -> dict[str, list[dict[str, float]]]:
    zs = [-38.0, -37.5, -35.0, -30.0, -20.0, -10.0, -8.0, -5.0, -3.0, -2.5, -2.0, -1.96, -1.5, -1.25, -1.0, -0.5,
          -1e-5, 0.0, 1e-8, 0.3, 0.7, 1.0, 1.2, 1.3, 1.5, 1.959963984540054, 2.0, 2.2, 3.0, 4.0, 6.0, 8.0, 10.0, 20.0, 30.0, 37.0]
    cdf = [{"z": z, "cdf": float(stats.norm.cdf(z)), "sf": float(stats.norm.sf(z)), "pdf": float(stats.norm.pdf(z)),
            "logcdf": float(stats.norm.logcdf(z))} for z in zs]
    ps = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.45,
          0.49, 0.4999999, 0.5, 0.5000001, 0.51, 0.6, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-10]
    ppf = [{"p": p, "ppf": float(stats.norm.ppf(p)), "isf": float(stats.norm.isf(p))} for p in ps]
    return {"cdf": cdf, "ppf": ppf}


def srm_cases() -> list[dict[str, float]]:
    inputs = [(5000, 5000, 0.5), (5100, 4900, 0.5), (5200, 4800, 0.5), (5400, 4600, 0.5), (50, 40, 0.5), (1, 0, 0.5),
              (9000, 1000, 0.1), (8900, 1100, 0.1), (8800, 1200, 0.1), (700, 300, 0.25), (60000, 40000, 0.5),
              (123456, 120001, 0.5), (2, 998, 0.5), (751, 249, 0.2)]
    cases = []
    for a, b, split in inputs:
        n = a + b
        res = stats.chisquare([a, b], f_exp=[n * (1 - split), n * split])
        cases.append({"requestsA": a, "requestsB": b, "splitB": split, "statistic": float(res.statistic), "pValue": float(res.pvalue)})
    return cases


def wilson_cases() -> list[dict[str, float]]:
    inputs = [(0, 1), (1, 1), (0, 10), (1, 10), (5, 10), (9, 10), (10, 10), (80, 100), (90, 100), (99, 100), (100, 100),
              (0, 100), (801, 1000), (912, 1000), (4500, 5000), (1, 100000), (99999, 100000), (37, 41)]
    cases = []
    for confidence in (0.95, 0.99, 0.9):
        z = stats.norm.ppf(1 - (1 - confidence) / 2)
        for s, n in inputs:
            phat = s / n
            denom = 1 + z**2 / n
            center = (phat + z**2 / (2 * n)) / denom
            half = z / denom * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2))
            # At s = 0 or s = n the textbook form is 0 or 1 up to rounding; the exact value is the bound.
            lower = 0.0 if s == 0 else float(center - half)
            upper = 1.0 if s == n else float(center + half)
            cases.append({"successes": s, "n": n, "confidence": confidence, "lower": lower, "upper": upper})
    return cases


def bern_var(s: int, n: int) -> float:
    """p(1-p), floored at the variance with one outcome flipped (same convention as src/stats/msprt.ts)."""
    p = s / n
    return max(p * (1 - p), (n - 1) / n**2)


def msprt_closed_form(nA: int, sA: int, nB: int, sB: int, tau: float, theta0: float) -> dict[str, float]:
    est = sB / nB - sA / nA
    d = est - theta0
    t2 = tau * tau
    if nA == nB:
        # The paper's form for n paired differences with per-pair variance sigma^2 = vA + vB.
        n = nA
        sigma2 = bern_var(sA, nA) + bern_var(sB, nB)
        log_lam = 0.5 * np.log(sigma2 / (sigma2 + n * t2)) + n**2 * t2 * d**2 / (2 * sigma2 * (sigma2 + n * t2))
        v = sigma2 / n
    else:
        v = bern_var(sA, nA) / nA + bern_var(sB, nB) / nB
        log_lam = 0.5 * np.log(v / (v + t2)) + t2 * d**2 / (2 * v * (v + t2))
    w = tau * d / np.sqrt(v * (v + t2))
    return {
        "estimate": float(est),
        "variance": float(v),
        "logLambda": float(log_lam),
        "logLambdaBetter": float(np.log(2) + log_lam + stats.norm.logcdf(w)),
        "logLambdaWorse": float(np.log(2) + log_lam + stats.norm.logcdf(-w)),
    }


def msprt_by_quadrature(v: float, est: float, tau: float, theta0: float) -> tuple[float, float, float]:
    """ln of the mixture likelihood ratios by integrating the Gaussian likelihood ratio over the mixing density."""
    d = est - theta0

    def log_lr(theta: float) -> float:
        return (-(est - theta) ** 2 + d**2) / (2 * v)

    # Scale by the peak so large ratios do not overflow the integrand.
    peak = theta0 + tau**2 * d / (v + tau**2)
    shift = log_lr(peak) + stats.norm.logpdf(peak, theta0, tau)
    sd = math.sqrt(v * tau**2 / (v + tau**2))

    def f(theta: float) -> float:
        return math.exp(log_lr(theta) + stats.norm.logpdf(theta, theta0, tau) - shift)

    lo, hi = peak - 40 * sd, peak + 40 * sd
    total = integrate.quad(f, lo, hi, points=[peak, theta0], limit=500, epsabs=0, epsrel=1e-13)[0]
    upper = integrate.quad(f, max(theta0, lo), max(theta0, hi), limit=500, epsabs=0, epsrel=1e-13)[0] if hi > theta0 else 0.0
    lower = integrate.quad(f, min(theta0, lo), min(theta0, hi), limit=500, epsabs=0, epsrel=1e-13)[0] if lo < theta0 else 0.0
    log = lambda x: -math.inf if x <= 0 else math.log(x)
    return shift + log(total), shift + math.log(2) + log(upper), shift + math.log(2) + log(lower)


def msprt_cases() -> list[dict[str, float]]:
    inputs = [
        (100, 90, 100, 90, 0.08, 0.0), (100, 80, 100, 90, 0.08, 0.0), (200, 160, 200, 180, 0.08, 0.0), (100, 90, 100, 80, 0.08, 0.0),
        (500, 450, 500, 455, 0.05, 0.0), (1000, 801, 1000, 912, 0.1, 0.0), (5000, 4500, 5000, 4510, 0.08, 0.0),
        (150, 135, 150, 131, 0.02, 0.0), (300, 270, 300, 272, 0.3, 0.0), (1000, 900, 1000, 895, 0.08, -0.02),
        (1000, 900, 1000, 880, 0.08, -0.02), (2000, 1800, 2000, 1790, 0.05, -0.01), (900, 810, 100, 93, 0.08, 0.0),
        (9000, 8100, 1000, 850, 0.08, 0.0), (120, 120, 100, 100, 0.08, 0.0), (100, 100, 100, 99, 0.08, 0.0),
        (100, 0, 100, 0, 0.08, 0.0), (10000, 8000, 10000, 9000, 0.08, 0.0), (400, 300, 400, 360, 0.1, 0.0),
    ]
    cases = []
    for nA, sA, nB, sB, tau, theta0 in inputs:
        closed = msprt_closed_form(nA, sA, nB, sB, tau, theta0)
        if closed["logLambda"] < 600:
            quad = msprt_by_quadrature(closed["variance"], closed["estimate"], tau, theta0)
            for key, value in zip(("logLambda", "logLambdaBetter", "logLambdaWorse"), quad):
                ref = closed[key]
                if math.isfinite(value) and abs(value - ref) > 1e-8 * max(1.0, abs(ref)):
                    sys.exit(f"quadrature disagrees with the closed form for {key} at {(nA, sA, nB, sB, tau, theta0)}: {value} vs {ref}")
        cases.append({"nA": nA, "successesA": sA, "nB": nB, "successesB": sB, "tau": tau, "theta0": theta0, **closed,
                      "pValue": min(1.0, math.exp(-closed["logLambda"])),
                      "pBetter": min(1.0, math.exp(-closed["logLambdaBetter"])),
                      "pWorse": min(1.0, math.exp(-closed["logLambdaWorse"]))})
    return cases


def msprt_path_case() -> dict[str, object]:
    """A fixed seeded path: cumulative counts every 50 rows per arm, running minima from minPerArm on."""
    rng = np.random.default_rng(20250917)
    tau, theta0, min_per_arm = 0.08, 0.0, 100
    a = rng.random(1500) < 0.82
    b = rng.random(1500) < 0.88
    points = []
    p = pb = pw = 1.0
    for n in range(50, 1501, 50):
        sA, sB = int(a[:n].sum()), int(b[:n].sum())
        if n >= min_per_arm:
            c = msprt_closed_form(n, sA, n, sB, tau, theta0)
            p = min(p, math.exp(-c["logLambda"]))
            pb = min(pb, math.exp(-c["logLambdaBetter"]))
            pw = min(pw, math.exp(-c["logLambdaWorse"]))
        points.append({"nA": n, "successesA": sA, "nB": n, "successesB": sB, "pValue": p, "pBetter": pb, "pWorse": pw})
    return {"tau": tau, "theta0": theta0, "minPerArm": min_per_arm, "points": points}


def main() -> None:
    if (np.__version__, scipy.__version__) != ("1.26.4", "1.11.4"):
        sys.exit(f"expected numpy 1.26.4 and scipy 1.11.4, got numpy {np.__version__} and scipy {scipy.__version__}")
    vectors = {
        "generator": "python/tools/gen_ab_vectors.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "python": sys.version.split()[0]},
        "chiSquare": chi_square_cases(),
        "normal": normal_cases(),
        "srm": srm_cases(),
        "wilson": wilson_cases(),
        "msprt": msprt_cases(),
        "msprtPath": msprt_path_case(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(vectors, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
