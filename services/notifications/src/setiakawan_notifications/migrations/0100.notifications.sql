-- Routing rules, the delivery log, partner subscriptions, opt-outs, agency
-- staff contacts, and the households read model kept from the registry's
-- events (only the head's opaque person_ref: names and phones stay in the
-- registry and are asked for at send time).

CREATE TABLE households (
    household_id  uuid PRIMARY KEY,
    version       integer     NOT NULL,          -- the registry's snapshot version: only a higher one replaces it
    head_ref      uuid,                          -- the member whose relationship is head
    village_code  text        COLLATE "C" NOT NULL,
    status        text        NOT NULL
);

-- What an event type sends to whom: the person concerned (head: the
-- household's head; person: the person the event names) or the responsible
-- agency's staff, over the first channel of the list that works.
CREATE TABLE routing_rules (
    event_type    text        NOT NULL,
    recipient     text        NOT NULL CHECK (recipient IN ('head', 'person', 'agency_staff')),
    channels      text[]      NOT NULL CHECK (cardinality(channels) BETWEEN 1 AND 3
                                              AND channels <@ ARRAY['whatsapp', 'sms', 'email']),
    template      text        NOT NULL,          -- an event type whose template is used
    language      text        NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    urgent        boolean     NOT NULL DEFAULT false,  -- goes out in quiet hours too
    enabled       boolean     NOT NULL DEFAULT true,
    updated_by    text        NOT NULL DEFAULT 'setiakawan',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, recipient)
);

INSERT INTO routing_rules (event_type, recipient, channels, template) VALUES
    ('household.registered', 'head', '{sms}', 'household.registered'),
    ('household.verified', 'head', '{sms}', 'household.verified'),
    ('entitlement.issued', 'head', '{whatsapp,sms}', 'entitlement.issued'),
    ('aid.delivered', 'head', '{sms}', 'aid.delivered'),
    ('enrolment.confirmed', 'person', '{whatsapp,sms}', 'enrolment.confirmed'),
    ('enrolment.waitlisted', 'person', '{whatsapp,sms}', 'enrolment.waitlisted'),
    ('enrolment.cancelled', 'person', '{whatsapp,sms}', 'enrolment.cancelled'),
    ('course.cancelled', 'agency_staff', '{email}', 'course.cancelled'),
    ('entitlement.blocked', 'agency_staff', '{email}', 'entitlement.blocked'),
    ('stock.low', 'agency_staff', '{email}', 'stock.low'),
    ('subscription.suspended', 'agency_staff', '{email}', 'subscription.suspended');

-- An agency's staff contacts: work addresses the agency gives for its own
-- alerts, limited to regions and event types where it lists them.
CREATE TABLE staff_contacts (
    id            uuid PRIMARY KEY,
    agency        text        NOT NULL,
    name          text        NOT NULL,
    channel       text        NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email')),
    address       text        NOT NULL,
    language      text        NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    region_codes  text[]      NOT NULL DEFAULT '{}',  -- empty: every region
    event_types   text[]      NOT NULL DEFAULT '{}',  -- empty: every type routed to staff
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agency, channel, address)
);

-- A partner's webhook subscription (Standard Webhooks, one secret each).
CREATE TABLE subscriptions (
    id            uuid PRIMARY KEY,
    agency        text        NOT NULL,
    url           text        NOT NULL,
    event_types   text[]      NOT NULL,
    region_codes  text[]      NOT NULL,
    secret        text        NOT NULL,
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    failures      integer     NOT NULL DEFAULT 0,  -- attempts failed in a row
    suspended_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_active ON subscriptions USING gin (event_types) WHERE status = 'active';

-- Who said no more on a channel: a person (by reference) or an address
-- (by keyed hash: a STOP reply names a number, which is not kept).
CREATE TABLE opt_outs (
    channel       text        NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email')),
    person_ref    uuid,
    address_hash  text,
    source        text        NOT NULL CHECK (source IN ('api', 'reply')),
    recorded_by   text        NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((person_ref IS NULL) <> (address_hash IS NULL))
);
CREATE UNIQUE INDEX opt_outs_person ON opt_outs (channel, person_ref) WHERE person_ref IS NOT NULL;
CREATE UNIQUE INDEX opt_outs_address ON opt_outs (channel, address_hash) WHERE address_hash IS NOT NULL;

-- The delivery log: one row per event, recipient and rule (the unique key
-- is what keeps a redelivered event from sending twice); the row moves
-- along its channels (WhatsApp, then SMS) and through its attempts.
CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    recipient_kind  text        NOT NULL CHECK (recipient_kind IN ('household', 'person', 'staff', 'partner')),
    recipient_id    uuid        NOT NULL,        -- household (its head at send time), person_ref, staff contact
                                                 -- or subscription
    route           text        NOT NULL,        -- the rule's recipient, or 'webhook'
    channels        text[]      NOT NULL,        -- the channel order; channel is the one in use
    channel         text        NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email', 'webhook')),
    language        text        NOT NULL,
    urgent          boolean     NOT NULL,
    agency          text        NOT NULL,        -- the agency responsible for the event
    village_code    text        COLLATE "C",
    subject         text,
    body            text        NOT NULL,        -- the message, or the webhook's JSON
    status          text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,        -- quiet hours and backoff both move it
    leased_until    timestamptz,                 -- a sender holds it until then (a killed one lets go)
    lease_id        uuid,                        -- which taking holds it: only that one writes its outcome
    masked_address  text,
    address_hash    text,                        -- keyed hash of the address last used (opt-out by reply)
    answer          text,                        -- the gateway's (or SMTP server's, or partner's) last answer
    gateway_id      text,                        -- the gateway's id of the message, for delivery receipts
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, recipient_kind, recipient_id, route)
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('queued', 'failed');
CREATE INDEX messages_gateway ON messages (gateway_id) WHERE gateway_id IS NOT NULL;
CREATE INDEX messages_recipient ON messages (recipient_id);
CREATE INDEX messages_agency ON messages (agency, created_at DESC);
