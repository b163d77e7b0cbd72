"""Unit tests of the plugin against a fake token endpoint (tests/conftest.py)."""

from __future__ import annotations

import base64
import json
import logging
import os
import select
import threading
from typing import Dict

import pytest
import requests

from gatehouse_mlflow.cache import TokenCache
from gatehouse_mlflow.config import DEFAULT_TOKEN_FILE, settings_from_env
from gatehouse_mlflow.errors import GatehouseAuthError
from gatehouse_mlflow.provider import GatehouseAuth, GatehouseRequestAuthProvider
from gatehouse_mlflow.sources import FileTokenSource, source_for

SECRET = "s3cret-value-never-printed"


def cc_env(url: str, **extra: str) -> Dict[str, str]:
    env = {
        "MLFLOW_GATEHOUSE_TOKEN_URL": f"{url}/token",
        "MLFLOW_GATEHOUSE_CLIENT_ID": "svc",
        "MLFLOW_GATEHOUSE_CLIENT_SECRET": SECRET,
    }
    env.update({f"MLFLOW_GATEHOUSE_{k}": v for k, v in extra.items()})
    return env


def cache_for_env(env: Dict[str, str], clock, rand=lambda: 0.5) -> TokenCache:
    s = settings_from_env(env)
    return TokenCache(source_for(s, clock), margin=s.refresh_margin, jitter=s.refresh_jitter, clock=clock, rand=rand)


def jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{enc({'alg': 'none'})}.{enc(claims)}.sig"


# --- configuration -----------------------------------------------------------------------------

def test_defaults_pick_the_source_from_what_is_configured():
    s = settings_from_env({})
    assert (s.source, s.token_file, s.client_auth) == ("file", DEFAULT_TOKEN_FILE, "none")
    assert (s.refresh_margin, s.refresh_jitter, s.timeout) == (60.0, 30.0, 10.0)
    s = settings_from_env(cc_env("http://idp"))
    assert (s.source, s.client_auth) == ("client_credentials", "client_secret_basic")


def test_every_configuration_problem_is_reported_at_once_without_secrets():
    with pytest.raises(GatehouseAuthError) as e:
        settings_from_env({
            "MLFLOW_GATEHOUSE_TOKEN_SOURCE": "client_credentials",
            "MLFLOW_GATEHOUSE_CLIENT_SECRET": SECRET,
            "MLFLOW_GATEHOUSE_REFRESH_MARGIN_SECONDS": "soon",
        })
    message = e.value.message
    assert "MLFLOW_GATEHOUSE_CLIENT_ID is required" in message
    assert "needs MLFLOW_GATEHOUSE_TOKEN_URL" in message
    assert "REFRESH_MARGIN_SECONDS must be a number" in message
    assert SECRET not in message
    assert e.value.error_code == "UNAUTHENTICATED"


def test_secret_is_redacted_in_reprs():
    s = settings_from_env(cc_env("http://idp"))
    assert SECRET not in repr(s)
    assert "[redacted]" in repr(s)


# --- client credentials ------------------------------------------------------------------------

def test_client_credentials_request_and_caching(idp, clock):
    cache = cache_for_env(cc_env(idp.url, SCOPE="mlflow:role:admin", AUDIENCE="gh", RESOURCE="urn:mlflow"), clock)
    assert cache.get() == "token-1"
    assert cache.get() == "token-1"
    assert idp.issued == 1, "the second call is served from the cache"
    rec = idp.requests[0]
    assert rec.path == "/token"
    assert rec.form == {"grant_type": "client_credentials", "scope": "mlflow:role:admin", "audience": "gh", "resource": "urn:mlflow"}
    assert rec.headers["authorization"] == "Basic " + base64.b64encode(f"svc:{SECRET}".encode()).decode()


def test_client_secret_post(idp, clock):
    cache_for_env(cc_env(idp.url, CLIENT_AUTH="client_secret_post"), clock).get()
    rec = idp.requests[0]
    assert "authorization" not in rec.headers
    assert (rec.form["client_id"], rec.form["client_secret"]) == ("svc", SECRET)


def test_refresh_before_expiry_with_jitter(idp, clock):
    start = clock.now
    # expires_in 600, margin 60, jitter 30 drawn at 0.5: refresh when 75 s remain.
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.5)
    assert cache.get() == "token-1"
    clock.now = start + 524
    assert cache.get() == "token-1"
    clock.now = start + 526
    assert cache.get() == "token-2", "refreshed 74 s before expiry"
    assert idp.issued == 2


def test_jitter_spreads_refreshes(idp, clock):
    start = clock.now
    early = cache_for_env(cc_env(idp.url), clock, rand=lambda: 1.0)  # lead 90 s
    late = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)  # lead 60 s
    early.get(), late.get()
    clock.now = start + 515
    assert early.get() != "token-1" and early.get() == "token-3"
    assert late.get() == "token-2", "the other worker refreshes later"


def test_short_lived_tokens_are_refreshed_before_they_expire(idp, clock):
    idp.expires_in = 6
    start = clock.now
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)  # lead = min(60, 6/3) = 2 s
    assert cache.get() == "token-1"
    clock.now = start + 3.9
    assert cache.get() == "token-1"
    clock.now = start + 4.1
    assert cache.get() == "token-2"


def test_expiry_falls_back_to_the_jwt_exp(idp, clock):
    idp.expires_in = None
    idp.responder = lambda rec: (200, {"access_token": jwt({"exp": clock.now + 100}), "token_type": "Bearer"})
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)
    first = cache.get()
    clock.now += 60
    assert cache.get() == first
    clock.now += 10  # 30 s left; lead = min(60, 100/3)
    cache.get()
    assert len(idp.requests) == 2


def test_failed_refresh_keeps_the_valid_token_then_raises_a_clear_error(idp, clock, caplog):
    start = clock.now
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)
    assert cache.get() == "token-1"
    idp.responder = lambda rec: (401, {"error": "invalid_client", "error_description": "client authentication failed"})
    clock.now = start + 590  # due for refresh, still valid
    with caplog.at_level(logging.WARNING, logger="gatehouse_mlflow"):
        assert cache.get() == "token-1"
    assert "refreshing the token" in caplog.text and SECRET not in caplog.text
    assert cache.get() == "token-1" and len(idp.requests) == 2, "backs off instead of hammering the IdP"
    clock.now = start + 601  # expired
    with pytest.raises(GatehouseAuthError) as e:
        cache.get()
    message = e.value.message
    assert "client credentials for client 'svc'" in message
    assert "HTTP 401: invalid_client (client authentication failed)" in message
    assert SECRET not in message and "token-1" not in message


def test_unreachable_endpoint_and_bad_answers_are_clear_errors(idp, clock):
    cache = cache_for_env(cc_env("http://127.0.0.1:9"), clock)
    with pytest.raises(GatehouseAuthError, match="could not be reached"):
        cache.get()
    idp.responder = lambda rec: (200, {"token_type": "Bearer"})
    with pytest.raises(GatehouseAuthError, match="answered HTTP 200"):
        cache_for_env(cc_env(idp.url), clock).get()
    idp.responder = lambda rec: (200, {"access_token": "x", "token_type": "DPoP"})
    with pytest.raises(GatehouseAuthError, match="only Bearer tokens"):
        cache_for_env(cc_env(idp.url), clock).get()


def test_discovery_finds_the_token_endpoint(idp, clock):
    def answer(rec):
        if rec.path == "/.well-known/openid-configuration":
            return 200, {"issuer": idp.url, "token_endpoint": f"{idp.url}/oauth/token"}
        return idp.issue(rec)

    idp.responder = answer
    env = cc_env(idp.url)
    del env["MLFLOW_GATEHOUSE_TOKEN_URL"]
    env["MLFLOW_GATEHOUSE_ISSUER"] = idp.url + "/"
    assert cache_for_env(env, clock).get() == "token-1"
    assert [r.path for r in idp.requests] == ["/.well-known/openid-configuration", "/oauth/token"]


def test_concurrent_callers_share_one_fetch(idp, clock):
    idp.delay = 0.3
    cache = cache_for_env(cc_env(idp.url), clock)
    results, errors = [], []
    barrier = threading.Barrier(16)

    def worker():
        barrier.wait()
        try:
            results.append(cache.get())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["token-1"] * 16
    assert idp.issued == 1


def test_while_one_thread_refreshes_the_others_use_the_valid_token(idp, clock):
    start = clock.now
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)
    cache.get()
    clock.now = start + 590
    gate, release = threading.Event(), threading.Event()

    def slow(rec):
        gate.set()
        release.wait(10)
        return idp.issue(rec)

    idp.responder = slow
    refresher = threading.Thread(target=cache.get)
    refresher.start()
    assert gate.wait(10)
    assert cache.get() == "token-1", "not blocked by the refresh in flight"
    release.set()
    refresher.join()
    assert cache.get() == "token-2"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_fork_while_a_refresh_holds_the_lock(idp, clock):
    """The child gets a fresh lock and session: it neither deadlocks nor shares the parent's socket."""
    start = clock.now
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)
    assert cache.get() == "token-1"
    clock.now = start + 700  # expired: get() must take the lock
    gate, release = threading.Event(), threading.Event()

    def slow(rec):
        gate.set()
        release.wait(10)
        return idp.issue(rec)

    idp.responder = slow
    refresher = threading.Thread(target=cache.get)
    refresher.start()
    assert gate.wait(10)  # the parent's lock is now held by `refresher`
    idp.responder = idp.issue
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no `refresher` thread exists here
        os.close(read_fd)
        try:
            result = cache.get()
        except BaseException as e:  # pragma: no cover
            result = f"error {e!r}"
        os.write(write_fd, result.encode())
        os._exit(0)
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], 10)
    got = os.read(read_fd, 100).decode() if ready else "child deadlocked"
    release.set()
    refresher.join()
    os.close(read_fd)
    if not ready:
        os.kill(pid, 9)
    os.waitpid(pid, 0)
    assert got.startswith("token-"), got
    assert got != "token-1", "the child fetched its own token"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_forked_child_reuses_the_valid_token(idp, clock):
    cache = cache_for_env(cc_env(idp.url), clock)
    assert cache.get() == "token-1"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.write(write_fd, cache.get().encode())
        os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    assert os.read(read_fd, 100).decode() == "token-1"
    os.close(read_fd)
    assert idp.issued == 1


# --- private_key_jwt ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_private_key_jwt_assertion_is_signed_and_verifiable(idp, clock, tmp_path, kind):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    env = {
        "MLFLOW_GATEHOUSE_TOKEN_URL": f"{idp.url}/token",
        "MLFLOW_GATEHOUSE_CLIENT_ID": "svc-jwt",
        "MLFLOW_GATEHOUSE_PRIVATE_KEY_FILE": str(pem),
        "MLFLOW_GATEHOUSE_PRIVATE_KEY_ID": "k1",
    }
    assert settings_from_env(env).client_auth == "private_key_jwt"
    assert cache_for_env(env, clock).get() == "token-1"
    form = idp.requests[0].form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "authorization" not in idp.requests[0].headers
    h, p, sig = form["client_assertion"].split(".")
    dec = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    header, claims = json.loads(dec(h)), json.loads(dec(p))
    assert header == {"alg": "RS256" if kind == "rsa" else "ES256", "typ": "JWT", "kid": "k1"}
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("svc-jwt", "svc-jwt", f"{idp.url}/token")
    assert claims["exp"] - claims["iat"] == 60 and claims["jti"]
    data, raw = f"{h}.{p}".encode(), dec(sig)
    if kind == "rsa":
        key.public_key().verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))


def test_unreadable_private_key_is_a_clear_error(tmp_path):
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    env = {"MLFLOW_GATEHOUSE_TOKEN_URL": "http://idp/token", "MLFLOW_GATEHOUSE_CLIENT_ID": "c", "MLFLOW_GATEHOUSE_PRIVATE_KEY_FILE": str(bad)}
    with pytest.raises(GatehouseAuthError, match="cannot load the private key"):
        source_for(settings_from_env(env))


def test_tls_client_auth_sends_the_certificate_and_the_client_id(tmp_path):
    env = {"MLFLOW_GATEHOUSE_TOKEN_URL": "https://idp/token", "MLFLOW_GATEHOUSE_CLIENT_ID": "c", "MLFLOW_GATEHOUSE_CLIENT_CERT_FILE": "/c.pem", "MLFLOW_GATEHOUSE_CLIENT_KEY_FILE": "/k.pem"}
    s = settings_from_env(env)
    assert s.client_auth == "tls_client_auth"
    assert s.client_cert == ("/c.pem", "/k.pem")


# --- token file --------------------------------------------------------------------------------

def test_token_file_is_reread_when_it_changes(tmp_path, clock):
    path = tmp_path / "token"
    path.write_text("first\n")
    cache = TokenCache(FileTokenSource(str(path), clock), clock=clock)
    assert cache.get() == "first"
    assert cache.get() == "first" and cache.fetches == 1
    # A sidecar rewriting in place (size changes) ...
    path.write_text("second-token")
    assert cache.get() == "second-token"
    # ... and kubelet's atomic swap (new inode, same size).
    tmp = tmp_path / "token.new"
    tmp.write_text("third-token!")
    os.replace(tmp, path)
    assert cache.get() == "third-token!"
    assert cache.fetches == 3


def test_token_file_with_an_expired_jwt_is_a_clear_error(tmp_path, clock):
    path = tmp_path / "token"
    path.write_text(jwt({"exp": clock.now + 30}))
    cache = TokenCache(FileTokenSource(str(path), clock), clock=clock)
    cache.get()
    clock.now += 31
    with pytest.raises(GatehouseAuthError, match=r"expired 1 s ago and the file has not been refreshed"):
        cache.get()
    path.write_text(jwt({"exp": clock.now + 30, "n": 2}))
    assert cache.get(), "a refreshed file is picked up"


def test_missing_or_empty_token_file_is_a_clear_error(tmp_path, clock):
    with pytest.raises(GatehouseAuthError, match="cannot read the token file .*/absent: No such file"):
        TokenCache(FileTokenSource(str(tmp_path / "absent"), clock), clock=clock).get()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(GatehouseAuthError, match="is empty"):
        TokenCache(FileTokenSource(str(empty), clock), clock=clock).get()


# --- token exchange ----------------------------------------------------------------------------

def test_token_exchange_posts_the_file_token_as_subject(idp, clock, tmp_path):
    path = tmp_path / "sa-token"
    path.write_text("k8s-sa-jwt")
    env = {
        "MLFLOW_GATEHOUSE_TOKEN_SOURCE": "exchange",
        "MLFLOW_GATEHOUSE_TOKEN_URL": f"{idp.url}/token",
        "MLFLOW_GATEHOUSE_TOKEN_FILE": str(path),
        "MLFLOW_GATEHOUSE_AUDIENCE": "gatehouse",
        "MLFLOW_GATEHOUSE_CLIENT_ID": "exchanger",
        "MLFLOW_GATEHOUSE_CLIENT_SECRET": SECRET,
    }
    cache = cache_for_env(env, clock)
    assert cache.get() == "token-1"
    form = idp.requests[0].form
    assert form == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": "k8s-sa-jwt",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "audience": "gatehouse",
    }
    assert idp.requests[0].headers["authorization"].startswith("Basic ")


def test_token_exchange_without_client_auth_and_failure_message(idp, clock, tmp_path):
    path = tmp_path / "sa-token"
    path.write_text("k8s-sa-jwt")
    env = {"MLFLOW_GATEHOUSE_TOKEN_SOURCE": "exchange", "MLFLOW_GATEHOUSE_TOKEN_URL": f"{idp.url}/token", "MLFLOW_GATEHOUSE_TOKEN_FILE": str(path)}
    idp.responder = lambda rec: (400, {"error": "invalid_grant", "error_description": "subject token rejected"})
    with pytest.raises(GatehouseAuthError) as e:
        cache_for_env(env, clock).get()
    assert f"token exchange of token file {path}" in e.value.message
    assert "invalid_grant (subject token rejected)" in e.value.message
    assert "k8s-sa-jwt" not in e.value.message
    assert "client_id" not in idp.requests[0].form


# --- the MLflow provider -----------------------------------------------------------------------

def test_provider_sets_only_the_authorization_header_and_invalidates_on_401(idp, monkeypatch):
    for k, v in cc_env(idp.url).items():
        monkeypatch.setenv(k, v)
    provider = GatehouseRequestAuthProvider()
    assert provider.get_name() == "gatehouse"
    auth = provider.get_auth()
    assert isinstance(auth, GatehouseAuth)
    mlflow = type(idp)()  # a second fake server plays MLflow
    try:
        mlflow.responder = lambda rec: (200, {})
        requests.get(f"{mlflow.url}/api/2.0/mlflow/experiments/search", auth=auth, headers={"X-MLFLOW-WORKSPACE": "team-a"})
        sent = mlflow.requests[-1].headers
        assert sent["authorization"] == "Bearer token-1"
        assert sent["x-mlflow-workspace"] == "team-a"
        requests.get(f"{mlflow.url}/x", auth=provider.get_auth())
        assert idp.issued == 1, "get_auth() shares one cache per configuration"
        mlflow.responder = lambda rec: (401, {"error_code": "UNAUTHENTICATED"})
        requests.get(f"{mlflow.url}/x", auth=provider.get_auth())
        mlflow.responder = lambda rec: (200, {})
        requests.get(f"{mlflow.url}/x", auth=provider.get_auth())
        assert mlflow.requests[-1].headers["authorization"] == "Bearer token-2", "a refused token is replaced"
    finally:
        mlflow.close()


def test_stock_mlflow_client_uses_the_plugin_and_keeps_the_workspace(idp, monkeypatch):
    from mlflow import MlflowClient

    fake = type(idp)()
    try:
        fake.responder = lambda rec: (200, {"workspaces_enabled": True} if "server-info" in rec.path else {"experiments": []})
        for k, v in cc_env(idp.url).items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "gatehouse")
        monkeypatch.setenv("MLFLOW_WORKSPACE", "team-a")
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        MlflowClient(tracking_uri=fake.url).search_experiments()
        assert [r.path for r in fake.requests] == ["/api/3.0/mlflow/server-info", "/api/2.0/mlflow/experiments/search"]
        for rec in fake.requests:
            assert rec.headers["authorization"] == "Bearer token-1"
        assert fake.requests[-1].headers.get("x-mlflow-workspace") == "team-a"
    finally:
        fake.close()


def test_stock_mlflow_client_never_calls_unauthenticated(idp, monkeypatch, tmp_path):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    fake = type(idp)()
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "gatehouse")
        monkeypatch.setenv("MLFLOW_GATEHOUSE_TOKEN_FILE", str(tmp_path / "absent"))
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        with pytest.raises(MlflowException, match="Gatehouse authentication failed: cannot read the token file"):
            MlflowClient(tracking_uri=fake.url).search_experiments()
        assert fake.requests == [], "no request reached the server"
    finally:
        fake.close()


def test_expiry_is_the_earlier_of_expires_in_and_the_jwt_exp(idp, clock):
    # IdPs round `exp` down to whole seconds: a token said to live 600 s may expire sooner.
    idp.responder = lambda rec: (200, {"access_token": jwt({"exp": clock.now + 100}), "token_type": "Bearer", "expires_in": 600})
    token = source_for(settings_from_env(cc_env(idp.url)), clock).fetch()
    assert token.expires_at == clock.now + 100


def test_a_token_is_not_sent_in_its_last_seconds(idp, clock):
    idp.expires_in = 8
    start = clock.now
    cache = cache_for_env(cc_env(idp.url), clock, rand=lambda: 0.0)
    assert cache.get() == "token-1"
    idp.responder = lambda rec: (503, {})
    clock.now = start + 5.9  # refresh due; the refresh fails; 2.1 s left: still used
    assert cache.get() == "token-1"
    clock.now = start + 6.1  # inside the last quarter of its life: not sent any more
    with pytest.raises(GatehouseAuthError, match="answered HTTP 503"):
        cache.get()
