"""Differential oracle for src/routes/mlflow/references.ts: how MLflow 3.18 itself reads references.

Reads a JSON list of cases from the file named by $CASES_FILE and prints one result per case:

- {"kind": "source", "body": {...}}: the body is sent to MLflow's real handler
  `handlers._create_model_version` in a Flask request context, with registry and tracking stores
  that hold every model, version, alias, run and logged model asked for and record each read.
  The result says whether MLflow created the version and which resources it touched to do so:
  registered models it read (a models:/ source is copied from), runs and logged models it read or
  bound the new version to, and the experiment (and workspace prefix) of a proxied-artifact source
  (`handlers._is_mlflow_artifact_source`, read with the auth module's `_parse_artifact_auth_target`).
- {"kind": "path", "path": "..."}: `uri.validate_path_is_safe` (what every artifact route runs).
- {"kind": "proxied", "path": "..."}: the experiment and workspace MLflow's auth reads from a
  proxied artifact path after `validate_path_is_safe`.
"""

import json
import os
import urllib.parse
from unittest import mock

from flask import Flask

import mlflow.server.handlers as h
from mlflow.entities import Run, RunData, RunInfo
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.server.auth import _parse_artifact_auth_target
from mlflow.utils.uri import validate_path_is_safe

EXPERIMENT = "7"
SOURCE_RUN = "s" * 32


class Registry:
    """Every registered model exists, is not a prompt, and has versions made from SOURCE_RUN."""

    def __init__(self, reads):
        self.reads = reads

    def _version(self, name, version):
        return ModelVersion(name=name, version=str(version), creation_timestamp=0, run_id=SOURCE_RUN)

    def get_registered_model(self, name):
        self.reads["models"].append(name)
        return RegisteredModel(name=name)

    def get_model_version(self, name, version):
        self.reads["models"].append(name)
        return self._version(name, int(version))

    def get_model_version_by_alias(self, name, alias):
        self.reads["models"].append(name)
        return self._version(name, 3)

    def get_latest_versions(self, name, stages=None):
        self.reads["models"].append(name)
        return [self._version(name, 4)]

    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None, description=None, local_model_path=None, model_id=None):
        self.reads["created"] = {"name": name, "source": source, "run_id": run_id or "", "model_id": model_id or ""}
        return ModelVersion(name=name, version="1", creation_timestamp=0, source=source, run_id=run_id, model_id=model_id)


class Tracking:
    """Every run and logged model exists, under experiment EXPERIMENT with proxied artifacts."""

    def __init__(self, reads):
        self.reads = reads

    def get_run(self, run_id):
        self.reads["runs"].append(run_id)
        info = RunInfo(
            run_id=run_id,
            experiment_id=EXPERIMENT,
            user_id="",
            status="RUNNING",
            start_time=0,
            end_time=None,
            lifecycle_stage="active",
            artifact_uri=f"mlflow-artifacts:/{EXPERIMENT}/{run_id}/artifacts",
        )
        return Run(info, RunData())

    def get_logged_model(self, model_id):
        self.reads["logged_models"].append(model_id)
        return mock.Mock(model_id=model_id, artifact_location=f"mlflow-artifacts:/{EXPERIMENT}/models/{model_id}/artifacts")

    def set_model_versions_tags(self, **kwargs):
        pass


APP = Flask(__name__)


def proxied_target(source):
    """The experiment and workspace of a source MLflow reads as proxied artifacts, or None."""
    if not h._is_mlflow_artifact_source(source):
        return None
    _, _, parts = h._normalized_uri_parts(source)
    target = _parse_artifact_auth_target("/".join(parts))
    return {"experiment": target.experiment_id, "workspace": target.workspace, "invalid": target.invalid}


def create_version(body):
    reads = {"models": [], "runs": [], "logged_models": [], "created": None}
    with (
        mock.patch.object(h, "_get_model_registry_store", lambda *a, **k: Registry(reads)),
        mock.patch.object(h, "_get_tracking_store", lambda *a, **k: Tracking(reads)),
        mock.patch.object(h, "deliver_webhook", lambda *a, **k: None),
        APP.test_request_context("/api/2.0/mlflow/model-versions/create", method="POST", json=body),
    ):
        try:
            response = h._create_model_version()
        except Exception as e:  # noqa: BLE001 - an unhandled error is a 500 from the real server
            return {"status": 500, "created": False, "models": reads["models"], "runs": reads["runs"], "logged_models": reads["logged_models"], "error": f"{type(e).__name__}: {e}"[:300]}
    created = reads["created"]
    out = {"status": response.status_code, "created": created is not None, "models": reads["models"], "runs": reads["runs"], "logged_models": reads["logged_models"]}
    if created is not None:
        # The new version is bound to these; ones copied from a models:/ source came with that model.
        if created["run_id"] and created["run_id"] != SOURCE_RUN:
            out["runs"].append(created["run_id"])
        if created["model_id"]:
            out["logged_models"].append(created["model_id"])
        source = body.get("source")
        out["proxied"] = proxied_target(source) if isinstance(source, str) else None
    else:
        out["error"] = response.get_data(as_text=True)[:300]
    return out


def safe_path(path):
    try:
        return {"ok": True, "path": validate_path_is_safe(path)}
    except Exception as e:  # noqa: BLE001 - MLflow refusing is a result
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:200]}


def proxied_path(path):
    read = safe_path(path)
    if not read["ok"]:
        return read
    target = _parse_artifact_auth_target(read["path"])
    return {"ok": not target.invalid, "experiment": target.experiment_id, "workspace": target.workspace}


def main():
    with open(os.environ["CASES_FILE"], encoding="utf-8") as f:
        cases = json.load(f)
    results = []
    for case in cases:
        if case["kind"] == "source":
            results.append(create_version(case["body"]))
        elif case["kind"] == "path":
            results.append(safe_path(case["path"]))
        elif case["kind"] == "proxied":
            results.append(proxied_path(case["path"]))
        elif case["kind"] == "urlsplit":
            p = urllib.parse.urlsplit(case["text"])
            results.append({"scheme": p.scheme, "netloc": p.netloc, "path": p.path})
        else:
            raise ValueError(case["kind"])
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
