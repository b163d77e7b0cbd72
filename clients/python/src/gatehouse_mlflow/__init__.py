"""Transparent machine authentication for MLflow clients behind Gatehouse.

Install the package and set ``MLFLOW_TRACKING_AUTH=gatehouse``; the token source is chosen by
``MLFLOW_GATEHOUSE_*`` environment variables (see README.md).
"""

from gatehouse_mlflow.errors import GatehouseAuthError

__all__ = ["GatehouseAuthError"]
__version__ = "0.1.0"
