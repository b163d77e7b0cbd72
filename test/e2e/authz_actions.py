"""Runs a list of MLflow client actions as one principal and reports each outcome as JSON.

GH_ACTIONS is a JSON list of [label, action, args...]. An argument "$label" is replaced by the
value an earlier action returned (an experiment id, a run id). Each outcome is
{"ok": true, "value": ...} or {"ok": false, "code": <MLflow error_code or exception name>}.
"""

import json
import os
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from register_flows import log_and_register, register_run_artifacts


def main():
    client = MlflowClient()
    actions = json.loads(os.environ["GH_ACTIONS"])
    values = json.loads(os.environ.get("GH_VALUES", "{}"))

    def arg(a):
        return values.get(a[1:]) if isinstance(a, str) and a.startswith("$") else a

    def pages(search, size):
        out, token = [], None
        while True:
            page = search(max_results=size, page_token=token)
            out.append(sorted(x.name for x in page))
            token = page.token
            if not token:
                return out

    ops = {
        "experiment_pages": lambda size: pages(client.search_experiments, size),
        "model_pages": lambda size: pages(client.search_registered_models, size),
        "create_experiment": lambda name: client.create_experiment(name),
        "get_experiment": lambda eid: client.get_experiment(eid).name,
        "experiment_names": lambda: sorted(e.name for e in client.search_experiments()),
        "create_run": lambda eid: client.create_run(eid).info.run_id,
        "log_metric": lambda rid: client.log_metric(rid, "m", 1.0),
        "get_run": lambda rid: client.get_run(rid).info.experiment_id,
        "search_runs": lambda eid: len(client.search_runs([eid])),
        "create_model": lambda name: client.create_registered_model(name).name,
        "create_version": lambda name, rid: client.create_model_version(name, f"runs:/{rid}/model", run_id=rid).version,
        "log_and_register": log_and_register,
        "register_run_artifacts": register_run_artifacts,
        "set_alias": lambda name, alias, version: client.set_registered_model_alias(name, alias, version),
        "get_alias": lambda name, alias: client.get_model_version_by_alias(name, alias).version,
        "delete_model": lambda name: client.delete_registered_model(name),
        "delete_experiment": lambda eid: client.delete_experiment(eid),
        "model_names": lambda: sorted(m.name for m in client.search_registered_models()),
    }
    out = {}
    for label, action, *args in actions:
        try:
            value = ops[action](*[arg(a) for a in args])
            out[label] = {"ok": True, "value": value}
            values[label] = value
        except RestException as e:
            out[label] = {"ok": False, "code": e.error_code}
        except MlflowException as e:
            out[label] = {"ok": False, "code": e.error_code}
    json.dump({"results": out, "values": values}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
