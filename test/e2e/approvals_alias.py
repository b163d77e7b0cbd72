"""As a contributor, with the stock MLflow client: registers a model version, then tries to
point the `production` alias at it. Prints the version and the text of the exception the alias
call raised (null when it succeeded)."""

import json
import os
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from register_flows import register_run_artifacts


def main():
    name = os.environ["GH_MODEL"]
    experiment_id = MlflowClient().create_experiment(os.environ["GH_EXPERIMENT"])
    version, _source = register_run_artifacts(experiment_id, name)
    try:
        MlflowClient().set_registered_model_alias(name, "production", version)
        error = None
    except MlflowException as e:
        error = {"text": str(e), "error_code": e.error_code}
    json.dump({"version": version, "error": error}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
