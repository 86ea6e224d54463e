-- History moves in: the registers kept before GridSafe (the ticket register, the hazard ledger,
-- the inspection history) imported with their real dates. Each import is on record (who, when,
-- which file and its SHA-256, how many records); each record it wrote points at it, so pages
-- say "imported" and never show a signature the record never had. Imported records count in
-- statistics, cycles, the cross-audit and the closed loop exactly as native ones do.

CREATE TABLE history_imports (
    id {{ID}},
    -- tickets | hazards | inspections
    kind TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    records BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

ALTER TABLE tickets ADD COLUMN history_import_id BIGINT REFERENCES history_imports (id);
ALTER TABLE hazards ADD COLUMN history_import_id BIGINT REFERENCES history_imports (id);
ALTER TABLE inspections ADD COLUMN history_import_id BIGINT REFERENCES history_imports (id);

-- The safety auditor brings the unit's registers in.
INSERT INTO role_permissions (role_code, permission) VALUES ('safety_auditor', 'history.import');
