-- Customers, inspections and the hazard closed loop: the customer register (客户档案), the
-- inspection cycle table's local changes, checklist templates, inspections with their
-- inspectors, checklist results and files, hazards with their steps, sealed equipment.

CREATE TABLE customers (
    id {{ID}},
    account_no TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    voltage_kv DOUBLE PRECISION NOT NULL,
    -- special | first | second | temporary | none
    importance TEXT NOT NULL,
    importance_document TEXT,
    importance_date TEXT,
    industry TEXT NOT NULL,
    supply_sources BIGINT NOT NULL,
    supply_kind TEXT,
    -- none | registered | suspected
    emergency_power TEXT NOT NULL,
    emergency_kind TEXT,
    emergency_capacity_kw DOUBLE PRECISION,
    emergency_last_test TEXT,
    electrician_name TEXT,
    electrician_phone TEXT,
    preventive_test_due TEXT,
    -- The day the customer entered the register: the first cycle counts from it.
    registered_on TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX customers_unit ON customers (unit_id);

-- Local values of the cycle table (the rows and their origins are the domain's defaults).
CREATE TABLE inspection_cycles (
    code TEXT PRIMARY KEY,
    months BIGINT,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

CREATE TABLE checklist_items (
    id {{ID}},
    section TEXT NOT NULL,
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    origin TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    changed_by TEXT
);

-- Hazard grades are a lookup table (research brief §3 [INF]).
CREATE TABLE hazard_grades (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    deadline_days BIGINT NOT NULL,
    -- 1: a grid-side hazard of this grade is filed with the power authority before rectification.
    files BIGINT NOT NULL,
    position BIGINT NOT NULL,
    origin TEXT NOT NULL,
    changed_by TEXT
);

CREATE TABLE inspections (
    id {{ID}},
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    inspected_on TEXT NOT NULL,
    -- periodic | special | campaign
    kind TEXT NOT NULL,
    conclusion TEXT NOT NULL,
    notice_number TEXT NOT NULL UNIQUE,
    notice_signed_by TEXT,
    notice_signed_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX inspections_customer ON inspections (customer_id, inspected_on);

CREATE TABLE inspection_inspectors (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    PRIMARY KEY (inspection_id, person_id)
);

-- The checklist as it was answered: the item's text is copied, templates change later.
CREATE TABLE inspection_results (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    position BIGINT NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (inspection_id, position)
);

-- Photos and signed copies. `owner_kind`: inspection | notice | hazard.
CREATE TABLE attachments (
    id {{ID}},
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content {{BLOB}} NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id);

CREATE TABLE hazards (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    customer_id BIGINT REFERENCES customers (id),
    inspection_id BIGINT REFERENCES inspections (id),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    grade TEXT NOT NULL REFERENCES hazard_grades (code),
    -- grid | customer
    responsibility TEXT NOT NULL,
    state TEXT NOT NULL,
    deadline TEXT,
    owner TEXT,
    receipt_by TEXT,
    filed_on TEXT,
    filing_reference TEXT,
    -- Levels escalated (督办) so far, by the daily job.
    escalation BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX hazards_unit_state ON hazards (unit_id, state);

CREATE TABLE hazard_steps (
    id {{ID}},
    hazard_id BIGINT NOT NULL REFERENCES hazards (id),
    step TEXT NOT NULL,
    detail TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX hazard_steps_hazard ON hazard_steps (hazard_id);

CREATE TABLE seals (
    id {{ID}},
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    hazard_id BIGINT NOT NULL REFERENCES hazards (id),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    equipment TEXT NOT NULL,
    seal_number TEXT NOT NULL,
    sealed_on TEXT NOT NULL,
    sealed_by TEXT NOT NULL,
    unsealed_on TEXT,
    unsealed_by TEXT
);
CREATE INDEX seals_unit ON seals (unit_id);

INSERT INTO hazard_grades (code, name, deadline_days, files, position, origin) VALUES
    ('major', '重大隐患', 30, 1, 1, '国家能源局《电力安全隐患治理监督管理规定》分重大隐患与一般隐患 [S-43]；国网分级与期限未核实 [UNVERIFIED]，整改期限为默认值；重大隐患电网侧也须报备（研究简报 §3 [INF]）'),
    ('serious', '较大隐患', 60, 0, 2, '国网内部分级（重大/较大/一般）[UNVERIFIED]，整改期限为默认值（研究简报 §3、§8 第3项）'),
    ('general', '一般隐患', 90, 0, 3, '国家能源局规定的一般隐患 [S-43]，整改期限为默认值（研究简报 §8 第3项）');

INSERT INTO checklist_items (section, position, text, origin) VALUES
    ('power_source', 1, '供电电源配置符合重要用户等级要求（电源数量、来自不同变电站或母线）', '研究简报 §2.1 [S-35]'),
    ('power_source', 2, '双（多）电源切换装置、闭锁可靠，无倒送电风险', '文章 §3.4、§4.2'),
    ('receiving', 1, '受电设备运行正常，无过热、放电、渗漏', '用电检查范围：电气设备运行安全状况（研究简报 §2.3 [S-17]）'),
    ('receiving', 2, '电气设备预防性试验在有效期内', '研究简报 §2.3 [S-40]'),
    ('receiving', 3, '配电室防小动物、防火、防汛措施完好', '用电检查范围：非电性质的保护措施（研究简报 §2.3 [S-17]）'),
    ('secondary', 1, '继电保护及自动装置定值正确、校验在有效期内', '文章 §3.4'),
    ('secondary', 2, '直流系统、操作电源工作正常', '文章 §3.4'),
    ('metering', 1, '计量装置封印完好，接线正确，无窃电迹象', '文章 §3.4；研究简报 §2.3 [S-42]'),
    ('operation', 1, '进网作业电工持证上岗，值班及巡视记录完整', '用电检查范围：进网作业电工资格（研究简报 §2.3 [S-17]）'),
    ('operation', 2, '有停电应急预案并每年至少演练一次', '研究简报 §3 [S-46]'),
    ('operation', 3, '安全工器具齐全并按期试验', '文章 §3.4'),
    ('emergency_power', 1, '自备应急电源已备案，容量满足保安负荷', '文章 §4.1、§4.2；研究简报 §2.2 [S-32]'),
    ('emergency_power', 2, '自备电源与电网间有可靠闭锁，无擅自并网', '研究简报 §2.2 [S-38][S-39]'),
    ('emergency_power', 3, '自备电源定期启动试验并有记录', '研究简报 §2.2 DL/T 268-2012 [S-37]');

INSERT INTO role_permissions (role_code, permission) VALUES
    ('inspector', 'customers.view'),
    ('inspector', 'customers.manage'),
    ('inspector', 'inspections.record'),
    ('customer_manager', 'customers.view'),
    ('customer_manager', 'customers.manage'),
    ('customer_manager', 'inspections.record'),
    ('safety_auditor', 'customers.view'),
    ('safety_auditor', 'hazards.review'),
    ('safety_auditor', 'inspections.configure'),
    ('leader', 'customers.view');
