//! GridSafe's domain: the business types and rules of marketing field-work safety.
//!
//! This crate is pure. It does no I/O, knows nothing of HTTP or SQL, and never reads the clock:
//! "now" and "today" are arguments, so expiries, deadlines and escalation are tested by moving
//! time. Each business area gets a module of its own as it lands.

pub mod access;
pub mod account;
pub mod customers;
pub mod emergency;
pub mod faults;
pub mod findings;
pub mod hazards;
pub mod history;
pub mod ids;
pub mod inspections;
pub mod orders;
pub mod outages;
pub mod password;
pub mod people;
pub mod plans;
pub mod projects;
pub mod quality;
pub mod risk;
pub mod rules;
pub mod supervision;
pub mod text;
pub mod tickets;
pub mod time;
pub mod webhooks;
