//! Outages for customer work (停电申请) and restoration (送电).
//!
//! An outage is requested by the customers' customer manager only (一口对外), for a window, with
//! its customers and the tickets of the work done during it. A planned outage is announced at
//! least seven days ahead and a temporary one at least 24 hours ahead (both configurable); a
//! request later than that needs the unit's manager's approval with its reason. Supply is cut
//! only after every important customer has signed the outage notice and every other customer has
//! been told; it is restored only after the leader of every ticket on the outage has reported the
//! work ended and the people off the equipment, confirmed by the permit giver: restoring at an
//! agreed time without that report is 约时送电, a named violation.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};
use crate::tickets::State as TicketState;
use crate::time::Timestamp;

/// Why supply is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageKind {
    /// 计划停电: announced at least the planned notice ahead.
    Planned,
    /// 临时停电: at least the temporary notice ahead.
    Temporary,
    /// 故障停电: no notice ahead; customers are told as soon as possible.
    Fault,
}

impl OutageKind {
    pub const ALL: [OutageKind; 3] = [OutageKind::Planned, OutageKind::Temporary, OutageKind::Fault];

    pub fn code(self) -> &'static str {
        match self {
            OutageKind::Planned => "planned",
            OutageKind::Temporary => "temporary",
            OutageKind::Fault => "fault",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Where an outage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageState {
    /// 待审批: requested later than the notice allows; the unit's manager decides.
    Pending,
    /// 已安排: notices go out; supply is cut when they are all in.
    Scheduled,
    /// 已停电
    Cut,
    /// 已送电
    Restored,
    /// 已取消
    Cancelled,
}

impl OutageState {
    pub const ALL: [OutageState; 5] =
        [OutageState::Pending, OutageState::Scheduled, OutageState::Cut, OutageState::Restored, OutageState::Cancelled];

    pub fn code(self) -> &'static str {
        match self {
            OutageState::Pending => "pending",
            OutageState::Scheduled => "scheduled",
            OutageState::Cut => "cut",
            OutageState::Restored => "restored",
            OutageState::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// How far ahead customers are told, in hours (configurable; the defaults' origin is the rule's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRule {
    pub planned_hours: i64,
    pub temporary_hours: i64,
}

impl Default for NoticeRule {
    fn default() -> Self {
        Self { planned_hours: 7 * 24, temporary_hours: 24 }
    }
}

impl NoticeRule {
    /// The notice an outage of `kind` needs; none for a fault.
    pub fn needed(self, kind: OutageKind) -> Option<Duration> {
        match kind {
            OutageKind::Planned => Some(Duration::hours(self.planned_hours)),
            OutageKind::Temporary => Some(Duration::hours(self.temporary_hours)),
            OutageKind::Fault => None,
        }
    }
}

/// The state a request made at `now` for a window starting at `start` enters: scheduled when
/// the notice is long enough (or none is needed), pending the manager's approval when it is late
/// and a reason is given, refused when late without one.
pub fn check_request(
    kind: OutageKind,
    now: Timestamp,
    start: Timestamp,
    rule: NoticeRule,
    late_reason: &str,
) -> Result<OutageState, Violation> {
    let Some(needed) = rule.needed(kind) else {
        return Ok(OutageState::Scheduled);
    };
    let lead = start.as_utc() - now.as_utc();
    if lead >= needed {
        return Ok(OutageState::Scheduled);
    }
    if late_reason.trim().is_empty() {
        return Err(Violation::of(rules::OUTAGE_NOTICE_LATE)
            .with("needed_hours", needed.num_hours())
            .with("lead_hours", lead.num_hours().max(0)));
    }
    Ok(OutageState::Pending)
}

/// A step on an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageStep {
    /// 审批: the unit's manager approves a late request (not its requester).
    Approve,
    /// 停电: every notice is in.
    Cut,
    /// 送电: every ticket's work ended, confirmed by the permit giver.
    Restore,
    /// 取消, with a reason, before supply is cut.
    Cancel,
}

impl OutageStep {
    pub const ALL: [OutageStep; 4] = [OutageStep::Approve, OutageStep::Cut, OutageStep::Restore, OutageStep::Cancel];

    pub fn code(self) -> &'static str {
        match self {
            OutageStep::Approve => "approve",
            OutageStep::Cut => "cut",
            OutageStep::Restore => "restore",
            OutageStep::Cancel => "cancel",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A customer on an outage, as the cut decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    /// 户号
    pub account_no: String,
    /// An important customer (any grade) signs the written notice.
    pub important: bool,
    /// The notice was signed for (a scan of the signed notice kept).
    pub signed: bool,
    /// Told another way (phone, SMS, announcement), recorded with its time.
    pub told: bool,
}

/// A ticket on an outage, as restoration decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnOutage {
    pub number: String,
    pub state: TicketState,
}

impl OnOutage {
    /// Its leader has reported the work ended and the people off, or it never started.
    pub fn clear(&self) -> bool {
        matches!(
            self.state,
            TicketState::WorkEnded | TicketState::Closed | TicketState::NotExecuted | TicketState::Void
        )
    }
}

/// The facts a step decides on, loaded inside the transaction that takes it.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub customers: Vec<Notified>,
    pub tickets: Vec<OnOutage>,
}

/// The state `step` leads to from `state`, or every reason why not. `by_requester` says whether
/// the one taking it requested the outage.
pub fn check_step(
    state: OutageState,
    kind: OutageKind,
    step: OutageStep,
    by_requester: bool,
    facts: &Facts,
) -> Result<OutageState, Vec<Violation>> {
    let wrong =
        || vec![Violation::of(rules::OUTAGE_STATE).with("outage_step", step.code()).with("outage_state", state.code())];
    match (state, step) {
        (OutageState::Pending, OutageStep::Approve) if by_requester => Err(vec![Violation::of(rules::OUTAGE_APPROVER)]),
        (OutageState::Pending, OutageStep::Approve) => Ok(OutageState::Scheduled),
        (OutageState::Scheduled, OutageStep::Cut) => {
            // A fault cannot wait for signatures: customers are told as soon as possible.
            let missing: Vec<Violation> = match kind {
                OutageKind::Fault => Vec::new(),
                _ => facts
                    .customers
                    .iter()
                    .filter_map(|c| match (c.important, c.signed, c.told) {
                        (true, false, _) => {
                            Some(Violation::of(rules::OUTAGE_NOTICE_SIGNED).with("customer", &c.account_no))
                        }
                        (false, false, false) => {
                            Some(Violation::of(rules::OUTAGE_NOTICE_TOLD).with("customer", &c.account_no))
                        }
                        _ => None,
                    })
                    .collect(),
            };
            if missing.is_empty() { Ok(OutageState::Cut) } else { Err(missing) }
        }
        (OutageState::Cut, OutageStep::Restore) => {
            let open: Vec<Violation> = facts
                .tickets
                .iter()
                .filter(|t| !t.clear())
                .map(|t| Violation::of(rules::OUTAGE_TIMED).with("open_ticket", &t.number))
                .collect();
            if open.is_empty() { Ok(OutageState::Restored) } else { Err(open) }
        }
        (OutageState::Pending | OutageState::Scheduled, OutageStep::Cancel) => Ok(OutageState::Cancelled),
        _ => Err(wrong()),
    }
}

/// How long supply stayed off beyond the announced end; none when restored in time.
pub fn overrun(announced_end: Timestamp, restored_at: Timestamp) -> Option<Duration> {
    let over = restored_at.as_utc() - announced_end.as_utc();
    (over > Duration::zero()).then_some(over)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    fn t(minutes: i64) -> Timestamp {
        Timestamp::from_utc(
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("base") + Duration::minutes(minutes),
        )
    }

    fn code(r: Result<OutageState, Violation>) -> Result<OutageState, &'static str> {
        r.map_err(|v| v.rule.code)
    }

    #[test]
    fn a_planned_outage_is_announced_seven_days_ahead_to_the_minute() {
        let rule = NoticeRule::default();
        let week = 7 * 24 * 60;
        assert_eq!(code(check_request(OutageKind::Planned, t(0), t(week), rule, "")), Ok(OutageState::Scheduled));
        assert_eq!(
            code(check_request(OutageKind::Planned, t(1), t(week), rule, "")),
            Err("OUTAGE_NOTICE_LATE"),
            "one minute short of seven days is late"
        );
        assert_eq!(
            code(check_request(OutageKind::Planned, t(1), t(week), rule, "抢修后恢复性试验")),
            Ok(OutageState::Pending),
            "late with a reason waits for the manager"
        );
        assert_eq!(
            code(check_request(OutageKind::Planned, t(1), t(week), rule, "   ")),
            Err("OUTAGE_NOTICE_LATE"),
            "blanks are no reason"
        );
        // Six days ahead is late for a planned outage and in time for a temporary one.
        assert_eq!(code(check_request(OutageKind::Planned, t(0), t(6 * 24 * 60), rule, "")), Err("OUTAGE_NOTICE_LATE"));
        assert_eq!(
            code(check_request(OutageKind::Temporary, t(0), t(6 * 24 * 60), rule, "")),
            Ok(OutageState::Scheduled)
        );
    }

    #[test]
    fn a_temporary_outage_is_announced_twenty_four_hours_ahead() {
        let rule = NoticeRule::default();
        assert_eq!(code(check_request(OutageKind::Temporary, t(0), t(24 * 60), rule, "")), Ok(OutageState::Scheduled));
        assert_eq!(
            code(check_request(OutageKind::Temporary, t(0), t(24 * 60 - 1), rule, "")),
            Err("OUTAGE_NOTICE_LATE")
        );
        let v = check_request(OutageKind::Temporary, t(0), t(23 * 60 + 59), rule, "").expect_err("late");
        assert_eq!(v.args, [("needed_hours", "24".to_owned()), ("lead_hours", "23".to_owned())]);
        // A window already begun is late by any measure; a fault needs no notice at all.
        assert_eq!(code(check_request(OutageKind::Temporary, t(60), t(0), rule, "")), Err("OUTAGE_NOTICE_LATE"));
        assert_eq!(code(check_request(OutageKind::Fault, t(60), t(0), rule, "")), Ok(OutageState::Scheduled));
        // The settings move the boundary.
        let two_days = NoticeRule { planned_hours: 168, temporary_hours: 48 };
        assert_eq!(
            code(check_request(OutageKind::Temporary, t(0), t(24 * 60), two_days, "")),
            Err("OUTAGE_NOTICE_LATE")
        );
    }

    fn customer(no: &str, important: bool, signed: bool, told: bool) -> Notified {
        Notified { account_no: no.into(), important, signed, told }
    }

    fn codes(r: Result<OutageState, Vec<Violation>>) -> Vec<&'static str> {
        r.err().unwrap_or_default().into_iter().map(|v| v.rule.code).collect()
    }

    #[test]
    fn supply_is_cut_only_when_every_customer_has_been_told() {
        let facts = Facts {
            customers: vec![customer("A", true, false, true), customer("B", false, false, false)],
            tickets: Vec::new(),
        };
        let cut = |f: &Facts, kind| check_step(OutageState::Scheduled, kind, OutageStep::Cut, true, f);
        assert_eq!(
            codes(cut(&facts, OutageKind::Planned)),
            ["OUTAGE_NOTICE_SIGNED", "OUTAGE_NOTICE_TOLD"],
            "a phone call is not the important customer's signature"
        );
        assert_eq!(cut(&facts, OutageKind::Fault), Ok(OutageState::Cut), "a fault does not wait");
        let ready = Facts {
            customers: vec![customer("A", true, true, false), customer("B", false, false, true)],
            tickets: Vec::new(),
        };
        assert_eq!(cut(&ready, OutageKind::Temporary), Ok(OutageState::Cut));
    }

    fn ticket(number: &str, state: TicketState) -> OnOutage {
        OnOutage { number: number.into(), state }
    }

    #[test]
    fn supply_is_restored_only_when_every_crew_has_reported_work_ended() {
        let restore = |tickets: Vec<OnOutage>| {
            let facts = Facts { customers: Vec::new(), tickets };
            check_step(OutageState::Cut, OutageKind::Planned, OutageStep::Restore, false, &facts)
        };
        let refused = restore(vec![ticket("T1", TicketState::WorkEnded), ticket("T2", TicketState::Started)])
            .expect_err("T2 is still working");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].rule.code, "OUTAGE_TIMED");
        assert_eq!(refused[0].args, [("open_ticket", "T2".to_owned())]);
        assert_eq!(codes(restore(vec![ticket("T1", TicketState::Interrupted)])), ["OUTAGE_TIMED"]);
        assert_eq!(
            restore(vec![ticket("T1", TicketState::WorkEnded), ticket("T2", TicketState::Closed)]),
            Ok(OutageState::Restored)
        );
        assert_eq!(
            restore(vec![ticket("T1", TicketState::NotExecuted), ticket("T2", TicketState::Void)]),
            Ok(OutageState::Restored),
            "work that never began keeps no one on the equipment"
        );
    }

    #[test]
    fn steps_follow_the_states() {
        let f = Facts::default();
        let step = |s, st, by| check_step(s, OutageKind::Planned, st, by, &f);
        assert_eq!(codes(step(OutageState::Pending, OutageStep::Approve, true)), ["OUTAGE_APPROVER"]);
        assert_eq!(step(OutageState::Pending, OutageStep::Approve, false), Ok(OutageState::Scheduled));
        assert_eq!(codes(step(OutageState::Pending, OutageStep::Cut, false)), ["OUTAGE_STATE"], "approve first");
        assert_eq!(codes(step(OutageState::Scheduled, OutageStep::Restore, false)), ["OUTAGE_STATE"], "cut first");
        assert_eq!(step(OutageState::Scheduled, OutageStep::Cancel, true), Ok(OutageState::Cancelled));
        assert_eq!(codes(step(OutageState::Cut, OutageStep::Cancel, true)), ["OUTAGE_STATE"], "supply is off: restore");
        assert_eq!(codes(step(OutageState::Restored, OutageStep::Restore, false)), ["OUTAGE_STATE"]);
    }

    #[test]
    fn an_overrun_is_the_time_past_the_announced_end() {
        assert_eq!(overrun(t(600), t(600)), None);
        assert_eq!(overrun(t(600), t(599)), None);
        assert_eq!(overrun(t(600), t(645)), Some(Duration::minutes(45)));
    }

    proptest! {
        /// A request is in time exactly when its lead is at least the notice its kind needs.
        #[test]
        fn in_time_exactly_when_the_lead_covers_the_notice(lead in -3000i64..20000, planned in 1i64..400, temporary in 1i64..100, kind in 0usize..3) {
            let rule = NoticeRule { planned_hours: planned, temporary_hours: temporary };
            let kind = OutageKind::ALL[kind];
            let got = check_request(kind, t(0), t(lead), rule, "");
            let needed = rule.needed(kind).map_or(i64::MIN, |d| d.num_minutes());
            prop_assert_eq!(got.is_ok(), lead >= needed);
        }
    }
}
