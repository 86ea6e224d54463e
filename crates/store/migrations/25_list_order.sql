-- The ticket lists read newest (or oldest) planned start first, a page at a time: walked in
-- this index's order, a page reads its 100 rows and stops instead of sorting every ticket in
-- reach on each view.
CREATE INDEX tickets_planned ON tickets (planned_start, id);
