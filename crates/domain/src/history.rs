//! History moving in: what makes a line of an old register (the ticket register, the hazard
//! ledger, the inspection history) acceptable with its real dates, and what state it stands in
//! once imported. An imported record is never signed again: its steps are what the register says
//! happened, on the days it says.

use chrono::{NaiveDate, NaiveDateTime};

use crate::hazards::HazardState;
use crate::tickets::evaluation::Verdict;

/// Which register a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// 工作票登记簿
    Tickets,
    /// 隐患台账
    Hazards,
    /// 用电检查记录
    Inspections,
}

impl Register {
    pub const ALL: [Register; 3] = [Register::Tickets, Register::Hazards, Register::Inspections];

    pub fn code(self) -> &'static str {
        match self {
            Register::Tickets => "tickets",
            Register::Hazards => "hazards",
            Register::Inspections => "inspections",
        }
    }

    pub fn parse(code: &str) -> Option<Register> {
        Register::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Why a date of a line cannot be as the register says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    /// After now: a register records what happened.
    Future,
    /// Before the step it must follow (`earlier` names that step's field).
    Before { earlier: &'static str },
}

/// The times of a ticket's steps as the register gives them.
#[derive(Debug, Clone, Copy)]
pub struct TicketTimes {
    pub planned_start: NaiveDateTime,
    pub planned_end: NaiveDateTime,
    pub issued: Option<NaiveDateTime>,
    pub permitted: Option<NaiveDateTime>,
    pub finished: NaiveDateTime,
}

/// The ticket's steps in their order and none after `now` (local time): each problem with the
/// field it is in.
pub fn check_ticket_times(t: &TicketTimes, now: NaiveDateTime) -> Vec<(&'static str, DateProblem)> {
    let mut problems = Vec::new();
    if t.planned_end < t.planned_start {
        problems.push(("planned_end", DateProblem::Before { earlier: "planned_start" }));
    }
    let steps = [("issued_at", t.issued), ("permitted_at", t.permitted), ("finished_at", Some(t.finished))];
    let mut last: Option<(&'static str, NaiveDateTime)> = None;
    for (field, at) in steps {
        let Some(at) = at else { continue };
        if at > now {
            problems.push((field, DateProblem::Future));
        }
        if let Some((earlier, before)) = last
            && at < before
        {
            problems.push((field, DateProblem::Before { earlier }));
        }
        last = Some((field, at));
    }
    problems
}

/// The days of a hazard as the ledger gives them.
#[derive(Debug, Clone, Copy)]
pub struct HazardDays {
    pub registered: NaiveDate,
    pub deadline: NaiveDate,
    /// 整改通知书送达 (customer side) or the plan made (grid side).
    pub notified: Option<NaiveDate>,
    /// 客户签收
    pub receipt: Option<NaiveDate>,
    /// 报备政府电力管理部门
    pub filed: Option<NaiveDate>,
    /// 销号
    pub closed: Option<NaiveDate>,
}

/// None of the days after `today` but the deadline, and none before the registration.
pub fn check_hazard_days(d: &HazardDays, today: NaiveDate) -> Vec<(&'static str, DateProblem)> {
    let mut problems = Vec::new();
    if d.registered > today {
        problems.push(("registered_on", DateProblem::Future));
    }
    if d.deadline < d.registered {
        problems.push(("deadline", DateProblem::Before { earlier: "registered_on" }));
    }
    for (field, day) in
        [("notified_on", d.notified), ("receipt_on", d.receipt), ("filed_on", d.filed), ("closed_on", d.closed)]
    {
        let Some(day) = day else { continue };
        if day > today {
            problems.push((field, DateProblem::Future));
        }
        if day < d.registered {
            problems.push((field, DateProblem::Before { earlier: "registered_on" }));
        }
    }
    problems
}

/// Where an imported hazard stands: closed when the ledger has its 销号, otherwise the furthest
/// step it records (filed, receipt signed, notified or planned, registered). An open one is then
/// overdue, escalated and on the to-do lists exactly as a native one.
pub fn hazard_state(grid_side: bool, d: &HazardDays) -> HazardState {
    match (d.closed, d.filed, d.receipt, d.notified) {
        (Some(_), ..) => HazardState::Closed,
        (None, Some(_), ..) => HazardState::Filed,
        (None, None, Some(_), _) if !grid_side => HazardState::ReceiptSigned,
        (None, None, _, Some(_)) if grid_side => HazardState::Planned,
        (None, None, _, Some(_)) => HazardState::Notified,
        _ => HazardState::Registered,
    }
}

/// An evaluation that is neither 合格 nor 不合格.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownVerdict;

/// An evaluation as registers write it: 合格 / 不合格 (or `pass` / `fail`); empty is not evaluated.
pub fn read_verdict(text: &str) -> Result<Option<Verdict>, UnknownVerdict> {
    match text.trim() {
        "" => Ok(None),
        "合格" | "pass" | "Pass" | "PASS" => Ok(Some(Verdict::Pass)),
        "不合格" | "fail" | "Fail" | "FAIL" => Ok(Some(Verdict::Fail)),
        _ => Err(UnknownVerdict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time")
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("day")
    }

    #[test]
    fn a_tickets_steps_come_in_order_and_never_after_now() {
        let ok = TicketTimes {
            planned_start: at("2025-06-03 08:00"),
            planned_end: at("2025-06-03 17:00"),
            issued: Some(at("2025-06-02 16:00")),
            permitted: Some(at("2025-06-03 08:20")),
            finished: at("2025-06-03 15:40"),
        };
        let now = at("2026-12-01 10:00");
        assert!(check_ticket_times(&ok, now).is_empty());
        let permitted_before_issue = TicketTimes { permitted: Some(at("2025-06-02 15:00")), ..ok };
        assert_eq!(
            check_ticket_times(&permitted_before_issue, now),
            vec![("permitted_at", DateProblem::Before { earlier: "issued_at" })]
        );
        // Without a permit time, the finish follows the issue.
        let finished_before_issue = TicketTimes { permitted: None, finished: at("2025-06-01 10:00"), ..ok };
        assert_eq!(
            check_ticket_times(&finished_before_issue, now),
            vec![("finished_at", DateProblem::Before { earlier: "issued_at" })]
        );
        let future = TicketTimes { finished: at("2026-12-02 10:00"), ..ok };
        assert_eq!(check_ticket_times(&future, now), vec![("finished_at", DateProblem::Future)]);
        let backwards = TicketTimes { planned_end: at("2025-06-02 08:00"), ..ok };
        assert_eq!(
            check_ticket_times(&backwards, now),
            vec![("planned_end", DateProblem::Before { earlier: "planned_start" })]
        );
    }

    #[test]
    fn a_hazards_days_and_the_state_they_leave_it_in() {
        let open = HazardDays {
            registered: day("2026-08-01"),
            deadline: day("2026-09-30"),
            notified: Some(day("2026-08-02")),
            receipt: Some(day("2026-08-03")),
            filed: None,
            closed: None,
        };
        let today = day("2026-12-01");
        assert!(check_hazard_days(&open, today).is_empty());
        assert_eq!(hazard_state(false, &open), HazardState::ReceiptSigned);
        assert_eq!(hazard_state(true, &open), HazardState::Planned);
        assert_eq!(hazard_state(false, &HazardDays { receipt: None, ..open }), HazardState::Notified);
        assert_eq!(hazard_state(false, &HazardDays { filed: Some(day("2026-08-05")), ..open }), HazardState::Filed);
        assert_eq!(hazard_state(false, &HazardDays { closed: Some(day("2026-09-20")), ..open }), HazardState::Closed);
        assert_eq!(hazard_state(false, &HazardDays { notified: None, receipt: None, ..open }), HazardState::Registered);
        // A deadline may lie ahead; nothing else may, and nothing comes before the registration.
        assert!(check_hazard_days(&HazardDays { deadline: day("2027-01-31"), ..open }, today).is_empty());
        let wrong = HazardDays { deadline: day("2026-07-01"), closed: Some(day("2026-12-05")), ..open };
        assert_eq!(
            check_hazard_days(&wrong, today),
            vec![("deadline", DateProblem::Before { earlier: "registered_on" }), ("closed_on", DateProblem::Future)]
        );
    }

    #[test]
    fn verdicts_as_registers_write_them() {
        assert_eq!(read_verdict(" 合格 "), Ok(Some(Verdict::Pass)));
        assert_eq!(read_verdict("不合格"), Ok(Some(Verdict::Fail)));
        assert_eq!(read_verdict(""), Ok(None));
        assert_eq!(read_verdict("良好"), Err(UnknownVerdict));
    }

    proptest! {
        #[test]
        fn steps_in_order_before_now_are_never_refused(start in 0i64..1_000_000, gaps in proptest::collection::vec(0i64..10_000, 4)) {
            let base = at("2024-01-01 00:00") + chrono::Duration::minutes(start);
            let issued = base;
            let permitted = issued + chrono::Duration::minutes(gaps[0]);
            let finished = permitted + chrono::Duration::minutes(gaps[1]);
            let t = TicketTimes { planned_start: issued, planned_end: issued + chrono::Duration::minutes(gaps[2]),
                                  issued: Some(issued), permitted: Some(permitted), finished };
            prop_assert!(check_ticket_times(&t, finished + chrono::Duration::minutes(gaps[3])).is_empty());
            // Any step moved before the one it follows is named, by its field.
            if gaps[0] > 0 {
                let early = TicketTimes { permitted: Some(issued - chrono::Duration::minutes(1)), ..t };
                let named = ("permitted_at", DateProblem::Before { earlier: "issued_at" });
                prop_assert!(check_ticket_times(&early, finished).contains(&named));
            }
        }
    }
}
