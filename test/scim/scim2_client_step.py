"""One provisioning step, as an identity provider would send it, made with scim2-client (PyPI).

Usage: python scim2_client_step.py BASE_URL TOKEN STEP [ARGS...]
Steps: create-user NAME | create-group NAME MEMBER_ID | rename USER_ID DISPLAY_NAME |
       active USER_ID true|false | remove-member GROUP_ID USER_ID | delete-user USER_ID
Prints one JSON line: what the server answered (id, active, members, ...).
"""
import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Email, Group, GroupMember, Name, PatchOp, User

base, token, step, *args = sys.argv[1:]
scim = SyncSCIMClient(Client(base_url=base, headers={"Authorization": f"Bearer {token}"}))
scim.discover()


def patch(model, id, operations):
    return scim.modify(model, id, PatchOp[model](operations=operations))


if step == "create-user":
    (name,) = args
    u = scim.create(User(user_name=name, name=Name(given_name="Dana", family_name="Scully"), emails=[Email(value=f"{name}@example.com", type="work", primary=True)], active=True))
    print(json.dumps({"id": u.id, "userName": u.user_name, "active": u.active}))
elif step == "create-group":
    name, member = args
    g = scim.create(Group(display_name=name, members=[GroupMember(value=member)]))
    print(json.dumps({"id": g.id, "members": [m.value for m in g.members or []]}))
elif step == "rename":
    id, display = args
    u = patch(User, id, [{"op": "replace", "path": "displayName", "value": display}])
    print(json.dumps({"id": id, "displayName": u.display_name if u else None}))
elif step == "active":
    id, value = args
    u = patch(User, id, [{"op": "replace", "path": "active", "value": value == "true"}])
    print(json.dumps({"id": id, "active": u.active if u else None}))
elif step == "remove-member":
    group, member = args
    g = patch(Group, group, [{"op": "remove", "path": f'members[value eq "{member}"]'}])
    print(json.dumps({"id": group, "members": [m.value for m in (g.members or [])] if g else None}))
elif step == "delete-user":
    (id,) = args
    scim.delete(User, id)
    print(json.dumps({"id": id, "deleted": True}))
else:
    sys.exit(f"unknown step {step}")
