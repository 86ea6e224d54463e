//! The command line: `gridsafe [serve|migrate|config print-default]`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use gridsafe_messages::{Arg, Lang};
use gridsafe_store::{DatabaseUrl, SchemaStatus};
use tokio::net::TcpListener;

use crate::Settings;
use crate::settings::{LogFormat, SettingsError};
use crate::startup::{self, StartOptions, SystemClock};

pub use crate::args::*;

/// The command line as given, or the exit code after saying what is wrong with it, in the
/// user's language (help and version are clap's own).
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, ExitCode> {
    use clap::Parser;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let error = match Cli::try_parse_from(args) {
        Ok(cli) => return Ok(cli),
        Err(error) => error,
    };
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return Err(ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2)));
    }
    let lang = Lang::from_env();
    let context = |kind: ContextKind| match error.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(" "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let arg = context(ContextKind::InvalidArg);
    let message = match error.kind() {
        ErrorKind::UnknownArgument => lang.t_args("cli-args-unknown", &[("arg", Arg::from(arg))]),
        ErrorKind::InvalidSubcommand => {
            lang.t_args("cli-args-command", &[("command", Arg::from(context(ContextKind::InvalidSubcommand)))])
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => lang.t_args(
            "cli-args-value",
            &[("arg", Arg::from(arg)), ("value", Arg::from(context(ContextKind::InvalidValue)))],
        ),
        ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => {
            lang.t_args("cli-args-missing", &[("arg", Arg::from(arg))])
        }
        _ => lang.t_args("cli-args-other", &[("arg", Arg::from(arg))]),
    };
    eprintln!("{message}\n{}", lang.t("cli-args-help"));
    Err(ExitCode::from(2))
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
            (None, Some(Command::Demo(DemoArgs { command: Some(DemoCommand::Export(export)), .. })))
                if export.company =>
            {
                crate::commands::demo_company_export(lang, &settings, &export.out).await
            }
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
    let webhooks = tokio::spawn(crate::webhooks::worker(state.app().clone()));
    let db = state.db().clone();
    let app = state.app().clone();
    let router = gridsafe_web::router(state);
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    scheduler.abort();
    webhooks.abort();
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
