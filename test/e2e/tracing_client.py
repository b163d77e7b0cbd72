"""Creates an experiment with the stock MLflow client (through the gateway) and prints its id."""

import json
import sys

from mlflow import MlflowClient


def main():
    client = MlflowClient()
    experiment_id = client.create_experiment("traced-experiment")
    json.dump({"experiment_id": experiment_id}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
