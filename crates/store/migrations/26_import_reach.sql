-- The run after an import reads that import's orders and meter events, and the findings about
-- them, without walking every stored row.
CREATE INDEX marketing_orders_import ON marketing_orders (import_id);
CREATE INDEX meter_events_import ON meter_events (import_id);
CREATE INDEX ticket_orders_order ON ticket_orders (order_id);
CREATE INDEX findings_entity ON findings (entity_kind, entity_id);
