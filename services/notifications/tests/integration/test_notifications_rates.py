"""A channel's rate limit holds for the service, however many instances
send: they take their sends from one bucket in the database."""
from notifications_support import PROVINCE, entitlement, log_rows
from test_notifications_people import registered

from setiakawan_kit.testing import wait_for

RATE = 4  # SMS a second for the whole service; the bucket holds a second's worth


def test_two_instances_together_send_no_faster_than_the_channels_rate(registry, start_notifications, gateway, token,
                                                                        db, events_to):
    first = start_notifications(per_second=RATE, batch_size=2)
    second = start_notifications(database=first.database, per_second=RATE, batch_size=2)
    house = registered(registry, token)
    gateway.wait_for(2)
    distribution = events_to(first, "distribution", agency=PROVINCE)
    sent = [distribution.send("entitlement.issued", {"entitlement": entitlement(house["id"])}, house["id"])
            for _ in range(20)]
    distribution.applied(*sent)
    times = sorted(m["at"] for m in gateway.wait_for(22, timeout=60))
    # one bucket for both: the 22 took at least (22 - a second's worth) / rate = 4.5 s from the first to the
    # last; each instance on a bucket of its own would have let them through in about half that. A second of
    # slack for a busy machine delaying the first request more than the last
    assert times[-1] - times[0] >= (len(times) - RATE) / RATE - 1.0
    wait_for(lambda: all(r["status"] == "sent" for r in log_rows(db, first, event_type="entitlement.issued")),
             what="every message written sent", services=[first, second])
