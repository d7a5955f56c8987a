"""Prometheus metrics, served by every service at ``GET /metrics``."""
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_PUBLISHED = Counter("setiakawan_events_published_total",
                           "Events confirmed by the broker from the outbox", ["service", "type"])
EVENTS_CONSUMED = Counter("setiakawan_events_consumed_total",
                          "Events handled (outcome: applied, or duplicate when seen before)",
                          ["service", "type", "outcome"])
EVENTS_RETRIED = Counter("setiakawan_events_retried_total",
                         "Failed deliveries sent to a retry queue", ["service", "type"])
EVENTS_DEAD_LETTERED = Counter("setiakawan_events_dead_lettered_total",
                               "Messages sent to a dead-letter queue", ["service", "type"])
OUTBOX_BACKLOG = Gauge("setiakawan_outbox_backlog", "Outbox rows not yet confirmed by the broker",
                       ["service"])
OUTBOX_HELD_POLLS = Counter("setiakawan_outbox_held_polls_total",
                            "Relay polls that found the outbox held by a bulk load (its events wait)", ["service"])
INFRASTRUCTURE_ERRORS = Counter("setiakawan_infrastructure_errors_total",
                                "Errors from a dependency's outage (database, broker, a service called), "
                                "counted apart from handler failures", ["service", "dependency"])
DEPENDENCY_UP = Gauge("setiakawan_dependency_up", "1 while the dependency answers, 0 from its first failure "
                      "until it answers again", ["service", "dependency"])
DEPENDENCY_SILENCE = Gauge("setiakawan_dependency_seconds_since_success",
                           "Seconds since the last successful operation on the dependency",
                           ["service", "dependency"])
EVENTS_WAITING = Gauge("setiakawan_events_waiting_for_dependency",
                       "Events held unacknowledged until an unavailable dependency answers",
                       ["service", "queue"])
HTTP_LATENCY = Histogram("setiakawan_http_request_seconds", "HTTP request latency",
                         ["service", "method", "route", "status"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def exposition():
    return CONTENT_TYPE_LATEST, generate_latest()
