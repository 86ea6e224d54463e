-- Webhooks: other systems told when something happens (a finding opened, a hazard escalated …).
-- A subscription belongs to a unit and hears of the events of its subtree. An event is written
-- to the outbox (webhook_events) in the same transaction as the change it announces, once per
-- event key, with one delivery per subscription that asked for it; a worker sends the deliveries,
-- retries failures with backoff, and keeps the last status of each.

CREATE TABLE webhook_subscriptions (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    -- json | wecom
    format TEXT NOT NULL,
    -- the event codes, comma separated
    events TEXT NOT NULL,
    -- the HMAC-SHA256 key, shown once to whoever created the subscription
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE INDEX webhook_subscriptions_unit ON webhook_subscriptions (unit_id);

CREATE TABLE webhook_events (
    id {{ID}},
    -- what makes the event once: `finding.opened:<run>:<unit>`, `inspection.overdue:<customer>:<track>:<day>` …
    event_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    unit_id BIGINT REFERENCES org_units (id),
    occurred_at TEXT NOT NULL,
    -- the event's data as JSON
    payload TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id {{ID}},
    event_id BIGINT NOT NULL REFERENCES webhook_events (id),
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    -- pending | delivered | failed (every retry used; waits for a redelivery by hand)
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at TEXT NOT NULL,
    last_at TEXT,
    -- the receiver's HTTP status, or none when it could not be reached
    last_status BIGINT,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

-- The safety auditor decides who outside GridSafe hears of the unit's findings and hazards.
INSERT INTO role_permissions (role_code, permission) VALUES ('safety_auditor', 'webhooks.manage');
