-- Quality indicators (运行质量指标) and the monthly supervision report (运行质量监督报告), article
-- §6.4. An indicator is data: its formula is arithmetic over the measures GridSafe counts per unit
-- and month (domain::quality::MEASURES). A report is written per unit and month; issuing it
-- freezes a snapshot whose SHA-256 is also in the audit trail; a reissue is a new version with a
-- reason, the old one kept and marked replaced.

CREATE TABLE quality_indicators (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    formula TEXT NOT NULL,
    unit_label TEXT NOT NULL,
    target DOUBLE PRECISION,
    -- higher | lower: which way is better
    direction TEXT NOT NULL,
    origin TEXT NOT NULL,
    sort_order BIGINT NOT NULL,
    updated_by TEXT,
    updated_at TEXT
);
INSERT INTO quality_indicators (code, name, formula, unit_label, target, direction, origin, sort_order) VALUES
    ('ticket_pass_rate', '工作票合格率', '100 * tickets_passed / tickets_executed', '%', 100, 'higher',
     '文章 §6.4（以运行质量指标评价工作）；研究简报 §2 工作票月度评价，合格率 = 合格票数 ÷ 已执行票数（未评价的不算合格）；目标 100% 为本系统的默认值 [INF]', 10),
    ('ticket_evaluation_coverage', '工作票评价覆盖率', '100 * tickets_evaluated / tickets_executed', '%', 100, 'higher',
     '研究简报 §2 工作票每月评价 [S-21]；目标 100% 为本系统的默认值 [INF]', 20),
    ('no_ticket_per_1000', '无票作业（每千张现场工单）', '1000 * findings_no_ticket / field_orders', '‰', 0, 'lower',
     '文章 §4（无票作业倒查）；目标 0 为本系统的默认值 [INF]', 30),
    ('single_person_per_1000', '单人作业（每千张现场工单）', '1000 * findings_single_person / field_orders', '‰', 0, 'lower',
     '文章 §4（单人作业倒查）；目标 0 为本系统的默认值 [INF]', 40),
    ('findings_confirmed_rate', '稽查问题确认率', '100 * findings_confirmed / findings_total', '%', NULL, 'higher',
     '文章 §4（倒查发现须核实）；只作观察，不设目标 [INF]', 50),
    ('findings_rectified_rate', '确认问题整改率', '100 * findings_rectified / findings_confirmed', '%', 100, 'higher',
     '文章 §5（闭环管理）；目标 100% 为本系统的默认值 [INF]', 60),
    ('inspections_on_time_rate', '用电检查按期完成率', '100 * inspections_on_time / inspections_done', '%', 100, 'higher',
     '研究简报 §3 周期检查 [S-40]；目标 100% 为本系统的默认值 [INF]', 70),
    ('hazards_on_time_rate', '隐患按期整改率', '100 * hazards_closed_on_time / hazards_due', '%', 100, 'higher',
     '文章 §5（隐患闭环）；目标 100% 为本系统的默认值 [INF]', 80),
    ('qualifications_expired', '资质到期未更新人数', 'qualifications_expired', '人', 0, 'lower',
     '文章 §3（持证上岗）；目标 0 为本系统的默认值 [INF]', 90),
    ('accounts_dormant', '闲置账号数', 'accounts_dormant', '个', 0, 'lower',
     '文章 §6.2（账号合规检查）；研究简报 §5 [S-69]；目标 0 为本系统的默认值 [INF]', 100),
    ('faults', '信息系统故障次数', 'faults', '次', 0, 'lower',
     '文章 §6.3（故障分析）；目标 0 为本系统的默认值 [INF]', 110),
    ('fault_restore_minutes', '故障平均恢复时长', 'fault_restore_minutes / faults_restored', '分钟', 120, 'lower',
     '文章 §6.3；目标 120 分钟为本系统的默认值 [INF]', 120),
    ('project_on_time_rate', '业扩环节按时率', '100 * project_stages_on_time / project_stages_done', '%', 100, 'higher',
     '研究简报 §4 业扩时限 [S-56][S-58]；目标 100% 为本系统的默认值 [INF]', 130),
    ('drills_held', '应急演练次数', 'drills_held', '次', NULL, 'higher',
     '文章 §6.1（应急演练）；只作观察，不设月度目标 [INF]', 140),
    ('violations', '违章次数', 'violations', '次', NULL, 'lower',
     '文章（反违章，研究简报 §0 [S-1]）；只作观察，不设目标 [INF]', 150),
    ('violations_serious', '严重及以上违章次数', 'violations_serious', '次', 0, 'lower',
     '文章（反违章，研究简报 §0 [S-1]）；严重违章清单分级 [UNVERIFIED]；目标 0 为本系统的默认值 [INF]', 160),
    ('starts_unattended', '应到岗未到岗开工次数', 'starts_unattended', '次', 0, 'lower',
     '文章（领导和管理人员到岗到位，研究简报 §0 [S-1]）；目标 0 为本系统的默认值 [INF]', 170);

CREATE TABLE quality_reports (
    id {{ID}},
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    month TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- draft | issued | replaced
    state TEXT NOT NULL,
    -- The safety auditor's text per section, as JSON {section: text}.
    texts TEXT NOT NULL,
    -- The frozen report (JSON) and its SHA-256, once issued.
    snapshot TEXT,
    hash TEXT,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    issued_by TEXT,
    issued_at TEXT,
    UNIQUE (unit_id, month, version)
);
CREATE INDEX quality_reports_month ON quality_reports (month, unit_id);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'quality.view'),
    ('safety_auditor', 'quality.write'),
    ('leader', 'quality.view');
