-- Cross-audit in the application: imported marketing work orders and meter events, the findings
-- the rules produce over them and GridSafe's own records, their review, and rectification tasks.

CREATE TABLE marketing_imports (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    files TEXT NOT NULL,
    orders BIGINT NOT NULL,
    events BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

-- Times are UTC in the stored form; the export's local times are converted on import.
CREATE TABLE marketing_orders (
    order_id TEXT PRIMARY KEY,
    order_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    org_unit TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    workers TEXT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES marketing_imports (id)
);
CREATE INDEX marketing_orders_customer ON marketing_orders (customer_id);

CREATE TABLE meter_events (
    event_id TEXT PRIMARY KEY,
    meter_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    import_id BIGINT NOT NULL REFERENCES marketing_imports (id)
);
CREATE INDEX meter_events_customer ON meter_events (customer_id);

-- A finding is keyed as the spec keys it. `state`: open → confirmed | dismissed; an open finding
-- the rules no longer produce becomes resolved.
CREATE TABLE findings (
    id {{ID}},
    rule TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    resolved_at TEXT,
    review_reason TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    UNIQUE (rule, entity_kind, entity_id, subject)
);
CREATE INDEX findings_unit_month ON findings (unit_id, month);
CREATE INDEX findings_state ON findings (state);

-- Rectification tasks (整改任务): from a confirmed finding now, from hazards later.
CREATE TABLE rectification_tasks (
    id {{ID}},
    source_kind TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    title TEXT NOT NULL,
    responsible TEXT NOT NULL,
    deadline TEXT NOT NULL,
    state TEXT NOT NULL,
    evidence TEXT,
    closed_at TEXT,
    closed_by TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX rectification_tasks_unit ON rectification_tasks (unit_id, state);

CREATE TABLE crossaudit_runs (
    id {{ID}},
    cause TEXT NOT NULL,
    as_of TEXT NOT NULL,
    findings BIGINT NOT NULL,
    new_findings BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    millis BIGINT NOT NULL,
    ran_at TEXT NOT NULL
);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'findings.view'),
    ('safety_auditor', 'findings.review'),
    ('safety_auditor', 'marketing.import'),
    ('leader', 'findings.view'),
    ('customer_manager', 'findings.view'),
    ('inspector', 'findings.view'),
    ('work_leader', 'findings.view'),
    ('ticket_issuer', 'findings.view');
