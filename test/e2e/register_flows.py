"""The stock client's two ways of registering a model, as training scripts do them; shared by the
authorization action runners (authz_actions.py, authz_tag_actions.py)."""

import os
import tempfile

import mlflow
from mlflow.pyfunc import PythonModel


class Echo(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def log_and_register(experiment_id, name):
    """`log_model(registered_model_name=...)`: a logged model, registered from `models:/<model_id>`."""
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo(), pip_requirements=["mlflow"], registered_model_name=name)
    return str(info.registered_model_version)


def register_run_artifacts(experiment_id, name):
    """A model directory logged as run artifacts and registered from `runs:/<run_id>/<path>`: the
    client sends the run's own artifact URI (`mlflow-artifacts:/...`) as the source."""
    mlflow.set_experiment(experiment_id=experiment_id)
    d = os.path.join(tempfile.mkdtemp(), "legacy")
    os.makedirs(d)
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(d, artifact_path="legacy")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/legacy", name)
    return [str(version.version), version.source]
