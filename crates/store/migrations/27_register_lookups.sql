-- The register reads, for each customer, its open hazards and its sealed equipment: without
-- these indexes each customer's count read every hazard and every seal, so the register, the
-- home page and the dashboard took time in proportion to customers times hazards.
CREATE INDEX hazards_customer ON hazards (customer_id, state);
CREATE INDEX seals_customer ON seals (customer_id);
