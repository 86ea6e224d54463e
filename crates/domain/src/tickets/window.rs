//! The time a ticket covers, defined once: the span it authorises work in (what the cross-audit
//! checks orders and meter events against) and the span it holds its people for (what the
//! lifecycle's overlap check uses). A ticket at 工作终结 authorises no work after its work ended;
//! closing it stays its permit giver's duty, and a late closing is flagged, not stamped.

use serde::Serialize;

use super::State;
use crate::time::Timestamp;

/// When a ticket was planned for and what happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Times {
    pub state: State,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub extended_to: Option<Timestamp>,
    /// The signed 许可.
    pub permitted_at: Option<Timestamp>,
    /// The signed 工作终结: work ended and the people left the equipment.
    pub work_ended_at: Option<Timestamp>,
    /// 终结, 未执行 or 作废.
    pub finished_at: Option<Timestamp>,
}

/// A span of time from `from`, to `until` inclusive, or open while `until` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
}

impl Times {
    /// The end of the validity: the extension's, else the planned end.
    pub fn end(&self) -> Timestamp {
        self.extended_to.unwrap_or(self.planned_end)
    }

    /// The span the ticket authorises work in (安规: from the permit to the end of the work):
    /// from its 许可 to its 工作终结, or to its closure when no work end was recorded; open while
    /// the work goes on. A ticket never permitted, 未执行 or 作废 authorises nothing
    /// (`cross-audit.md`: only `open` and `ended` tickets are live).
    pub fn authorised(&self) -> Option<Span> {
        let from = self.permitted_at?;
        match self.state {
            State::Permitted | State::Started | State::Interrupted => Some(Span { from, until: None }),
            State::WorkEnded | State::Closed => Some(Span { from, until: self.work_ended_at.or(self.finished_at) }),
            State::Draft | State::Issued | State::Received | State::NotExecuted | State::Void => None,
        }
    }

    /// The span the ticket holds its leader and crew for: from its planned start (or its permit,
    /// if earlier) to the end of its validity while work may still happen, or to the end of the
    /// work once it ended. Drafts, 未执行 and 作废 tickets hold nobody.
    pub fn holds(&self) -> Option<(Timestamp, Timestamp)> {
        let from = self.permitted_at.map_or(self.planned_start, |p| p.min(self.planned_start));
        match self.state {
            State::Issued | State::Received | State::Permitted | State::Started | State::Interrupted => {
                Some((from, self.end()))
            }
            State::WorkEnded | State::Closed => {
                Some((from, self.work_ended_at.or(self.finished_at).unwrap_or_else(|| self.end())))
            }
            State::Draft | State::NotExecuted | State::Void => None,
        }
    }

    /// Left at 工作终结 past its validity: the permit giver has not closed it (安规: the ticket
    /// ends only when the permit giver has restored the safety measures and signed).
    pub fn close_overdue(&self, now: Timestamp) -> bool {
        self.state == State::WorkEnded && now > self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;

    fn at(hour: i64) -> Timestamp {
        Timestamp::from_utc(
            Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).single().expect("valid") + Duration::hours(hour),
        )
    }

    fn times(state: State) -> Times {
        Times {
            state,
            planned_start: at(1),
            planned_end: at(9),
            extended_to: None,
            permitted_at: Some(at(2)),
            work_ended_at: Some(at(5)),
            finished_at: Some(at(6)),
        }
    }

    #[test]
    fn work_ended_authorises_up_to_the_work_end_only() {
        let t = times(State::WorkEnded);
        assert_eq!(t.authorised(), Some(Span { from: at(2), until: Some(at(5)) }));
        assert_eq!(t.holds(), Some((at(1), at(5))));
        assert!(!t.close_overdue(at(9)), "on the last minute of its validity");
        assert!(t.close_overdue(at(10)));
        assert!(!times(State::Closed).close_overdue(at(30)));
    }

    #[test]
    fn open_work_has_no_end_and_dead_tickets_authorise_nothing() {
        let started = Times { work_ended_at: None, finished_at: None, ..times(State::Started) };
        assert_eq!(started.authorised(), Some(Span { from: at(2), until: None }));
        assert_eq!(started.holds(), Some((at(1), at(9))));
        for s in [State::Draft, State::Issued, State::Received, State::NotExecuted, State::Void] {
            assert_eq!(times(s).authorised(), None, "{s:?}");
        }
        assert_eq!(Times { permitted_at: None, ..times(State::Closed) }.authorised(), None);
        let issued = Times { permitted_at: None, ..times(State::Issued) };
        assert_eq!(issued.holds(), Some((at(1), at(9))), "reserved for its planned window");
        // A closure without a recorded work end (an imported history) ends at the closure.
        let closed = Times { work_ended_at: None, ..times(State::Closed) };
        assert_eq!(closed.authorised().and_then(|s| s.until), Some(at(6)));
    }

    proptest! {
        /// What a ticket authorises lies within what it holds, and ends no later than the work.
        #[test]
        fn authorised_within_held(state in 0usize..10, permit in 0i64..12, ended in 0i64..12, ext in proptest::option::of(9i64..20)) {
            let t = Times {
                state: State::ALL[state],
                planned_start: at(1),
                planned_end: at(9),
                extended_to: ext.map(at),
                permitted_at: Some(at(permit)),
                work_ended_at: Some(at(permit.max(ended))),
                finished_at: Some(at(permit.max(ended) + 1)),
            };
            if let (Some(a), Some((from, until))) = (t.authorised(), t.holds()) {
                prop_assert!(from <= a.from);
                if let Some(end) = a.until { prop_assert!(end <= until); }
            }
            if t.authorised().is_some() { prop_assert!(t.holds().is_some()); }
        }
    }
}
