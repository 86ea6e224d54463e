//! The timing rules of accounts: sessions, lockout, dormancy. All take "now" as an argument.

use chrono::Duration;

use crate::time::Timestamp;

/// How long a signed-in session lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ended after this long without a request (default 30 minutes).
    pub idle: Duration,
    /// Ended this long after sign-in, however active (default 12 hours).
    pub absolute: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    pub fn state(&self, created: Timestamp, last_seen: Timestamp, now: Timestamp) -> SessionState {
        if now.as_utc() - created.as_utc() >= self.absolute {
            SessionState::AbsoluteExpired
        } else if now.as_utc() - last_seen.as_utc() >= self.idle {
            SessionState::IdleExpired
        } else {
            SessionState::Active
        }
    }
}

/// How recently a browser session must have proved its password to sign work without typing
/// it again (签发、许可、终结).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// A password typed at sign-in or at a signature counts for this long; zero: every
    /// signature asks for it.
    pub window: Duration,
}

impl SignaturePolicy {
    /// Whether a signature at `now` must ask for the password, the session's password last
    /// proved at `authenticated_at`.
    pub fn asks_password(&self, authenticated_at: Timestamp, now: Timestamp) -> bool {
        self.window <= Duration::zero() || now.as_utc() - authenticated_at.as_utc() >= self.window
    }
}

/// Failed sign-ins before an account is locked, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

/// The account's state after one more failed sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

impl LockoutPolicy {
    pub fn after_failure(&self, failures_before: u32, now: Timestamp) -> AfterFailure {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            AfterFailure { failures: 0, locked_until: Some(Timestamp::from_utc(now.as_utc() + self.lock_for)) }
        } else {
            AfterFailure { failures, locked_until: None }
        }
    }

    pub fn is_locked(locked_until: Option<Timestamp>, now: Timestamp) -> bool {
        locked_until.is_some_and(|until| now < until)
    }
}

/// When an unused account is flagged and then disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DormancyPolicy {
    /// Days without a sign-in before the account is flagged (default 180).
    pub inactive_days: u32,
    /// Days between the flag and disabling, for the owner to sign in or object (default 14).
    pub notice_days: u32,
}

/// What the daily dormancy job does with one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DormancyStep {
    Nothing,
    Flag,
    Disable,
}

impl DormancyPolicy {
    /// `last_activity` is the last sign-in, or the account's creation if it never signed in;
    /// a sign-in after the flag clears it (the service clears `flagged_at` at sign-in).
    pub fn step(&self, last_activity: Timestamp, flagged_at: Option<Timestamp>, now: Timestamp) -> DormancyStep {
        let inactive = now.as_utc() - last_activity.as_utc() >= Duration::days(i64::from(self.inactive_days));
        match flagged_at {
            _ if !inactive => DormancyStep::Nothing,
            None => DormancyStep::Flag,
            Some(flagged) if now.as_utc() - flagged.as_utc() >= Duration::days(i64::from(self.notice_days)) => {
                DormancyStep::Disable
            }
            Some(_) => DormancyStep::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::from_db(s).expect("timestamp")
    }

    #[test]
    fn a_signature_asks_for_the_password_once_the_window_has_passed() {
        let proved = at("2026-11-26T08:00:00.000000Z");
        let later = |m: i64| Timestamp::from_utc(proved.as_utc() + Duration::minutes(m));
        let policy = SignaturePolicy { window: Duration::minutes(15) };
        assert!(!policy.asks_password(proved, proved));
        assert!(!policy.asks_password(proved, later(14)));
        assert!(policy.asks_password(proved, later(15)));
        let always = SignaturePolicy { window: Duration::zero() };
        assert!(always.asks_password(proved, proved));
    }

    #[test]
    fn sessions_end_idle_or_absolute() {
        let p = SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) };
        let t0 = at("2026-01-01T00:00:00.000000Z");
        assert_eq!(p.state(t0, t0, at("2026-01-01T00:29:59.000000Z")), SessionState::Active);
        assert_eq!(p.state(t0, t0, at("2026-01-01T00:30:00.000000Z")), SessionState::IdleExpired);
        let busy = at("2026-01-01T11:59:00.000000Z");
        assert_eq!(p.state(t0, busy, at("2026-01-01T11:59:30.000000Z")), SessionState::Active);
        assert_eq!(p.state(t0, busy, at("2026-01-01T12:00:00.000000Z")), SessionState::AbsoluteExpired);
    }

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes() {
        let p = LockoutPolicy { max_failures: 5, lock_for: Duration::minutes(15) };
        let now = at("2026-01-01T08:00:00.000000Z");
        assert_eq!(p.after_failure(3, now), AfterFailure { failures: 4, locked_until: None });
        let locked = p.after_failure(4, now);
        assert_eq!(locked.locked_until, Some(at("2026-01-01T08:15:00.000000Z")));
        assert!(LockoutPolicy::is_locked(locked.locked_until, at("2026-01-01T08:14:59.000000Z")));
        assert!(!LockoutPolicy::is_locked(locked.locked_until, at("2026-01-01T08:15:00.000000Z")));
    }

    #[test]
    fn dormant_accounts_are_flagged_then_disabled() {
        let p = DormancyPolicy { inactive_days: 180, notice_days: 14 };
        let last = at("2026-01-01T00:00:00.000000Z");
        assert_eq!(p.step(last, None, at("2026-06-29T23:59:59.000000Z")), DormancyStep::Nothing);
        let day180 = at("2026-06-30T00:00:00.000000Z");
        assert_eq!(p.step(last, None, day180), DormancyStep::Flag);
        assert_eq!(p.step(last, Some(day180), at("2026-07-13T23:00:00.000000Z")), DormancyStep::Nothing);
        assert_eq!(p.step(last, Some(day180), at("2026-07-14T00:00:00.000000Z")), DormancyStep::Disable);
    }
}
