"""The Evidently side of `npm run bench:drift`: the whole job end to end, as a user runs it.

bench/drift.ts runs it in a throwaway environment of its own (python/bench/evidently-requirements.txt,
never the pinned ones):

    VENV/bin/python python/tools/bench_drift_evidently.py REFERENCE.csv CURRENT.csv REPORT.html

It reads both CSV files with pandas, runs Evidently's DataDriftPreset twice (num_method "ks" and
"psi": the two numbers Driftgate gives every feature), and saves the HTML report. Prints one JSON line:
the versions, the time of each step, CPU time, peak RSS, and each feature's KS p-value and PSI.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

import evidently
import numpy as np
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def max_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    reference_csv, current_csv, html = sys.argv[1], sys.argv[2], sys.argv[3]
    warnings.simplefilter("ignore")
    baseline = max_rss_bytes()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    reference = pd.read_csv(reference_csv)
    current = pd.read_csv(current_csv)
    t1 = time.perf_counter()
    snapshot = Report([DataDriftPreset(num_method="ks"), DataDriftPreset(num_method="psi")]).run(current_data=current, reference_data=reference)
    t2 = time.perf_counter()
    snapshot.save_html(html)
    t3 = time.perf_counter()
    cpu = cpu_seconds() - cpu0

    values: dict[tuple[str, str], float] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            values[(config["column"], config["method"])] = float(metric["value"])
    features = [{"name": name, "ks_pvalue": values[(name, "ks")], "psi": values[(name, "psi")]} for name in reference.columns]
    print(
        json.dumps(
            {
                "evidently": evidently.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
                "read_ms": (t1 - t0) * 1000,
                "run_ms": (t2 - t1) * 1000,
                "html_ms": (t3 - t2) * 1000,
                "total_ms": (t3 - t0) * 1000,
                "cpu_ms": cpu * 1000,
                "baseline_rss": baseline,
                "peak_rss": max_rss_bytes(),
                "features": features,
            }
        )
    )


if __name__ == "__main__":
    main()
