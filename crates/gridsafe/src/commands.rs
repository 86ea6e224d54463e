//! What the command line does besides serving: first start, scheduled jobs, account and
//! audit-log commands. Each goes through the same use cases as the pages and the API.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use gridsafe_app::identity::{self, NewUser};
use gridsafe_app::{App, RequestMeta, audit, jobs};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_web::i18n::{Arg, Lang};

use crate::Settings;
use crate::cli::{AuditLogCommand, CreateUserArgs};
use crate::startup::{self, StartError, StartOptions, SystemClock};

fn cli_meta(what: &str) -> RequestMeta {
    RequestMeta { request_id: format!("cli:{what}") }
}

/// Who runs the command, as the audit trail records it.
fn operator() -> Principal {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".to_owned());
    Principal::operator(&format!("cli:{who}"), Channel::Cli)
}

/// On a first start with no users: the first administrator, whose password is printed once.
pub async fn first_start(lang: Lang, app: &App) -> Result<Option<String>, gridsafe_app::AppError> {
    let root = lang.t("first-start-root-unit");
    Ok(identity::bootstrap_admin(app, &cli_meta("first-start"), &root).await?.map(|(username, password)| {
        lang.t_args("first-start-admin", &[("username", Arg::from(username)), ("password", Arg::from(password))])
    }))
}

/// Runs due jobs every minute until the server stops.
pub async fn scheduler(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        for (job, outcome) in jobs::run_due(&app).await {
            match outcome {
                Ok(result) => tracing::info!(job = job.name(), %result, "job ran"),
                Err(error) => tracing::error!(job = job.name(), error = %error, "job failed"),
            }
        }
    }
}

async fn open(settings: &Settings) -> Result<App, StartError> {
    let state = startup::prepare(settings, Arc::new(SystemClock), StartOptions { unsafe_durability: true }).await?;
    Ok(state.app().clone())
}

pub async fn create_user(lang: Lang, settings: &Settings, args: CreateUserArgs) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    match create_user_in(lang, &app, args).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn create_user_in(lang: Lang, app: &App, args: CreateUserArgs) -> Result<String, String> {
    let fail = |e: gridsafe_app::AppError| describe(lang, &e);
    let operator = operator();
    let cap = operator.authorize::<perm::UsersManage>().map_err(|e| e.to_string())?;
    let meta = cli_meta("admin create-user");
    let unit = match &args.unit {
        Some(code) => identity::unit_by_code(app, code).await.map_err(fail)?,
        None => identity::list_units(app, cap.scope()).await.map_err(fail)?.into_iter().next(),
    }
    .ok_or_else(|| lang.t_args("cli-unknown-unit", &[("code", Arg::from(args.unit.clone().unwrap_or_default()))]))?;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| e.to_string())?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let input = NewUser { username: args.username.clone(), display_name: args.name, unit_id: unit.id, password };
    let (id, password) = identity::create_user(app, &cap, &meta, input).await.map_err(fail)?;
    for role in &args.roles {
        let (role, unit_id) = match role.split_once('@') {
            Some((role, code)) => {
                let at = identity::unit_by_code(app, code)
                    .await
                    .map_err(fail)?
                    .ok_or_else(|| lang.t_args("cli-unknown-unit", &[("code", Arg::from(code))]))?;
                (role, at.id)
            }
            None => (role.as_str(), unit.id),
        };
        identity::grant_role(app, &cap, &meta, id, role, unit_id).await.map_err(fail)?;
    }
    Ok(lang.t_args(
        "cli-user-created",
        &[("username", Arg::from(args.username.trim().to_lowercase())), ("password", Arg::from(password))],
    ))
}

/// A use-case error for the terminal, in the operator's language.
fn describe(lang: Lang, error: &gridsafe_app::AppError) -> String {
    use gridsafe_app::AppError as E;
    match error {
        E::Invalid(problems) => problems
            .iter()
            .map(|p| {
                let args: Vec<(&'static str, Arg)> = p.args.iter().map(|(k, v)| (*k, Arg::from(v.as_str()))).collect();
                format!("{}: {}", p.field, lang.t_args(p.message, &args))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        E::Rule(v) => format!(
            "{} ({}): {}",
            lang.t(&format!("rule-{}", v.rule.code)),
            v.rule.source,
            lang.t(&format!("rule-{}-fix", v.rule.code))
        ),
        E::Conflict(key) => lang.t(key),
        other => lang.t_args("cli-failed", &[("cause", Arg::from(startup::source_chain(other)))]),
    }
}

pub async fn audit_log(lang: Lang, settings: &Settings, command: AuditLogCommand) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    match command {
        AuditLogCommand::Checkpoint => match audit::checkpoint(&app).await {
            Ok(seq) => {
                println!("{}", lang.t_args("cli-checkpoint", &[("seq", Arg::Number(seq.unwrap_or(0)))]));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{}", describe(lang, &error));
                ExitCode::FAILURE
            }
        },
        AuditLogCommand::Verify => match audit::verify(&app).await {
            Ok(report) => {
                let counts = [
                    ("events", Arg::Number(i64::try_from(report.events).unwrap_or(i64::MAX))),
                    ("checkpoints", Arg::Number(i64::try_from(report.checkpoints).unwrap_or(i64::MAX))),
                ];
                match gridsafe_web::audit::problem_text(lang, &report) {
                    None => {
                        println!("{}", lang.t_args("cli-verify-intact", &counts));
                        ExitCode::SUCCESS
                    }
                    Some(problem) => {
                        println!("{}", lang.t_args("cli-verify-broken", &[("problem", Arg::from(problem))]));
                        ExitCode::FAILURE
                    }
                }
            }
            Err(error) => {
                eprintln!("{}", describe(lang, &error));
                ExitCode::FAILURE
            }
        },
    }
}
