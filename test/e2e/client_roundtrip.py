"""The stock MLflow Python client, driven through Gatehouse. Prints one JSON summary.

Reads MLFLOW_TRACKING_URI / MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD from the
environment like any user script. Every step asserts what it can; the Node test checks the
summary, so a silent failure shows up as a missing or wrong field.
"""

import hashlib
import json
import os
import sys
import tempfile
import uuid

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.linear_model import LinearRegression

ARTIFACT_MIB = int(os.environ.get("GH_ARTIFACT_MIB", "50"))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    client = MlflowClient()
    tag = uuid.uuid4().hex[:8]
    out = {"mlflow_version": mlflow.__version__}

    exp_name = f"gh-e2e-{tag}"
    exp_id = mlflow.create_experiment(exp_name, tags={"team": "e2e"})
    out["experiment_created"] = client.get_experiment(exp_id).name == exp_name
    out["experiment_by_name"] = client.get_experiment_by_name(exp_name).experiment_id == exp_id
    mlflow.set_experiment(experiment_id=exp_id)

    with tempfile.TemporaryDirectory() as tmp:
        with mlflow.start_run() as run:
            run_id = run.info.run_id
            mlflow.log_param("alpha", "0.5")
            mlflow.log_params({"beta": "2", "gamma": "x"})
            mlflow.log_metric("loss", 0.25, step=1)
            mlflow.log_metrics({"loss": 0.2, "acc": 0.9}, step=2)
            client.log_batch(
                run_id,
                metrics=[Metric("batch_metric", float(i), 1700000000000 + i, i) for i in range(200)],
                params=[Param(f"p{i}", str(i)) for i in range(20)],
                tags=[RunTag("source", "e2e")],
            )
            mlflow.set_tag("stage", "test")

            big = os.path.join(tmp, "big.bin")
            with open(big, "wb") as f:
                for _ in range(ARTIFACT_MIB):
                    f.write(os.urandom(1 << 20))
            mlflow.log_artifact(big, artifact_path="data")

            X = np.array([[0.0], [1.0], [2.0], [3.0]])
            y = np.array([1.0, 3.0, 5.0, 7.0])
            model_name = f"gh-model-{tag}"
            mlflow.sklearn.log_model(LinearRegression().fit(X, y), name="model", registered_model_name=model_name)

        fetched = client.get_run(run_id)
        out["params"] = fetched.data.params.get("alpha") == "0.5" and fetched.data.params.get("p19") == "19"
        out["metrics"] = fetched.data.metrics.get("loss") == 0.2 and fetched.data.metrics.get("batch_metric") == 199.0
        history = client.get_metric_history(run_id, "batch_metric")
        out["metric_history_len"] = len(history)
        out["tags"] = fetched.data.tags.get("stage") == "test" and fetched.data.tags.get("source") == "e2e"

        listed = [a.path for a in client.list_artifacts(run_id, "data")]
        out["artifact_listed"] = listed == ["data/big.bin"]
        dest = os.path.join(tmp, "download")
        got = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="data/big.bin", dst_path=dest)
        out["artifact_bytes"] = os.path.getsize(got)
        out["artifact_identical"] = sha256(got) == sha256(big)

    versions = client.search_model_versions(f"name='{model_name}'")
    out["model_versions"] = len(versions)
    client.set_registered_model_alias(model_name, "champion", versions[0].version)
    out["alias"] = client.get_model_version_by_alias(model_name, "champion").version == versions[0].version
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    prediction = loaded.predict(np.array([[10.0]]))
    out["prediction"] = round(float(prediction[0]), 6)

    for i in range(6):
        with mlflow.start_run(run_name=f"page-{i}"):
            mlflow.log_metric("i", i)
    seen, token, pages = [], None, 0
    while True:
        page = client.search_runs([exp_id], max_results=3, page_token=token, order_by=["attributes.start_time ASC"])
        seen += [r.info.run_id for r in page]
        pages += 1
        token = page.token
        if not token:
            break
    out["runs_paged"] = {"runs": len(seen), "unique": len(set(seen)), "pages": pages}

    extra = [mlflow.create_experiment(f"gh-e2e-{tag}-{i}") for i in range(4)]
    names, token = [], None
    while True:
        page = client.search_experiments(filter_string=f"name LIKE 'gh-e2e-{tag}%'", max_results=2, page_token=token)
        names += [e.name for e in page]
        token = page.token
        if not token:
            break
    out["experiments_paged"] = len(set(names))

    client.delete_run(run_id)
    out["run_deleted"] = client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    out["run_restored"] = client.get_run(run_id).info.lifecycle_stage == "active"
    client.delete_experiment(extra[0])
    out["experiment_deleted"] = client.get_experiment(extra[0]).lifecycle_stage == "deleted"
    client.restore_experiment(extra[0])
    out["experiment_restored"] = client.get_experiment(extra[0]).lifecycle_stage == "active"

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
