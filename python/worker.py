"""Inference worker of the Driftgate router: loads MLflow sklearn models and predicts in batches.

Protocol: JSON lines. Requests arrive on stdin, replies leave on the original stdout; everything
else the libraries print goes to stderr (fd 1 is pointed at stderr, so a stray print never corrupts
the protocol). Every request carries an "id" that its reply echoes.

  -> (on start, once imports are done)       {"event": "ready", "pid": N, "python": "3.11.7", "mlflow": "3.17.2"}
  <- {"id": 1, "op": "load", "key": "3", "uri": "models:/iris/3", "cache": "/tmp/.../3",
      "columns": [{"name": "sepal_length", "type": "numeric"}, ...]}
  -> {"id": 1, "ok": true, "classes": [...], "features": [...] | null, "load_ms": 812, "source": "registry" | "cache"}
  <- {"id": 2, "op": "predict", "key": "3", "rows": [[5.1, 3.5, 1.4, 0.2], ...]}   (values in column order)
  -> {"id": 2, "ok": true, "predictions": [{"prediction": "setosa", "probabilities": {"setosa": 0.97, ...}}, ...]}
     a row the model cannot predict (it raises for that row alone, or returns NaN or infinite
     probabilities) is answered in its place as {"error": {"type": "...", "message": "..."}}; its
     batch-mates get their predictions
  <- {"id": 3, "op": "unload", "key": "3"}      -> {"id": 3, "ok": true}
  <- {"id": 4, "op": "ping"}                    -> {"id": 4, "ok": true}
  any failure                                   -> {"id": N, "ok": false, "error": {"type": "...", "message": "..."}}

Loads run on a thread so a version being loaded never stalls predictions on the versions already
loaded. The worker exits when stdin closes or the router dies; SIGINT and SIGTERM are ignored (see below).
"""

import json
import math
import os
import sys
import threading
import time

# The protocol channel is a private copy of the original stdout; fd 1 now points at stderr.
_protocol = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
sys.stdout = sys.stderr
_write_lock = threading.Lock()


def send(message: dict) -> None:
    # allow_nan=False: NaN and Infinity are not JSON, and the router could not parse the line. A
    # reply that cannot be written as JSON becomes an error reply for the same request.
    try:
        text = json.dumps(message, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        text = json.dumps(error_reply(message.get("id"), error), separators=(",", ":"))
    data = (text + "\n").encode("utf-8")
    with _write_lock:
        _protocol.write(data)
        _protocol.flush()


def tie_life_to_router() -> None:
    """The router owns this process: it stops it by closing stdin (after in-flight work) or kills it.

    Ctrl-C and a SIGTERM sent to the whole process group must not kill workers before the router
    has finished its in-flight requests, so SIGINT and SIGTERM are ignored. If the router dies,
    even by kill -9, Linux sends SIGKILL here (PR_SET_PDEATHSIG); elsewhere the EOF on stdin ends us.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux
        pass
    if os.getppid() == 1:  # the router died before prctl took effect
        sys.exit(0)


tie_life_to_router()

import logging

logging.getLogger("mlflow").setLevel(logging.WARNING)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import numpy as np
import pandas as pd
import sklearn
import mlflow
import mlflow.artifacts
import mlflow.sklearn

# The router sends only finite numbers (its schema refuses anything else), so sklearn's scan for
# NaN and infinity on every call is wasted work.
sklearn.set_config(assume_finite=True)

try:  # imported up front so the first load does not pay for it while traffic waits
    import skops.io  # noqa: F401
except ImportError:
    pass

_models = {}  # key -> {"model", "classes", "columns", "numeric"}


def error_reply(request_id, error: BaseException) -> dict:
    message = str(error).strip().split("\n")[0][:500] or type(error).__name__
    return {"id": request_id, "ok": False, "error": {"type": type(error).__name__, "message": message}}


def load(request: dict) -> None:
    request_id = request.get("id")
    try:
        started = time.monotonic()
        cache = request["cache"]
        source = "cache"
        if not os.path.exists(os.path.join(cache, "MLmodel")):
            # Download once per router process; a restarted worker loads from the copy even when
            # MLflow is down. Download to a temp folder and rename, so a half copy is never used.
            source = "registry"
            temp = f"{cache}.{os.getpid()}.{threading.get_ident()}.tmp"
            os.makedirs(temp, exist_ok=True)
            mlflow.artifacts.download_artifacts(artifact_uri=request["uri"], dst_path=temp)
            try:
                os.rename(temp, cache)
            except OSError:  # another worker won the race; its copy is the same artifact
                import shutil

                shutil.rmtree(temp, ignore_errors=True)
        model = mlflow.sklearn.load_model(cache)
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise TypeError(f"expected a classifier with predict_proba and classes_, got {type(model).__name__}")
        columns = request["columns"]
        classes = [str(c) for c in class_labels(model)]
        features = [str(f) for f in getattr(model, "feature_names_in_", []) if str(f) not in target_names(model)] or None
        _models[request["key"]] = {
            "model": model,
            "classes": classes,
            "names": [c["name"] for c in columns],
            "numeric": all(c.get("type", "numeric") == "numeric" for c in columns),
            "numeric_names": [c["name"] for c in columns if c.get("type", "numeric") == "numeric"],
        }
        send({"id": request_id, "ok": True, "classes": classes, "features": features, "load_ms": round((time.monotonic() - started) * 1000), "source": source})
    except BaseException as error:  # noqa: BLE001 - every failure is reported, the worker lives on
        send(error_reply(request_id, error))


def target_names(model) -> set:
    """A PyCaret pipeline is fitted on the frame with its target, which predict never needs."""
    return {str(getattr(step, "target_name_")) for _name, step in getattr(model, "steps", []) if hasattr(step, "target_name_")}


def class_labels(model):
    """The labels predict_proba's columns stand for. A PyCaret pipeline label-encodes the target, so its
    classes_ are codes (0, 1, 2); its label_encoding step maps them back to the labels predict returns."""
    classes = model.classes_
    for _name, step in getattr(model, "steps", []):
        encoder = getattr(step, "transformer", None)
        if encoder is not None and hasattr(encoder, "classes_") and hasattr(encoder, "inverse_transform"):
            return encoder.inverse_transform(classes)
    return classes


def frame_of(entry: dict, rows: list):
    if entry["numeric"]:
        return pd.DataFrame(np.asarray(rows, dtype=np.float64), columns=entry["names"])
    frame = pd.DataFrame(rows, columns=entry["names"])
    for name in entry["numeric_names"]:
        frame[name] = frame[name].astype(np.float64)
    return frame


def row_error(error_type: str, message: str) -> dict:
    return {"error": {"type": error_type, "message": message[:500]}}


def probabilities_of(entry: dict, rows: list) -> list:
    """One probability row per input row, or the error of a row the model raised for.

    One predict_proba call for the whole batch; only if it raises is each row tried alone, so a
    row that breaks the model fails by itself and its batch-mates are still answered."""
    model = entry["model"]
    try:
        return model.predict_proba(frame_of(entry, rows)).tolist()
    except Exception:  # noqa: BLE001 - find the row(s) that raise
        if len(rows) == 1:
            raise
    out = []
    for row in rows:
        try:
            out.append(model.predict_proba(frame_of(entry, [row])).tolist()[0])
        except Exception as error:  # noqa: BLE001 - this row's answer
            out.append(error)
    return out


def predict(request: dict) -> dict:
    entry = _models.get(request["key"])
    if entry is None:
        raise LookupError(f"model {request['key']} is not loaded in this worker")
    rows = request["rows"]
    classes = entry["classes"]
    started = time.perf_counter()
    try:
        results = probabilities_of(entry, rows)
    except Exception as error:  # noqa: BLE001 - a batch of one that raised
        results = [error]
    # The model's own time for the batch, without the pipe and the JSON: what the paired latency guardrail compares.
    compute_ms = round((time.perf_counter() - started) * 1000, 3)
    out = []
    for row in results:
        if isinstance(row, BaseException):
            message = str(row).strip().split("\n")[0] or type(row).__name__
            out.append(row_error(type(row).__name__, f"the model raised {type(row).__name__} for this row: {message}"))
        elif len(row) != len(classes) or not all(math.isfinite(p) for p in row):
            shown = ", ".join(f"{c}={p!r}" for c, p in zip(classes, row))
            out.append(row_error("NonFiniteProbabilities", f"the model returned probabilities that are not finite numbers for this row ({shown})"))
        else:
            best = max(range(len(row)), key=row.__getitem__)
            out.append({"prediction": classes[best], "probabilities": dict(zip(classes, row))})
    return {"id": request["id"], "ok": True, "predictions": out, "compute_ms": compute_ms}


def main() -> int:
    import platform

    send({"event": "ready", "pid": os.getpid(), "python": platform.python_version(), "mlflow": mlflow.__version__})
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            op = request.get("op")
            if op == "predict":
                send(predict(request))
            elif op == "load":
                threading.Thread(target=load, args=(request,), daemon=True).start()
            elif op == "unload":
                _models.pop(request["key"], None)
                send({"id": request_id, "ok": True})
            elif op == "ping":
                send({"id": request_id, "ok": True})
            else:
                raise ValueError(f"expected op load, predict, unload or ping, got {op!r}")
        except Exception as error:  # noqa: BLE001
            send(error_reply(request_id, error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
