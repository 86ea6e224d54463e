//! The cross-audit engine (营销倒查).
//!
//! It reads an export of the marketing and metering systems (`shared/spec/marketing-export.md`)
//! and evaluates the rules of `shared/spec/cross-audit.md`: every field work order covered by a
//! valid ticket, worked by at least two qualified people inside the permitted window, with the
//! ticket's roles held by different, authorised people; every meter-cover event explained by a
//! live ticket. It is a library of its own so that the batch command and the application share
//! one implementation, and so that it can be benchmarked alone.
