"""Keyed hashes for matching people and families across agencies' lists
without passing the numbers around: HMAC-SHA256 with the deployment secret.
Two agencies holding the same secret-derived key can match; nobody can
reverse it into a NIK without the secret."""
import hashlib

_BLOCK = 64  # SHA-256's block size


class MatchKeys:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer hash states
    worked out once: a bulk import computes a million keys, and the hmac
    module would hash the padded key twice for each (the unit tests hold it
    to ``hmac``)."""

    def __init__(self, secret):
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, kind, number):
        inner = self._inner.copy()
        inner.update(f"{kind}:{number}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_keys = {}


def match_key(secret, kind, number):
    keys = _keys.get(secret)
    if keys is None:
        keys = _keys[secret] = MatchKeys(secret)
    return keys(kind, number)
