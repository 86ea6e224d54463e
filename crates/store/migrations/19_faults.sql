-- The fault database (故障库) of the marketing information systems: each fault with its times,
-- impact, cause category and root cause, countermeasure, and for human factors the accountable
-- person and the assessment (考核). A countermeasure tracked in the closed loop is a hazard
-- (source_kind fault, source_id the fault).

-- Cause categories, kept as data.
CREATE TABLE fault_causes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);
INSERT INTO fault_causes (code, name, origin, sort_order) VALUES
    ('hardware', '硬件故障', '文章 §6.3–6.4', 10),
    ('software', '软件缺陷', '文章 §6.3–6.4', 20),
    ('network', '网络与通信', '文章 §6.3–6.4', 30),
    ('data', '数据错误', '文章 §6.3（营销数据失真）', 40),
    ('human', '人为因素', '文章 §6.3（加强人为因素考核）', 50),
    ('external', '外部原因', '文章 §6.3（非人为因素）', 60);

CREATE TABLE faults (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    system TEXT NOT NULL,
    module TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    customers_affected BIGINT NOT NULL,
    orders_affected BIGINT NOT NULL,
    cause TEXT NOT NULL REFERENCES fault_causes (code),
    root_cause TEXT NOT NULL,
    countermeasure TEXT NOT NULL,
    accountable_person_id BIGINT REFERENCES people (id),
    assessment TEXT,
    import_file TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX faults_unit_start ON faults (unit_id, started_at);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'faults.view'),
    ('safety_auditor', 'faults.record'),
    ('leader', 'faults.view');
