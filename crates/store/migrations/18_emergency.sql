-- Emergency plans (应急预案) and drills (应急演练), rural safety pilots (农村用电安全试点) with their
-- library of working standards, and the customers' voice: safety-related 95598 complaints and
-- third-party / 行风 evaluations. Actions that come out of them are hazards in the one closed loop
-- (hazards.source_kind drill | complaint | evaluation, source_id the record's id).

-- The classes of risk plans cover (the article's four, kept as data).
CREATE TABLE emergency_risks (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);
INSERT INTO emergency_risks (code, name, origin, sort_order) VALUES
    ('customer_supply', '客户方原因引起的供用电安全风险', '文章 §4.4（三）', 10),
    ('tariff', '电费安全风险', '文章 §4.4（三）', 20),
    ('field_work', '现场作业安全风险', '文章 §4.4（三）', 30),
    ('service', '供电服务安全风险', '文章 §4.4（三）', 40);

-- `kind`: comprehensive | special | onsite | customer (an important customer's own plan, with
-- its customer). `risks`: codes of emergency_risks, comma separated. The document is an
-- attachment (owner_kind emergency_plan).
CREATE TABLE emergency_plans (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    customer_id BIGINT REFERENCES customers (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    risks TEXT NOT NULL,
    version TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    review_due TEXT NOT NULL,
    retired_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX emergency_plans_unit ON emergency_plans (unit_id, kind);

-- A drill of a plan: its day, scenario, participants, rating and evaluation. Its photos are
-- attachments (owner_kind drill); its problems are hazards (source_kind drill).
CREATE TABLE drills (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    plan_id BIGINT NOT NULL REFERENCES emergency_plans (id),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    held_on TEXT NOT NULL,
    scenario TEXT NOT NULL,
    rating TEXT NOT NULL,
    evaluation TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX drills_plan ON drills (plan_id, held_on);

CREATE TABLE drill_people (
    drill_id BIGINT NOT NULL REFERENCES drills (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    PRIMARY KEY (drill_id, person_id)
);

-- A rural safety pilot: the unit and its period.
CREATE TABLE pilots (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A pilot's working standard or good practice, versioned by title; readable by every unit. The
-- file is an attachment (owner_kind pilot_document).
CREATE TABLE pilot_documents (
    id {{ID}},
    pilot_id BIGINT NOT NULL REFERENCES pilots (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    version BIGINT NOT NULL,
    summary TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL,
    UNIQUE (pilot_id, title, version)
);

-- A safety-related complaint (95598 工单), imported or recorded by hand; `hazard_id` once it
-- opened one.
CREATE TABLE complaints (
    id {{ID}},
    ticket_no TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    account_no TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers (id),
    category TEXT NOT NULL,
    content TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    hazard_id BIGINT REFERENCES hazards (id),
    import_file TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX complaints_unit ON complaints (unit_id, received_at);

-- An evaluation of a unit's service for a month: `kind` third_party | conduct (行风评议) | visit.
CREATE TABLE evaluations (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    remarks TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    hazard_id BIGINT REFERENCES hazards (id),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX evaluations_unit ON evaluations (unit_id, period);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'emergency.view'),
    ('safety_auditor', 'emergency.manage'),
    ('safety_auditor', 'feedback.record'),
    ('leader', 'emergency.view'),
    ('customer_manager', 'emergency.view'),
    ('customer_manager', 'feedback.record'),
    ('inspector', 'emergency.view');
