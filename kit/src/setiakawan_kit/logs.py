"""Structured JSON logs that carry the correlation id and never show a NIK
or a phone number in clear."""
import re

from pythonjsonlogger.json import JsonFormatter

from . import context

# 16 digits (NIK, KK number) and Indonesian phone numbers in their usual forms.
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)[\s-]?8\d{1,3}(?:[\s-]?\d{2,4}){2,3}(?!\d)")


def redact(text):
    text = _SIXTEEN_DIGITS.sub(lambda m: m.group(0)[:4] + "*" * 12, text)
    return _PHONE.sub("[phone]", text)


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "asctime": "time", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        ctx = context.current()
        log_record.setdefault("correlation_id", ctx.correlation_id)
        if ctx.causation_id:
            log_record.setdefault("causation_id", ctx.causation_id)

    def jsonify_log_record(self, log_record):
        return redact(super().jsonify_log_record(log_record))


def config(level="INFO"):
    """A ``logging.config.dictConfig`` for nameko's LOGGING setting."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": RedactingJsonFormatter}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level, "handlers": ["console"]},
    }
