-- Work plans (作业计划): weekly and daily plans per unit, their items (a team at a site on a
-- day), the people on each item, shared sites merged under one organiser, and the changes made
-- after publication with their reason.
CREATE TABLE work_plans (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    kind TEXT NOT NULL,
    first_day TEXT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_user BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    published_by TEXT,
    published_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (unit_id, kind, first_day)
);

CREATE TABLE plan_items (
    id {{ID}},
    plan_id BIGINT NOT NULL REFERENCES work_plans (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    site TEXT NOT NULL,
    work_kind TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES org_units (id),
    leader_id BIGINT REFERENCES people (id),
    outage INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX plan_items_plan ON plan_items (plan_id);

CREATE TABLE plan_item_people (
    item_id BIGINT NOT NULL REFERENCES plan_items (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    PRIMARY KEY (item_id, person_id)
);

CREATE TABLE plan_merges (
    plan_id BIGINT NOT NULL REFERENCES work_plans (id),
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    organiser_id BIGINT NOT NULL REFERENCES people (id),
    measures TEXT NOT NULL,
    merged_by TEXT NOT NULL,
    merged_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, day, site)
);

CREATE TABLE plan_changes (
    id {{ID}},
    plan_id BIGINT NOT NULL REFERENCES work_plans (id),
    item_id BIGINT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX plan_changes_plan ON plan_changes (plan_id);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'plans.view'),
    ('leader', 'plans.view'),
    ('leader', 'plans.approve'),
    ('customer_manager', 'plans.view'),
    ('ticket_issuer', 'plans.view'),
    ('work_leader', 'plans.view'),
    ('work_leader', 'plans.write'),
    ('work_permitter', 'plans.view'),
    ('crew_member', 'plans.view');
