"""Acts as one principal with the stock MLflow client and prints, by call, the text of the
exception each refused call raises (null when the call succeeded), as a user would read it."""

import json
import os
import sys

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def main():
    client = MlflowClient()
    run_id = os.environ["GH_RUN_ID"]
    experiment_id = os.environ["GH_EXPERIMENT_ID"]
    calls = {
        "log_metric": lambda: client.log_metric(run_id, "m", 1.0),
        "delete_experiment": lambda: client.delete_experiment(experiment_id),
    }
    out = {}
    for label, call in calls.items():
        try:
            call()
            out[label] = None
        except MlflowException as e:
            out[label] = str(e)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
