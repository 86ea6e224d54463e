//! The fault database (故障库) of the marketing information systems (article §6.3): every fault
//! with its time, impact, cause category and root cause, countermeasure and, for a fault of
//! human factors, the accountable person and the assessment (考核); a fault whose system and cause
//! category came back within the recurrence window is flagged.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::rules::{self, Violation};
use crate::time::Timestamp;

/// The cause category that needs an accountable person and an assessment.
pub const HUMAN: &str = "human";

/// Days within which the same system failing for the same cause category is a recurrence
/// (default; a setting).
pub const RECURRENCE_DAYS: i64 = 180;

/// Where the recurrence window comes from: for administrators.
pub const RECURRENCE_ORIGIN: &str = "文章 §6.3（建立故障分析与追究制度，总结原因与防控措施）；同一系统同类原因 180 天内再次发生视为重复发生，为本系统的默认值 [INF]";

/// What a fault decides on when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultFacts {
    pub started: Timestamp,
    pub ended: Option<Timestamp>,
    pub cause: String,
    pub accountable: bool,
    pub assessment: bool,
}

/// A fault ends after it started; one of human factors names who answers for it and how he was
/// assessed (人为因素考核).
pub fn check(f: &FaultFacts) -> Vec<Violation> {
    let mut refusals = Vec::new();
    if f.ended.is_some_and(|e| e < f.started) {
        refusals.push(Violation::of(rules::FAULT_TIMES).with("from", f.started.local_display()));
    }
    if f.cause == HUMAN && !(f.accountable && f.assessment) {
        refusals.push(Violation::of(rules::FAULT_ASSESSMENT));
    }
    refusals
}

/// Minutes from the start to the restoration; none while the fault lasts.
pub fn minutes_to_restore(started: Timestamp, ended: Option<Timestamp>) -> Option<i64> {
    ended.map(|e| (e.as_utc() - started.as_utc()).num_minutes().max(0))
}

/// A fault as the recurrence check reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub id: i64,
    pub system: String,
    pub cause: String,
    pub day: NaiveDate,
}

/// For each fault, the earlier fault of the same system and cause category within `days`
/// before it (the most recent), if any.
pub fn recurrences(faults: &[Occurrence], days: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for f in faults {
        let earlier = faults
            .iter()
            .filter(|e| e.id != f.id && e.system.trim() == f.system.trim() && e.cause == f.cause)
            .filter(|e| e.day <= f.day && (e.day > f.day - Duration::days(days)) && (e.day, e.id) < (f.day, f.id))
            .max_by_key(|e| (e.day, e.id));
        if let Some(e) = earlier {
            out.push((f.id, e.id));
        }
    }
    out
}

// ---- compliance checks (合规检查) ------------------------------------------------------------

/// When a kind of check is next due: `months` after the last one (or after `since` when none was
/// made); none for a kind checked at each change.
pub fn check_due(last: Option<NaiveDate>, since: NaiveDate, months: Option<u32>) -> Option<NaiveDate> {
    let months = months?;
    last.unwrap_or(since).checked_add_months(chrono::Months::new(months))
}

/// How a checklist item was found.
pub fn read_result(text: &str) -> Option<&'static str> {
    match text.trim() {
        "pass" => Some("pass"),
        "fail" => Some("fail"),
        "not_applicable" => Some("not_applicable"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    fn at(h: u32) -> Timestamp {
        Timestamp::from_utc(Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0).single().expect("time"))
    }

    fn occ(id: i64, system: &str, cause: &str, day: &str) -> Occurrence {
        Occurrence {
            id,
            system: system.into(),
            cause: cause.into(),
            day: NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day"),
        }
    }

    #[test]
    fn a_human_factors_fault_names_who_answers_and_how_he_was_assessed() {
        let f = FaultFacts {
            started: at(2),
            ended: Some(at(4)),
            cause: HUMAN.into(),
            accountable: true,
            assessment: false,
        };
        assert_eq!(check(&f).iter().map(|v| v.rule.code).collect::<Vec<_>>(), ["FAULT_ASSESSMENT"]);
        assert!(check(&FaultFacts { assessment: true, ..f.clone() }).is_empty());
        assert!(check(&FaultFacts { cause: "network".into(), accountable: false, ..f.clone() }).is_empty());
        let backwards = FaultFacts { ended: Some(at(1)), cause: "network".into(), ..f };
        assert_eq!(check(&backwards).iter().map(|v| v.rule.code).collect::<Vec<_>>(), ["FAULT_TIMES"]);
        assert_eq!(minutes_to_restore(at(2), Some(at(4))), Some(120));
        assert_eq!(minutes_to_restore(at(2), None), None);
    }

    #[test]
    fn the_same_system_failing_for_the_same_cause_within_the_window_recurs() {
        let faults = [
            occ(1, "营销业务应用", "software", "2026-03-01"),
            occ(2, "营销业务应用", "software", "2026-07-01"),
            occ(3, "营销业务应用", "network", "2026-07-02"),
            occ(4, "用电信息采集", "software", "2026-07-03"),
            occ(5, "营销业务应用", "software", "2027-03-01"),
        ];
        assert_eq!(recurrences(&faults, 180), [(2, 1)], "122 days: a recurrence; 243 days later: not");
        assert_eq!(recurrences(&faults, 365), [(2, 1), (5, 2)]);
    }

    #[test]
    fn a_periodic_check_is_due_its_months_after_the_last_and_a_change_check_never() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day");
        assert_eq!(check_due(Some(d("2026-09-30")), d("2026-01-01"), Some(3)), Some(d("2026-12-30")));
        assert_eq!(
            check_due(None, d("2026-11-30"), Some(3)),
            Some(d("2027-02-28")),
            "from the start, month-end clamped"
        );
        assert_eq!(check_due(Some(d("2026-09-30")), d("2026-01-01"), None), None);
        assert_eq!(read_result("fail"), Some("fail"));
        assert_eq!(read_result("maybe"), None);
    }

    proptest! {
        #[test]
        fn a_recurrence_always_points_back_within_the_window(days in proptest::collection::vec((0i64..400, 0usize..2, 0usize..2), 1..30), window in 1i64..200) {
            let systems = ["A", "B"];
            let causes = ["software", "human"];
            let faults: Vec<Occurrence> = days.iter().enumerate().map(|(i, (d, s, c))| Occurrence {
                id: i as i64,
                system: systems[*s].into(),
                cause: causes[*c].into(),
                day: NaiveDate::from_ymd_opt(2026, 1, 1).expect("day") + Duration::days(*d),
            }).collect();
            for (late, early) in recurrences(&faults, window) {
                let (l, e) = (&faults[late as usize], &faults[early as usize]);
                prop_assert_eq!(&l.system, &e.system);
                prop_assert_eq!(&l.cause, &e.cause);
                prop_assert!(e.day <= l.day && (l.day - e.day).num_days() < window);
            }
        }
    }
}
