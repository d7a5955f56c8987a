"""Keyed hashes for matching people and families across agencies' lists
without passing the numbers around: HMAC-SHA256 with the deployment secret.
Two agencies holding the same secret-derived key can match; nobody can
reverse it into a NIK without the secret."""
import hashlib
import hmac


_keys = {}


def match_key(secret, kind, number):
    keyed = _keys.get(secret)
    if keyed is None:
        keyed = _keys[secret] = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    digest = keyed.copy()
    digest.update(f"{kind}:{number}".encode())
    return digest.hexdigest()
