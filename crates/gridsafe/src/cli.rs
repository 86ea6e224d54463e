//! The command line: `gridsafe [serve|migrate|config print-default]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use gridsafe_store::{DatabaseUrl, SchemaStatus};
use gridsafe_web::i18n::{Arg, Lang};
use tokio::net::TcpListener;

use crate::Settings;
use crate::settings::{LogFormat, SettingsError};
use crate::startup::{self, StartOptions, SystemClock};

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

/// Runs the command line; the exit code says how it went (0 ok, 1 failed, 2 bad settings).
pub fn run(cli: Cli) -> ExitCode {
    let lang = Lang::from_env();
    if let Some(Command::Config(ConfigCommand::PrintDefault)) = cli.command {
        crate::say(Settings::default_toml().trim_end());
        return ExitCode::SUCCESS;
    }
    let mut settings = match Settings::load(cli.global.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return settings_failed(lang, &error),
    };
    if let Some(url) = cli.global.database_url {
        settings.database.url = DatabaseUrl::new(url);
    }
    if let Some(format) = cli.global.log_format {
        settings.log.format = format;
    }
    let (serve, other) = match cli.command {
        Some(Command::Serve) | None => (Some(cli.global.serve.clone()), None),
        Some(other) => (None, Some(other)),
    };
    // `--listen` is global: `serve`, and `demo` (which serves after filling), both listen there.
    if let Some(listen) = cli.global.serve.listen {
        settings.server.listen = listen;
    }
    if let Err(error) = settings.validate() {
        return settings_failed(lang, &error);
    }
    init_tracing(&settings);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{}", lang.t_args("cli-failed", &[("cause", Arg::from(error.to_string()))]));
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match (serve, other) {
            (Some(args), _) => serve_command(lang, settings, args).await,
            (None, Some(Command::Admin(AdminCommand::CreateUser(args)))) => {
                crate::commands::create_user(lang, &settings, args).await
            }
            (None, Some(Command::Admin(AdminCommand::ResetPassword { username }))) => {
                crate::commands::reset_password(lang, &settings, &username).await
            }
            (None, Some(Command::AuditLog(command))) => crate::commands::audit_log(lang, &settings, command).await,
            (None, Some(Command::Import(ImportCommand::People(args)))) => {
                crate::commands::import_people(lang, &settings, args).await
            }
            (None, Some(Command::Import(ImportCommand::Marketing(args)))) => {
                crate::commands::import_marketing(lang, &settings, args).await
            }
            (None, Some(Command::Import(ImportCommand::Customers(args)))) => {
                crate::commands::import_customers(lang, &settings, args).await
            }
            (None, Some(Command::Audit(args))) => crate::audit_command::run(lang, args),
            (None, Some(Command::Tickets(command))) => crate::commands::tickets(lang, &settings, command).await,
            (None, Some(Command::Demo(DemoArgs { command: Some(DemoCommand::Export(export)), .. }))) => {
                match gridsafe_crossaudit::generate::write_export(&export.out, export.orders, export.seed) {
                    Ok(()) => {
                        crate::say(lang.t_args(
                            "demo-exported",
                            &[
                                ("orders", Arg::Number(i64::try_from(export.orders).unwrap_or(0))),
                                ("path", Arg::from(export.out.display().to_string())),
                            ],
                        ));
                        ExitCode::SUCCESS
                    }
                    Err(error) => {
                        eprintln!(
                            "{}",
                            lang.t_args(
                                "cli-cannot-write",
                                &[
                                    ("path", Arg::from(export.out.display().to_string())),
                                    ("cause", Arg::from(error.to_string()))
                                ]
                            )
                        );
                        ExitCode::FAILURE
                    }
                }
            }
            (None, Some(Command::Demo(args))) => {
                let filled = crate::commands::demo(lang, &settings).await;
                if filled != ExitCode::SUCCESS || args.no_serve {
                    return filled;
                }
                serve_command(lang, settings, cli.global.serve).await
            }
            _ => migrate_command(lang, settings).await,
        }
    })
}

fn settings_failed(lang: Lang, error: &SettingsError) -> ExitCode {
    match error {
        SettingsError::Load(cause) => {
            eprintln!("{}", lang.t_args("settings-load-failed", &[("cause", Arg::from(cause.to_string()))]));
        }
        SettingsError::Invalid(problems) => {
            eprintln!("{}", lang.t("settings-invalid"));
            for (key, problem) in problems {
                eprintln!("  {key}: {problem}");
            }
        }
    }
    ExitCode::from(2)
}

fn init_tracing(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| f.parse::<EnvFilter>().ok())
        .unwrap_or_else(|| EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

async fn serve_command(lang: Lang, settings: Settings, args: ServeArgs) -> ExitCode {
    let started = Instant::now();
    let options = StartOptions { unsafe_durability: args.unsafe_durability };
    let state = match startup::prepare(&settings, Arc::new(SystemClock), options).await {
        Ok(state) => state,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(settings.server.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "{}",
                lang.t_args(
                    "start-listen-failed",
                    &[("addr", Arg::from(settings.server.listen.to_string())), ("cause", Arg::from(error.to_string()))]
                )
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or_else(|_| settings.server.listen.to_string(), |a| a.to_string());
    tracing::info!(
        addr = %addr,
        backend = state.db().backend().name(),
        startup_ms = started.elapsed().as_millis() as u64,
        "GridSafe is listening"
    );
    match crate::commands::first_start(lang, state.app()).await {
        Ok(Some(notice)) => crate::say(notice),
        Ok(None) => {}
        Err(error) => {
            eprintln!("{}", startup::StartError::App(error).message(lang));
            return ExitCode::FAILURE;
        }
    }
    // The start goes in the checkpoint journal and the head is signed: the downtime before
    // explains a longer gap between checkpoints.
    if let Err(error) = gridsafe_app::audit::on_start(state.app(), &crate::commands::cli_meta("start")).await {
        eprintln!("{}", startup::StartError::App(error).message(lang));
        return ExitCode::FAILURE;
    }
    eprintln!("{}", lang.t_args("start-listening", &[("url", Arg::from(format!("http://{addr}/")))]));
    let scheduler = tokio::spawn(crate::commands::scheduler(state.app().clone()));
    let db = state.db().clone();
    let app = state.app().clone();
    let router = gridsafe_web::router(state);
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    scheduler.abort();
    // The last events before a stop are signed too.
    if let Err(error) = gridsafe_app::audit::checkpoint(&app).await {
        tracing::error!(error = %error, "could not sign the audit chain at shutdown");
    }
    db.close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", lang.t_args("cli-failed", &[("cause", Arg::from(error.to_string()))]));
            ExitCode::FAILURE
        }
    }
}

async fn migrate_command(lang: Lang, settings: Settings) -> ExitCode {
    let db = match startup::connect(&settings).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let now = gridsafe_domain::time::Clock::now(&SystemClock);
    let result = db.migrate(now).await;
    let status = db.schema_status().await;
    db.close().await;
    match (result, status) {
        (Ok(applied), Ok(SchemaStatus::UpToDate { version })) => {
            for m in &applied {
                crate::say(
                    lang.t_args("migrate-applied", &[("version", Arg::Number(m.version)), ("name", Arg::from(m.name))]),
                );
            }
            crate::say(lang.t_args(
                "migrate-done",
                &[("version", Arg::Number(version)), ("count", Arg::Number(applied.len() as i64))],
            ));
            ExitCode::SUCCESS
        }
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("{}", startup::StartError::Schema(error).message(lang));
            ExitCode::FAILURE
        }
        (Ok(_), Ok(SchemaStatus::Behind { current, .. })) => {
            eprintln!("{}", lang.t_args("migrate-incomplete", &[("version", Arg::Number(current))]));
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
