"""A training job as users write them: stock MLflow calls only, no token code.

Authentication comes entirely from the environment (MLFLOW_TRACKING_AUTH=gatehouse and the
MLFLOW_GATEHOUSE_* variables read by clients/python). Logs STEPS metrics, STEP_SECONDS apart,
into EXPERIMENT, then prints one JSON line with the run id.
"""

import json
import os
import time

import mlflow

steps = int(os.environ.get("STEPS", "5"))
pause = float(os.environ.get("STEP_SECONDS", "0"))
mlflow.set_experiment(os.environ["EXPERIMENT"])
with mlflow.start_run() as run:
    mlflow.log_param("steps", steps)
    for step in range(steps):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        time.sleep(pause)
print(json.dumps({"run_id": run.info.run_id}))
