//! The password policy.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Which rule set applies, chosen in the settings (`security.password_profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordProfile {
    /// 等保 level 3: at least 8 characters, three of four classes, not containing the username.
    Dengbao3,
    /// At least 8 characters.
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub profile: PasswordProfile,
    /// Days after which a password must be changed; `None` for never.
    pub max_age_days: Option<u32>,
}

/// What is wrong with a proposed password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort { min: usize },
    TooFewClasses { need: usize },
    ContainsUsername,
    TooLong { max: usize },
}

impl PasswordProblem {
    pub fn message_key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort { .. } => "password-too-short",
            PasswordProblem::TooFewClasses { .. } => "password-too-few-classes",
            PasswordProblem::ContainsUsername => "password-contains-username",
            PasswordProblem::TooLong { .. } => "password-too-long",
        }
    }
}

const MIN_LENGTH: usize = 8;
/// Long enough for any passphrase, short enough that hashing stays cheap.
const MAX_LENGTH: usize = 128;

impl PasswordPolicy {
    /// Every problem with `candidate` for account `username`; empty when acceptable.
    pub fn problems(&self, username: &str, candidate: &str) -> Vec<PasswordProblem> {
        let mut problems = Vec::new();
        let length = candidate.chars().count();
        if length < MIN_LENGTH {
            problems.push(PasswordProblem::TooShort { min: MIN_LENGTH });
        }
        if length > MAX_LENGTH {
            problems.push(PasswordProblem::TooLong { max: MAX_LENGTH });
        }
        if self.profile == PasswordProfile::Dengbao3 {
            let classes = [
                candidate.chars().any(|c| c.is_ascii_lowercase()),
                candidate.chars().any(|c| c.is_ascii_uppercase()),
                candidate.chars().any(|c| c.is_ascii_digit()),
                candidate.chars().any(|c| !c.is_ascii_alphanumeric()),
            ];
            if classes.iter().filter(|c| **c).count() < 3 {
                problems.push(PasswordProblem::TooFewClasses { need: 3 });
            }
            if !username.is_empty() && candidate.to_lowercase().contains(&username.to_lowercase()) {
                problems.push(PasswordProblem::ContainsUsername);
            }
        }
        problems
    }

    /// Whether a password set at `changed_at` must be changed at `now`.
    pub fn is_expired(&self, changed_at: Timestamp, now: Timestamp) -> bool {
        self.max_age_days.is_some_and(|days| now.as_utc() - changed_at.as_utc() >= Duration::days(i64::from(days)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L3: PasswordPolicy = PasswordPolicy { profile: PasswordProfile::Dengbao3, max_age_days: Some(90) };

    #[test]
    fn level_three_profile() {
        assert!(L3.problems("zhangwei", "Gs-2026-safe").is_empty());
        assert_eq!(L3.problems("zhangwei", "Ab1-xyz"), [PasswordProblem::TooShort { min: 8 }]);
        assert_eq!(L3.problems("zhangwei", "abcdefgh1"), [PasswordProblem::TooFewClasses { need: 3 }]);
        assert_eq!(L3.problems("zhangwei", "ZhangWei#2026"), [PasswordProblem::ContainsUsername]);
        // Chinese characters count as characters (and as the "other" class).
        assert!(L3.problems("u", "安全第一abc1").is_empty());
        let basic = PasswordPolicy { profile: PasswordProfile::Basic, max_age_days: None };
        assert!(basic.problems("u", "abcdefgh").is_empty());
    }

    #[test]
    fn expiry_on_the_boundary_day() {
        let t0 = Timestamp::from_db("2026-01-01T00:00:00.000000Z").expect("ts");
        let day89 = Timestamp::from_db("2026-03-31T23:59:59.000000Z").expect("ts");
        let day90 = Timestamp::from_db("2026-04-01T00:00:00.000000Z").expect("ts");
        assert!(!L3.is_expired(t0, day89));
        assert!(L3.is_expired(t0, day90));
        let never = PasswordPolicy { max_age_days: None, ..L3 };
        assert!(!never.is_expired(t0, day90));
    }
}
