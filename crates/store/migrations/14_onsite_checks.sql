-- On-site checks (现场检查): a safety auditor or manager checks a live site against a checklist
-- kept as data (templates per kind of work); a failed item may become a violation.

CREATE TABLE onsite_check_templates (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Order type codes it is for, comma separated; empty: every kind of work.
    work_kinds TEXT NOT NULL,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);

CREATE TABLE onsite_check_template_items (
    template_code TEXT NOT NULL REFERENCES onsite_check_templates (code),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    -- The violation list entry a failure of it usually is.
    catalogue_code TEXT REFERENCES violation_catalogue (code),
    PRIMARY KEY (template_code, position)
);

CREATE TABLE onsite_checks (
    id {{ID}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    template_code TEXT NOT NULL REFERENCES onsite_check_templates (code),
    ticket_state TEXT NOT NULL,
    failed BIGINT NOT NULL,
    note TEXT,
    checked_by TEXT NOT NULL,
    checked_at TEXT NOT NULL
);
CREATE INDEX onsite_checks_ticket ON onsite_checks (ticket_id);
CREATE INDEX onsite_checks_unit ON onsite_checks (unit_id, checked_at);

-- Each item as answered: its text kept as it was when checked.
CREATE TABLE onsite_check_results (
    check_id BIGINT NOT NULL REFERENCES onsite_checks (id),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    catalogue_code TEXT,
    result TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (check_id, position)
);

ALTER TABLE violations ADD COLUMN check_id BIGINT REFERENCES onsite_checks (id);
ALTER TABLE violations ADD COLUMN check_position BIGINT;

INSERT INTO onsite_check_templates (code, name, work_kinds, origin, sort_order) VALUES
    ('general', '营销现场作业安全检查（通用）', '', '《国家电网公司电力安全工作规程》工作票、许可、监护、安全措施各章的现场要求；条目为本系统默认清单 [INF][UNVERIFIED]', 10),
    ('metering', '装表接电现场安全检查', 'meter_install,meter_replacement,meter_removal', '《国家电网公司电力安全工作规程（配电部分）》计量、装表接电作业的现场要求；条目为本系统默认清单 [INF][UNVERIFIED]', 20);

INSERT INTO onsite_check_template_items (template_code, position, text, catalogue_code) VALUES
    ('general', 1, '工作票（单）在现场，作业内容、地点与票面相符', 'YZ-01'),
    ('general', 2, '已办理工作许可手续后开始工作', 'YZ-02'),
    ('general', 3, '停电、验电、装设接地线等安全措施完备', 'YZ-03'),
    ('general', 4, '工作负责人（专责监护人）在现场，监护到位', 'YZ-05'),
    ('general', 5, '现场设置遮栏（围栏）和标示牌', 'YZ-09'),
    ('general', 6, '作业人员正确佩戴安全帽、穿工作服', 'YZ-10'),
    ('general', 7, '安全工器具经检验合格并在有效期内', 'YZ-08'),
    ('general', 8, '高处作业正确使用安全带等防坠落措施', 'YZ-06'),
    ('general', 9, '未擅自扩大工作范围、增加工作任务', 'YZ-04'),
    ('general', 10, '管理人员按风险等级到岗到位', 'YZ-07'),
    ('metering', 1, '工作票（单）在现场，作业内容、地点与票面相符', 'YZ-01'),
    ('metering', 2, '已办理工作许可手续后开始工作', 'YZ-02'),
    ('metering', 3, '计量箱（柜）外壳接地良好，作业前已验电', 'YZ-03'),
    ('metering', 4, '更换电能表时采取防止电流互感器二次开路、电压回路短路的措施', NULL),
    ('metering', 5, '工作负责人（专责监护人）在现场，监护到位', 'YZ-05'),
    ('metering', 6, '现场设置遮栏（围栏）和标示牌', 'YZ-09'),
    ('metering', 7, '作业人员正确佩戴安全帽、穿工作服，使用绝缘工具', 'YZ-10'),
    ('metering', 8, '装表后加封，表计读数经客户确认', NULL);
