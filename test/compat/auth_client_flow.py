"""Drives Gatehouse's MLflow-auth-compatible API with the REAL AuthServiceClient of MLflow, and
checks the effect with the stock tracking client acting as the managed user. Prints one JSON
object: step name -> {"ok": bool, "value": ..., "code": MLflow error code}.

Env: MLFLOW_TRACKING_URI (the gateway), GH_ADMIN_USER / GH_ADMIN_PASSWORD (its administrator).
"""
from flow_steps import ADMIN, as_user, auth, client, report, step

ALICE1 = ("alice", "alice-password-one")
ALICE2 = ("alice", "alice-password-two")
ALICE3 = ("alice", "alice-password-three")

step("create", ADMIN, lambda: {"username": (u := auth.create_user(*ALICE1)).username, "is_admin": u.is_admin, "has_id": bool(u.id)})
step("create_again", ADMIN, lambda: auth.create_user(*ALICE1).username)
step("get", ADMIN, lambda: {"username": (u := auth.get_user("alice")).username, "is_admin": u.is_admin})
step("get_self", ALICE1, lambda: auth.get_user("alice").username)
step("create_as_non_admin", ALICE1, lambda: auth.create_user("mallory", "mallory-password").username)

as_user(ADMIN)
exp = client.create_experiment("compat-exp")
client.create_registered_model("compat-model")

step("read_before_grant", ALICE1, lambda: client.get_experiment(exp).name)
step("grant_read", ADMIN, lambda: auth.grant_user_permission("alice", "experiment", exp, "READ"))
step("grant_read_again", ADMIN, lambda: auth.grant_user_permission("alice", "experiment", exp, "READ"))
step("read_after_grant", ALICE1, lambda: client.get_experiment(exp).name)
step("write_with_read", ALICE1, lambda: client.set_experiment_tag(exp, "k", "v"))
step("check_read", ADMIN, lambda: {"allowed": (r := auth.get_user_permission("alice", "experiment", exp)).allowed, "permission": r.permission})
step("grant_model_edit", ADMIN, lambda: auth.grant_user_permission("alice", "registered_model", "compat-model", "EDIT"))
step("model_write", ALICE1, lambda: client.set_registered_model_tag("compat-model", "k", "v"))
step("check_model", ALICE1, lambda: {"allowed": (r := auth.get_user_permission("alice", "registered_model", "compat-model")).allowed, "permission": r.permission})
step("grant_as_non_manager", ALICE1, lambda: auth.grant_user_permission("alice", "experiment", exp, "MANAGE"))
step("revoke_read", ADMIN, lambda: auth.revoke_user_permission("alice", "experiment", exp))
step("revoke_again", ADMIN, lambda: auth.revoke_user_permission("alice", "experiment", exp))
step("read_after_revoke", ALICE1, lambda: client.get_experiment(exp).name)
step("check_after_revoke", ADMIN, lambda: auth.get_user_permission("alice", "experiment", exp).permission)
step("revoke_model", ADMIN, lambda: auth.revoke_user_permission("alice", "registered_model", "compat-model"))
step("grant_read_all_models", ADMIN, lambda: auth.grant_user_permission("alice", "registered_model", "*", "READ"))
step("grant_deny", ADMIN, lambda: auth.grant_user_permission("alice", "registered_model", "compat-model", "DENY"))
step("read_denied_model", ALICE1, lambda: client.get_registered_model("compat-model").name)
step("check_denied", ADMIN, lambda: auth.get_user_permission("alice", "registered_model", "compat-model").permission)
step("list_permissions", ADMIN, lambda: sorted((p["resource_type"], p["resource_pattern"], p["permission"]) for p in auth._request("/api/3.0/mlflow/users/permissions/list", "GET", params={"username": "alice"})["permissions"]))

step("grant_scorer", ADMIN, lambda: auth.grant_user_permission("alice", "scorer", "*", "READ"))
step("grant_runs", ADMIN, lambda: auth.grant_user_permission("alice", "run", "*", "READ"))
step("grant_run_by_id", ADMIN, lambda: auth.grant_user_permission("alice", "run", "abc", "READ"))
step("grant_unknown_type", ADMIN, lambda: auth.grant_user_permission("alice", "notebook", "1", "READ"))
step("update_password", ADMIN, lambda: auth.update_user_password("alice", ALICE2[1]))
step("old_password", ALICE1, lambda: auth.get_user("alice").username)
step("new_password", ALICE2, lambda: auth.get_user("alice").username)
step("self_password_without_current", ALICE2, lambda: auth.update_user_password("alice", ALICE3[1]))
step("self_password", ALICE2, lambda: auth.update_user_password("alice", ALICE3[1], current_password=ALICE2[1]))
step("after_self_password", ALICE3, lambda: auth.get_user("alice").username)

step("admin_call_as_user", ALICE3, lambda: client.get_experiment(exp).name)
step("update_admin", ADMIN, lambda: auth.update_user_admin("alice", True))
step("get_after_admin", ADMIN, lambda: auth.get_user("alice").is_admin)
step("admin_call_as_admin", ALICE3, lambda: client.get_experiment(exp).name)
step("update_admin_back", ADMIN, lambda: auth.update_user_admin("alice", False))

step("delete", ADMIN, lambda: auth.delete_user("alice"))
step("get_deleted", ADMIN, lambda: auth.get_user("alice").username)
step("deleted_login", ALICE3, lambda: auth.get_user("alice").username)

report()
