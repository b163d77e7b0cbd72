"""What the AuthServiceClient flows (auth_client_flow.py, auth_roles_flow.py) share: the gateway,
its administrator, MLflow's own clients, and one recorded step per call, made as a given user.

Env: MLFLOW_TRACKING_URI (the gateway), GH_ADMIN_USER / GH_ADMIN_PASSWORD (its administrator).
"""
import json
import os

from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient

uri = os.environ["MLFLOW_TRACKING_URI"]
ADMIN = (os.environ["GH_ADMIN_USER"], os.environ["GH_ADMIN_PASSWORD"])
auth = get_app_client("basic-auth", tracking_uri=uri)
client = MlflowClient(uri)
results = {}


def as_user(creds):
    # MLflow's clients read the credentials from the environment on every request.
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = creds


def step(name, creds, fn):
    """Runs fn as creds: {"ok": true, "value": ...} or MLflow's error code and message."""
    as_user(creds)
    try:
        results[name] = {"ok": True, "value": fn()}
    except MlflowException as e:
        results[name] = {"ok": False, "code": e.error_code, "message": str(e)[:400]}


def report():
    print(json.dumps(results))
