"""The 17 cross-audit rules as SQL in DuckDB, over the same export `gridsafe audit` reads.

Usage: python crossaudit_duckdb.py EXPORT_DIR AS_OF OUT.csv
Writes the finding keys (rule,entity_kind,entity_id,subject), one per line, no header. Reads the
files `gridsafe demo export` writes (dates and times zero-padded, lists separated by ';').
"""
import sys

import duckdb

src, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("PRAGMA threads=2")


def table(name, sql):
    con.execute(f"CREATE TABLE {name} AS {sql}")


def csv(name):
    return f"read_csv('{src}/{name}.csv', header=true, all_varchar=true)"


ts = "strptime({}, '%Y-%m-%d %H:%M')"
permitted = ts.format("NULLIF(permitted_at, '')")
ended = ts.format("NULLIF(ended_at, '')")
table("persons", f"SELECT person_id, NULLIF(contractor_id, '') AS contractor_id FROM {csv('persons')}")
table("quals", f"SELECT person_id, kind, valid_from::DATE AS f, valid_to::DATE AS t FROM {csv('qualifications')}")
table("contractors", f"SELECT contractor_id, license_valid_to::DATE AS lic FROM {csv('contractors')}")
table("agreements", f"SELECT contractor_id, valid_from::DATE AS f, valid_to::DATE AS t FROM {csv('safety_agreements')}")
table("orders", f"""SELECT order_id, order_type, customer_id, {ts.format('started_at')} AS s, {ts.format('finished_at')} AS e,
    list_distinct(list_filter(string_split(coalesce(workers, ''), ';'), lambda x: trim(x) <> '')) AS workers,
    order_type NOT IN ('meter_reading', 'fee_collection', 'customer_visit') AS field FROM {csv('work_orders')}""")
table("live", f"""SELECT ticket_id, coalesce(customer_id, '') AS customer_id, coalesce(issuer, '') AS issuer, coalesce(co_issuer, '') AS co_issuer,
    coalesce(leader, '') AS leader, coalesce(permitter, '') AS permitter, status, evaluation,
    list_filter(string_split(coalesce(order_ids, ''), ';'), lambda x: x <> '') AS order_ids,
    list_filter(string_split(coalesce(crew, ''), ';'), lambda x: x <> '') AS crew,
    {permitted} AS p, {ended} AS e
    FROM {csv('tickets')} WHERE status IN ('ended', 'open')""")
table("events", f"SELECT event_id, customer_id, kind, {ts.format('occurred_at')} AS at FROM {csv('meter_events')}")
table("ticket_orders", "SELECT ticket_id, unnest(order_ids) AS order_id FROM live")
table("ticket_people", """SELECT DISTINCT ticket_id, person FROM (
    SELECT ticket_id, leader AS person FROM live WHERE leader <> ''
    UNION ALL SELECT ticket_id, unnest(crew) FROM live)""")
table("order_workers", "SELECT order_id, unnest(workers) AS person, s::DATE AS d FROM orders")


def has(kind, who, day):
    return f"EXISTS (SELECT 1 FROM quals q WHERE q.person_id = {who} AND q.kind = '{kind}' AND q.f <= {day} AND {day} <= q.t)"


findings = f"""
SELECT 'NO_TICKET' AS r, 'order' AS k, o.order_id AS id, '' AS s FROM orders o WHERE o.field
  AND NOT EXISTS (SELECT 1 FROM ticket_orders t WHERE t.order_id = o.order_id)
  AND NOT EXISTS (SELECT 1 FROM live l WHERE l.customer_id = o.customer_id AND l.p <= o.s AND (l.e IS NULL OR o.e <= l.e))
UNION ALL SELECT 'SINGLE_PERSON_ORDER', 'order', order_id, '' FROM orders WHERE field AND len(workers) < 2
UNION ALL SELECT 'SINGLE_PERSON_TICKET', 'ticket', l.ticket_id, '' FROM live l
  WHERE (SELECT count(*) FROM ticket_people tp WHERE tp.ticket_id = l.ticket_id) < 2
UNION ALL SELECT DISTINCT 'OUTSIDE_WINDOW', 'order', o.order_id, l.ticket_id FROM ticket_orders t
  JOIN orders o USING (order_id) JOIN live l ON l.ticket_id = t.ticket_id WHERE o.s < l.p OR o.e > l.e
UNION ALL SELECT DISTINCT 'NO_SAFETY_EXAM', 'order', w.order_id, w.person FROM order_workers w WHERE NOT {has('safety_exam', 'w.person', 'w.d')}
UNION ALL SELECT 'NO_SAFETY_EXAM', 'ticket', l.ticket_id, tp.person FROM ticket_people tp JOIN live l USING (ticket_id)
  WHERE l.p IS NOT NULL AND NOT {has('safety_exam', 'tp.person', 'l.p::DATE')}
UNION ALL SELECT 'NOT_AUTHORIZED_LEADER', 'ticket', ticket_id, leader FROM live l WHERE p IS NOT NULL AND NOT {has('work_leader', 'l.leader', 'l.p::DATE')}
UNION ALL SELECT 'NOT_AUTHORIZED_ISSUER', 'ticket', ticket_id, issuer FROM live l WHERE p IS NOT NULL AND NOT {has('ticket_issuer', 'l.issuer', 'l.p::DATE')}
UNION ALL SELECT 'NOT_AUTHORIZED_PERMITTER', 'ticket', ticket_id, permitter FROM live l WHERE p IS NOT NULL AND NOT {has('work_permitter', 'l.permitter', 'l.p::DATE')}
UNION ALL SELECT 'ISSUER_IS_LEADER', 'ticket', ticket_id, issuer FROM live WHERE issuer <> '' AND issuer = leader
UNION ALL SELECT 'PERMITTER_IS_LEADER', 'ticket', ticket_id, permitter FROM live WHERE permitter <> '' AND permitter = leader
UNION ALL SELECT 'PERMITTER_IS_ISSUER', 'ticket', ticket_id, permitter FROM live WHERE permitter <> '' AND permitter = issuer
UNION ALL SELECT DISTINCT 'CONTRACTOR_NO_COSIGN', 'ticket', l.ticket_id, '' FROM live l JOIN ticket_people tp USING (ticket_id)
  JOIN persons pe ON pe.person_id = tp.person WHERE pe.contractor_id IS NOT NULL AND l.co_issuer = ''
UNION ALL SELECT DISTINCT 'CONTRACTOR_NO_AGREEMENT', 'ticket', l.ticket_id, pe.contractor_id FROM live l JOIN ticket_people tp USING (ticket_id)
  JOIN persons pe ON pe.person_id = tp.person WHERE pe.contractor_id IS NOT NULL AND l.p IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.contractor_id = pe.contractor_id AND a.f <= l.p::DATE AND l.p::DATE <= a.t)
UNION ALL SELECT DISTINCT 'CONTRACTOR_LICENSE_EXPIRED', 'ticket', l.ticket_id, pe.contractor_id FROM live l JOIN ticket_people tp USING (ticket_id)
  JOIN persons pe ON pe.person_id = tp.person WHERE pe.contractor_id IS NOT NULL AND l.p IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM contractors c WHERE c.contractor_id = pe.contractor_id AND l.p::DATE <= c.lic)
UNION ALL SELECT 'PERSON_DOUBLE_BOOKED', 'ticket', ticket_id, person FROM (
  SELECT tp.person, l.ticket_id, l.p, max(CASE WHEN l.status = 'open' OR l.e IS NULL THEN TIMESTAMP 'infinity' ELSE l.e END)
    OVER (PARTITION BY tp.person ORDER BY l.p, l.ticket_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_end
  FROM ticket_people tp JOIN live l USING (ticket_id) WHERE l.p IS NOT NULL) WHERE before_end > p
UNION ALL SELECT 'EVENT_WITHOUT_TICKET', 'event', e.event_id, e.customer_id FROM events e
  WHERE e.kind IN ('cover_open', 'terminal_cover_open') AND NOT EXISTS (SELECT 1 FROM live l WHERE l.customer_id = e.customer_id
    AND l.p - INTERVAL 30 MINUTE <= e.at AND (l.e IS NULL OR e.at <= l.e + INTERVAL 30 MINUTE))
UNION ALL SELECT 'UNEVALUATED', 'ticket', l.ticket_id, '' FROM live l WHERE l.status = 'ended' AND coalesce(l.evaluation, '') = ''
  AND l.e < (DATE '{as_of}' - INTERVAL 7 DAY) AND EXISTS (SELECT 1 FROM ticket_orders t JOIN orders o USING (order_id)
    WHERE t.ticket_id = l.ticket_id AND o.order_type IN ('new_connection', 'capacity_change', 'meter_install'))
"""
con.execute(f"COPY (SELECT DISTINCT r, k, id, s FROM ({findings}) ORDER BY r, k, id, s) TO '{out}' (HEADER false, QUOTE '', ESCAPE '')")
