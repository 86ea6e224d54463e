-- Contractors (外包单位): licence, blacklist; managed by an organisation unit.
CREATE TABLE contractors (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    license_no TEXT,
    license_level BIGINT,
    license_valid_to TEXT,
    blacklisted_on TEXT,
    blacklist_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- People: own staff and contractor workers (contractor_id set). `code` is the 工号.
CREATE TABLE people (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    contractor_id BIGINT REFERENCES contractors (id),
    phone TEXT,
    post TEXT,
    active BIGINT NOT NULL,
    user_id BIGINT UNIQUE REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_unit ON people (unit_id);
CREATE INDEX people_contractor ON people (contractor_id);

-- Qualifications with their validity (dates, inclusive).
CREATE TABLE qualifications (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    title TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    level BIGINT,
    score BIGINT,
    passed BIGINT NOT NULL,
    list_year BIGINT,
    certificate_no TEXT,
    hours BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX qualifications_person ON qualifications (person_id);
CREATE INDEX qualifications_valid_to ON qualifications (valid_to);

CREATE TABLE safety_agreements (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    contractor_id BIGINT NOT NULL REFERENCES contractors (id),
    project TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX safety_agreements_contractor ON safety_agreements (contractor_id);

-- A rating after each project: excellent / good / fair / poor (优/良/一般/差).
CREATE TABLE contractor_ratings (
    id {{ID}},
    contractor_id BIGINT NOT NULL REFERENCES contractors (id),
    project TEXT NOT NULL,
    rating TEXT NOT NULL,
    rated_on TEXT NOT NULL,
    rated_by TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL
);

-- What the daily expiry job found, per day: the record of warnings given.
CREATE TABLE expiry_warnings (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    valid_to TEXT NOT NULL,
    PRIMARY KEY (day, kind, record_id)
);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'people.view'),
    ('safety_auditor', 'people.manage'),
    ('safety_auditor', 'contractors.view'),
    ('safety_auditor', 'contractors.manage'),
    ('leader', 'people.view'),
    ('leader', 'contractors.view'),
    ('customer_manager', 'people.view'),
    ('inspector', 'people.view'),
    ('ticket_issuer', 'people.view'),
    ('ticket_issuer', 'contractors.view'),
    ('work_leader', 'people.view'),
    ('work_permitter', 'people.view'),
    ('contractor_admin', 'contractor.own');

-- Files uploaded for import, kept between the preview and the confirmation.
CREATE TABLE uploads (
    id {{ID}},
    token TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    content {{BLOB}} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX uploads_token ON uploads (token);
