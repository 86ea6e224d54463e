-- Tickets belong to plan items (作业计划): a ticket names the item it carries out; one without an
-- item is 计划外作业, whose reason is recorded and approved by the unit's manager before issue.
ALTER TABLE tickets ADD COLUMN plan_item_id BIGINT REFERENCES plan_items (id);
ALTER TABLE tickets ADD COLUMN unplanned_reason TEXT;
ALTER TABLE tickets ADD COLUMN unplanned_by TEXT;
ALTER TABLE tickets ADD COLUMN unplanned_by_user BIGINT REFERENCES users (id);
ALTER TABLE tickets ADD COLUMN unplanned_at TEXT;
ALTER TABLE tickets ADD COLUMN unplanned_approved_by TEXT;
ALTER TABLE tickets ADD COLUMN unplanned_approved_at TEXT;
CREATE INDEX tickets_plan_item ON tickets (plan_item_id);
