"""The one error the plugin raises: an ``MlflowException`` the MLflow client shows as is."""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import UNAUTHENTICATED


class GatehouseAuthError(MlflowException):
    """No usable Gatehouse token: the request is not sent (never silently unauthenticated).

    Messages name the token source, endpoint or file and the IdP's error code, never a token
    or secret.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"Gatehouse authentication failed: {message}", error_code=UNAUTHENTICATED)
