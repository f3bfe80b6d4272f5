"""Train small scikit-learn pipelines on a labelled CSV, log them with mlflow.sklearn and register them.

They stand in for the PyCaret pipeline in router tests and the router benchmark: the same kind of
artifact (an sklearn Pipeline logged with mlflow.sklearn.log_model, with a signature and an input
example, string class labels), trained in about a second instead of a PyCaret compare_models run.

Usage:
  python register_test_model.py --tracking-uri URI --name NAME --data iris.csv \
      --features sepal_length,sepal_width,petal_length,petal_width --target species \
      --model lr:prod --model tree:staging --model lr-strong

Each --model is KIND[:ALIAS]; KIND is lr (StandardScaler + LogisticRegression), lr-strong (the same
with C=100, a visibly different version), tree (a depth-2 DecisionTree), one of two models with a
poison input for fault tests: log (log of every feature first, so a row with a value <= 0 gets NaN
probabilities) and log-check (the same, but it raises ValueError for such a row), or slow (lr whose
every predict call, one per batch, first sleeps SLOW_SECONDS: a slow shadow model). Versions are
registered in the order given. The last stdout line is a JSON list: [{kind, version, alias, run_id, classes}].
"""

import argparse
import json
import os
import sys


# MLflow saves sklearn models with skops, which refuses types it does not know unless trusted.
TRUSTED_TYPES = {"tree": ["sklearn.tree._tree.Tree"], "log-check": ["numpy.asarray_chkfinite"]}

# How long the slow kind's predict sleeps, once per call (so once per batch).
SLOW_SECONDS = 2.0


def slow_step(x):
    """The slow kind's first step. Defined in __main__, so cloudpickle stores it by value: the worker
    loading the model needs no module of this script."""
    import time

    time.sleep(SLOW_SECONDS)
    return x


def build(kind: str):
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    if kind == "lr":
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=500))])
    if kind == "lr-strong":
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(C=100.0, max_iter=2000))])
    if kind in ("log", "log-check"):
        steps = [("log", FunctionTransformer(np.log))]
        if kind == "log-check":
            steps.append(("finite", FunctionTransformer(np.asarray_chkfinite)))
        return Pipeline([*steps, ("scale", StandardScaler()), ("model", LogisticRegression(max_iter=500))])
    if kind == "tree":
        return Pipeline([("scale", StandardScaler()), ("model", DecisionTreeClassifier(max_depth=2, random_state=0))])
    if kind == "slow":
        # Fitted without the sleep; the sleeping step goes in front afterwards (see fitted()).
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=500))])
    raise SystemExit(f"register_test_model: unknown model kind {kind!r}; expected lr, lr-strong, tree, log, log-check or slow")


def fitted(kind: str, x, y):
    """The kind's pipeline fitted on x, y; for slow, with the sleeping step put in front of the fitted one."""
    from sklearn.preprocessing import FunctionTransformer

    pipeline = build(kind).fit(x, y)
    if kind == "slow":
        pipeline.steps.insert(0, ("sleep", FunctionTransformer(slow_step)))
    return pipeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--features", required=True, help="comma-separated feature columns, in config order")
    parser.add_argument("--target", required=True)
    parser.add_argument("--experiment", default="driftgate-test-models")
    parser.add_argument("--model", action="append", required=True, metavar="KIND[:ALIAS]")
    args = parser.parse_args()

    # MLflow and sklearn talk on stdout; the result line must be the last one, so they go to stderr.
    result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    import mlflow
    import mlflow.sklearn
    import pandas as pd
    import sklearn
    from mlflow.models import infer_signature
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.experiment)
    client = MlflowClient(args.tracking_uri)

    features = args.features.split(",")
    frame = pd.read_csv(args.data)
    x = frame[features].astype(float)
    y = frame[args.target].astype(str)

    out = []
    for spec in args.model:
        kind, _, alias = spec.partition(":")
        pipeline = fitted(kind, x, y)
        # The output's signature from the fitted steps alone, so the slow kind does not sleep here.
        signature = infer_signature(x, (pipeline[1:] if kind == "slow" else pipeline).predict(x))
        with mlflow.start_run(run_name=f"test-model-{kind}") as run:
            mlflow.log_param("kind", kind)
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                signature=signature,
                input_example=x.head(3),
                registered_model_name=args.name,
                # Explicit requirements skip MLflow's inference, which imports the model in a subprocess (~15 s).
                pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"mlflow=={mlflow.__version__}"],
                skops_trusted_types=TRUSTED_TYPES.get(kind),
                # skops stores a function by reference (this script is no module the worker can import);
                # cloudpickle stores slow_step itself. The workers allow pickles already (MLflow 3 requires it).
                **({"serialization_format": "cloudpickle"} if kind == "slow" else {}),
            )
        version = str(info.registered_model_version)
        if alias:
            client.set_registered_model_alias(args.name, alias, version)
        out.append({"kind": kind, "version": version, "alias": alias or None, "run_id": run.info.run_id, "classes": [str(c) for c in pipeline.classes_]})

    result_stream.write(json.dumps(out) + "\n")
    result_stream.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
