"""Other services' APIs, called by a console page with the signed-in
agency's own token, so their scope and need-to-know rules apply to what
the page shows: the JSON answer, or a Problem the page shows as it came
(the service's own status and detail), or a 503 when it cannot be reached."""
import json
import urllib.error
import urllib.parse
import urllib.request

from ..problems import Problem

TIMEOUT_SECONDS = 20


def get(base_url, path, token, *, service, params=None, headers=None):
    query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    url = base_url.rstrip("/") + path + (f"?{query}" if query else "")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                                   **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            document = json.loads(exc.read())
        except ValueError:
            document = {}
        status = exc.code if 400 <= exc.code < 500 else 503
        raise Problem(status, document.get("title") or exc.reason,
                      f"The {service} service answered: {document.get('detail') or document.get('title') or exc.reason}",
                      kind=f"{service}-answered", errors=document.get("errors")) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Problem(503, "Service unavailable",
                      f"The {service} service is not reachable ({getattr(exc, 'reason', exc)}).",
                      kind="service-unreachable") from None
