"""The stock MLflow Python client with an API token, exactly as a user would configure it.

Credentials come from the environment: MLFLOW_TRACKING_TOKEN (Bearer), or
MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD with the token as the password. Creates an
experiment, logs a run with a metric and a parameter, reads them back, prints one JSON line.
"""

import json
import os
import uuid

import mlflow
from mlflow import MlflowClient

name = f"token-{uuid.uuid4().hex[:8]}"
experiment_id = mlflow.create_experiment(name)
mlflow.set_experiment(experiment_id=experiment_id)
with mlflow.start_run() as run:
    mlflow.log_param("p", "v")
    mlflow.log_metric("m", 1.5)
client = MlflowClient()
got = client.get_run(run.info.run_id)
print(json.dumps({
    "experiment": client.get_experiment(experiment_id).name == name,
    "metric": got.data.metrics.get("m"),
    "param": got.data.params.get("p"),
    "via": "token" if os.environ.get("MLFLOW_TRACKING_TOKEN") else "basic",
}))
