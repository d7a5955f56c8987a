"""The notifications service's settings, read once from its configuration:
the gateway, the mail server, rates, retries, quiet hours' neighbour (the
lease a sender holds a message for), and the key of opt-out hashes."""
import urllib.parse
from dataclasses import dataclass
from datetime import time

from setiakawan_kit.settings import production

from .rules.quiet_hours import QUIET_FROM, QUIET_UNTIL


@dataclass(frozen=True)
class Settings:
    gateway_url: str
    gateway_token: str
    gateway_inbound_secret: str
    sms_per_second: float
    whatsapp_per_second: float
    smtp_host: str
    smtp_port: int
    smtp_sender: str
    smtp_user: str
    smtp_password: str
    smtp_starttls: bool
    email_per_second: float
    webhook_per_second: float
    timeout_s: float
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    lease_s: float
    batch_size: int
    concurrency: int
    suspend_after: int
    address_key: bytes
    quiet: tuple
    production: bool

    @classmethod
    def from_config(cls, config):
        gateway = config.get("GATEWAY") or {}
        smtp = config.get("SMTP") or {}
        sending = config.get("SENDING") or {}
        url = str(gateway.get("url") or "").rstrip("/")
        if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"GATEWAY.url must be an http:// or https:// URL, not {url!r}")
        key = config.get("ADDRESS_HASH_KEY")
        if not key:
            raise ValueError("ADDRESS_HASH_KEY is not set (NOTIFICATIONS_ADDRESS_HASH_KEY): the key of the hashes "
                             "opt-outs are kept by; 'setiakawan keys init' writes one to .env")
        return cls(
            gateway_url=url,
            gateway_token=str(gateway.get("token") or ""),
            gateway_inbound_secret=str(gateway.get("inbound_secret") or ""),
            sms_per_second=float(gateway.get("sms_per_second") or 50),
            whatsapp_per_second=float(gateway.get("whatsapp_per_second") or 50),
            smtp_host=str(smtp.get("host") or "127.0.0.1"), smtp_port=int(smtp.get("port") or 25),
            smtp_sender=str(smtp.get("sender") or "setiakawan@localhost"),
            smtp_user=str(smtp.get("user") or ""), smtp_password=str(smtp.get("password") or ""),
            smtp_starttls=str(smtp.get("starttls")).lower() in ("1", "true", "yes"),
            email_per_second=float(smtp.get("per_second") or 5),
            webhook_per_second=float(sending.get("webhooks_per_second") or 50),
            timeout_s=float(sending.get("timeout_s") or 10),
            max_attempts=int(sending.get("max_attempts") or 8),
            retry_base_s=float(sending.get("retry_base_s") or 30),
            retry_max_s=float(sending.get("retry_max_s") or 3600),
            lease_s=float(sending.get("lease_s") or 60),
            batch_size=int(sending.get("batch_size") or 200),
            concurrency=int(sending.get("concurrency") or 50),
            suspend_after=int(sending.get("suspend_after") or 10),
            address_key=str(key).encode(),
            quiet=(_time(sending.get("quiet_from"), QUIET_FROM), _time(sending.get("quiet_until"), QUIET_UNTIL)),
            production=production())


def _time(value, default):
    """A local time written HH:MM or HH:MM:SS."""
    if value in (None, ""):
        return default
    return time.fromisoformat(str(value))
