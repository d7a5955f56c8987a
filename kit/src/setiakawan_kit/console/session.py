"""The console's session and its protection against cross-site requests,
as pure functions: the session cookie holds the agency's token itself
(HttpOnly, SameSite=Strict, Secure), checked on every request as a
bearer token is, so it ends when the token does; every form carries a
CSRF token, an HMAC of the session under a random secret kept in a
second cookie (the signed double-submit pattern): a page of another
site can neither read the secret nor the session it is bound to."""
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

SESSION_COOKIE = "setiakawan_session"
CSRF_COOKIE = "setiakawan_csrf"
CSRF_FIELD = "csrf"
#: a session lasts no longer than this, whatever its token's expiry
MAX_SESSION_SECONDS = 12 * 3600


def new_csrf_secret():
    return secrets.token_urlsafe(32)


def csrf_token(secret, session_token):
    """What a form sends back: bound to both the browser's secret and its session."""
    return hmac.new(secret.encode(), (session_token or "-").encode(), hashlib.sha256).hexdigest()


def csrf_ok(sent, secret, session_token):
    if not sent or not secret:
        return False
    return hmac.compare_digest(sent, csrf_token(secret, session_token))


def same_origin(origin, host):
    """Whether a request's Origin header (when the browser sent one) names
    the host it was sent to."""
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (host or "").lower()


def session_seconds(expires_at, now):
    """How long the session cookie lives: until its token expires, at most MAX_SESSION_SECONDS."""
    if expires_at is None:
        return MAX_SESSION_SECONDS
    return max(0, min(MAX_SESSION_SECONDS, int(expires_at - now)))


def safe_next(path, default):
    """Where to go after signing in: a path of this site only (never another site's address)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default
