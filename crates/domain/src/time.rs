//! Instants and their one stored form.
//!
//! Every timestamp GridSafe stores is UTC, written by Rust in one fixed-width format on both
//! database backends, so that text comparison and range queries agree with time order.
//! Display converts to China Standard Time (+08:00, no daylight saving).

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// China Standard Time, the zone of every user and every upstream export.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// A moment in time, always UTC inside GridSafe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_utc(at: DateTime<Utc>) -> Self {
        Self(at)
    }

    pub fn as_utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// The stored form: `2026-11-26T06:43:13.590000Z`, fixed width, microseconds.
    pub fn to_db(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Reads the stored form back; `None` when the text is not a timestamp.
    pub fn from_db(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text).ok().map(|t| Self(t.with_timezone(&Utc)))
    }

    /// A wall-clock time in China Standard Time, as users and upstream exports write it.
    pub fn from_local(local: chrono::NaiveDateTime) -> Self {
        Self((local - chrono::Duration::hours(8)).and_utc())
    }

    /// The first instant of a local day.
    pub fn start_of_local_day(day: NaiveDate) -> Self {
        Self::from_local(day.and_time(chrono::NaiveTime::MIN))
    }

    /// `2026-11-26T14:43:00+08:00`: China time with its offset, for the API.
    pub fn local_iso(&self) -> String {
        use chrono::{Datelike, Timelike};
        let local = self.0.with_timezone(&CHINA);
        if !(0..=9999).contains(&local.year()) || local.nanosecond() >= 1_000_000_000 {
            // Never stored (four digits of year, no leap second): written as chrono writes it.
            return local.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        }
        let mut text = self.local_minutes('T');
        text.push(':');
        digits(&mut text, local.second(), 2);
        // China keeps one offset all year (`CHINA`).
        text.push_str("+08:00");
        text
    }

    /// `2026-11-26T14:43`, the value of an HTML `datetime-local` field.
    pub fn local_input(&self) -> String {
        self.local_minutes('T')
    }

    /// The calendar day in China Standard Time: the day rules and reports count in.
    pub fn local_date(&self) -> NaiveDate {
        self.0.with_timezone(&CHINA).date_naive()
    }

    /// `2026-11-26 14:43` in China Standard Time, for pages and exports.
    pub fn local_display(&self) -> String {
        self.local_minutes(' ')
    }

    /// The local day and minute with `between` them, written directly: a list page shows two
    /// a row, and chrono's `format` reads its pattern again each time (a twentieth of the ticket
    /// list's CPU).
    fn local_minutes(&self, between: char) -> String {
        use chrono::{Datelike, Timelike};
        let t = self.0.with_timezone(&CHINA).naive_local();
        let Ok(year @ 0..=9999) = u32::try_from(t.year()) else {
            // Never stored (the stored form has four digits of year): written as it always was.
            return format!(
                "{:04}-{:02}-{:02}{between}{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute()
            );
        };
        let mut text = String::with_capacity(25);
        digits(&mut text, year, 4);
        text.push('-');
        digits(&mut text, t.month(), 2);
        text.push('-');
        digits(&mut text, t.day(), 2);
        text.push(between);
        digits(&mut text, t.hour(), 2);
        text.push(':');
        digits(&mut text, t.minute(), 2);
        text
    }
}

/// `value`'s last `width` digits, pushed one by one: `format!` with widths was still a thirtieth
/// of the ticket list's CPU, chrono's `format` a seventh of the ticket API's.
fn digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_db())
    }
}

/// Where "now" comes from. Domain functions take instants as arguments; the application holds
/// a clock so that tests can move time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// A clock that stands still until moved: for tests and demos of expiry and escalation.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Timestamp::from_utc(guard.as_utc() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn stored_form_is_fixed_width_utc() {
        let at = Timestamp::from_utc(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("valid"));
        assert_eq!(at.to_db(), "2026-01-02T03:04:05.000000Z");
    }

    #[test]
    fn a_leap_second_is_written_as_sixty_in_the_api() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(15, 59, 59, 1_500_000_000))
            .expect("a leap second");
        assert_eq!(Timestamp::from_utc(leap.and_utc()).local_iso(), "2016-12-31T23:59:60+08:00");
    }

    #[test]
    fn local_date_crosses_midnight_in_china() {
        // 16:30 UTC is 00:30 the next day in Beijing.
        let at = Timestamp::from_utc(Utc.with_ymd_and_hms(2026, 3, 31, 16, 30, 0).single().expect("valid"));
        assert_eq!(at.local_date(), NaiveDate::from_ymd_opt(2026, 4, 1).expect("valid"));
        assert_eq!(at.local_display(), "2026-04-01 00:30");
    }

    proptest! {
        /// Text order of the stored form is time order, and it reads back exactly.
        #[test]
        fn stored_form_sorts_like_time(a in 0i64..4_102_444_800_000_000, b in 0i64..4_102_444_800_000_000) {
            let ta = Timestamp::from_utc(DateTime::from_timestamp_micros(a).expect("in range"));
            let tb = Timestamp::from_utc(DateTime::from_timestamp_micros(b).expect("in range"));
            prop_assert_eq!(ta.to_db().cmp(&tb.to_db()), ta.cmp(&tb));
            prop_assert_eq!(Timestamp::from_db(&ta.to_db()), Some(ta));
        }

        /// The local forms written by hand are what chrono's patterns write.
        #[test]
        fn local_forms_are_chronos(a in 0i64..253_402_214_400_000_000) {
            let t = Timestamp::from_utc(DateTime::from_timestamp_micros(a).expect("in range"));
            let local = t.as_utc().with_timezone(&CHINA);
            prop_assert_eq!(t.local_display(), local.format("%Y-%m-%d %H:%M").to_string());
            prop_assert_eq!(t.local_input(), local.format("%Y-%m-%dT%H:%M").to_string());
            prop_assert_eq!(t.local_iso(), local.format("%Y-%m-%dT%H:%M:%S%:z").to_string());
        }

        /// Beyond four digits of year too, the API's form is chrono's.
        #[test]
        fn the_api_form_is_chronos_in_any_year(a in -8_000_000_000_000_000_000i64..8_000_000_000_000_000_000) {
            let t = Timestamp::from_utc(DateTime::from_timestamp_micros(a).expect("in range"));
            let local = t.as_utc().with_timezone(&CHINA);
            prop_assert_eq!(t.local_iso(), local.format("%Y-%m-%dT%H:%M:%S%:z").to_string());
        }
    }
}
