"""Runs the scim2-tester compliance checker (PyPI, not ours) against a SCIM server.

Usage: python scim2_tester_run.py BASE_URL TOKEN
Prints one JSON line per check: {"title", "status", "resource_type", "reason"}.
"""
import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

base, token = sys.argv[1], sys.argv[2]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
client = SyncSCIMClient(http)
for r in check_server(client):
    print(json.dumps({
        "title": r.title,
        "status": r.status.name,
        "resource_type": r.resource_type,
        "reason": (r.reason or "")[:3000],
    }))
