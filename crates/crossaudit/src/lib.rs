//! The marketing-system export format and the cross-audit engine (营销倒查).
//!
//! [`input`] reads an export of the marketing and metering systems
//! (`shared/spec/marketing-export.md`): CSV (UTF-8 with or without BOM, or GBK/GB18030) or
//! `.xlsx`, English or Chinese headers, into typed tables, naming file, line, column and value
//! for anything it cannot read. The application imports people, qualifications, contractors
//! and agreements through it; the cross-audit engine will evaluate the rules of
//! `shared/spec/cross-audit.md` over all of its tables.

pub mod engine;
pub mod export;
pub mod fast;
pub mod generate;
pub mod input;
pub mod partition;
