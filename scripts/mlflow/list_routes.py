"""Print every HTTP route the installed MLflow tracking server registers, as JSON.

Reads the Flask url_map of `mlflow.server.app` and the routes of the FastAPI app built by
`mlflow.server.fastapi_app.create_fastapi_app()` (the default `mlflow server` runs both: the
FastAPI routers first, the Flask app mounted at `/`). For proto-driven Flask endpoints it also
prints the request message's fields (name, json name, repeated), which the gateway needs to
read identifiers exactly as MLflow's handler does.

Usage: python list_routes.py [--workspaces]
"""

import json
import os
import sys

if "--workspaces" in sys.argv:
    os.environ["MLFLOW_ENABLE_WORKSPACES"] = "true"
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

from mlflow.server import app as flask_app  # noqa: E402
from mlflow.server import handlers  # noqa: E402
from mlflow.server.fastapi_app import create_fastapi_app  # noqa: E402

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def is_repeated(field):
    # protobuf >= 5 dropped FieldDescriptor.label in favour of is_repeated
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def proto_request_classes():
    """(path, method) -> request message class, from the same walk get_endpoints does."""
    by_path = {}
    from mlflow.protos.service_pb2 import MlflowService
    from mlflow.protos.model_registry_pb2 import ModelRegistryService
    from mlflow.protos.mlflow_artifacts_pb2 import MlflowArtifactsService
    from mlflow.protos.webhooks_pb2 import WebhookService
    from mlflow.protos import databricks_pb2

    for svc in (MlflowService, ModelRegistryService, MlflowArtifactsService, WebhookService):
        for m in svc.DESCRIPTOR.methods:
            opts = m.GetOptions().Extensions[databricks_pb2.rpc]
            for ep in opts.endpoints:
                for p in handlers._get_paths(ep.path, version=ep.since.major):
                    by_path[(p, ep.method)] = {
                        "rpc": f"{svc.DESCRIPTOR.name}.{m.name}",
                        "request": m.input_type.full_name,
                        "fields": [
                            {
                                "name": f.name,
                                "json": f.json_name,
                                "repeated": is_repeated(f),
                                "message": f.message_type.full_name if f.message_type else None,
                            }
                            for f in m.input_type.fields
                        ],
                    }
    return by_path


def fastapi_routes(app):
    """(path, methods, name) of every FastAPI route; the Flask mount at "/" has no methods."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI >= 0.165 wraps include_router
            for ctx in route.effective_route_contexts():
                methods = getattr(ctx.original_route, "methods", None)
                if methods:
                    yield ctx.path, methods, getattr(ctx.original_route, "name", "")
        elif getattr(route, "methods", None):
            yield route.path, route.methods, getattr(route, "name", "")


def main():
    protos = proto_request_classes()
    routes = []
    for rule in flask_app.url_map.iter_rules():
        for method in sorted(rule.methods - IGNORED_METHODS):
            entry = {"method": method, "path": rule.rule, "app": "flask", "endpoint": rule.endpoint}
            proto = protos.get((rule.rule, method))
            if proto:
                entry.update(proto)
            routes.append(entry)
    for path, methods, name in fastapi_routes(create_fastapi_app()):
        for method in sorted(set(methods) - IGNORED_METHODS):
            routes.append({"method": method, "path": path, "app": "fastapi", "endpoint": name})
    routes.sort(key=lambda r: (r["path"], r["method"], r["app"]))
    json.dump({"mlflow": __import__("mlflow").__version__, "routes": routes}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
