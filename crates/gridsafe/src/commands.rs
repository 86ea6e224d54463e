//! What the command line does besides serving: first start, scheduled jobs, account and
//! audit-log commands. Each goes through the same use cases as the pages and the API.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use gridsafe_app::identity::{self, NewUser};
use gridsafe_app::{App, RequestMeta, audit, jobs};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_messages::{Arg, Lang};

use crate::Settings;
use crate::args::{AuditLogCommand, CreateUserArgs};
use crate::startup::{self, StartError, StartOptions, SystemClock};

pub(crate) fn cli_meta(what: &str) -> RequestMeta {
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
    report(create_user_in(lang, &app, args).await)
}

/// A command's outcome on the terminal: the message, or the refusal and a failing exit code.
fn report(outcome: Result<String, String>) -> ExitCode {
    match outcome {
        Ok(message) => {
            crate::say(message);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// `gridsafe admin reset-password USERNAME`: the console is the owner's channel for a one-time password.
pub async fn reset_password(lang: Lang, settings: &Settings, username: &str) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    report(reset_password_in(lang, &app, username).await)
}

async fn reset_password_in(lang: Lang, app: &App, username: &str) -> Result<String, String> {
    let fail = |e: gridsafe_app::AppError| describe(lang, &e);
    let operator = operator();
    let view = operator.authorize::<perm::UsersView>().map_err(|e| e.to_string())?;
    let cap = operator.authorize::<perm::UsersManage>().map_err(|e| e.to_string())?;
    let name = username.trim().to_lowercase();
    let user = identity::list_users(app, &view, Some(&name))
        .await
        .map_err(fail)?
        .into_iter()
        .find(|u| u.username == name)
        .ok_or_else(|| lang.t_args("cli-unknown-user", &[("username", Arg::from(name.as_str()))]))?;
    let password =
        identity::reset_password(app, &cap, &cli_meta("admin reset-password"), user.id).await.map_err(fail)?;
    Ok(lang.t_args("cli-password-reset", &[("username", Arg::from(name.as_str())), ("password", Arg::from(password))]))
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
            v.rule.regulation,
            lang.t(&format!("rule-{}-fix", v.rule.code))
        ),
        E::Rules(vs) => vs
            .iter()
            .map(|v| format!("{} ({})", lang.t(&format!("rule-{}", v.rule.code)), v.rule.regulation))
            .collect::<Vec<_>>()
            .join("\n"),
        E::Conflict(key) => lang.t(key),
        other => lang.t_args("cli-failed", &[("cause", Arg::from(startup::source_chain(other)))]),
    }
}

pub async fn audit_log(lang: Lang, settings: &Settings, command: AuditLogCommand) -> ExitCode {
    // Verifying a database that is not there would create an empty one and call it intact.
    if let Some(file) = settings.database.url.sqlite_file().filter(|f| !f.exists()) {
        eprintln!("{}", lang.t_args("cli-no-database", &[("path", Arg::from(file.display().to_string()))]));
        return ExitCode::FAILURE;
    }
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
                crate::say(lang.t_args("cli-checkpoint", &[("seq", Arg::Number(seq.unwrap_or(0)))]));
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
                    None if report.events == 0 => {
                        eprintln!("{}", lang.t("cli-verify-empty"));
                        ExitCode::FAILURE
                    }
                    None => {
                        crate::say(lang.t_args("cli-verify-intact", &counts));
                        ExitCode::SUCCESS
                    }
                    Some(problem) => {
                        crate::say(lang.t_args("cli-verify-broken", &[("problem", Arg::from(problem))]));
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

/// A progress bar on standard error, drawn only on a terminal.
pub struct ProgressBar {
    label: String,
    terminal: bool,
}

impl ProgressBar {
    pub fn new(label: String) -> Self {
        use std::io::IsTerminal;
        Self { label, terminal: std::io::stderr().is_terminal() }
    }

    pub fn update(&self, done: usize, total: usize) {
        if !self.terminal || total == 0 {
            return;
        }
        let width = 30;
        let filled = done.min(total) * width / total;
        let percent = done.min(total) * 100 / total;
        eprint!("\r{} [{}{}] {percent:>3}% {done}/{total}", self.label, "#".repeat(filled), "-".repeat(width - filled));
        if done >= total {
            eprintln!();
        }
    }
}

pub async fn import_people(lang: Lang, settings: &Settings, args: crate::args::ImportPeopleArgs) -> ExitCode {
    use gridsafe_app::people::{self, ImportOptions, Manage, Reach};
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let files = match read_files(lang, &args.files) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let operator = operator();
    let (Ok(pcap), Ok(ccap)) =
        (operator.authorize::<perm::PeopleManage>(), operator.authorize::<perm::ContractorsManage>())
    else {
        return ExitCode::FAILURE;
    };
    let reach = Reach::<Manage>::units(&pcap);
    let unit = match &args.contractor_unit {
        Some(code) => identity::unit_by_code(&app, code).await.ok().flatten(),
        None => identity::list_units(&app, pcap.scope()).await.ok().and_then(|u| u.into_iter().next()),
    };
    let Some(unit) = unit else {
        match &args.contractor_unit {
            Some(code) => eprintln!("{}", lang.t_args("cli-unknown-unit", &[("code", Arg::from(code.as_str()))])),
            None => eprintln!("{}", lang.t("cli-no-units")),
        }
        return ExitCode::from(2);
    };
    let plan = match people::plan_import(&app, &reach, Some(&ccap), people::read_upload(&files)).await {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            return ExitCode::FAILURE;
        }
    };
    for problem in &plan.errors {
        eprintln!("{}", gridsafe_web::people::problem_line(lang, problem));
    }
    if !plan.errors.is_empty() && !args.skip_invalid {
        eprintln!(
            "{}",
            lang.t_args("import-has-errors", &[("count", Arg::Number(i64::try_from(plan.errors.len()).unwrap_or(0)))])
        );
        return ExitCode::from(2);
    }
    let rows = plan.rows();
    let bar = ProgressBar::new(lang.t("cli-importing"));
    let options = ImportOptions { skip_invalid: args.skip_invalid, contractor_unit: unit.id };
    let meta = cli_meta("import people");
    match people::apply_import_with_progress(&app, &reach, &meta, plan, options, &|done, total| bar.update(done, total))
        .await
    {
        Ok(report) => {
            let seconds = started.elapsed().as_secs_f64();
            let c = &report.counts;
            let n = |v: usize| Arg::Number(i64::try_from(v).unwrap_or(0));
            crate::say(lang.t_args(
                "cli-imported",
                &[
                    ("persons", n(c.persons.0 + c.persons.1)),
                    ("qualifications", n(c.qualifications.0)),
                    ("contractors", n(c.contractors.0 + c.contractors.1)),
                    ("agreements", n(c.agreements.0 + c.agreements.1)),
                    ("skipped", n(report.skipped_rows)),
                    ("seconds", Arg::from(format!("{seconds:.1}"))),
                    ("rate", Arg::from(format!("{:.0}", rows as f64 / seconds.max(0.001)))),
                ],
            ));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            ExitCode::FAILURE
        }
    }
}

/// `gridsafe demo`: the demo company, with its accounts printed.
pub async fn demo(lang: Lang, settings: &Settings) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    match gridsafe_app::demo::fill(&app, &cli_meta("demo")).await {
        Ok(Some(report)) => {
            crate::say(lang.t_args(
                "demo-filled",
                &[
                    ("people", Arg::Number(i64::try_from(report.people).unwrap_or(0))),
                    ("contractors", Arg::Number(i64::try_from(report.contractors).unwrap_or(0))),
                    ("tickets", Arg::Number(i64::try_from(report.tickets).unwrap_or(0))),
                    ("findings", Arg::Number(i64::try_from(report.findings).unwrap_or(0))),
                    ("customers", Arg::Number(i64::try_from(report.customers).unwrap_or(0))),
                    ("hazards", Arg::Number(i64::try_from(report.hazards).unwrap_or(0))),
                    ("violations", Arg::Number(i64::try_from(report.violations).unwrap_or(0))),
                    ("projects", Arg::Number(i64::try_from(report.projects).unwrap_or(0))),
                ],
            ));
            for (username, role) in &report.accounts {
                crate::say(format_args!("  {username:<18} {}", lang.t(&format!("role-{role}"))));
            }
            crate::say(lang.t_args("demo-password", &[("password", Arg::from(gridsafe_app::demo::DEMO_PASSWORD))]));
            ExitCode::SUCCESS
        }
        Ok(None) => {
            crate::say(lang.t_args("demo-present", &[("password", Arg::from(gridsafe_app::demo::DEMO_PASSWORD))]));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            ExitCode::FAILURE
        }
    }
}

/// `gridsafe tickets …`: the same use cases as the pages and the API.
pub async fn tickets(lang: Lang, settings: &Settings, command: crate::args::TicketsCommand) -> ExitCode {
    use gridsafe_domain::access::perm;
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    match command {
        crate::args::TicketsCommand::Lapse => {
            match gridsafe_app::tickets::lapse_overdue(&app, &cli_meta("tickets lapse")).await {
                Ok(n) => {
                    crate::say(
                        lang.t_args("cli-tickets-lapsed", &[("count", Arg::Number(i64::try_from(n).unwrap_or(0)))]),
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{}", describe(lang, &error));
                    ExitCode::FAILURE
                }
            }
        }
        crate::args::TicketsCommand::Stats { month, out } => {
            let today = app.today();
            let month = match month.as_deref() {
                None => {
                    chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), chrono::Datelike::month(&today), 1)
                }
                Some(m) => chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok(),
            };
            let Some(month) = month else {
                eprintln!("{}", lang.t("field-month"));
                return ExitCode::from(2);
            };
            let cap = match operator().authorize::<perm::TicketsView>() {
                Ok(cap) => cap,
                Err(_) => return ExitCode::FAILURE,
            };
            let rows = match gridsafe_app::tickets::month_stats(&app, &cap, month).await {
                Ok(rows) => rows,
                Err(error) => {
                    eprintln!("{}", describe(lang, &error));
                    return ExitCode::FAILURE;
                }
            };
            let headers: Vec<String> = gridsafe_web::tickets::STATS_COLUMNS.iter().map(|k| lang.t(k)).collect();
            crate::say(format_args!("{} {}", lang.t("stats-title"), month.format("%Y-%m")));
            crate::say(headers.join("\t"));
            for r in &rows {
                let s = &r.stats;
                let unit = if r.is_total() { lang.t("stats-total") } else { r.unit_name.clone() };
                crate::say(format_args!(
                    "{unit}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.executed,
                    s.passed,
                    s.failed,
                    s.unevaluated,
                    s.must_unevaluated,
                    gridsafe_web::tickets::rate(r.pass_rate),
                    s.not_executed,
                    s.void,
                    r.left_unclosed,
                    s.unplanned,
                    gridsafe_web::tickets::rate(s.planned_share())
                ));
            }
            if let Some(path) = out {
                let written = gridsafe_web::tickets::stats_workbook(lang, month, &rows)
                    .map_err(|e| describe(lang, &e))
                    .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
                if let Err(cause) = written {
                    eprintln!(
                        "{}",
                        lang.t_args(
                            "cli-cannot-write",
                            &[("path", Arg::from(path.display().to_string())), ("cause", Arg::from(cause))]
                        )
                    );
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
    }
}

/// `gridsafe import marketing`: work orders and meter events, then the cross-audit.
/// `gridsafe demo export --company`: the demo company's work orders and meter events as CSV.
pub async fn demo_company_export(lang: Lang, settings: &Settings, out: &std::path::Path) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let export = match gridsafe_app::demo::company_export(&app).await {
        Ok(export) => export,
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(out.join("work_orders.csv"), &export.work_orders))
        .and_then(|()| std::fs::write(out.join("meter_events.csv"), &export.meter_events));
    if let Err(error) = written {
        let args = [("path", Arg::from(out.display().to_string())), ("cause", Arg::from(error.to_string()))];
        eprintln!("{}", lang.t_args("cli-cannot-write", &args));
        return ExitCode::FAILURE;
    }
    crate::say(lang.t_args(
        "demo-company-exported",
        &[
            ("orders", Arg::Number(i64::try_from(export.orders).unwrap_or(0))),
            ("events", Arg::Number(i64::try_from(export.events).unwrap_or(0))),
            ("path", Arg::from(out.display().to_string())),
        ],
    ));
    ExitCode::SUCCESS
}

pub async fn import_marketing(lang: Lang, settings: &Settings, args: crate::args::ImportMarketingArgs) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let mut paths = Vec::new();
    for path in &args.paths {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut inside: Vec<_> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
                inside.sort();
                paths.extend(inside);
            }
            Err(_) => paths.push(path.clone()),
        }
    }
    let files = match read_files(lang, &paths) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let Some(unit) = identity::unit_by_code(&app, &args.unit).await.ok().flatten() else {
        eprintln!("{}", lang.t_args("cli-unknown-unit", &[("code", Arg::from(args.unit.as_str()))]));
        return ExitCode::from(2);
    };
    let Ok(cap) = operator().authorize::<perm::MarketingImport>() else { return ExitCode::FAILURE };
    match gridsafe_app::findings::import_marketing_files(&app, &cap, &cli_meta("import marketing"), unit.id, files)
        .await
    {
        Ok(Ok(done)) => {
            let n = |v: u64| Arg::Number(i64::try_from(v).unwrap_or(0));
            crate::say(lang.t_args(
                "cli-marketing-imported",
                &[
                    ("orders", n(done.orders as u64)),
                    ("events", n(done.events as u64)),
                    ("findings", n(done.run.findings)),
                    ("new", n(done.run.new)),
                    ("resolved", n(done.run.resolved)),
                ],
            ));
            ExitCode::SUCCESS
        }
        Ok(Err(problems)) => refused(lang, problems.iter().map(|p| gridsafe_web::people::problem_line(lang, p))),
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            ExitCode::FAILURE
        }
    }
}

/// `gridsafe import customers FILES`: the customer register, all or nothing; every problem named
/// by file, line, column and value, exit 2.
pub async fn import_customers(lang: Lang, settings: &Settings, args: crate::args::ImportCustomersArgs) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{}", error.message(lang));
            return ExitCode::FAILURE;
        }
    };
    let files = match read_files(lang, &args.files) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let Ok(cap) = operator().authorize::<perm::CustomersManage>() else { return ExitCode::FAILURE };
    match gridsafe_app::customers::import_customers(&app, &cap, &cli_meta("import customers"), &files).await {
        Ok(Ok(done)) => {
            let n = |v: usize| Arg::Number(i64::try_from(v).unwrap_or(0));
            crate::say(
                lang.t_args("cli-customers-imported", &[("created", n(done.created)), ("updated", n(done.updated))]),
            );
            ExitCode::SUCCESS
        }
        Ok(Err(problems)) => refused(lang, problems.iter().map(|p| gridsafe_web::customers::row_problem(lang, p))),
        Err(error) => {
            eprintln!("{}", describe(lang, &error));
            ExitCode::FAILURE
        }
    }
}

/// Reads files named on the command line; one that cannot be read is named, with exit code 2.
fn read_files(lang: Lang, paths: &[std::path::PathBuf]) -> Result<Vec<(String, Vec<u8>)>, ExitCode> {
    let mut files = Vec::new();
    for path in paths {
        match std::fs::read(path) {
            Ok(bytes) => files.push((path.display().to_string(), bytes)),
            Err(error) => {
                eprintln!(
                    "{}",
                    lang.t_args(
                        "cli-cannot-read",
                        &[("path", Arg::from(path.display().to_string())), ("cause", Arg::from(error.to_string()))]
                    )
                );
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(files)
}

/// A refused import: every problem on its line, then their count; exit code 2.
fn refused(lang: Lang, problems: impl Iterator<Item = String>) -> ExitCode {
    let mut count = 0_i64;
    for line in problems {
        eprintln!("{line}");
        count += 1;
    }
    eprintln!("{}", lang.t_args("import-has-errors", &[("count", Arg::Number(count))]));
    ExitCode::from(2)
}
