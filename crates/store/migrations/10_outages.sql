-- Outages for customer work (停电申请) and restoration (送电): the request by the customer
-- manager, its customers and the tickets worked during it, the notice given to each customer
-- (signed for, or told by phone, SMS or announcement) and the refused early restorations.
CREATE TABLE outages (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    -- The feeder or transformer (线路、台区) supply is cut on.
    equipment TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Why a request came later than the notice allows (then approved by the unit's manager).
    late_reason TEXT,
    requested_by TEXT NOT NULL,
    requested_by_user BIGINT REFERENCES users (id),
    requested_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    cut_by TEXT,
    cut_at TEXT,
    restored_by TEXT,
    restored_at TEXT,
    cancelled_by TEXT,
    cancel_reason TEXT,
    -- Restorations refused because a crew had not reported work ended (约时送电 prevented).
    restore_refusals BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX outages_unit_start ON outages (unit_id, starts_at);

CREATE TABLE outage_customers (
    outage_id BIGINT NOT NULL REFERENCES outages (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    PRIMARY KEY (outage_id, customer_id)
);

CREATE TABLE outage_tickets (
    outage_id BIGINT NOT NULL REFERENCES outages (id),
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (outage_id, ticket_id)
);
CREATE INDEX outage_tickets_ticket ON outage_tickets (ticket_id);

-- `purpose`: outage (the notice before the cut) | overrun (told that supply comes back late).
-- `channel`: signed (the written notice signed for; its scan in attachments, owner_kind
-- outage_notice) | phone | sms | announcement.
CREATE TABLE outage_notices (
    id {{ID}},
    outage_id BIGINT NOT NULL REFERENCES outages (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    signed_by TEXT,
    notified_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX outage_notices_outage ON outage_notices (outage_id);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'outages.view'),
    ('leader', 'outages.view'),
    ('leader', 'outages.approve'),
    ('customer_manager', 'outages.view'),
    ('customer_manager', 'outages.request'),
    ('ticket_issuer', 'outages.view'),
    ('work_leader', 'outages.view'),
    ('work_permitter', 'outages.view'),
    ('work_permitter', 'outages.operate');
