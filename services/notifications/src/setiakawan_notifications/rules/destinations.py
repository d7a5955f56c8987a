"""Where a partner's webhook may point. In production only HTTPS, and
never an address inside our own network (server-side request forgery): a
URL whose host resolves to a private, loopback, link-local (the cloud
metadata service, 169.254.169.254), shared, reserved or multicast
address is refused, whatever its name. In development plain HTTP to
loopback is allowed, so a receiver on the developer's machine works."""
import ipaddress
from urllib.parse import urlsplit


def refused(url, addresses, production):
    """Why ``url`` may not receive webhooks, or None; ``addresses``: what
    its host resolves to now (the caller resolves; a name that resolves to
    nothing is refused)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "The URL must be http(s)://host/…"
    if parts.username or parts.password:
        return "The URL may not carry credentials; the signature authenticates us."
    if port == 0:
        return "The URL's port is not valid."
    if not addresses:
        return f"{parts.hostname} does not resolve."
    ips = [ipaddress.ip_address(a) for a in addresses]
    ips = [getattr(ip, "ipv4_mapped", None) or ip for ip in ips]  # ::ffff:10.0.0.1 is 10.0.0.1
    if production:
        if parts.scheme != "https":
            return "Webhooks go over HTTPS only."
        inside = [str(ip) for ip in ips if not ip.is_global or ip.is_multicast]
        if inside:
            return f"{parts.hostname} resolves to an address that is not public ({', '.join(inside)})."
        return None
    if parts.scheme == "http" and not all(ip.is_loopback for ip in ips):
        return "Plain HTTP only to loopback (development); use HTTPS."
    return None
