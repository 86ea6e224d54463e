//! Quality indicators (运行质量指标) and the monthly supervision report (运行质量监督报告), article
//! §6.4: each indicator is data (name, formula, unit, target, direction, origin); its formula is
//! arithmetic over *measures*, the counts GridSafe takes of its own records per unit and month.
//! Measures add up over units, so a unit's figure is its formula over the sums of its subtree,
//! never an average of averages.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The measures a formula may name: what GridSafe counts per unit and month.
pub const MEASURES: [&str; 26] = [
    "tickets_executed",
    "tickets_evaluated",
    "tickets_passed",
    "field_orders",
    "findings_total",
    "findings_no_ticket",
    "findings_single_person",
    "findings_confirmed",
    "findings_rectified",
    "inspections_done",
    "inspections_on_time",
    "hazards_due",
    "hazards_closed_on_time",
    "qualifications_expired",
    "accounts_dormant",
    "faults",
    "faults_restored",
    "fault_restore_minutes",
    "faults_human",
    "drills_held",
    "project_stages_done",
    "project_stages_on_time",
    "violations",
    "violations_serious",
    "starts",
    "starts_unattended",
];

/// One unit's (or a subtree's) measures for a month: absent ones are zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures(pub BTreeMap<String, i64>);

impl Measures {
    pub fn get(&self, measure: &str) -> i64 {
        self.0.get(measure).copied().unwrap_or(0)
    }

    pub fn add(&mut self, measure: &str, n: i64) {
        *self.0.entry(measure.to_owned()).or_insert(0) += n;
    }

    pub fn merge(&mut self, other: &Measures) {
        for (k, v) in &other.0 {
            self.add(k, *v);
        }
    }
}

/// Whether a higher or a lower figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }

    pub fn read(code: &str) -> Option<Self> {
        match code {
            "higher" => Some(Direction::Higher),
            "lower" => Some(Direction::Lower),
            _ => None,
        }
    }

    /// Whether `value` meets `target`.
    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Direction::Higher => value >= target - 1e-9,
            Direction::Lower => value <= target + 1e-9,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A parsed formula: numbers, measures, `+ - * /` and parentheses.
#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    Number(f64),
    Measure(String),
    Binary(Box<Formula>, Op, Box<Formula>),
}

/// Why a formula cannot be read: what, and at which character (counted from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError {
    pub position: usize,
    pub problem: FormulaProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaProblem {
    /// A name that is not a measure.
    UnknownMeasure(String),
    /// A character or token where it cannot stand.
    Unexpected(String),
    /// The formula ends too early (an operator or `(` waiting for its operand).
    UnexpectedEnd,
    /// Longer than [`MAX_FORMULA`] characters.
    TooLong,
}

/// The longest formula taken, in characters.
pub const MAX_FORMULA: usize = 300;

impl Formula {
    /// Reads `text`; every name must be one of [`MEASURES`].
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        if text.chars().count() > MAX_FORMULA {
            return Err(FormulaError { position: MAX_FORMULA + 1, problem: FormulaProblem::TooLong });
        }
        let chars: Vec<char> = text.chars().collect();
        let mut p = Parser { chars, at: 0, depth: 0 };
        let f = p.sum()?;
        p.skip_space();
        match p.peek() {
            None => Ok(f),
            Some(c) => Err(p.unexpected(c.to_string())),
        }
    }

    /// The value over `m`; none where a division by zero makes the figure meaningless (nothing
    /// was due, so nothing is on time or late).
    pub fn eval(&self, m: &Measures) -> Option<f64> {
        match self {
            Formula::Number(n) => Some(*n),
            Formula::Measure(name) => Some(m.get(name) as f64),
            Formula::Binary(a, op, b) => {
                let (a, b) = (a.eval(m)?, b.eval(m)?);
                match op {
                    Op::Add => Some(a + b),
                    Op::Sub => Some(a - b),
                    Op::Mul => Some(a * b),
                    Op::Div => (b != 0.0).then(|| a / b),
                }
            }
        }
    }

    /// The measures the formula names, each once.
    pub fn measures(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Formula::Number(_) => {}
            Formula::Measure(name) => out.push(name),
            Formula::Binary(a, _, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }
}

/// Nesting deeper than this is refused (a formula is a ratio, not a program).
const MAX_DEPTH: usize = 20;

struct Parser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn unexpected(&self, what: String) -> FormulaError {
        FormulaError { position: self.at + 1, problem: FormulaProblem::Unexpected(what) }
    }

    fn sum(&mut self) -> Result<Formula, FormulaError> {
        let mut left = self.product()?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('+') => Op::Add,
                Some('-') => Op::Sub,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.product()?;
            left = Formula::Binary(Box::new(left), op, Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Formula, FormulaError> {
        let mut left = self.atom()?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('*' | '×') => Op::Mul,
                Some('/' | '÷') => Op::Div,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.atom()?;
            left = Formula::Binary(Box::new(left), op, Box::new(right));
        }
    }

    fn atom(&mut self) -> Result<Formula, FormulaError> {
        self.skip_space();
        let start = self.at;
        match self.peek() {
            None => Err(FormulaError { position: self.at + 1, problem: FormulaProblem::UnexpectedEnd }),
            Some('(' | '（') => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.unexpected("(".into()));
                }
                self.depth += 1;
                self.at += 1;
                let inner = self.sum()?;
                self.skip_space();
                match self.peek() {
                    Some(')' | '）') => {
                        self.at += 1;
                        self.depth -= 1;
                        Ok(inner)
                    }
                    None => Err(FormulaError { position: self.at + 1, problem: FormulaProblem::UnexpectedEnd }),
                    Some(c) => Err(self.unexpected(c.to_string())),
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Formula::Number(n)),
                    _ => Err(FormulaError { position: start + 1, problem: FormulaProblem::Unexpected(text) }),
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                if MEASURES.contains(&name.as_str()) {
                    Ok(Formula::Measure(name))
                } else {
                    Err(FormulaError { position: start + 1, problem: FormulaProblem::UnknownMeasure(name) })
                }
            }
            Some(c) => Err(self.unexpected(c.to_string())),
        }
    }
}

/// A month of the calendar (China time), written `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(day: NaiveDate) -> Self {
        Self { year: day.year(), month: day.month() }
    }

    /// Reads `2026-11`; a month between 2000 and 2099 only.
    pub fn read(text: &str) -> Option<Self> {
        let (y, m) = text.trim().split_once('-')?;
        let (year, month) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
        ((2000..=2099).contains(&year) && (1..=12).contains(&month) && y.len() == 4 && m.len() == 2)
            .then_some(Self { year, month })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        Self { year: index.div_euclid(12), month: index.rem_euclid(12) as u32 + 1 }
    }

    /// `2026-11`.
    pub fn code(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// One indicator as the report reads it: its figure this month, last month and the same month
/// last year, and whether it meets its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub value: Option<f64>,
    pub last_month: Option<f64>,
    pub last_year: Option<f64>,
    /// None without a target or a value.
    pub met: Option<bool>,
}

/// The figure of a formula for this month against last month and last year.
pub fn figure(
    f: &Formula,
    target: Option<f64>,
    direction: Direction,
    now: &Measures,
    last_month: &Measures,
    last_year: &Measures,
) -> Figure {
    let value = f.eval(now);
    Figure {
        value,
        last_month: f.eval(last_month),
        last_year: f.eval(last_year),
        met: value.zip(target).map(|(v, t)| direction.meets(v, t)),
    }
}

/// A unit's place in the ranking: the share of its judged indicators (those with a target and a
/// figure) that met their target, then more targets met, then the headline indicator's value
/// (better first), then the name. A unit with nothing to judge comes last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub unit_id: i64,
    pub unit_name: String,
    pub met: usize,
    pub missed: usize,
    pub headline: Option<f64>,
}

/// Orders units best first (see [`Ranked`]); the headline's direction says what better is.
pub fn rank(mut units: Vec<Ranked>, headline: Direction) -> Vec<Ranked> {
    units.sort_by(|a, b| {
        let (ta, tb) = (a.met + a.missed, b.met + b.missed);
        // met_a / ta against met_b / tb, without division; nothing judged sorts last.
        let share = (tb > 0).cmp(&(ta > 0)).then((b.met * ta).cmp(&(a.met * tb)));
        share.then(b.met.cmp(&a.met)).then_with(|| {
            let (x, y) = (a.headline.unwrap_or(f64::NAN), b.headline.unwrap_or(f64::NAN));
            let order = match headline {
                Direction::Higher => y.partial_cmp(&x),
                Direction::Lower => x.partial_cmp(&y),
            };
            order.unwrap_or_else(|| b.headline.is_some().cmp(&a.headline.is_some())).then(a.unit_name.cmp(&b.unit_name))
        })
    });
    units
}

#[cfg(test)]
mod tests;
