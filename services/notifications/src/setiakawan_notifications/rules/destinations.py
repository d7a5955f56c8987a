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
    reached = [_reached(ipaddress.ip_address(a)) for a in addresses]
    ips = [ip for each in reached for ip in each]
    if production:
        if parts.scheme != "https":
            return "Webhooks go over HTTPS only."
        inside = [str(ip) for ip in ips if not ip.is_global or ip.is_multicast]
        if inside:
            return f"{parts.hostname} resolves to an address that is not public ({', '.join(inside)})."
        return None
    if parts.scheme == "http" and not all(any(ip.is_loopback for ip in each) for each in reached):
        return "Plain HTTP only to loopback (development); use HTTPS."
    return None


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _reached(ip):
    """The address and any IPv4 address it carries: ::ffff:10.0.0.1 (mapped),
    6to4, Teredo and NAT64 addresses reach the IPv4 address inside."""
    found = [ip]
    if ip.version == 6:
        inside = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if any(ip in net for net in _NAT64) or ip in ipaddress.ip_network("::/96"):
            inside.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        found.extend(a for a in inside if a is not None)
    return found
