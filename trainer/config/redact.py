"""Mask the credentials in URIs, alone or inside any text, before they are printed or logged."""

import re

MASK = "***"
# A URI starts at a scheme (`https://`, `postgresql+psycopg2://`) and runs to the next space.
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s]*")
# The userinfo before the host: greedy up to the last "@" before the path, so a raw "@" in a
# password does not leave its tail visible.
USERINFO = re.compile(r"^(?P<scheme>[^:]+://)(?P<userinfo>[^\s/?#]*)@")
QUERY_PAIR = re.compile(r"(?P<lead>[?&;])(?P<key>[^=&;#\s]+)=(?P<value>[^&;#\s'\"]*)")
# A query key whose name ends in one of these carries a secret: token, access_token,
# X-Amz-Signature, X-Amz-Credential, api_key, client_secret, sig (Azure SAS)...
SECRET_KEY_ENDINGS = (
    "token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "key",
    "sig",
    "signature",
    "credential",
    "auth",
)


def _mask_userinfo(found: re.Match) -> str:
    user, has_password, _ = found["userinfo"].partition(":")
    # `user:password@` keeps the user; a lone `token@` is all secret.
    masked = f"{user}:{MASK}" if has_password else MASK
    return f"{found['scheme']}{masked}@"


def _mask_query_value(found: re.Match) -> str:
    if not found["key"].lower().endswith(SECRET_KEY_ENDINGS):
        return found[0]
    return f"{found['lead']}{found['key']}={MASK}"


def _mask_one(found: re.Match) -> str:
    uri = USERINFO.sub(_mask_userinfo, found[0], count=1)
    return QUERY_PAIR.sub(_mask_query_value, uri)


def mask_uri(text: str) -> str:
    """`text` with every URI's password, bare token and secret query values replaced by ***."""
    return URI.sub(_mask_one, text)
