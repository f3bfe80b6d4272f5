"""Reference values for src/drift: scipy/NumPy (and Evidently's PSI rules) on seeded data.

Run with numpy==1.26.4 and scipy==1.11.4 (the versions PyCaret 3.3.2 pins):

    python -m venv /tmp/venv-vectors && /tmp/venv-vectors/bin/pip install numpy==1.26.4 scipy==1.11.4
    /tmp/venv-vectors/bin/python python/tools/gen_drift_vectors.py

Writes test/fixtures/drift-vectors.json. Sample data is rounded before anything is computed, so the
numbers in the file are exactly the inputs scipy saw. Infinities are written as the strings
"Infinity" / "-Infinity" (JSON has no literal for them).
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats
from scipy.stats._stats_py import _attempt_exact_2kssamp

SEED = 20240601
OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "drift-vectors.json"
MAX_AUTO_N = 10000
rng = np.random.default_rng(SEED)


def num(x: float) -> float | str:
    x = float(x)
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        raise ValueError("NaN has no place in the vectors")
    return x


def arr(values: np.ndarray) -> list:
    return [num(v) for v in np.asarray(values, dtype=np.float64)]


def normal(n: int, loc: float = 0.0, scale: float = 1.0, decimals: int = 6) -> np.ndarray:
    return np.round(rng.normal(loc, scale, n), decimals)


# --------------------------------------------------------------------------------------------
# KS: ks_2samp on data, plus the exact path and kstwo on grids.


def ks_case(name: str, ref: np.ndarray, cur: np.ndarray) -> dict:
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(ref, cur)
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    exact = max(len(ref), len(cur)) <= MAX_AUTO_N and not fell_back
    return {
        "name": name,
        "ref": arr(ref),
        "cur": arr(cur),
        "statistic": num(res.statistic),
        "pvalue": num(res.pvalue),
        "method": "exact" if exact else "asymp",
    }


def ks_cases() -> list[dict]:
    cases = []
    add = lambda name, a, b: cases.append(ks_case(name, a, b))  # noqa: E731
    # Tiny samples.
    add("n1=n2=1 same", [1.0], [1.0])
    add("n1=n2=1 different", [1.0], [2.0])
    add("1x2", [0.5], [0.2, 0.9])
    add("2x3", [0.1, 0.4], [0.2, 0.3, 0.5])
    add("3x5", normal(3, decimals=3), normal(5, 0.5, decimals=3))
    add("4x1", [1.0, 2.0, 3.0, 4.0], [2.5])
    add("2x2 interleaved", [1.0, 3.0], [2.0, 4.0])
    add("5x5 shifted", [1.0, 2.0, 3.0, 4.0, 5.0], [3.5, 4.5, 5.5, 6.5, 7.5])
    # Equal and unequal sizes.
    add("50x50 shift", normal(50), normal(50, 0.5))
    add("200x200 same dist", normal(200), normal(200))
    add("1000x1000 small shift", normal(1000), normal(1000, 0.1))
    add("100x130", normal(100), normal(130, 0.3, 1.2))
    add("1000x750", normal(1000), normal(750, 0.05))
    add("37x91 coprime", normal(37), normal(91, 0.4))
    add("64x48 gcd 16", normal(64), normal(48, 0.2))
    # Ties and discrete values.
    add("ties ints 0..4 300x500", rng.integers(0, 5, 300).astype(float), rng.integers(0, 5, 500).astype(float))
    add("ties binary 40x60", rng.integers(0, 2, 40).astype(float), (rng.random(60) < 0.7).astype(float))
    add("ties rounded 1 decimal 400x300", np.round(rng.normal(0, 1, 400), 1), np.round(rng.normal(0.2, 1, 300), 1))
    add("negative zero ties", [-0.0, 0.0, 1.0, 2.0], [0.0, -0.0, 1.0, 3.0])
    # Identical samples and constant columns.
    same = normal(100)
    add("identical 100x100", same, same.copy())
    add("identical 150x60 by value", np.repeat([1.0, 2.0, 3.0], 50), np.repeat([1.0, 2.0, 3.0], 20))
    add("constant same 50x70", np.full(50, 3.0), np.full(70, 3.0))
    add("constant different 50x70", np.full(50, 1.0), np.full(70, 2.0))
    add("constant same 10001x20 asymp", np.full(10001, 3.0), np.full(20, 3.0))
    # p-values down to underflow.
    add("separated 300x300", normal(300), normal(300) + 100)
    add("separated 600x600 underflow", normal(600), normal(600) + 100)
    add("separated 500x400", normal(500), normal(400) + 100)
    add("separated 3000x2000 underflow", normal(3000, decimals=4), normal(2000, decimals=4) + 100)
    add("separated 10001x500 asymp", normal(10001, decimals=4), normal(500, decimals=4) + 100)
    add("far 2000x2000", normal(2000, decimals=4), normal(2000, 1.5, decimals=4))
    # Exact fails (probability rounds above 1) and scipy falls back to kstwo.
    base5 = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    add("fallback 5x5 D=1/5", base5, base5 + 1.0)
    base60 = np.arange(60, dtype=float)
    add("fallback 60x60 D=2/60", base60, base60 + 2.0)
    base69 = np.arange(69, dtype=float)
    add("fallback 69x69 D=1/69", base69, base69 + 1.0)
    # Both sides of the 10000 boundary.
    add("boundary 10000x9000 exact", normal(10000), normal(9000, 0.03))
    add("boundary 10000x10000 exact", normal(10000), normal(10000, 0.02))
    add("boundary 10001x500 asymp", normal(10001), normal(500, 0.1))
    add("boundary 10000x10001 asymp", normal(10000, decimals=4), normal(10001, 0.02, decimals=4))
    # kolmogn regions reached through the asymptotic path.
    add("asymp n_eff 99 same dist", normal(10001, decimals=4), normal(100, decimals=4))
    add("asymp n_eff 99 shift", normal(10001, decimals=4), normal(100, 0.5, decimals=4))
    add("asymp n_eff 99 far", normal(10001, decimals=4), normal(100, 2.0, decimals=4))
    add("asymp n_eff 8571 same dist", normal(20000, decimals=4), normal(15000, decimals=4))
    add("asymp n_eff 8571 shift", normal(20000, decimals=4), normal(15000, 0.05, decimals=4))
    # Random small cases: exact paths with ties.
    for k in range(40):
        n1 = int(rng.integers(1, 60))
        n2 = int(rng.integers(1, 60))
        levels = int(rng.integers(2, 12))
        a = rng.integers(0, levels, n1).astype(float)
        b = (rng.integers(0, levels, n2) + rng.integers(0, 2)).astype(float)
        add(f"random small {k} {n1}x{n2}", a, b)
    return cases


def exact_grid() -> list[dict]:
    rows = []
    pairs = [(1, 1), (1, 7), (3, 5), (5, 5), (7, 7), (12, 18), (30, 30), (60, 60), (69, 69), (47, 53), (100, 150),
             (400, 400), (1000, 999), (1000, 5000), (3000, 2000), (9999, 10000), (10000, 9000), (10000, 10000)]
    for n1, n2 in pairs:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        hs = sorted(set([0, 1, 2, 3, lcm // 2, lcm] + [int(x) for x in rng.integers(0, lcm + 1, 6)]
                        + [int(lcm * f) for f in (0.01, 0.02, 0.05, 0.1, 0.3)]))
        for h in hs:
            d = h / lcm
            # The band walk costs O(n1·n2·d); near the 10000 boundary only small D keeps CI fast.
            if max(n1, n2) >= 9000 and n1 != n2 and d > 0.05:
                continue
            ok, d_out, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
            if not ok and math.isnan(prob):
                continue
            rows.append({"n1": n1, "n2": n2, "d": d, "ok": bool(ok), "statistic": num(d_out), "pvalue": num(prob)})
    return rows


def kstwo_grid() -> list[dict]:
    rows = []
    ns = [1, 2, 3, 5, 10, 20, 50, 99, 140, 141, 200, 500, 1000, 5000, 20000, 100000, 100001, 300000, 1000000,
          1000001, 2000000]
    for n in ns:
        xs = {0.4 / n, 0.7 / n, 0.999 / n, 1.5 / n, 0.5, 0.7, 0.9, 0.99}
        for c in (0.05, 0.3, 0.754, 0.76, 1.0, 2.0, 2.19, 2.21, 3.9, 4.1, 10, 18, 50, 100, 300, 369, 371, 400):
            xs.add(math.sqrt(c / n))
        for f in (0.9, 1.1):
            xs.add(f * (1.4 / n) ** (2 / 3))
        if n > 2:
            xs.add((n - 1) / n * 1.0001)
        for x in sorted(xs):
            if 0 < x < 1:
                rows.append({"n": n, "x": x, "sf": num(stats.kstwo.sf(x, n))})
    return rows


def smirnov_grid() -> list[dict]:
    rows = []
    for n in (1, 2, 5, 10, 100, 1000, 100000, 1000000, 1000001):
        for x in (0.0, 0.3 / n, 1.0 / n, 0.05, 0.1, 0.3, 0.5, 0.8, 1 - 1.0 / n, 1.0):
            if 0 <= x <= 1:
                rows.append({"n": n, "x": x, "sf": num(special.smirnov(n, x))})
    return rows


# --------------------------------------------------------------------------------------------
# Binning: np.histogram / np.quantile, and Evidently's PSI rules.


def histogram_cases() -> list[dict]:
    cases = []

    def add(name: str, data: np.ndarray) -> None:
        data = np.asarray(data, dtype=np.float64)
        counts, edges = np.histogram(data, bins="sturges")
        counts_explicit, _ = np.histogram(data, bins=edges)
        assert (counts == counts_explicit).all(), name
        cases.append({"name": name, "data": arr(data), "edges": arr(edges), "counts": [int(c) for c in counts]})

    add("integers on edges", rng.integers(0, 101, 300).astype(float))
    add("normal 1000", normal(1000))
    add("constant", np.full(10, 2.5))
    add("size 1", [4.0])
    add("size 2", [1.0, 3.0])
    add("size 1024 (log2 integer)", normal(1024, decimals=3))
    add("tenths", np.round(rng.uniform(0, 1, 500), 1))
    return cases


def quantile_cases() -> list[dict]:
    rows = []
    for name, data in (("normal 101", normal(101)), ("ties", rng.integers(0, 4, 37).astype(float)),
                       ("tiny", np.array([2.0, 1.0])), ("one", np.array([5.0]))):
        q = [i / 10 for i in range(11)] + [1 / 3, 2 / 3, 0.25, 0.75]
        rows.append({"name": name, "data": arr(data), "q": q, "values": arr(np.quantile(data, q))})
    return rows


def fill_zeroes(p: np.ndarray) -> np.ndarray:
    p = p.copy()
    m = min(p[p != 0])
    np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return p


def evidently_binned(ref: np.ndarray, cur: np.ndarray, binning: str, quantile_bins: int):
    """Evidently's get_binned_data for a numeric column (plus the quantile variant)."""
    if len(np.unique(ref)) > 20:
        if binning == "sturges":
            edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        else:
            inner = np.quantile(ref, np.arange(1, quantile_bins) / quantile_bins)
            edges = np.unique(np.concatenate([[-np.inf], inner, [np.inf]]))
        rc = np.histogram(ref, edges)[0]
        cc = np.histogram(cur, edges)[0]
        kind, values = binning, None
    else:
        keys = sorted(set(ref.tolist()) | set(cur.tolist()))
        rc = np.array([np.sum(ref == k) for k in keys])
        cc = np.array([np.sum(cur == k) for k in keys])
        kind, edges, values = "values", None, keys
    rp = fill_zeroes(rc / len(ref))
    cp = fill_zeroes(cc / len(cur))
    psi = np.sum((rp - cp) * np.log(rp / cp))
    return psi, kind, edges, values, rc, cc, rp, cp


def psi_cases() -> list[dict]:
    cases = []

    def add(name: str, ref, cur, binning: str = "sturges", quantile_bins: int = 10) -> None:
        ref = np.asarray(ref, dtype=np.float64)
        cur = np.asarray(cur, dtype=np.float64)
        psi, kind, edges, values, rc, cc, rp, cp = evidently_binned(ref, cur, binning, quantile_bins)
        cases.append({
            "name": name, "ref": arr(ref), "cur": arr(cur), "binning": binning, "quantileBins": quantile_bins,
            "psi": num(psi), "kind": kind, "edges": None if edges is None else arr(edges),
            "values": None if values is None else arr(values),
            "referenceCounts": [int(c) for c in rc], "currentCounts": [int(c) for c in cc],
            "referenceShares": arr(rp), "currentShares": arr(cp),
        })

    add("sturges continuous", normal(2000), normal(1500, 0.3, 1.2))
    add("sturges no drift", normal(1000), normal(1000))
    add("sturges values on edges", rng.integers(0, 101, 150).astype(float), rng.integers(0, 101, 150).astype(float))
    add("sturges pooled 1024", normal(512, decimals=3), normal(512, 0.5, decimals=3))
    add("sturges current outside reference range", normal(800), normal(600, 3.0))
    add("sturges 21 distinct", np.tile(np.arange(21.0), 20), rng.integers(0, 21, 300).astype(float))
    add("sturges empty current bins", normal(3000), normal(200, 0, 0.1))
    add("values 20 distinct", np.tile(np.arange(20.0), 10), rng.integers(0, 20, 150).astype(float))
    add("values new categories in current", rng.integers(0, 10, 500).astype(float), rng.integers(0, 12, 400).astype(float))
    rare = rng.integers(0, 5, 20000).astype(float)
    rare[0] = 17.0
    add("values rare reference category (fill min/1e6)", rare, rng.integers(0, 5, 20000).astype(float))
    add("values binary", (rng.random(300) < 0.3).astype(float), (rng.random(200) < 0.5).astype(float))
    add("constant same", np.full(40, 5.0), np.full(30, 5.0))
    add("constant different", np.full(40, 5.0), np.full(30, 7.0))
    add("quantile continuous 10", normal(2000), normal(1500, 0.3, 1.2), "quantile", 10)
    add("quantile 4 bins", normal(500), normal(400, 0.2), "quantile", 4)
    skew = np.concatenate([np.zeros(300), np.arange(1.0, 25.0).repeat(5)])
    add("quantile ties collapse", skew, np.concatenate([np.zeros(100), np.arange(1.0, 25.0).repeat(8)]), "quantile", 10)
    add("quantile current outside range", normal(300), normal(300, 5.0), "quantile", 5)
    return cases


def categorical_cases() -> list[dict]:
    cases = []

    def add(name: str, ref_counts: dict, cur_counts: dict) -> None:
        keys = sorted(set(ref_counts) | set(cur_counts))
        rc = np.array([ref_counts.get(k, 0) for k in keys])
        cc = np.array([cur_counts.get(k, 0) for k in keys])
        n_ref, n_cur = rc.sum(), cc.sum()
        rp = fill_zeroes(rc / n_ref)
        cp = fill_zeroes(cc / n_cur)
        psi = np.sum((rp - cp) * np.log(rp / cp))
        with np.errstate(divide="ignore"):
            stat, p = stats.chisquare(cc, rc * (n_cur / n_ref))
        cases.append({"name": name, "ref": ref_counts, "cur": cur_counts, "categories": keys, "psi": num(psi),
                      "statistic": num(stat), "pvalue": num(p)})

    add("three classes shift", {"setosa": 50, "versicolor": 50, "virginica": 50},
        {"setosa": 30, "versicolor": 55, "virginica": 65})
    add("no drift", {"a": 120, "b": 80, "c": 200}, {"a": 60, "b": 40, "c": 100})
    add("new category in current", {"a": 100, "b": 100}, {"a": 90, "b": 95, "c": 15})
    add("category missing in current", {"a": 100, "b": 100, "c": 50}, {"a": 120, "b": 130})
    add("tiny p", {"x": 50000, "y": 50000}, {"x": 40000, "y": 60000})
    add("many categories", {f"k{i:02d}": int(c) for i, c in enumerate(rng.integers(1, 200, 30))},
        {f"k{i:02d}": int(c) for i, c in enumerate(rng.integers(1, 200, 30))})
    add("rare reference category", {"a": 99990, "b": 5, "c": 5}, {"a": 500, "b": 10})
    return cases


def main() -> None:
    if np.__version__ != "1.26.4" or scipy.__version__ != "1.11.4":
        sys.exit(f"expected numpy 1.26.4 and scipy 1.11.4, got numpy {np.__version__} and scipy {scipy.__version__}")
    vectors = {
        "meta": {"numpy": np.__version__, "scipy": scipy.__version__, "seed": SEED,
                 "script": "python/tools/gen_drift_vectors.py"},
        "ks": ks_cases(),
        "ksExact": exact_grid(),
        "kstwo": kstwo_grid(),
        "smirnov": smirnov_grid(),
        "histogram": histogram_cases(),
        "quantile": quantile_cases(),
        "psi": psi_cases(),
        "categorical": categorical_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(vectors, separators=(",", ":"), allow_nan=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
