-- Compliance checks of the marketing information systems (合规检查): equipment rounds, account and
-- permission checks, back-end data changes and releases, each kind with its cycle and checklist
-- kept as data; a check's answers item by item; a failed item's correction is a hazard in the
-- closed loop (source_kind compliance, source_id the check).

CREATE TABLE compliance_kinds (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Months between checks; none for a check made at each change or release.
    months BIGINT,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);
INSERT INTO compliance_kinds (code, name, months, origin, sort_order) VALUES
    ('rounds', '设备巡检', 1, '文章 §6.2（硬件设备巡视）；每月一次为本系统的默认值 [INF]', 10),
    ('accounts', '账号与权限检查', 3, '文章 §6.2；研究简报 §5 [S-69][S-70]（权限每季度复核）；停用闲置账号和权限复核记录也计入', 20),
    ('backend', '后台数据修改检查', 1, '文章 §6.2（后台修改合规检查）；每月抽查一次为本系统的默认值 [INF]', 30),
    ('release', '版本发布检查', NULL, '文章 §6.2（系统发布合规检查）；每次发布检查', 40);

CREATE TABLE compliance_items (
    kind TEXT NOT NULL REFERENCES compliance_kinds (code),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (kind, position)
);
INSERT INTO compliance_items (kind, position, text) VALUES
    ('rounds', 1, '机房温湿度、UPS 与空调运行正常'),
    ('rounds', 2, '服务器、存储、网络设备无告警'),
    ('rounds', 3, '备份按计划完成且可恢复'),
    ('accounts', 1, '无六个月以上未使用的账号'),
    ('accounts', 2, '离岗、调岗人员账号已停用或调整权限'),
    ('accounts', 3, '超级管理员账号数量与使用登记相符'),
    ('backend', 1, '后台数据修改均有审批单'),
    ('backend', 2, '修改由两人复核并留有记录'),
    ('release', 1, '发布前通过测试并有测试报告'),
    ('release', 2, '发布有回退方案且经审批'),
    ('release', 3, '发布后核对关键业务数据');

CREATE TABLE compliance_checks (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    kind TEXT NOT NULL REFERENCES compliance_kinds (code),
    checked_on TEXT NOT NULL,
    checker TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX compliance_checks_kind ON compliance_checks (kind, checked_on);

CREATE TABLE compliance_answers (
    check_id BIGINT NOT NULL REFERENCES compliance_checks (id),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    -- pass | fail | not_applicable
    result TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (check_id, position)
);
