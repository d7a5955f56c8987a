"""Setiakawan kit: the event contract, outbox, inbox, HTTP and identity
conventions shared by every Setiakawan service and by partner services."""

__version__ = "0.1.0"
