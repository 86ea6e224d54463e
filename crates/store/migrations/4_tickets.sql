-- Work tickets and cards (工作票/工作卡).

-- The document catalogue (票种目录): maintained as data, each default with its origin.
CREATE TABLE ticket_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    covers TEXT NOT NULL,            -- order types, comma separated
    extendable BIGINT NOT NULL,
    needs_survey BIGINT NOT NULL,
    live_work BIGINT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    min_people BIGINT NOT NULL,
    origin TEXT NOT NULL,
    active BIGINT NOT NULL,
    sort_order BIGINT NOT NULL
);

INSERT INTO ticket_types (code, name, covers, extendable, needs_survey, live_work, prefix, min_people, origin, active, sort_order) VALUES
    ('dist_first', '配电第一种工作票', 'new_connection,capacity_change,disconnect,reconnect', 1, 1, 0, 'PD1', 2, '安规：需高压设备全部或部分停电的工作（研究简报 §1.2 [S-9][S-10]）；营销默认映射 [INF]', 1, 10),
    ('dist_second', '配电第二种工作票', 'new_connection,capacity_change,meter_install,meter_replacement,meter_removal', 0, 0, 0, 'PD2', 2, '安规：不需高压停电的二次回路、计量工作（§1.2 [S-9][S-10]）；过期须重新签发、不延期（§1.4 [S-21][S-22]）', 1, 20),
    ('low_voltage', '低压工作票', 'new_connection,meter_install,meter_replacement,meter_removal,disconnect,reconnect', 1, 0, 0, 'DY', 2, '低压装表、换表、接电默认用低压工作票（研究简报 §1.2 [INF]）', 1, 30),
    ('live_work', '带电作业工作票', 'meter_install,meter_replacement,meter_removal', 0, 1, 1, 'DD', 2, '低压带电换表：负责人开具带电作业票（§1.1 [S-8]）；带电作业票不得延期（§1.4 [S-20]）', 1, 40),
    ('emergency_repair', '故障紧急抢修单', 'fault_repair', 0, 0, 0, 'QX', 2, '事故紧急抢修可不用工作票，但应使用紧急抢修单（§1.1 [S-3]）', 1, 50),
    ('field_card', '营销现场作业工作卡', 'meter_replacement,meter_removal,disconnect,reconnect', 0, 0, 0, 'GK', 2, '《营销现场作业安全工作规程（试行）》工作卡 [UNVERIFIED]（§1.1）', 1, 60),
    ('inspection', '用电检查工作单', 'customer_visit', 0, 0, 0, 'JC', 2, '《用电检查管理办法》：现场检查不少于两人，持工作单（§1.3 [S-7]）', 1, 70),
    ('dispatch', '派工单', 'meter_reading,fee_collection,customer_visit', 0, 0, 0, 'PG', 1, '抄表、催费按派工单作业（§1.1 [S-5]）；非电气作业，默认 1 人 [INF]', 1, 80);

-- Hazard points (危险点) and pre-control measures, per kind of work (an order type).
CREATE TABLE hazard_templates (
    id {{ID}},
    work_kind TEXT NOT NULL,
    hazard TEXT NOT NULL,
    measure TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);
CREATE INDEX hazard_templates_kind ON hazard_templates (work_kind);

INSERT INTO hazard_templates (work_kind, hazard, measure, sort_order) VALUES
    ('meter_install', '误碰带电部位触电', '核对电源侧确已停电，验电、挂接地线；戴绝缘手套，使用绝缘工具', 10),
    ('meter_install', '计量箱外壳带电', '作业前用验电笔检测箱体，确认无电后方可开箱', 20),
    ('meter_install', '接线错误导致反向送电', '核对接线图，送电前由负责人复核相序与极性', 30),
    ('meter_replacement', '带电换表短路、电弧灼伤', '断开表前开关并验电；无法停电时使用带电作业票，专人监护', 10),
    ('meter_replacement', '电流互感器二次开路', '先短接互感器二次回路，再拆表', 20),
    ('meter_replacement', '客户自备电源反送电', '确认客户自备电源已断开并挂“禁止合闸”标示牌', 30),
    ('meter_removal', '误拆带电导线', '拆前验电并做好导线绝缘包扎，专人监护', 10),
    ('meter_removal', '高处坠落', '登高使用合格梯具并有人扶持，系好安全带', 20),
    ('new_connection', '送电范围不清、误送电', '现场勘察确认送电范围，与调度、客户电工核对后方可送电', 10),
    ('new_connection', '客户设备未经验收即接电', '核对竣工检验合格记录与缺陷销号后方可接电', 20),
    ('capacity_change', '多电源客户反送电', '确认双（多）电源闭锁装置可靠，断开全部电源并验电接地', 10),
    ('capacity_change', '交叉跨越、邻近带电线路', '设专责监护人，保持安全距离，装设遮栏', 20),
    ('disconnect', '停电范围错误', '核对客户户号、表号与双重名称，专人监护操作', 10),
    ('disconnect', '重要客户突然停电', '停电前确认已按规定通知并取得客户签字', 20),
    ('reconnect', '客户侧设备检修中误送电', '送电前与客户电工确认其侧工作已结束、人员已撤离', 10),
    ('fault_repair', '故障点残余电荷或反送电', '对故障设备放电、验电、接地后方可作业', 10),
    ('fault_repair', '夜间或恶劣天气作业', '配足照明，雷雨天气停止户外作业', 20),
    ('customer_visit', '进入客户高压配电室触电', '不得单人进入，保持安全距离，不触碰客户设备', 10),
    ('customer_visit', '客户自备发电机反送电', '检查双电源闭锁，发现未备案发电机立即告知并登记隐患', 20);

-- Why a ticket is 不合格: the checklist of research brief §1.5, maintained as data.
CREATE TABLE ticket_eval_reasons (
    code TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    active BIGINT NOT NULL,
    sort_order BIGINT NOT NULL
);

INSERT INTO ticket_eval_reasons (code, text, active, sort_order) VALUES
    ('R01', '任务、安全措施、时间或签名栏涂改，字迹不清，或其他涂改超过2处', 1, 1),
    ('R02', '设备双重名称或电压等级缺漏', 1, 2),
    ('R03', '“三种人”漏签、代签，或不在公布名单内', 1, 3),
    ('R04', '变更工作负责人、工作班成员或延期未履行手续', 1, 4),
    ('R05', '工作内容、地点不清', 1, 5),
    ('R06', '术语不规范，安全措施不全或与现场不符（接地线无编号、未设遮栏标示牌、未注明带电部位）', 1, 6),
    ('R07', '票种使用错误', 1, 7),
    ('R08', '未经许可开工、现场无票、无监护人，或现场变更安全措施', 1, 8),
    ('R09', '提前开工或延迟终结', 1, 9),
    ('R10', '终结时未记录接地线拆除', 1, 10),
    ('R11', '票号错误或缺失', 1, 11),
    ('R12', '工作票遗失或严重损坏', 1, 12),
    ('R13', '“已执行/未执行/作废”章错盖或漏盖', 1, 13),
    ('R14', '危险点分析不符合现场、无预控措施、未向全体成员交底、成员未签名，或交底时间与开工时间不符', 1, 14);

-- Numbers per prefix and month.
CREATE TABLE ticket_numbers (
    prefix TEXT NOT NULL,
    month TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (prefix, month)
);

CREATE TABLE tickets (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL REFERENCES ticket_types (code),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    state TEXT NOT NULL,
    work_kind TEXT NOT NULL,
    customer_id TEXT,
    customer_name TEXT,
    location TEXT NOT NULL,
    content TEXT NOT NULL,
    voltage_kv DOUBLE PRECISION,
    planned_start TEXT NOT NULL,
    planned_end TEXT NOT NULL,
    extended_to TEXT,
    issuer_id BIGINT REFERENCES people (id),
    co_issuer_id BIGINT REFERENCES people (id),
    co_signed_at TEXT,
    leader_id BIGINT REFERENCES people (id),
    permitter_id BIGINT REFERENCES people (id),
    survey TEXT,
    survey_at TEXT,
    survey_by TEXT,
    finished_at TEXT,
    finish_reason TEXT,
    verdict TEXT,
    evaluated_at TEXT,
    evaluated_by TEXT,
    evaluation_note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_unit ON tickets (unit_id);
CREATE INDEX tickets_state ON tickets (state);
CREATE INDEX tickets_finished ON tickets (finished_at);

-- The crew (工作班成员, not counting the leader) and each member's briefing acknowledgement.
CREATE TABLE ticket_crew (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    acknowledged_at TEXT,
    PRIMARY KEY (ticket_id, person_id)
);
CREATE INDEX ticket_crew_person ON ticket_crew (person_id);

-- The marketing work orders a ticket covers (ids as in marketing-export.md).
CREATE TABLE ticket_orders (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    order_id TEXT NOT NULL,
    order_type TEXT NOT NULL,
    PRIMARY KEY (ticket_id, order_id)
);

CREATE TABLE ticket_hazards (
    id {{ID}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    hazard TEXT NOT NULL,
    measure TEXT NOT NULL,
    sort_order BIGINT NOT NULL
);
CREATE INDEX ticket_hazards_ticket ON ticket_hazards (ticket_id);

-- Every step signed: who (person and account), when, from which channel; crew and leader
-- changes included.
CREATE TABLE ticket_steps (
    id {{ID}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    step TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    person_id BIGINT REFERENCES people (id),
    username TEXT,
    channel TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX ticket_steps_ticket ON ticket_steps (ticket_id);

CREATE TABLE ticket_eval_marks (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    reason_code TEXT NOT NULL REFERENCES ticket_eval_reasons (code),
    PRIMARY KEY (ticket_id, reason_code)
);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('safety_auditor', 'tickets.view'),
    ('safety_auditor', 'tickets.evaluate'),
    ('safety_auditor', 'tickets.configure'),
    ('leader', 'tickets.view'),
    ('customer_manager', 'tickets.view'),
    ('inspector', 'tickets.view'),
    ('ticket_issuer', 'tickets.view'),
    ('ticket_issuer', 'tickets.write'),
    ('ticket_issuer', 'tickets.sign'),
    ('work_leader', 'tickets.view'),
    ('work_leader', 'tickets.write'),
    ('work_leader', 'tickets.sign'),
    ('work_permitter', 'tickets.view'),
    ('work_permitter', 'tickets.sign'),
    ('crew_member', 'tickets.view'),
    ('crew_member', 'tickets.sign');
