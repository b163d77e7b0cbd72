"""The stock MLflow client, with a personal token (MLFLOW_TRACKING_TOKEN), as the provisioned user.

Prints one JSON line: whether it could search experiments and create one, or the error code.
"""
import json
import uuid

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

client = MlflowClient()
out = {}
try:
    client.search_experiments(max_results=1)
    out["read"] = "ok"
except MlflowException as e:
    out["read"] = e.error_code
try:
    client.create_experiment(f"scim-{uuid.uuid4().hex[:8]}")
    out["write"] = "ok"
except MlflowException as e:
    out["write"] = e.error_code
print(json.dumps(out))
