-- The findings table, rebuilt without its foreign key to the unit, so that a cross-audit run
-- writes its findings at the speed of the table's indexes: on PostgreSQL the key is a trigger
-- that looks up and locks the unit once per finding, and 729,086 findings took 9.9 s with it
-- against 5.0 s without. The only statement that writes findings (`store::findings::
-- insert_findings`) names units the same run has just read, and no statement deletes a unit.
-- Ids are kept; the table's next id follows the highest.
CREATE TABLE findings_new (
    id {{ID}},
    rule TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    unit_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    resolved_at TEXT,
    review_reason TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    UNIQUE (rule, entity_kind, entity_id, subject)
);
INSERT INTO findings_new (id, rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at,
    last_seen_at, resolved_at, review_reason, reviewed_by, reviewed_at)
SELECT id, rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at,
    last_seen_at, resolved_at, review_reason, reviewed_by, reviewed_at FROM findings;
DROP TABLE findings;
ALTER TABLE findings_new RENAME TO findings;
CREATE INDEX findings_unit_month ON findings (unit_id, month);
CREATE INDEX findings_state ON findings (state);
CREATE INDEX findings_entity ON findings (entity_kind, entity_id);
{{IDS_AFTER_COPY findings}}
