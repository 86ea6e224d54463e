//! Reading export tables: cells, headers, values, and errors that say where.

pub(crate) mod tables;

pub use gridsafe_sheet::{
    Bound, Cell, InputError, Limits, Problem, QUOTED_CHARS, RawRow, RawTable, parse_date, parse_datetime, parse_list,
    quoted, read_csv, read_xlsx,
};
pub use tables::{
    Contractor, Evaluation, EventKind, MeterEvent, ORDER_TYPES, OrderType, Person, Qualification, SafetyAgreement,
    TableKind, Tables, Ticket, TicketStatus, WorkOrder, read_table,
};
