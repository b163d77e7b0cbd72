"""Drives Gatehouse's MLflow 3.18 role routes (RBAC) with the REAL AuthServiceClient of MLflow, and
checks the effect of every change with the stock tracking client acting as the user the role is
assigned to. Prints one JSON object: step name -> {"ok": bool, "value": ..., "code": MLflow error code}.

Env: MLFLOW_TRACKING_URI (the gateway), GH_ADMIN_USER / GH_ADMIN_PASSWORD (its administrator).
"""
from flow_steps import ADMIN, as_user, auth, client, report, step

BOB = ("bob", "bob-password-0123456")
role_json = lambda r: {"name": r.name, "workspace": r.workspace, "description": r.description, "permissions": sorted((p.resource_type, p.resource_pattern, p.permission) for p in r.permissions)}

as_user(ADMIN)
exp = client.create_experiment("roles-exp")
client.create_registered_model("roles-model")
auth.create_user(*BOB)

role = None


def create():
    global role
    role = auth.create_role("default", "readers", "reads the team's work")
    return {**role_json(role), "int_id": isinstance(role.id, int)}


step("create", ADMIN, create)
rid = role.id
step("create_again", ADMIN, lambda: auth.create_role("default", "readers").id)
step("create_unknown_workspace", ADMIN, lambda: auth.create_role("no-such-ws", "x").id)
step("create_reserved", ADMIN, lambda: auth.create_role("default", "__user_7__").id)
step("create_as_user", BOB, lambda: auth.create_role("default", "mine").id)
step("get", ADMIN, lambda: role_json(auth.get_role(rid)))
step("get_missing", ADMIN, lambda: auth.get_role(987654).name)
step("get_not_int", ADMIN, lambda: auth._request("/api/3.0/mlflow/roles/get", "GET", params={"role_id": "1.0"}))
step("update", ADMIN, lambda: role_json(auth.update_role(rid, name="team-readers", description="reads")))
step("list", ADMIN, lambda: [r.name for r in auth.list_roles("default")])
step("list_all", ADMIN, lambda: [r.name for r in auth.list_all_roles()])
step("list_as_user", BOB, lambda: [r.name for r in auth.list_all_roles()])

perm = {}


def add(key, *args):
    rp = auth.add_role_permission(rid, *args)
    perm[key] = rp.id
    return {"role_id_matches": rp.role_id == rid, "resource_type": rp.resource_type, "resource_pattern": rp.resource_pattern, "permission": rp.permission}


step("read_before_assign", BOB, lambda: client.get_experiment(exp).name)
step("add_experiment_read", ADMIN, lambda: add("exp", "experiment", exp, "READ"))
step("add_experiment_again", ADMIN, lambda: add("x", "experiment", exp, "EDIT"))
step("add_models_edit", ADMIN, lambda: add("models", "registered_model", "*", "EDIT"))
step("add_workspace_use", ADMIN, lambda: add("ws", "workspace", "*", "USE"))
step("add_workspace_manage", ADMIN, lambda: add("x", "workspace", "*", "MANAGE"))
step("add_runs", ADMIN, lambda: add("x", "run", "*", "READ"))
step("add_scorer", ADMIN, lambda: add("x", "scorer", "*", "READ"))
step("add_mcp_server", ADMIN, lambda: add("x", "mcp_server", "*", "READ"))
step("add_run_by_id", ADMIN, lambda: add("x", "run", "abc", "READ"))
step("add_unknown_type", ADMIN, lambda: add("x", "notebook", "*", "READ"))
step("add_bad_permission", ADMIN, lambda: add("x", "experiment", exp, "NO_PERMISSIONS"))
step("list_permissions", ADMIN, lambda: sorted((p.resource_type, p.resource_pattern, p.permission) for p in auth.list_role_permissions(rid)))

step("assign", ADMIN, lambda: (a := auth.assign_role("bob", rid)).role_id == rid and bool(a.user_id))
step("assign_again", ADMIN, lambda: auth.assign_role("bob", rid).id)
step("assign_unknown_user", ADMIN, lambda: auth.assign_role("nobody", rid).id)
step("read_after_assign", BOB, lambda: client.get_experiment(exp).name)
step("write_with_read", BOB, lambda: client.set_experiment_tag(exp, "k", "v"))
step("model_write", BOB, lambda: client.set_registered_model_tag("roles-model", "k", "v"))
step("create_experiment_with_use", BOB, lambda: bool(client.create_experiment("bobs-exp")))
step("user_roles_self", BOB, lambda: [r.name for r in auth.list_user_roles("bob")])
step("user_roles_other", BOB, lambda: [r.name for r in auth.list_user_roles(ADMIN[0])])
step("role_users", ADMIN, lambda: [a.role_id for a in auth.list_role_users(rid)])
step("check_effective", ADMIN, lambda: auth.get_user_permission("bob", "experiment", exp).permission)
step("current_permissions", BOB, lambda: sorted((p["role_name"], p["resource_type"], p["resource_pattern"], p["permission"]) for p in auth._request("/api/3.0/mlflow/users/current/permissions", "GET")["permissions"]))

step("update_permission", ADMIN, lambda: auth.update_role_permission(perm["exp"], "EDIT").permission)
step("write_after_update", BOB, lambda: client.set_experiment_tag(exp, "k", "v"))
step("add_model_deny", ADMIN, lambda: add("deny", "registered_model", "roles-model", "DENY"))
step("model_read_denied", BOB, lambda: client.get_registered_model("roles-model").name)
step("remove_permission", ADMIN, lambda: auth.remove_role_permission(perm["exp"]))
step("read_after_remove", BOB, lambda: client.get_experiment(exp).name)
step("remove_again", ADMIN, lambda: auth.remove_role_permission(perm["exp"]))
step("remove_deny", ADMIN, lambda: auth.remove_role_permission(perm["deny"]))
step("model_read_after_remove_deny", BOB, lambda: client.get_registered_model("roles-model").name)
step("unassign", ADMIN, lambda: auth.unassign_role("bob", rid))
step("model_read_after_unassign", BOB, lambda: client.get_registered_model("roles-model").name)
step("unassign_again", ADMIN, lambda: auth.unassign_role("bob", rid))
step("assign_before_delete", ADMIN, lambda: auth.assign_role("bob", rid).role_id)
step("delete", ADMIN, lambda: auth.delete_role(rid))
step("get_deleted", ADMIN, lambda: auth.get_role(rid).name)
step("model_read_after_delete", BOB, lambda: client.get_registered_model("roles-model").name)
step("user_roles_after_delete", ADMIN, lambda: [r.name for r in auth.list_user_roles("bob")])

report()
