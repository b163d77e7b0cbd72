"""Differential oracle for the MLflow role routes' parameter reading (src/compat/call.ts `intParam`,
src/compat/mlflow-permissions.ts `roleBindingFor`): MLflow 3.18's own reading of the same input.

Reads a JSON object {"ints": [...], "permissions": [[type, pattern, permission], ...]} from the file
named by $CASES_FILE and prints, for each, what MLflow makes of it: the integer `_coerce_int_param`
reads (mlflow/server/auth/__init__.py), and the canonical pattern `SqlAlchemyStore.add_role_permission`
would store after its validation (sqlalchemy_store.py, permissions.py), or that it refuses.
"""

import json
import os

from mlflow.server.auth import _coerce_int_param
from mlflow.server.auth.permissions import (
    RESOURCE_TYPE_EXPERIMENT,
    _validate_permission_for_resource_type,
    _validate_resource_pattern,
)
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
from mlflow.utils.validation import _parse_experiment_id


def read_int(raw):
    try:
        return {"ok": True, "value": _coerce_int_param("role_id", raw)}
    except Exception as e:  # noqa: BLE001 - MLflow refusing is a result
        return {"ok": False, "error": str(e)[:200]}


def add_role_permission(resource_type, resource_pattern, permission):
    # The steps of SqlAlchemyStore.add_role_permission before it writes the row.
    try:
        _validate_permission_for_resource_type(permission, resource_type)
        if resource_type == RESOURCE_TYPE_EXPERIMENT and resource_pattern != "*":
            resource_pattern = str(_parse_experiment_id(str(resource_pattern)))
        resource_pattern = SqlAlchemyStore._validate_resource_pattern(resource_type, resource_pattern)
        _validate_resource_pattern(resource_pattern, resource_type)
        return {"ok": True, "pattern": resource_pattern}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": str(e)[:200]}


with open(os.environ["CASES_FILE"]) as f:
    cases = json.load(f)
print(json.dumps({
    "ints": [read_int(raw) for raw in cases["ints"]],
    "permissions": [add_role_permission(*p) for p in cases["permissions"]],
}))
