-- The two tables of imported rows, rebuilt so that an import writes them at the speed of the
-- database's own bulk load:
--
-- * No foreign keys. On PostgreSQL each one is a trigger that looks up and locks the unit or the
--   import once per row: 200,000 orders took 3.4 s more for the two. The only statement that
--   writes these rows (`store::findings::import`) names the import it has just created and units
--   it has just read, in the same transaction, and no statement deletes a unit or an import.
-- * The index on the customer keeps only what reads by customer ask for: a project's meter
--   installs and power-ups (`store::projects::energising`). Every order in it cost an insert
--   in a random place of the index, a third of an import's time on PostgreSQL.
CREATE TABLE marketing_orders_new (
    order_id TEXT PRIMARY KEY,
    order_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    org_unit TEXT NOT NULL,
    unit_id BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    workers TEXT NOT NULL,
    import_id BIGINT NOT NULL
);
INSERT INTO marketing_orders_new (order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id)
SELECT order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id FROM marketing_orders;
DROP TABLE marketing_orders;
ALTER TABLE marketing_orders_new RENAME TO marketing_orders;
CREATE INDEX marketing_orders_install_customer ON marketing_orders (customer_id) WHERE order_type = 'meter_install';
CREATE INDEX marketing_orders_import ON marketing_orders (import_id);

CREATE TABLE meter_events_new (
    event_id TEXT PRIMARY KEY,
    meter_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    unit_id BIGINT NOT NULL,
    import_id BIGINT NOT NULL
);
INSERT INTO meter_events_new (event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id)
SELECT event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id FROM meter_events;
DROP TABLE meter_events;
ALTER TABLE meter_events_new RENAME TO meter_events;
CREATE INDEX meter_events_power_up_customer ON meter_events (customer_id) WHERE kind = 'power_up';
CREATE INDEX meter_events_import ON meter_events (import_id);
