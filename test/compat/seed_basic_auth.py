"""Seeds a real MLflow basic-auth server (MLflow's own auth app) with users and permissions,
through the stock AuthServiceClient and tracking client, then prints what it made as JSON.

Env: MLFLOW_TRACKING_URI (the basic-auth server), MLFLOW_TRACKING_USERNAME/PASSWORD (its admin),
GH_AUTH_DB (the server's basic_auth.db: two legacy hash formats are written into it directly,
as older MLflow/werkzeug versions produced them).
"""
import json
import os
import sqlite3

import mlflow
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient
from werkzeug.security import generate_password_hash

uri = os.environ["MLFLOW_TRACKING_URI"]
auth = get_app_client("basic-auth", tracking_uri=uri)
client = MlflowClient(uri)

alice = auth.create_user("alice", "alice-old-password-1")
bob = auth.create_user("bob", "bob-old-password-12")
carol = auth.create_user("carol", "carol-old-password-1")
dave = auth.create_user("dave", "dave-old-password-12")
auth.create_user("erin", "erin-old-password-12")
auth.update_user_admin("erin", True)
frank = auth.create_user("frank", "frank-old-password-1")

shared = client.create_experiment("shared-exp")
secret = client.create_experiment("secret-exp")
client.create_registered_model("model-a")

auth.grant_user_permission("alice", "experiment", shared, "READ")
auth.grant_user_permission("alice", "registered_model", "model-a", "EDIT")
auth.grant_user_permission("bob", "experiment", shared, "MANAGE")
auth.grant_user_permission("bob", "experiment", secret, "DENY")
auth.grant_user_permission("carol", "experiment", secret, "EDIT")

# A per-user wildcard grant (stored in carol's synthetic role).
auth.grant_user_permission("carol", "registered_model", "*", "READ")
# A named role (MLflow 3.18 RBAC) with an id grant, a wildcard grant, a sub-resource tier (which
# Gatehouse cannot state), workspace USE and a DENY, assigned to frank.
analysts = auth.create_role("default", "analysts", "read shared work")
auth.add_role_permission(analysts.id, "experiment", shared, "READ")
auth.add_role_permission(analysts.id, "registered_model", "*", "READ")
auth.add_role_permission(analysts.id, "run", "*", "READ")
auth.add_role_permission(analysts.id, "workspace", "*", "USE")
auth.add_role_permission(analysts.id, "experiment", secret, "DENY")
auth.assign_role("frank", analysts.id)
frank_secret = auth.get_user_permission("frank", "experiment", secret).permission

check = auth.get_user_permission("alice", "experiment", shared)

db = sqlite3.connect(os.environ["GH_AUTH_DB"])
# carol: a pbkdf2 hash (werkzeug < 2.3 / MLflow 2.x); dave: a format Gatehouse cannot verify.
db.execute(
    "update users set password_hash = ? where username = 'carol'",
    (generate_password_hash("carol-old-password-1", method="pbkdf2:sha256:1000"),),
)
db.execute("update users set password_hash = 'md5$abc$0123' where username = 'dave'")
db.commit()
db.close()

print(json.dumps({
    "users": {u.username: u.id for u in (alice, bob, carol, dave)},
    "experiments": {"shared": shared, "secret": secret},
    "check": {"allowed": check.allowed, "permission": check.permission},
    "frank_secret": frank_secret,
}))
