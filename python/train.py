"""Driftgate training: PyCaret setup -> compare_models -> finalize_model, logged straight to MLflow.

Usage: python train.py SPEC.json

The TypeScript side validates the data and writes SPEC.json. Progress goes to stderr. The result is one
JSON line on stdout. A line `DRIFTGATE_RUN_ID=<id>` on stderr names the MLflow run as soon as it
exists, so the caller can mark it FAILED if this process is killed.

The model version is registered only after every artifact is logged and the run has ended FINISHED,
so a failed run never leaves a registered model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import tempfile
import time
import traceback

# Keep stdout for the single JSON result line: libraries (and C code) print to fd 1.
_RESULT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

os.environ.setdefault("MPLBACKEND", "Agg")
# PyCaret's own MLflow logging is broken with MLflow >= 2.18; it stays off, we log with MLflow's API.
os.environ.setdefault("PYCARET_CUSTOM_LOGGING_LEVEL", "CRITICAL")

STARTED = time.monotonic()
TIMINGS: dict[str, float] = {}


def log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def timed(name: str, since: float) -> float:
    now = time.monotonic()
    TIMINGS[name] = round(now - since, 3)
    log(f"{name} done in {TIMINGS[name]:.1f} s")
    return now


CANCELLED: list[int] = []


def _terminate(signum, _frame):
    # Turn SIGTERM into an exception so the MLflow run is ended as FAILED on the way out. Library
    # code may catch it (PyCaret's setup has been seen printing it and going on), so the flag is
    # checked again before every step that must not happen after a cancel.
    CANCELLED.append(signum)
    raise SystemExit(128 + signum)


def check_cancelled() -> None:
    if CANCELLED:
        raise SystemExit(128 + CANCELLED[0])


signal.signal(signal.SIGTERM, _terminate)

CV_METRICS = ["Accuracy", "AUC", "Recall", "Prec.", "F1", "Kappa", "MCC"]


def metric_key(name: str) -> str:
    return {"Prec.": "Precision"}.get(name, name)


def data_digest(df) -> str:
    return hashlib.sha256(df.to_csv(index=False).encode("utf-8")).hexdigest()


# The held-out predictions of the chosen model (before it is refit on all rows), for confidence-based
# performance estimation: `driftgate performance` learns from them how often a prediction made with a
# given probability is right.
CALIBRATION_ARTIFACT = "calibration/holdout.json"
SCORE_PREFIX = "prediction_score_"


def holdout_calibration(pred, target: str, model: str) -> dict:
    """{format, model, classes, rows: [{label, prediction, probabilities (in classes' order)}]} of a
    predict_model(raw_score=True) frame."""
    score_columns = [c for c in pred.columns if c.startswith(SCORE_PREFIX)]
    classes = [c[len(SCORE_PREFIX):] for c in score_columns]
    rows = [
        {"label": str(label), "prediction": str(prediction), "probabilities": [float(p) for p in scores]}
        for label, prediction, scores in zip(pred[target], pred["prediction_label"], pred[score_columns].itertuples(index=False, name=None))
    ]
    return {"format": "driftgate.calibration/1", "model": model, "classes": classes, "rows": rows}


def main(spec_path: str) -> int:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)

    t = time.monotonic()
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from pycaret.classification import (
        compare_models,
        finalize_model,
        plot_model,
        predict_model,
        pull,
        setup,
    )

    t = timed("import", STARTED)

    features = [f["name"] for f in spec["features"]]
    categorical = [f["name"] for f in spec["features"] if f["type"] == "categorical"]
    numeric = [f["name"] for f in spec["features"] if f["type"] == "numeric"]
    target = spec["target"]
    frames = []
    for source in spec["data"]:
        frame = pd.read_csv(source["path"], usecols=features + [target], dtype={target: str})
        frames.append(frame)
        log(f"read {len(frame)} rows from {source['path']} ({source['role']})")
    df = pd.concat(frames, ignore_index=True)[features + [target]]
    for name in numeric:
        df[name] = df[name].astype(float)
    digest = data_digest(df)

    mlflow.set_tracking_uri(spec["tracking_uri"])
    mlflow.set_experiment(spec["experiment"])
    # The tag names are Driftgate's vocabulary (src/registry/vocabulary.ts), handed over in the spec.
    names = spec["tags"]
    tags = {
        names["trigger"]: spec["trigger"],
        names["data_digest"]: digest,
    }
    if spec.get("drift_report_id"):
        tags[names["drift_report"]] = spec["drift_report_id"]
    if spec.get("orchestrator_run_id"):
        tags[names["orchestrator_run_id"]] = spec["orchestrator_run_id"]

    # A SIGTERM between the run's creation and the `try` would exit past `end_run("FAILED")`, and MLflow's
    # own atexit hook would then end the run FINISHED. So SIGTERM waits (blocked) until the `try` is entered.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    run = mlflow.start_run(run_name=f"train-{spec['trigger']}", tags=tags)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        run_id = run.info.run_id
        log(f"MLflow run {run_id} in experiment {spec['experiment']!r}")
        print(f"DRIFTGATE_RUN_ID={run_id}", file=sys.stderr, flush=True)
        setup_params = {
            "target": target,
            "train_size": spec["train_size"],
            "fold": spec["folds"],
            "session_id": spec["session_id"],
            "numeric_features": numeric,
            "categorical_features": categorical,
        }
        setup(
            data=df,
            verbose=False,
            html=False,
            log_experiment=False,
            n_jobs=spec.get("n_jobs", -1),
            **{k: v for k, v in setup_params.items() if v != []},
        )
        t = timed("setup", t)
        check_cancelled()

        compare_kwargs = {"sort": spec["sort"], "n_select": 1, "verbose": False, "errors": "ignore"}
        if spec["include"]:
            compare_kwargs["include"] = spec["include"]
        if spec["exclude"]:
            compare_kwargs["exclude"] = spec["exclude"]
        best = compare_models(**compare_kwargs)
        leaderboard = pull()
        if isinstance(best, list):
            if not best:
                raise RuntimeError("compare_models returned no model (every candidate failed)")
            best = best[0]
        best_name = type(best).__name__
        best_id = str(leaderboard.index[0])
        cv = {metric_key(m): float(leaderboard.iloc[0][m]) for m in CV_METRICS if m in leaderboard.columns}
        log(f"best model: {leaderboard.iloc[0]['Model']} ({best_id}), CV {spec['sort']} {leaderboard.iloc[0][spec['sort']]:.4f}")
        t = timed("compare_models", t)
        check_cancelled()

        # raw_score: each class's probability beside the label, the calibration data of `driftgate performance`.
        holdout_pred = predict_model(best, raw_score=True, round=6, verbose=False)
        holdout_row = pull().iloc[0]
        calibration = holdout_calibration(holdout_pred, target, best_name)
        holdout = {metric_key(m): float(holdout_row[m]) for m in CV_METRICS if m in holdout_row.index}
        log(f"holdout accuracy {holdout.get('Accuracy', float('nan')):.4f}")

        final = finalize_model(best)
        t = timed("finalize", t)
        check_cancelled()

        params = {f"setup.{k}": (",".join(v) if isinstance(v, list) else v) for k, v in setup_params.items()}
        params.update(
            {
                "best_model": best_name,
                "best_model_id": best_id,
                "rows": len(df),
                "features": len(features),
                "data_digest": digest,
                "trigger": spec["trigger"],
            }
        )
        for key, value in best.get_params().items():
            text = repr(value) if not isinstance(value, (int, float, str, bool, type(None))) else value
            params[f"model.{key}"] = str(text)[:500]
        mlflow.log_params(params)
        mlflow.log_metrics({f"cv_{k}": v for k, v in cv.items()})
        mlflow.log_metrics({f"holdout_{k}": v for k, v in holdout.items()})
        mlflow.log_dict(calibration, CALIBRATION_ARTIFACT)

        with tempfile.TemporaryDirectory() as tmp:
            board_csv = os.path.join(tmp, "leaderboard.csv")
            leaderboard.to_csv(board_csv, index_label="model_id")
            board_html = os.path.join(tmp, "leaderboard.html")
            leaderboard.to_html(board_html, index_names=False)
            mlflow.log_artifact(board_csv, "compare_models")
            mlflow.log_artifact(board_html, "compare_models")
            for plot, label in (("confusion_matrix", "confusion matrix"), ("feature", "feature importance")):
                try:
                    saved = plot_model(best, plot=plot, save=tmp, verbose=False)
                    mlflow.log_artifact(saved, "plots")
                except Exception as error:  # noqa: BLE001 - not every model has feature importance
                    log(f"{label} plot skipped: {error}")
        if spec.get("drift_report_dir"):
            mlflow.log_artifacts(spec["drift_report_dir"], "drift_report")

        dataset = mlflow.data.from_pandas(
            df, source=";".join(s["path"] for s in spec["data"]), name=spec["dataset_name"], targets=target
        )
        mlflow.log_input(dataset, context="training")

        example = df[features].head(5)
        signature = infer_signature(example, final.predict(example))
        model_info = mlflow.sklearn.log_model(
            final,
            name="model",
            signature=signature,
            input_example=example,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=spec["pip_requirements"],
        )
        t = timed("logging", t)
        check_cancelled()
        mlflow.end_run("FINISHED")
    except BaseException:
        mlflow.end_run("FAILED")
        raise

    gate = "passed" if holdout.get("Accuracy", 0.0) >= spec["min_holdout_accuracy"] else "rejected"
    version_tags = dict(tags)
    version_tags.update(
        {
            names["gate"]: gate,
            names["best_model"]: best_name,
            names["holdout_accuracy"]: f"{holdout.get('Accuracy', float('nan')):.6f}",
            names["cv_accuracy"]: f"{cv.get('Accuracy', float('nan')):.6f}",
        }
    )
    check_cancelled()
    version = mlflow.register_model(model_info.model_uri, spec["model_name"], tags=version_tags)
    timed("register", t)
    log(f"registered {spec['model_name']} version {version.version} (quality gate: {gate})")
    TIMINGS["total"] = round(time.monotonic() - STARTED, 3)
    result = {
        "run_id": run_id,
        "model_name": spec["model_name"],
        "version": str(version.version),
        "best_model": best_name,
        "best_model_id": best_id,
        "metrics": {"cv": cv, "holdout": holdout},
        "gate": gate,
        "data_digest": digest,
        "rows": len(df),
        "timings": TIMINGS,
    }
    _RESULT.write(json.dumps(result) + "\n")
    _RESULT.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: train.py SPEC.json", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1]))
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
