-- Rectification is assigned to a person of the register (picked by 工号), not typed text: the
-- hazard (the closed loop of every rectification: inspections, confirmed findings, violations)
-- names its responsible person, whose home page lists it until it is closed. `owner` keeps the
-- words shown (工号 and name, or a customer's contact for a customer's own hazard).
ALTER TABLE hazards ADD COLUMN owner_person_id BIGINT REFERENCES people (id);
CREATE INDEX hazards_owner_person ON hazards (owner_person_id);
