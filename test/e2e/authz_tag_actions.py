"""Runs a list of MLflow client actions as one principal, for the tag-mode tenancy suite.

Same protocol as authz_actions.py: GH_ACTIONS is a JSON list of [label, action, args...]; an
argument "$label" is replaced by the value an earlier action returned. Each outcome is
{"ok": true, "value": ...} or {"ok": false, "code": <MLflow error_code>, "gatehouse": <gatehouse_code>}.
This one covers more of the client: tags on create, batches, artifacts, versions and stages,
prompts, logged models, traces, and paged searches with filters.
"""

import json
import os
import sys
import tempfile

import mlflow
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException, RestException
from register_flows import log_and_register, register_run_artifacts


def main():
    client = MlflowClient()
    actions = json.loads(os.environ["GH_ACTIONS"])
    values = json.loads(os.environ.get("GH_VALUES", "{}"))

    def arg(a):
        return values.get(a[1:]) if isinstance(a, str) and a.startswith("$") else a

    def pages(search, size, filter_string=None):
        out, token = [], None
        while True:
            page = search(max_results=size, page_token=token, filter_string=filter_string)
            out.append(sorted(x.name for x in page))
            token = page.token
            if not token:
                return out

    def version_pages(size, filter_string=None):
        out, token = [], None
        while True:
            page = client.search_model_versions(filter_string=filter_string, max_results=size, page_token=token)
            out.append(sorted(f"{v.name}/{v.version}" for v in page))
            token = page.token
            if not token:
                return out

    def log_artifact(rid, name, content):
        d = tempfile.mkdtemp()
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(content)
        client.log_artifact(rid, p)

    def download_artifact(rid, name):
        with open(client.download_artifacts(rid, name, tempfile.mkdtemp())) as f:
            return f.read()

    def start_trace(eid):
        mlflow.set_experiment(experiment_id=eid)
        with mlflow.start_span("gh-span") as span:
            span.set_inputs({"x": 1})
            span.set_outputs({"y": 2})
        mlflow.flush_trace_async_logging()
        return mlflow.get_last_active_trace_id()

    ops = {
        # experiments
        "create_experiment": lambda name, tags=None: client.create_experiment(name, tags=tags),
        "get_experiment": lambda eid: client.get_experiment(eid).name,
        # The client answers None for RESOURCE_DOES_NOT_EXIST here.
        "get_experiment_by_name": lambda name: getattr(client.get_experiment_by_name(name), "experiment_id", None),
        "rename_experiment": lambda eid, name: client.rename_experiment(eid, name),
        "delete_experiment": lambda eid: client.delete_experiment(eid),
        "set_experiment_tag": lambda eid, k, v: client.set_experiment_tag(eid, k, v),
        "delete_experiment_tag": lambda eid, k: client.delete_experiment_tag(eid, k),
        "experiment_names": lambda filter_string=None: sorted(e.name for e in client.search_experiments(filter_string=filter_string)),
        "experiment_pages": lambda size, filter_string=None: pages(client.search_experiments, size, filter_string),
        # runs
        "create_run": lambda eid, tags=None: client.create_run(eid, tags=tags).info.run_id,
        "get_run": lambda rid: client.get_run(rid).info.experiment_id,
        "log_metric": lambda rid, key="m", value=1.0: client.log_metric(rid, key, value),
        "log_param": lambda rid, key, value: client.log_param(rid, key, value),
        "log_batch": lambda rid, metrics=None, params=None, tags=None: client.log_batch(
            rid,
            metrics=[Metric(k, v, 0, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, v) for k, v in (params or {}).items()],
            tags=[RunTag(k, v) for k, v in (tags or {}).items()],
        ),
        "set_run_tag": lambda rid, k, v: client.set_tag(rid, k, v),
        "delete_run_tag": lambda rid, k: client.delete_tag(rid, k),
        "search_runs": lambda eid: sorted(r.info.run_id for r in client.search_runs([eid])),
        # artifacts (proxied mlflow-artifacts routes)
        "log_artifact": log_artifact,
        "list_artifacts": lambda rid: sorted(a.path for a in client.list_artifacts(rid)),
        "download_artifact": download_artifact,
        # registered models, versions, aliases, stages
        "create_model": lambda name, tags=None: client.create_registered_model(name, tags=tags).name,
        "get_model": lambda name: client.get_registered_model(name).name,
        "rename_model": lambda name, new: client.rename_registered_model(name, new).name,
        "set_model_tag": lambda name, k, v: client.set_registered_model_tag(name, k, v),
        "delete_model_tag": lambda name, k: client.delete_registered_model_tag(name, k),
        "delete_model": lambda name: client.delete_registered_model(name),
        "create_version": lambda name, rid: client.create_model_version(name, f"runs:/{rid}/model", run_id=rid).version,
        "log_and_register": log_and_register,
        "register_run_artifacts": register_run_artifacts,
        "get_version": lambda name, version: client.get_model_version(name, version).current_stage,
        "set_version_tag": lambda name, version, k, v: client.set_model_version_tag(name, version, k, v),
        "transition_stage": lambda name, version, stage: client.transition_model_version_stage(name, version, stage).current_stage,
        "set_alias": lambda name, alias, version: client.set_registered_model_alias(name, alias, version),
        "get_alias": lambda name, alias: client.get_model_version_by_alias(name, alias).version,
        "model_names": lambda filter_string=None: sorted(m.name for m in client.search_registered_models(filter_string=filter_string)),
        "model_pages": lambda size, filter_string=None: pages(client.search_registered_models, size, filter_string),
        "version_pages": version_pages,
        # prompts
        "register_prompt": lambda name, template: mlflow.genai.register_prompt(name=name, template=template).version,
        "load_prompt": lambda uri: mlflow.genai.load_prompt(uri).template,
        # logged models
        "create_logged_model": lambda eid, name: client.create_logged_model(eid, name=name).model_id,
        "get_logged_model": lambda mid: client.get_logged_model(mid).experiment_id,
        "set_logged_model_tags": lambda mid, tags: client.set_logged_model_tags(mid, tags),
        # traces
        "start_trace": start_trace,
        "get_trace": lambda tid: client.get_trace(tid).info.trace_id,
        "set_trace_tag": lambda tid, k, v: client.set_trace_tag(tid, k, v),
    }
    out = {}
    for label, action, *args in actions:
        try:
            value = ops[action](*[arg(a) for a in args])
            out[label] = {"ok": True, "value": value}
            values[label] = value
        except RestException as e:
            body = e.json if isinstance(getattr(e, "json", None), dict) else {}
            out[label] = {"ok": False, "code": e.error_code, "gatehouse": body.get("gatehouse_code")}
        except MlflowException as e:
            out[label] = {"ok": False, "code": e.error_code, "gatehouse": None, "message": str(e)[:300]}
        except requests.HTTPError as e:
            # The artifact repository raises HTTP errors as they come (proxied mlflow-artifacts routes).
            try:
                body = e.response.json()
            except ValueError:
                body = {}
            out[label] = {"ok": False, "code": body.get("error_code", f"HTTP_{e.response.status_code}"), "gatehouse": body.get("gatehouse_code")}
    json.dump({"results": out, "values": values}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
