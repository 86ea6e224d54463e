-- The plan items an outage serves (作业计划中需停电的项目), beside its tickets.
CREATE TABLE outage_plan_items (
    outage_id BIGINT NOT NULL REFERENCES outages (id),
    item_id BIGINT NOT NULL REFERENCES plan_items (id),
    PRIMARY KEY (outage_id, item_id)
);
CREATE INDEX outage_plan_items_item ON outage_plan_items (item_id);
