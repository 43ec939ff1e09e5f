"""The keys the bootstrap writes itself, judged by a real Keystone.

The session's Keystone (conftest) was bootstrapped into empty key
repositories, so its fernet and credential keys are the ones
``keystone_bootstrap.write_initial_keys`` wrote, not keystone-manage's.
"""

from __future__ import annotations

import os
import secrets

from openstack_pkg_tools.keystone import KeystoneClient
from openstack_pkg_tools.keystone.client import password_session
from tests.servers.keystone import KeystoneServer


def test_keystone_issues_and_validates_tokens_with_the_written_fernet_keys(keystone: KeystoneServer) -> None:
    assert sorted(os.listdir(os.path.join(keystone.workdir, "fernet-keys"))) == ["0", "1"]
    session = password_session(keystone.credentials())
    token = session.get_token()
    # Keystone decrypts the token it issued: GET /auth/tokens with it as the subject.
    answer = session.get(
        keystone.auth_url + "/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False
    )
    assert answer.status_code == 200
    assert answer.json()["token"]["user"]["name"] == keystone.admin_username


def test_keystone_encrypts_and_decrypts_credentials_with_the_written_keys(keystone: KeystoneServer) -> None:
    assert sorted(os.listdir(os.path.join(keystone.workdir, "credential-keys"))) == ["0", "1"]
    client = KeystoneClient(keystone.credentials())
    (admin,) = client.get("/users", {"name": keystone.admin_username})["users"]
    blob = secrets.token_urlsafe(16)
    made = client.post("/credentials", {"credential": {"blob": blob, "type": "cert", "user_id": admin["id"]}})
    credential_id = made["credential"]["id"]
    try:
        assert client.get(f"/credentials/{credential_id}")["credential"]["blob"] == blob
    finally:
        client.request("DELETE", f"/credentials/{credential_id}")
