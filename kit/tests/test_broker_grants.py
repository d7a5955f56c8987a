"""What each broker account may do, read off the service classes: the
permission patterns RabbitMQ will apply, checked name by name."""
import re

import pytest

from setiakawan_kit import broker, settings, topology
from setiakawan_kit.consumer import handles
from setiakawan_kit.rpc import RpcClient, rpc
from setiakawan_kit.service import KitService

UUID = "0b5f1a52-3d1e-4d6b-9a51-1c2f0e7d8a90"


class Registry(KitService):
    name = "registry"

    @rpc(callers=("notifications",))
    def contact_details(self, caller, person_ref):
        return None

    @handles("registry", "diagnostic.ping", name="on_own_ping")
    def on_own_ping(self, uow, event):
        pass


class Notifications(KitService):
    name = "notifications"
    registry = RpcClient("registry", methods=("contact_details",))

    @handles("registry", "household.verified", name="on_verified")
    def on_verified(self, uow, event):
        pass

    @handles("training", "participant.enrolled", name="on_enrolled")
    def on_enrolled(self, uow, event):
        pass


def allows(pattern, name):
    # RabbitMQ anchors nothing itself: the patterns do (\z is PCRE's end of text; Python 3.11 spells it \Z)
    return re.search(pattern.replace(r"\z", r"\Z"), name) is not None


def test_needs_are_read_off_the_class():
    assert broker.needs_of(Notifications) == broker.Needs(
        "notifications", frozenset({("registry", "household.verified"), ("training", "participant.enrolled")}),
        serves_rpc=False, calls=frozenset({("registry", "contact_details")}))
    assert broker.needs_of(Registry).serves_rpc


def test_a_service_configures_and_publishes_only_its_own():
    grant = broker.service_grant(broker.needs_of(Notifications), "notifications")
    own_queue = topology.handler_queue_name("registry", "household.verified", "notifications", "on_verified")
    for name in (own_queue, own_queue + ".retry.1000ms", own_queue + ".dead", "notifications.events",
                 "notifications.retry", f"rpc.reply-notifications-{UUID}"):
        assert allows(grant.configure, name) and allows(grant.write, name), name
    others = (topology.handler_queue_name("registry", "household.verified", "distribution", "on_verified"),
              topology.handler_queue_name("registry", "household.verified", "distribution", "x--notifications.y"),
              "registry.events", "training.events", "distribution.retry", "rpc-registry", "amq.default",
              f"rpc.reply-distribution-{UUID}", "nameko-rpc")
    for name in others:
        assert not allows(grant.configure, name), name
    for name in others[:-1]:
        assert not allows(grant.write, name), name
    assert allows(grant.write, "nameko-rpc")  # to call, limited by topic below
    assert allows(grant.read, "registry.events") and allows(grant.read, "training.events")
    assert not allows(grant.read, "distribution.events")


def test_topic_permissions_limit_bindings_to_the_handled_types_and_calls_to_the_declared_methods():
    grant = broker.service_grant(broker.needs_of(Notifications), "notifications")
    topics = {t.exchange: t for t in grant.topics}
    assert allows(topics["registry.events"].read, "household.verified")
    for key in ("#", "household.*", "household.registered", "household.verified.x"):
        assert not allows(topics["registry.events"].read, key), key
    assert topics["registry.events"].write == r"^\z" and topics["training.events"].write == r"^\z"
    assert allows(topics["notifications.events"].write, "anything.it.publishes")
    assert allows(topics["nameko-rpc"].write, "registry.contact_details")
    for key in ("registry.nik_belongs_to", "registry.*", "distribution.contact_details", UUID):
        assert not allows(topics["nameko-rpc"].write, key), key
    assert allows(topics["nameko-rpc"].read, UUID) and not allows(topics["nameko-rpc"].read, "registry.*")


def test_the_rpc_server_may_bind_its_own_methods_and_publish_only_replies():
    grant = broker.service_grant(broker.needs_of(Registry), "registry")
    topics = {t.exchange: t for t in grant.topics}
    assert allows(topics["nameko-rpc"].read, "registry.*")
    assert not allows(topics["nameko-rpc"].read, "distribution.*")
    assert allows(topics["nameko-rpc"].write, UUID)
    assert not allows(topics["nameko-rpc"].write, "distribution.anything")
    assert allows(topics["registry.events"].read, "diagnostic.ping")  # it hears its own pings


def test_a_partner_binds_only_what_it_was_granted_and_publishes_nothing_of_ours():
    reads = broker.parse_reads("registry.events:household.verified, registry.events:member.added")
    grant = broker.partner_grant("wahana-visi", "partner-wahana-visi", reads)
    assert allows(grant.configure, "partner-wahana-visi.household-verified")
    for name in ("registry.events", "evt-registry-household.verified--distribution.on_verified", "nameko-rpc",
                 "amq.default", "partner-wahana-visi-other.q", "partner-wahana.q", "wahana-visi.q",
                 "partner-wahana-visi.events"):
        assert not allows(grant.configure, name) and not allows(grant.write, name), name
    assert allows(grant.read, "registry.events") and not allows(grant.read, "nameko-rpc")
    (topic,) = grant.topics
    assert allows(topic.read, "household.verified") and allows(topic.read, "member.added")
    assert not allows(topic.read, "#") and not allows(topic.read, "household.verified\n")
    assert topic.write == r"^\z"
    publishing = broker.partner_grant("wahana-visi", "partner-wahana-visi", reads, publishes=True)
    assert allows(publishing.write, "partner-wahana-visi.events")


def test_no_pattern_admits_a_name_with_a_trailing_newline():
    grant = broker.service_grant(broker.needs_of(Notifications), "notifications")
    rpc = {t.exchange: t for t in grant.topics}["nameko-rpc"]
    assert allows(rpc.write, "registry.contact_details") and not allows(rpc.write, "registry.contact_details\n")
    assert not allows(grant.configure, "notifications.events\n")


def test_the_retry_exchange_carries_only_the_services_own_queues():
    grant = broker.service_grant(broker.needs_of(Notifications), "notifications")
    retry = {t.exchange: t for t in grant.topics}["notifications.retry"]
    own = topology.handler_queue_name("registry", "household.verified", "notifications", "on_verified")
    for key in (own, own + ".retry.2000ms", own + ".dead"):
        assert allows(retry.write, key) and allows(retry.read, key)
    for key in ("registry.nik_belongs_to", "#", UUID):  # no way round nameko-rpc's topic permissions
        assert not allows(retry.read, key) and not allows(retry.write, key)


@pytest.mark.parametrize("name", ["A", "x-", "-x", "wahana_visi", "wahana--visi", "a" * 41, "", None])
def test_partner_names_are_plain_words(name):
    with pytest.raises(broker.BrokerSetupError):
        broker.partner_account(name)
    assert broker.partner_account("wahana-visi") == "partner-wahana-visi"


@pytest.mark.parametrize("spec", ["", "registry.events", "registry:household.verified", "registry.events:",
                                  "registry.events:Household verified"])
def test_a_partner_grant_names_exchange_and_routing_key(spec):
    with pytest.raises(broker.BrokerSetupError):
        broker.parse_reads(spec)


def test_a_password_hash_is_rabbitmqs_salted_sha256():
    import base64
    import hashlib

    raw = base64.b64decode(broker.password_hash("rahasia"))
    assert raw[4:] == hashlib.sha256(raw[:4] + b"rahasia").digest()
    assert broker.password_hash("rahasia") != broker.password_hash("rahasia")  # salted


def test_a_service_without_its_secrets_is_named_as_missing(tmp_path):
    config = {"AMQP_URI": None, "TOKEN_ISSUERS": None, "DATABASE_URL": "postgresql://x", "DATABASE_NAME": "x"}
    names = {"AMQP_URI": "REGISTRY_AMQP_URI", "TOKEN_ISSUERS": "SETIAKAWAN_TOKEN_ISSUERS"}
    found = settings.missing(config, names, is_production=True)
    assert len(found) == 2
    assert "REGISTRY_AMQP_URI" in found[0] and "SETIAKAWAN_TOKEN_ISSUERS" in found[1]
    config.update(AMQP_URI="pyamqp://guest:guest@127.0.0.1:5672/", TOKEN_ISSUERS=str(tmp_path / "none.json"))
    found = settings.missing(config, names, is_production=True)
    assert "logs in as guest" in found[1] and "does not exist" in found[0]
    assert len(settings.missing(config, names, is_production=False)) == 1
