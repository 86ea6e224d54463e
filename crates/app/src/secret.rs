//! Random secrets and their stored hashes.

use sha2::{Digest, Sha256};

use crate::AppError;

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(hex(&buf))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The stored form of a session id or API token: its SHA-256. The value itself is random and
/// long, so no salt or slow hash is needed, and lookups stay an index probe.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A password people can type from a printed sheet: no 0/O, 1/l/I; always meets the 等保 profile.
pub fn generate_password() -> Result<String, AppError> {
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const OTHER: &[u8] = b"-_.#";
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    let sets = [LOWER, UPPER, DIGIT, LOWER, UPPER, DIGIT, OTHER, LOWER, UPPER, DIGIT, LOWER, UPPER, DIGIT, LOWER];
    Ok(sets.iter().zip(buf).map(|(set, b)| char::from(set[usize::from(b) % set.len()])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_generated_passwords_meet_policy() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("zz"), None);
        let policy = gridsafe_domain::password::PasswordPolicy {
            profile: gridsafe_domain::password::PasswordProfile::Dengbao3,
            max_age_days: None,
        };
        for _ in 0..50 {
            let pw = generate_password().expect("random");
            assert!(policy.problems("admin", &pw).is_empty(), "{pw}");
        }
    }
}
