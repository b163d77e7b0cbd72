"""The MLflow-compat front door of the conformance suite (test/services/front-doors.test.ts):
MLflow's own AuthServiceClient (mlflow.server.get_app_client("basic-auth")), driven one JSON
line at a time on stdin:

    {"op": "update_admin", "as": ["admin", "password"], "args": {"username": "x", "is_admin": false}}

and answering one JSON line per request on stdout: {"ok": true} or
{"ok": false, "code": <MLflow error code>, "message": ...}.

Env: MLFLOW_TRACKING_URI (the gateway).
"""
import json
import os
import sys

from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

auth = get_app_client("basic-auth", tracking_uri=os.environ["MLFLOW_TRACKING_URI"])

OPS = {
    "create_user": lambda a: auth.create_user(a["username"], a["password"]),
    "update_admin": lambda a: auth.update_user_admin(a["username"], a["is_admin"]),
    "delete_user": lambda a: auth.delete_user(a["username"]),
    "grant": lambda a: auth.grant_user_permission(a["username"], a["resource_type"], a["resource_id"], a["permission"]),
}

for line in sys.stdin:
    request = json.loads(line)
    # The client reads its credentials from the environment on every request.
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = request["as"]
    try:
        OPS[request["op"]](request.get("args", {}))
        answer = {"ok": True}
    except MlflowException as e:
        answer = {"ok": False, "code": e.error_code, "message": str(e)[:500]}
    print(json.dumps(answer), flush=True)
