-- Customer projects (业扩报装 and grid connection): the project and its customer, its stages
-- with their clocks in working days, the waits on the customer, the inspections under 首检负责制
-- with their one defect list, and the working-day calendar and limits table they are timed by.

-- `kind`: new | increase | change. `class`: residential | lv | hv_single | hv_dual (the limits'
-- classes). `stage`: plan_reply | design_review | mid_check | completion | energise | energised
-- | cancelled. `cleared_at`: when supply became allowed (acceptance passed, or the reply on the
-- short path); what the energising gate and the cross-audit read.
CREATE TABLE projects (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    class TEXT NOT NULL,
    voltage_kv DOUBLE PRECISION NOT NULL,
    capacity_kva DOUBLE PRECISION NOT NULL,
    dual_source BIGINT NOT NULL,
    residential BIGINT NOT NULL,
    designer_id BIGINT REFERENCES contractors (id),
    builder_id BIGINT REFERENCES contractors (id),
    manager_person_id BIGINT NOT NULL REFERENCES people (id),
    -- The marketing system's application (申请编号), so its work orders link here.
    order_id TEXT UNIQUE,
    stage TEXT NOT NULL,
    accepted_on TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    surveyed_on TEXT,
    cleared_at TEXT,
    energised_on TEXT,
    cancel_reason TEXT,
    -- Recorded from the marketing system's list: the file it came from.
    imported_from TEXT,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX projects_unit_stage ON projects (unit_id, stage);
CREATE INDEX projects_customer ON projects (customer_id);

-- One row per stage a project entered. `clock_from`: the day its clock started (受理, the
-- customer's submission, the passed acceptance); `limit_days` and `limits_version` were taken
-- from the limits table in force that day, so a later version does not re-time it.
CREATE TABLE project_stages (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    stage TEXT NOT NULL,
    entered_on TEXT NOT NULL,
    clock_from TEXT,
    limit_days BIGINT,
    limits_version BIGINT,
    finished_on TEXT,
    -- What ended it: reply | passed | energised | cancelled.
    outcome TEXT,
    note TEXT,
    finished_by TEXT,
    UNIQUE (project_id, stage)
);

-- Waiting on the customer: the days from `from_on` up to `until_on` do not count.
CREATE TABLE project_pauses (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    stage TEXT NOT NULL,
    from_on TEXT NOT NULL,
    until_on TEXT,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX project_pauses_project ON project_pauses (project_id);

-- An inspection of a stage (设计审核、中间检查、竣工检验). `accountable_person_id`: the stage's
-- first inspector, who owns its defect list (首检负责制). A failed one is given to the customer
-- as one written notice (一次性书面告知), numbered and signed for.
CREATE TABLE project_inspections (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    stage TEXT NOT NULL,
    round BIGINT NOT NULL,
    inspector_person_id BIGINT NOT NULL REFERENCES people (id),
    accountable_person_id BIGINT NOT NULL REFERENCES people (id),
    inspected_on TEXT NOT NULL,
    passed BIGINT NOT NULL,
    conclusion TEXT NOT NULL,
    notice_number TEXT,
    notice_signed_by TEXT,
    notice_signed_on TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (project_id, stage, round)
);

-- A defect. `missed_person_id`: set when a later inspection found it, the first inspector who
-- missed it. Closed by the inspection that found it rectified.
CREATE TABLE project_defects (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    inspection_id BIGINT NOT NULL REFERENCES project_inspections (id),
    stage TEXT NOT NULL,
    text TEXT NOT NULL,
    missed_person_id BIGINT REFERENCES people (id),
    closed_by_inspection BIGINT REFERENCES project_inspections (id),
    closed_on TEXT
);
CREATE INDEX project_defects_project ON project_defects (project_id, closed_on);

-- The days that differ from Monday-to-Friday: `kind` holiday (法定节假日) | workday (调休上班).
CREATE TABLE work_calendar (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    origin TEXT NOT NULL
);

-- The limits table, versioned: a version is in force from `valid_from`; its rows are the days
-- of each stage for each class, with their origin.
CREATE TABLE project_limits (
    version BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    stage TEXT NOT NULL,
    class TEXT NOT NULL,
    days BIGINT NOT NULL,
    origin TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (version, stage, class)
);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('customer_manager', 'projects.view'),
    ('customer_manager', 'projects.manage'),
    ('inspector', 'projects.view'),
    ('inspector', 'projects.inspect'),
    ('safety_auditor', 'projects.view'),
    ('safety_auditor', 'projects.configure'),
    ('leader', 'projects.view');
