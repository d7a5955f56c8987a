"""Email over SMTP (STARTTLS and login where configured). The message's
id is its Message-ID; SMTP has no idempotency key, so a service killed
between the server's 250 and the commit sends the email again (README)."""
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate

from ..rules import answers
from .limits import RateLimit


class EmailChannel:
    name = "email"

    def __init__(self, settings, take=None):
        self.settings = settings
        self.limit = RateLimit(self.name, settings.email_per_second, take)

    def send(self, message):
        s = self.settings
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = s.smtp_sender, message.address, message.subject
        email["Message-ID"] = f"<{message.id}@setiakawan>"
        email["Date"] = formatdate(localtime=False)
        email.set_content(message.body)
        self.limit.wait()
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            return answers.Outcome(answers.REFUSED, _first(exc.recipients))
        except smtplib.SMTPResponseException as exc:
            kind = answers.REFUSED if 500 <= exc.smtp_code < 600 else answers.RETRY
            return answers.Outcome(kind, f"{exc.smtp_code} {_text(exc.smtp_error)}"[:500])
        except (smtplib.SMTPException, socket.error) as exc:
            return answers.unreachable(type(exc).__name__)
        if refused:
            return answers.Outcome(answers.REFUSED, _first(refused))
        return answers.Outcome(answers.SENT, "250 accepted")


def _first(recipients):
    code, text = next(iter(recipients.values()))
    return f"{code} {_text(text)}"[:500]


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
