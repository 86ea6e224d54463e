//! The command line's words: every command, subcommand and option, as clap reads them. The
//! dispatch (`cli`) and the commands themselves (`commands`) both read these; neither reaches
//! into the other.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::settings::LogFormat;
use clap::{Args, Parser, Subcommand};

/// GridSafe 营销安全管控平台 — safety management for a power supply company's marketing department.
#[derive(Debug, Parser)]
#[command(name = "gridsafe", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Settings file (default: ./gridsafe.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://FILE (embedded, default) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "GRIDSAFE_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format: pretty for a terminal, json for a log collector.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web pages and the API (the default).
    Serve,
    /// Apply pending database migrations (needed for PostgreSQL; automatic for SQLite).
    Migrate,
    /// Settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Accounts, from the server's command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The tamper-evident audit trail.
    #[command(subcommand, name = "audit-log")]
    AuditLog(AuditLogCommand),
    /// Import registers from the marketing system's tables.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Cross-audit an export of the marketing system (营销倒查): every field work order covered
    /// by a valid ticket, worked by two qualified people, inside the permitted window; every
    /// meter-cover event explained. Writes the findings.
    Audit(AuditArgs),
    /// Work tickets: the monthly pass rate, stamping lapsed tickets.
    #[command(subcommand)]
    Tickets(TicketsCommand),
    /// Fill a fictional supply company (units, accounts for every role, about 200 people,
    /// contractors with expired documents), then serve. Never on production data.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The export: a folder of NAME.csv / NAME.xlsx files, or one workbook with a sheet per table.
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// The audit date (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: chrono::NaiveDate,
    /// Where to write the findings.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// `csv` (the spec's findings file) or `xlsx` (a summary sheet and one sheet per rule).
    #[arg(long, value_enum, default_value = "csv")]
    pub format: AuditFormat,
    /// Skip rows with problems (each reported and counted) instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Start the CSV with a UTF-8 byte-order mark, so that Excel opens it in Chinese. The spec's
    /// findings file (the default) has none: tools that compare it byte for byte expect the header first.
    #[arg(long)]
    pub bom: bool,
    /// Peak memory to stay within, in MB. A larger export is split on disk (in a folder beside
    /// the output, removed afterwards) by customer and by person, and audited partition by
    /// partition with the same findings.
    #[arg(long, value_name = "MB", default_value_t = 4096)]
    pub memory_budget: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Csv,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only fill the demo data; do not start serving.
    #[arg(long)]
    pub no_serve: bool,
    #[command(subcommand)]
    pub command: Option<DemoCommand>,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Write a realistic marketing-system export of any size (every table, meter events
    /// included, a share of violations of every rule), for benchmarks and demos. No database.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Number of work orders.
    #[arg(long, default_value_t = 10_000)]
    pub orders: usize,
    /// Seed: the same seed writes the same export.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The folder to write the CSV files into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Instead: the demo company's own work orders and meter events, read from its database (its
    /// tickets' orders done inside their windows, and a handful of ticketless and single-person
    /// work), to import into the demo.
    #[arg(long)]
    pub company: bool,
}

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// The month's ticket pass rate (合格率) per unit, printed; with --out also as a workbook.
    Stats {
        /// The month, YYYY-MM (default: this month).
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Write the table to this .xlsx file too.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Stamp every ticket whose validity lapsed (未执行 / 作废) now; the server does this every minute.
    Lapse,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// People, qualifications, contractors and safety agreements: CSV files named after their
    /// table (persons.csv, 人员.csv, …) or workbooks with one sheet per table. All or nothing,
    /// unless --skip-invalid.
    People(ImportPeopleArgs),
    /// The marketing system's work orders and meter events (work_orders, meter_events as CSV
    /// or workbooks; a folder is read whole), all or nothing; the cross-audit runs after.
    Marketing(ImportMarketingArgs),
    /// The customer register (客户台账): CSV or workbooks with Chinese or English headers,
    /// matched by 户号 (known customers updated, new ones registered); all or nothing.
    Customers(ImportCustomersArgs),
}

#[derive(Debug, Args)]
pub struct ImportCustomersArgs {
    /// The files to import.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportMarketingArgs {
    /// Files, or a folder of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Code of the unit the data belongs to (orders naming a unit below it go there).
    #[arg(long, value_name = "CODE")]
    pub unit: String,
}

#[derive(Debug, Args)]
pub struct ImportPeopleArgs {
    /// The files to import.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Import the good rows and report the bad ones, instead of refusing everything.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Code of the unit new contractors are registered under (default: the root unit).
    #[arg(long, value_name = "CODE")]
    pub contractor_unit: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account; prints its initial password, which must be changed at first sign-in.
    CreateUser(CreateUserArgs),
    /// Give an account a new one-time password, printed here only (the way to reset a security
    /// administrator's account, which no administrator in the browser may do).
    ResetPassword {
        /// The account's sign-in name.
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// Sign-in name (letters, digits, . - _).
    #[arg(long)]
    pub username: String,
    /// Full name as shown to others.
    #[arg(long)]
    pub name: String,
    /// Code of the user's organisation unit (default: the root unit).
    #[arg(long)]
    pub unit: Option<String>,
    /// A role to grant, as ROLE or ROLE@UNITCODE; repeat for several.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// Read the initial password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditLogCommand {
    /// Check the whole chain and its signed checkpoints; names the first bad event.
    Verify,
    /// Sign a checkpoint of the chain head now.
    Checkpoint,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Start even if the database could lose committed work on a power cut.
    #[arg(long, global = true)]
    pub unsafe_durability: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the built-in defaults as a gridsafe.toml.
    PrintDefault,
}
