-- On-site supervision (现场安全管控): managers' stays at graded work (到岗到位), the violation
-- register (违章) with its points, review meetings (说清楚) and re-admissions (再准入).

-- A manager's stay at a ticket's site: arrival and departure from a phone, with the roles his
-- account held for the ticket's unit when he arrived (what the start rule counts).
CREATE TABLE site_attendance (
    id {{ID}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    who TEXT NOT NULL,
    roles TEXT NOT NULL,
    arrived_at TEXT NOT NULL,
    arrived_lat DOUBLE PRECISION,
    arrived_lon DOUBLE PRECISION,
    arrived_accuracy_m DOUBLE PRECISION,
    departed_at TEXT,
    departed_lat DOUBLE PRECISION,
    departed_lon DOUBLE PRECISION,
    note TEXT
);
CREATE INDEX site_attendance_ticket ON site_attendance (ticket_id);
CREATE INDEX site_attendance_user ON site_attendance (user_id, departed_at);

-- The grade of a ticket's work when it started, and whether a required manager was on site.
ALTER TABLE tickets ADD COLUMN start_grade BIGINT;
ALTER TABLE tickets ADD COLUMN start_attended BIGINT;

-- The published list of serious violations (严重违章清单) and the unit's own entries, as data.
CREATE TABLE violation_catalogue (
    code TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    class TEXT NOT NULL,
    severity TEXT NOT NULL,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);

CREATE TABLE violations (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    offender_kind TEXT NOT NULL,
    person_id BIGINT REFERENCES people (id),
    contractor_id BIGINT REFERENCES contractors (id),
    customer_id BIGINT REFERENCES customers (id),
    team TEXT,
    ticket_id BIGINT REFERENCES tickets (id),
    plan_item_id BIGINT REFERENCES plan_items (id),
    occurred_at TEXT NOT NULL,
    place TEXT NOT NULL,
    class TEXT NOT NULL,
    severity TEXT NOT NULL,
    points BIGINT NOT NULL,
    catalogue_code TEXT REFERENCES violation_catalogue (code),
    rule_broken TEXT NOT NULL,
    description TEXT NOT NULL,
    hazard_id BIGINT REFERENCES hazards (id),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reviewed_at TEXT,
    review_note TEXT,
    reviewed_by TEXT
);
CREATE INDEX violations_unit ON violations (unit_id, occurred_at);
CREATE INDEX violations_person ON violations (person_id);
CREATE INDEX violations_contractor ON violations (contractor_id);

-- Re-admission (再准入) after retraining and a passed exam: clears the points before it.
CREATE TABLE readmissions (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    trained_on TEXT NOT NULL,
    exam_on TEXT NOT NULL,
    score BIGINT,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX readmissions_person ON readmissions (person_id, recorded_at);

INSERT INTO violation_catalogue (code, title, class, severity, origin, sort_order) VALUES
    ('YZ-01', '无票（单）作业，或作业内容、范围与工作票（单）不符', 'behaviour', 'grave', '国家电网公司严重违章清单（Ⅰ类） [UNVERIFIED]', 10),
    ('YZ-02', '未经工作许可即开始工作', 'behaviour', 'grave', '国家电网公司严重违章清单（Ⅰ类） [UNVERIFIED]', 20),
    ('YZ-03', '在停电设备上工作前未验电、未装设接地线', 'behaviour', 'grave', '国家电网公司严重违章清单（Ⅰ类） [UNVERIFIED]', 30),
    ('YZ-04', '擅自扩大工作范围、增加或变更工作任务', 'behaviour', 'serious', '国家电网公司严重违章清单（Ⅱ类） [UNVERIFIED]', 40),
    ('YZ-05', '工作负责人（专责监护人）不在现场，或失去监护', 'behaviour', 'serious', '国家电网公司严重违章清单（Ⅱ类） [UNVERIFIED]', 50),
    ('YZ-06', '高处作业未正确使用安全带等防坠落措施', 'behaviour', 'serious', '国家电网公司严重违章清单（Ⅱ类） [UNVERIFIED]', 60),
    ('YZ-07', '三级及以上风险作业管理人员未到岗到位', 'management', 'serious', '国家电网公司严重违章清单（Ⅱ类） [UNVERIFIED]', 70),
    ('YZ-08', '使用未经检验或检验不合格的安全工器具', 'equipment', 'major', '国家电网公司严重违章清单（Ⅲ类） [UNVERIFIED]', 80),
    ('YZ-09', '现场未设置遮栏（围栏）和标示牌', 'equipment', 'major', '《国家电网公司电力安全工作规程》 [UNVERIFIED]', 90),
    ('YZ-10', '未正确佩戴安全帽、未穿工作服', 'behaviour', 'general', '《国家电网公司电力安全工作规程》 [UNVERIFIED]', 100),
    ('KH-01', '客户私自接电、私自增容或私自启用封存设备', 'behaviour', 'serious', '《供电营业规则》违约用电 [UNVERIFIED]', 110),
    ('KH-02', '客户自备发电机未经登记、未装设防倒送电闭锁装置', 'equipment', 'serious', '《供电营业规则》自备电源管理 [UNVERIFIED]', 120);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('leader', 'supervision.attend'),
    ('safety_auditor', 'supervision.attend'),
    ('leader', 'violations.view'),
    ('leader', 'violations.record'),
    ('safety_auditor', 'violations.view'),
    ('safety_auditor', 'violations.record'),
    ('safety_auditor', 'violations.review'),
    ('customer_manager', 'violations.view'),
    ('ticket_issuer', 'violations.view'),
    ('work_leader', 'violations.view');
