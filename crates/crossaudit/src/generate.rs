//! A realistic export of any size, for benchmarks, demos and property tests: every table,
//! meter events included, with a small share of violations of every rule. Deterministic for a
//! seed (splitmix64; no dependency).

use std::io::Write;
use std::path::Path;

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// splitmix64: small, fast, good enough to spread test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const FIELD_TYPES: [&str; 8] = [
    "new_connection",
    "capacity_change",
    "meter_install",
    "meter_replacement",
    "meter_removal",
    "fault_repair",
    "disconnect",
    "reconnect",
];
const OTHER_TYPES: [&str; 3] = ["meter_reading", "fee_collection", "customer_visit"];

fn dt(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Writes `persons.csv` … `meter_events.csv` for `orders` work orders into `dir`.
pub fn write_export(dir: &Path, orders: usize, seed: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(seed);
    let file = |name: &str| -> std::io::Result<std::io::BufWriter<std::fs::File>> {
        Ok(std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{name}.csv")))?))
    };
    let year = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let year_end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default();

    // People: staff and contractor workers, about one per 20 orders.
    let staff = (orders / 25).max(12);
    let contractors = (orders / 5000).max(6);
    let workers_per = 8;
    let mut p = file("persons")?;
    writeln!(p, "person_id,name,org_unit,contractor_id")?;
    for i in 0..staff {
        writeln!(p, "P{i:07},员工{i},供电中心{},", i % 50)?;
    }
    for c in 0..contractors {
        for w in 0..workers_per {
            writeln!(p, "C{c:04}W{w:02},外包{c}-{w},外包队{c},C{c:04}")?;
        }
    }
    p.flush()?;
    let worker = |c: usize, w: usize| format!("C{c:04}W{w:02}");

    let mut q = file("qualifications")?;
    writeln!(q, "person_id,kind,valid_from,valid_to")?;
    let exam = |q: &mut std::io::BufWriter<std::fs::File>, id: &str, rng: &mut Rng| -> std::io::Result<()> {
        // 3 % lapse mid-year.
        let to = if rng.chance(30) { NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or(year_end) } else { year_end };
        writeln!(q, "{id},safety_exam,{year},{to}")
    };
    for i in 0..staff {
        let id = format!("P{i:07}");
        exam(&mut q, &id, &mut rng)?;
        if i % 3 == 0 {
            writeln!(q, "{id},work_leader,{year},{year_end}")?;
        }
        if i % 10 == 1 {
            writeln!(q, "{id},ticket_issuer,{year},{year_end}")?;
        }
        if i % 10 == 2 {
            writeln!(q, "{id},work_permitter,{year},{year_end}")?;
        }
    }
    for c in 0..contractors {
        for w in 0..workers_per {
            exam(&mut q, &worker(c, w), &mut rng)?;
            if w == 0 {
                writeln!(q, "{},work_leader,{year},{year_end}", worker(c, w))?;
            }
        }
    }
    q.flush()?;

    let mut c = file("contractors")?;
    writeln!(c, "contractor_id,name,license_valid_to")?;
    let mut a = file("safety_agreements")?;
    writeln!(a, "agreement_id,contractor_id,valid_from,valid_to")?;
    for k in 0..contractors {
        // One contractor in six has a licence that ran out in spring, another one an agreement
        // that ran out in summer.
        let licence = if k % 6 == 4 { "2025-03-31" } else { "2026-12-31" };
        writeln!(c, "C{k:04},承装公司{k},{licence}")?;
        let to = if k % 6 == 5 { "2025-06-30" } else { "2025-12-31" };
        writeln!(a, "A{k:04},C{k:04},2025-01-01,{to}")?;
    }
    c.flush()?;
    a.flush()?;

    let mut o = file("work_orders")?;
    writeln!(o, "order_id,order_type,customer_id,org_unit,started_at,finished_at,workers")?;
    let mut t = file("tickets")?;
    writeln!(
        t,
        "ticket_id,kind,customer_id,order_ids,issuer,co_issuer,leader,permitter,crew,permitted_at,ended_at,status,evaluation"
    )?;
    let mut e = file("meter_events")?;
    writeln!(e, "event_id,meter_id,customer_id,kind,occurred_at")?;
    let issuers: Vec<usize> = (0..staff).filter(|i| i % 10 == 1).collect();
    let permitters: Vec<usize> = (0..staff).filter(|i| i % 10 == 2).collect();
    let customers = (orders / 3).max(10) as u64;
    let mut events = 0_usize;
    for n in 0..orders {
        let customer = format!("CU{:08}", rng.below(customers));
        let field = !rng.chance(150);
        let kind = if field { FIELD_TYPES[rng.below(8) as usize] } else { OTHER_TYPES[rng.below(3) as usize] };
        let day = year + Duration::days(rng.below(365) as i64);
        let start = day.and_hms_opt(8, 0, 0).unwrap_or_default() + Duration::minutes(rng.below(540) as i64);
        let finish = start + Duration::minutes(30 + rng.below(150) as i64);
        // A crew of two or three; 2 % work alone. One order in eight is done by contractor workers.
        let contractor = rng.chance(125).then(|| rng.below(contractors as u64) as usize);
        let size = if rng.chance(20) { 1 } else { 2 + rng.below(2) as usize };
        let mut crew: Vec<String> = Vec::with_capacity(size);
        // Leaders come from the work-leader list (every third person), 1.5 % from anyone.
        let leader_index = if rng.chance(15) {
            rng.below(staff as u64) as usize
        } else {
            (rng.below(staff as u64 / 3 + 1) * 3) as usize % staff
        };
        while crew.len() < size {
            let id = match contractor {
                Some(k) if crew.is_empty() => worker(k, 0),
                Some(k) => worker(k, 1 + rng.below((workers_per - 1) as u64) as usize),
                None if crew.is_empty() => format!("P{leader_index:07}"),
                None => format!("P{:07}", rng.below(staff as u64)),
            };
            if !crew.contains(&id) {
                crew.push(id);
            }
        }
        let order_id = format!("WO{n:08}");
        writeln!(o, "{order_id},{kind},{customer},供电中心{},{},{},{}", n % 50, dt(start), dt(finish), crew.join(";"))?;
        if !field || rng.chance(40) {
            continue; // no ticket: 4 % of field orders are ticketless work
        }
        let early = rng.chance(20);
        let permitted =
            if early { start + Duration::minutes(20) } else { start - Duration::minutes(10 + rng.below(30) as i64) };
        let open = rng.chance(5);
        let ended = finish + Duration::minutes(5 + rng.below(60) as i64);
        let status = if rng.chance(10) {
            "void"
        } else if open {
            "open"
        } else {
            "ended"
        };
        let evaluation = if rng.chance(60) {
            ""
        } else if rng.chance(50) {
            "fail"
        } else {
            "pass"
        };
        let mut issuer = format!("P{:07}", issuers[rng.below(issuers.len() as u64) as usize]);
        let mut permitter = format!("P{:07}", permitters[rng.below(permitters.len() as u64) as usize]);
        if rng.chance(10) {
            issuer.clone_from(&crew[0]); // issuer doubling as leader
        }
        if rng.chance(10) {
            permitter.clone_from(&issuer);
        }
        if rng.chance(10) {
            permitter = format!("P{:07}", rng.below(staff as u64)); // maybe not on the list
        }
        let co_issuer =
            if contractor.is_some() && !rng.chance(100) { format!("P{:07}", issuers[0]) } else { String::new() };
        writeln!(
            t,
            "T{n:08},低压工作票,{customer},{order_id},{issuer},{co_issuer},{},{permitter},{},{},{},{status},{evaluation}",
            crew[0],
            crew[1..].join(";"),
            dt(permitted),
            if open { String::new() } else { dt(ended) },
        )?;
        if kind.starts_with("meter") {
            events += 1;
            writeln!(e, "E{events:08},M{n:08},{customer},cover_open,{}", dt(start + Duration::minutes(5)))?;
        }
        if rng.chance(5) {
            events += 1;
            writeln!(e, "E{events:08},M{n:08},{customer},terminal_cover_open,{}", dt(start - Duration::hours(5)))?;
        }
    }
    o.flush()?;
    t.flush()?;
    e.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_export_and_it_reads_cleanly() {
        let a = tempfile::tempdir().expect("dir");
        let b = tempfile::tempdir().expect("dir");
        write_export(a.path(), 300, 7).expect("write");
        write_export(b.path(), 300, 7).expect("write");
        for name in ["persons", "work_orders", "tickets", "meter_events"] {
            assert_eq!(
                std::fs::read(a.path().join(format!("{name}.csv"))).ok(),
                std::fs::read(b.path().join(format!("{name}.csv"))).ok(),
                "{name}"
            );
        }
        let tables = crate::export::read_export(a.path());
        assert!(tables.errors.is_empty(), "{:?}", tables.errors);
        assert_eq!(tables.work_orders.len(), 300);
    }
}
