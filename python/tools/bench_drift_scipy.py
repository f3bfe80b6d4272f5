"""The scipy side of `npm run bench:drift`: scipy.stats.ks_2samp plus NumPy's PSI on the benchmark's data.

bench/drift.ts runs it with the pinned environment (numpy 1.26.4, scipy 1.11.4):

    .driftgate/venvs/train/bin/python python/tools/bench_drift_scipy.py DIR ROWS FEATURES

DIR/reference.f64 and DIR/current.f64 hold FEATURES columns of ROWS float64 values each, one column
after the other (the same numbers the Driftgate side parses from CSV). PSI follows Evidently's rules
as src/drift/psi.ts does: Sturges bins over the pooled data, zero shares filled, sum of
(ref - cur) * ln(ref / cur). Evidently first checks that the reference has more than 20 distinct values
with np.unique; that check is timed apart (`unique_ms`) and left out of the headline total, which
favours scipy. Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats


def psi_numpy(ref: np.ndarray, cur: np.ndarray) -> float:
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    ref_shares = np.histogram(ref, edges)[0] / len(ref)
    cur_shares = np.histogram(cur, edges)[0] / len(cur)
    for shares in (ref_shares, cur_shares):
        smallest = min(shares[shares != 0])
        np.place(shares, shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


def max_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    directory, rows, features = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    baseline = max_rss_bytes()
    reference = np.fromfile(directory / "reference.f64", dtype=np.float64).reshape(features, rows)
    current = np.fromfile(directory / "current.f64", dtype=np.float64).reshape(features, rows)
    with_data = max_rss_bytes()
    results = []
    wall_total = cpu_total = 0.0
    for k in range(features):
        ref, cur = reference[k], current[k]
        w0, c0 = time.perf_counter(), time.process_time()
        ks = stats.ks_2samp(ref, cur)
        w1, c1 = time.perf_counter(), time.process_time()
        distinct = len(np.unique(ref))
        w2, c2 = time.perf_counter(), time.process_time()
        psi = psi_numpy(ref, cur) if distinct > 20 else float("nan")
        w3, c3 = time.perf_counter(), time.process_time()
        wall_total += (w1 - w0) + (w3 - w2)
        cpu_total += (c1 - c0) + (c3 - c2)
        results.append({
            "name": f"f{k + 1}", "ks_ms": 1e3 * (w1 - w0), "unique_ms": 1e3 * (w2 - w1), "psi_ms": 1e3 * (w3 - w2),
            "statistic": float(ks.statistic), "pvalue": float(ks.pvalue), "psi": psi,
        })
    print(json.dumps({
        "numpy": np.__version__, "scipy": scipy.__version__, "rows": rows, "features": results,
        "total_ms": 1e3 * wall_total, "cpu_ms": 1e3 * cpu_total,
        "unique_ms": sum(f["unique_ms"] for f in results),
        "baseline_rss": baseline, "data_rss": with_data, "peak_rss": max_rss_bytes(),
    }))


if __name__ == "__main__":
    main()
