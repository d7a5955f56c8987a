"""Trust on the broker, against the real RabbitMQ: the registry runs as its
own account; a partner receives exactly the routing keys it was granted and
is refused everything else; a service cannot publish as another; the
registry's RPC answers only the services it names, known by the ``user_id``
RabbitMQ vouches for."""
import json
import uuid

import amqp
import kombu
import pytest
import requests
from click.testing import CliRunner

from setiakawan_kit import topology
from setiakawan_kit.cli import main
from setiakawan_kit.service import KitService
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.testing import wait_for

from registry_support import Distribution, Notifications, household_body, rpc_call, rpc_call_raw

# PRECONDITION_FAILED: a user_id that is not the publishing account's
REFUSED = (amqp.exceptions.AccessRefused, amqp.exceptions.NotAllowed, amqp.exceptions.PreconditionFailed)


def refused(uri, action):
    """``action(channel)`` on a fresh connection as ``uri``: the broker must refuse it."""
    with kombu.Connection(uri, connect_timeout=5) as conn:
        channel = conn.channel()
        with pytest.raises(REFUSED) as info:
            action(channel)
            channel.basic_qos(0, 1, False)  # a round trip: an asynchronous refusal arrives by now
    return str(info.value)


def bind(queue, exchange, key):
    def action(channel):
        channel.queue_declare(queue, durable=False, auto_delete=True)
        channel.queue_bind(queue, exchange, routing_key=key)
    return action


def publish(exchange, key, body=b"{}", **properties):
    def action(channel):
        channel.confirm_select()
        channel.basic_publish(amqp.Message(body, **properties), exchange=exchange, routing_key=key)
    return action


class Training(KitService):
    """A service whose account the broker lets call contact_details, which
    the registry does not list among that method's callers."""

    name = "training"
    registry = RpcClient("registry", methods=("contact_details",))


def test_the_registry_runs_under_its_own_account(registry, infrastructure, vhost, broker_accounts):
    # the management API lists a connection some seconds after it opens
    users = wait_for(lambda: set(infrastructure.broker.admin.connection_users(vhost)), interval=0.5,
                     what="the registry's connections listed")
    assert users == {broker_accounts.user("registry")}


def test_a_partner_receives_only_what_it_was_granted(registry, client, partner_account):
    uri = partner_account("wahana-visi", {"registry.events": ("household.verified",)})
    with kombu.Connection(uri) as conn:
        queue = kombu.Queue("partner-wahana-visi.verified", kombu.Exchange("registry.events", passive=True),
                            routing_key="household.verified", durable=True, auto_delete=True)(conn.channel())
        queue.declare()
        household = client().post("/households", household_body()).json()
        officer = client(role="field_officer")
        assert officer.post(f"/households/{household['id']}/verification",
                            {"outcome": "verified"}).status_code == 200
        message = wait_for(lambda: queue.get(no_ack=True), timeout=20, interval=0.05, what="the granted event")
        assert message.headers["ce-type"] == "household.verified"
        assert json.loads(message.body)["household"]["household_id"] == household["id"]
        assert queue.get(no_ack=True) is None  # household.registered went elsewhere

    assert "topic '#'" in refused(uri, bind("partner-wahana-visi.all", "registry.events", "#"))
    refused(uri, bind("partner-wahana-visi.registered", "registry.events", "household.registered"))
    refused(uri, bind("partner-wahana-visi.pings", "distribution.events", "diagnostic.ping"))
    refused(uri, bind("wahana-visi.verified", "registry.events", "household.verified"))  # outside its namespace
    refused(uri, lambda ch: ch.exchange_declare("partner-wahana-visi.events", "topic"))  # no --publish
    refused(uri, publish("registry.events", "household.verified"))
    refused(uri, publish("", "rpc-registry"))  # the default exchange reaches every queue
    refused(uri, lambda ch: ch.queue_declare("evt-registry-household.verified--partner-wahana-visi.x",
                                             durable=True))
    refused(uri, lambda ch: ch.exchange_delete("registry.events"))
    refused(uri, publish("nameko-rpc", "registry.contact_details", user_id=kombu.Connection(uri).userid))


def test_a_service_cannot_publish_as_another(registry, service_account):
    from setiakawan_registry.service import RegistryService

    uri = service_account("registry", RegistryService)
    refused(uri, publish("distribution.events", "diagnostic.ping"))
    refused(uri, publish("", topology.handler_queue_name("registry", "diagnostic.ping", "registry",
                                                          "on_registry_ping")))
    refused(uri, lambda ch: ch.exchange_delete("distribution.events"))
    refused(uri, bind("evt-distribution-x.y--distribution.steal", "distribution.events", "diagnostic.ping"))
    with kombu.Connection(uri) as conn:  # its own exchange, its own events: allowed
        publish("registry.events", "diagnostic.ping")(conn.channel())


def test_rpc_answers_only_the_services_it_names(registry, client, service_account, amqp_uri, broker_accounts):
    head = client().post("/households", household_body()).json()["members"][0]
    as_notifications = service_account("notifications", Notifications)
    reply = rpc_call(as_notifications, "notifications", "contact_details", head["person_ref"])
    assert reply["error"] is None and reply["result"]["name"] == "Siti Aminah"

    as_distribution = service_account("distribution", Distribution)
    assert rpc_call(as_distribution, "distribution", "nik_belongs_to", "6213014107850003", head["person_ref"])["result"] is True
    # the broker refuses a method its account did not declare
    refused(as_distribution, publish("nameko-rpc", "registry.contact_details",
                                     user_id=broker_accounts.user("distribution")))
    # the broker lets this account call contact_details; the registry does not
    as_training = service_account("training", Training)
    reply = rpc_call(as_training, "training", "contact_details", head["person_ref"])
    assert reply["result"] is None and reply["error"]["exc_type"] == "CallerRefused"
    # no user_id: the registry cannot tell who asks
    reply = rpc_call(amqp_uri, "test", "contact_details", head["person_ref"], user_id="")
    assert reply["error"]["exc_type"] == "CallerRefused"
    # a user_id that is not the publisher's own: RabbitMQ closes the channel
    assert "user_id property set to" in refused(amqp_uri, publish(
        "nameko-rpc", "registry.contact_details", user_id=broker_accounts.user("notifications")))


def test_operator_grants_and_revokes_a_partner_with_the_cli(registry, amqp_uri, broker_accounts, monkeypatch,
                                                            tmp_path):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    monkeypatch.setenv("SETIAKAWAN_BROKER_USER_PREFIX", broker_accounts.prefix + "cli-")
    runner = CliRunner()
    result = runner.invoke(main, ["broker", "grant-partner", "pkpu", "--read",
                                  "registry.events:household.verified,registry.events:member.added"])
    try:
        assert result.exit_code == 0, result.output
        uri = result.stdout.strip().splitlines()[-1]
        assert kombu.Connection(uri).userid == broker_accounts.prefix + "cli-partner-pkpu"
        with kombu.Connection(uri) as conn:
            channel = conn.channel()
            channel.queue_declare("partner-pkpu.members", durable=True, auto_delete=False)
            channel.queue_bind("partner-pkpu.members", "registry.events", routing_key="member.added")
        refused(uri, bind("partner-pkpu.all", "registry.events", "household.#"))
        unknown = runner.invoke(main, ["broker", "grant-partner", "pkpu", "--read", "registry.events:household.paid"])
        assert unknown.exit_code == 2 and "no event type" in unknown.output
        bad_name = runner.invoke(main, ["broker", "grant-partner", "Pkpu_2", "--read", "registry.events:member.added"])
        assert bad_name.exit_code == 2
    finally:
        revoked = runner.invoke(main, ["broker", "revoke-partner", "pkpu"])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises((amqp.exceptions.AccessRefused, ConnectionError, OSError)):
        with kombu.Connection(uri, connect_timeout=5) as conn:
            conn.connect()
    with kombu.Connection(amqp_uri) as conn:  # its queue went too: nothing fills up behind it
        with pytest.raises(amqp.exceptions.NotFound):
            conn.channel().queue_declare("partner-pkpu.members", passive=True)
    assert runner.invoke(main, ["broker", "revoke-partner", "pkpu"]).exit_code == 1  # no such account now


def test_the_tools_never_take_over_a_user_they_did_not_make(amqp_uri, infrastructure, broker_accounts, monkeypatch):
    """guest, or another deployment's user on the same node, keeps its password and rights."""
    foreign = broker_accounts.prefix + "foreign-"
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    monkeypatch.setenv("SETIAKAWAN_BROKER_USER_PREFIX", foreign)
    admin = infrastructure.broker.admin
    user = foreign + "partner-x"
    if admin.api_available():
        admin._api("PUT", f"users/{user}", {"password": "theirs", "tags": ""})
    else:
        admin._rabbitmqctl("add_user", user, "theirs")
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["broker", "grant-partner", "x", "--read", "registry.events:member.added"])
        assert result.exit_code == 1 and "not made by setiakawan" in result.output
        assert runner.invoke(main, ["broker", "revoke-partner", "x"]).exit_code == 1
        assert admin.user_tags([user]) == {user: set()}
    finally:
        admin.delete_users([user])


def test_a_request_the_registry_cannot_answer_is_dropped_and_the_registry_stays_up(registry, client,
                                                                                  service_account):
    head = client().post("/households", household_body()).json()["members"][0]
    uri = service_account("notifications", Notifications)
    user = kombu.Connection(uri).userid
    body = json.dumps({"args": [head["person_ref"]], "kwargs": {}})
    with kombu.Connection(uri) as conn:
        channel = conn.channel()
        channel.confirm_select()
        for properties in ({"reply_to": "not-a-uuid", "correlation_id": "c1"}, {"correlation_id": "c2"},
                           {"reply_to": str(uuid.uuid4())}):
            channel.basic_publish(amqp.Message(body, content_type="application/json", user_id=user, **properties),
                                  exchange="nameko-rpc", routing_key="registry.contact_details")
    forged = rpc_call_raw(uri, "notifications", "contact_details",
                          {"args": "", "kwargs": {"caller": "distribution", "person_ref": head["person_ref"]}})
    assert forged["error"]["exc_type"] == "MalformedRequest"
    reply = rpc_call(uri, "notifications", "contact_details", head["person_ref"])
    assert reply["error"] is None and reply["result"]["name"] == "Siti Aminah"
    assert registry.process.poll() is None


def test_a_service_calls_the_registry_through_the_kits_rpc_client(registry, client, run_service, make_database,
                                                                  token):
    head = client().post("/households", household_body()).json()["members"][0]
    caller = run_service("notifications", "tests.support.services:ContactLookup", make_database(prefix="lookup"))
    auth = {"Authorization": f"Bearer {token(role='admin', regions=('62.13',))}"}
    found = requests.get(f"{caller.url}/contacts/{head['person_ref']}", headers=auth, timeout=30)
    assert found.status_code == 200, found.text
    assert found.json()["name"] == "Siti Aminah"
    undeclared = requests.get(f"{caller.url}/undeclared/{head['person_ref']}", headers=auth, timeout=30)
    assert undeclared.status_code == 500  # a programming error in the caller: it never reaches the broker


def test_broker_setup_makes_every_service_account_once(amqp_uri, broker_accounts, monkeypatch, tmp_path,
                                                       infrastructure):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    prefix = broker_accounts.prefix + "setup-"
    monkeypatch.setenv("SETIAKAWAN_BROKER_USER_PREFIX", prefix)
    env_file = tmp_path / "secrets.env"
    runner = CliRunner()
    try:
        first = runner.invoke(main, ["broker", "setup", "--env-file", str(env_file)])
        assert first.exit_code == 0, first.output
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        uris = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert set(uris) == {"REGISTRY_AMQP_URI", "DISTRIBUTION_AMQP_URI", "TRAINING_AMQP_URI",
                             "NOTIFICATIONS_AMQP_URI", "COORDINATION_AMQP_URI"}
        again = runner.invoke(main, ["broker", "setup", "--env-file", str(env_file)])
        assert again.exit_code == 0 and "new:" not in again.output
        assert dict(line.split("=", 1) for line in env_file.read_text().splitlines()) == uris
        for uri in uris.values():
            with kombu.Connection(uri, connect_timeout=5) as conn:
                conn.connect()
        # what the distribution account may not do, though it has an account now
        refused(uris["DISTRIBUTION_AMQP_URI"], publish("registry.events", "household.verified"))
    finally:
        infrastructure.broker.admin.delete_users(prefix + s for s in ("registry", "distribution", "training",
                                                                      "notifications", "coordination"))
