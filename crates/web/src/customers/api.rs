//! (API added below)
