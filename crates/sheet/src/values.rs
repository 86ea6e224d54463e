//! Values of the export format: dates, date-times, lists.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::{Cell, Problem};

fn number(part: &str, max_len: usize) -> Option<u32> {
    (!part.is_empty() && part.len() <= max_len && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.parse().ok())?
}

/// `YYYY-MM-DD` or `YYYY/MM/DD` (month and day may lack a leading zero).
fn date_text(text: &str) -> Option<NaiveDate> {
    let sep = if text.contains('-') { '-' } else { '/' };
    let mut parts = text.split(sep);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(number(y, 4)?).ok()?, number(m, 2)?, number(d, 2)?)
}

/// `HH:MM` or `HH:MM:SS`, leading zeros optional.
fn time_text(text: &str) -> Option<NaiveTime> {
    let mut parts = text.split(':');
    let (h, m) = (parts.next()?, parts.next()?);
    let s = parts.next().unwrap_or("0");
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(number(h, 2)?, number(m, 2)?, number(s, 2)?)
}

/// A date column: text as above, or a date cell of a workbook.
pub fn parse_date(cell: &Cell) -> Result<NaiveDate, Problem> {
    match cell {
        Cell::DateTime(dt) => Ok(dt.date()),
        Cell::Text(t) => date_text(t.trim()).ok_or(Problem::BadDate),
        Cell::Empty => Err(Problem::Empty),
        Cell::Number(_) => Err(Problem::BadDate),
    }
}

/// A date-time column: `YYYY-MM-DD HH:MM[:SS]` (or `/`, or an ISO `T`), or a date-time cell.
pub fn parse_datetime(cell: &Cell) -> Result<NaiveDateTime, Problem> {
    match cell {
        Cell::DateTime(dt) => Ok(*dt),
        Cell::Text(t) => {
            let t = t.trim();
            let (date, time) = t.split_once(['T', ' ']).ok_or(Problem::BadDateTime)?;
            Ok(NaiveDateTime::new(
                date_text(date).ok_or(Problem::BadDateTime)?,
                time_text(time.trim()).ok_or(Problem::BadDateTime)?,
            ))
        }
        Cell::Empty => Err(Problem::Empty),
        Cell::Number(_) => Err(Problem::BadDateTime),
    }
}

/// A list: items separated by `;`, `；` or `,`, trimmed; empty items dropped, duplicates collapsed.
pub fn parse_list(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in text.split([';', '；', ',', '，']).map(str::trim).filter(|i| !i.is_empty()) {
        if !items.iter().any(|i| i == item) {
            items.push(item.to_owned());
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let d = NaiveDate::from_ymd_opt(2025, 5, 7).expect("date");
        for form in ["2025-05-07", "2025/5/7", "2025-5-07", " 2025/05/07 "] {
            assert_eq!(parse_date(&text(form)), Ok(d), "{form}");
        }
        for bad in ["2025-13-01", "25-05-07", "2025.05.07", "2025-02-30", "2025-05-07 09:00", "yesterday"] {
            assert_eq!(parse_date(&text(bad)), Err(Problem::BadDate), "{bad}");
        }
        assert_eq!(parse_date(&Cell::Empty), Err(Problem::Empty));
    }

    #[test]
    fn date_times_in_every_accepted_form() {
        let dt = NaiveDate::from_ymd_opt(2025, 5, 7).and_then(|d| d.and_hms_opt(9, 5, 0)).expect("dt");
        for form in ["2025-05-07 09:05", "2025/5/7 9:05", "2025-05-07T09:05:00", "2025/05/07 9:5:0"] {
            assert_eq!(parse_datetime(&text(form)), Ok(dt), "{form}");
        }
        assert_eq!(parse_datetime(&text("2025-05-07")), Err(Problem::BadDateTime));
        assert_eq!(parse_datetime(&text("2025-05-07 25:00")), Err(Problem::BadDateTime));
        assert_eq!(parse_datetime(&Cell::DateTime(dt)), Ok(dt));
    }

    #[test]
    fn lists_split_trim_and_collapse() {
        assert_eq!(parse_list("P003; P004"), ["P003", "P004"]);
        assert_eq!(parse_list("P1；P2,P1;;"), ["P1", "P2"]);
        assert!(parse_list(" ; ").is_empty());
    }

    proptest! {
        /// Any real date written in any accepted form reads back as itself.
        #[test]
        fn written_dates_read_back(days in 0i64..60_000, slash in any::<bool>(), pad in any::<bool>()) {
            let d = NaiveDate::from_ymd_opt(1950, 1, 1).expect("base") + chrono::Duration::days(days);
            let form = match (slash, pad) {
                (false, true) => d.format("%Y-%m-%d").to_string(),
                (true, true) => d.format("%Y/%m/%d").to_string(),
                (false, false) => d.format("%Y-%-m-%-d").to_string(),
                (true, false) => d.format("%Y/%-m/%-d").to_string(),
            };
            prop_assert_eq!(parse_date(&text(&form)), Ok(d));
        }

        /// Parsing never panics, whatever the text.
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,40}") {
            let _ = parse_date(&text(&s));
            let _ = parse_datetime(&text(&s));
            let _ = parse_list(&s);
        }
    }
}
