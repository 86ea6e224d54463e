-- Rules that gave the wrong verdict: what they need stored.

-- Tickets: when work was permitted and when it ended (工作终结), so that the window a ticket
-- authorises is read the same way by the lifecycle and the cross-audit.
ALTER TABLE tickets ADD COLUMN permitted_at TEXT;
ALTER TABLE tickets ADD COLUMN work_ended_at TEXT;
UPDATE tickets SET permitted_at = (SELECT MAX(s.at) FROM ticket_steps s WHERE s.ticket_id = tickets.id AND s.step = 'permit');
UPDATE tickets SET work_ended_at = (SELECT MAX(s.at) FROM ticket_steps s WHERE s.ticket_id = tickets.id AND s.step = 'end_work');
CREATE INDEX tickets_leader ON tickets (leader_id);

-- Safety agreements: what a contractor records is a draft until the supply company confirms it;
-- an agreement may be limited to one customer's work (户号).
ALTER TABLE safety_agreements ADD COLUMN customer_no TEXT;
ALTER TABLE safety_agreements ADD COLUMN confirmed_at TEXT;
ALTER TABLE safety_agreements ADD COLUMN confirmed_by TEXT;
ALTER TABLE safety_agreements ADD COLUMN recorded_by TEXT;
UPDATE safety_agreements SET confirmed_at = created_at, confirmed_by = '规则生效前录入';

-- Inspections: whether the emergency-power section was actually checked (some item answered
-- other than 不适用), which with the kind 'emergency_power' completes the special check.
ALTER TABLE inspections ADD COLUMN emergency_checked BIGINT NOT NULL DEFAULT 0;
UPDATE inspections SET emergency_checked = 1 WHERE EXISTS (
    SELECT 1 FROM inspection_results r
    WHERE r.inspection_id = inspections.id AND r.section = 'emergency_power' AND r.outcome <> 'na');

-- Joint inspections (联合检查): staff of 生技/检修/运行 accompany the inspectors; they are not
-- counted as inspectors.
CREATE TABLE inspection_participants (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (inspection_id, position)
);

-- Hazards: where each came from (an inspection, a confirmed cross-audit finding, ad hoc), the
-- day it was registered (its grade's days count from it), a later deadline asked for with a
-- reason and approved by a manager, and a customer's refusal to sign the notice.
ALTER TABLE hazards ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'adhoc';
ALTER TABLE hazards ADD COLUMN source_id BIGINT;
ALTER TABLE hazards ADD COLUMN registered_on TEXT;
ALTER TABLE hazards ADD COLUMN extension_to TEXT;
ALTER TABLE hazards ADD COLUMN extension_reason TEXT;
ALTER TABLE hazards ADD COLUMN extension_by TEXT;
ALTER TABLE hazards ADD COLUMN approved_limit TEXT;
ALTER TABLE hazards ADD COLUMN approved_by TEXT;
ALTER TABLE hazards ADD COLUMN refused_on TEXT;
ALTER TABLE hazards ADD COLUMN refusal_delivery TEXT;
ALTER TABLE hazards ADD COLUMN refusal_witness TEXT;
UPDATE hazards SET source_kind = 'inspection', source_id = inspection_id WHERE inspection_id IS NOT NULL;
UPDATE hazards SET registered_on = substr(created_at, 1, 10);
CREATE INDEX hazards_source ON hazards (source_kind, source_id);

-- A confirmed finding's rectification task becomes a grid-side hazard in the one closed loop
-- (rectify → 复查 → 销号, escalated when overdue); its task stays as the hazard's plan.
INSERT INTO hazards (number, customer_id, inspection_id, unit_id, title, description, grade, responsibility, state,
    deadline, owner, escalation, created_by, created_at, closed_at, source_kind, source_id, registered_on)
SELECT 'YH-F' || k.id, NULL, NULL, k.unit_id, k.title, f.detail, 'general', 'grid',
    CASE WHEN k.state = 'open' THEN 'rectifying' ELSE 'closed' END,
    k.deadline, k.responsible, 0, k.created_by, k.created_at, k.closed_at, 'finding', f.id, substr(k.created_at, 1, 10)
FROM rectification_tasks k JOIN findings f ON f.id = k.source_id WHERE k.source_kind = 'finding';
INSERT INTO hazard_steps (hazard_id, step, detail, by_name, at)
SELECT h.id, 'register', h.title, h.created_by, h.created_at FROM hazards h WHERE h.source_kind = 'finding';
UPDATE rectification_tasks SET source_id = (
    SELECT h.id FROM hazards h WHERE h.source_kind = 'finding' AND h.source_id = rectification_tasks.source_id)
WHERE source_kind = 'finding';
UPDATE rectification_tasks SET source_kind = 'hazard' WHERE source_kind = 'finding';

-- Roles: inspections are the inspector's work, not the customer manager's; a manager (领导)
-- approves a hazard deadline beyond its grade's days.
DELETE FROM role_permissions WHERE role_code = 'customer_manager' AND permission = 'inspections.record';
INSERT INTO role_permissions (role_code, permission) VALUES ('leader', 'hazards.approve');
