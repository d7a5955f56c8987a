"""Keyed hashes for matching people and families across agencies' lists
without passing the numbers around: HMAC-SHA256 with the deployment secret.
Two agencies holding the same secret-derived key can match; nobody can
reverse it into a NIK without the secret."""
import hashlib
import hmac


def match_key(secret, kind, number):
    return hmac.new(secret.encode(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()
