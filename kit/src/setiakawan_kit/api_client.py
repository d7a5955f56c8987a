"""The services' HTTP APIs called from the operator's tool (the commands
services add to ``setiakawan``) with an agency's token: the JSON answer,
or one line saying why not (the service's problem detail, or that it is
not reachable)."""
import json
import urllib.error
import urllib.request

import click


def call(method, url, token, *, service, data=None, headers=None, timeout=600, closed_means=None):
    """``closed_means``: what to say when the service closes the connection
    while the request is sent (e.g. an upload over its size limit)."""
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read())
            detail = problem.get("detail") or problem.get("title")
        except ValueError:
            detail = exc.reason
        raise click.ClickException(f"{exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        if closed_means and isinstance(exc.reason, (BrokenPipeError, ConnectionResetError)):
            raise click.ClickException(closed_means) from None
        raise click.ClickException(f"the {service} at {url} is not reachable ({exc.reason})") from None
