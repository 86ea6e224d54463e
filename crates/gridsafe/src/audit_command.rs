//! `gridsafe audit`: the batch cross-audit of an export, with no database.

use std::process::ExitCode;

use gridsafe_crossaudit::engine::{Finding, Rule, Thresholds, audit};
use gridsafe_crossaudit::export::read_export;
use gridsafe_messages::{Arg, Lang};

use crate::args::{AuditArgs, AuditFormat};
use crate::commands::ProgressBar;

/// Exit codes: 0 findings written, 1 the output could not be written, 2 bad input.
pub fn run(lang: Lang, args: AuditArgs) -> ExitCode {
    let bar = ProgressBar::new(lang.t("cli-auditing"));
    bar.update(0, 3);
    let thresholds = Thresholds::default();
    // A folder of UTF-8 CSV files is audited in place; anything else, or anything the fast
    // reader is not certain of, is read the exact way, which names every problem.
    let findings = match gridsafe_crossaudit::fast::audit_export(&args.input, args.as_of, &thresholds) {
        Some(findings) => {
            bar.update(2, 3);
            findings
        }
        None => match read_and_audit(lang, &args, &thresholds, &bar) {
            Ok(findings) => findings,
            Err(code) => return code,
        },
    };
    let written = match args.format {
        AuditFormat::Csv => write_csv(&args.out, &findings, args.bom),
        AuditFormat::Xlsx => write_xlsx(&args.out, &findings),
    };
    bar.update(3, 3);
    if let Err(cause) = written {
        eprintln!(
            "{}",
            lang.t_args(
                "cli-cannot-write",
                &[("path", Arg::from(args.out.display().to_string())), ("cause", Arg::from(cause))]
            )
        );
        return ExitCode::FAILURE;
    }
    crate::say(lang.t_args(
        "cli-audit-summary",
        &[
            ("count", Arg::Number(i64::try_from(findings.len()).unwrap_or(0))),
            ("path", Arg::from(args.out.display().to_string())),
        ],
    ));
    for rule in Rule::ALL {
        let n = findings.iter().filter(|f| f.rule == rule.code()).count();
        crate::say(format_args!("  {:<28} {:<14} {n:>8}", rule.code(), rule.chinese()));
    }
    ExitCode::SUCCESS
}

/// The exact reader and engine: every problem of the export named, then audited (or refused).
fn read_and_audit(
    lang: Lang,
    args: &AuditArgs,
    thresholds: &Thresholds,
    bar: &ProgressBar,
) -> Result<Vec<Finding>, ExitCode> {
    let tables = read_export(&args.input);
    bar.update(1, 3);
    for problem in &tables.errors {
        eprintln!("{}", gridsafe_web::people::problem_line(lang, problem));
    }
    if !tables.errors.is_empty() {
        if !args.skip_invalid {
            eprintln!(
                "{}",
                lang.t_args(
                    "cli-audit-input-refused",
                    &[("count", Arg::Number(i64::try_from(tables.errors.len()).unwrap_or(0)))]
                )
            );
            return Err(ExitCode::from(2));
        }
        eprintln!(
            "{}",
            lang.t_args("cli-audit-skipped", &[("rows", Arg::Number(i64::try_from(tables.bad_rows).unwrap_or(0)))])
        );
    }
    let findings = audit(&tables, args.as_of, thresholds);
    bar.update(2, 3);
    Ok(findings)
}

/// Writes next to the target and renames, so a failed run never leaves half a file.
fn atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

fn write_csv(path: &std::path::Path, findings: &[Finding], bom: bool) -> Result<(), String> {
    use std::io::Write;
    // Streamed to a file beside the target, then renamed: never half a file, never the whole
    // output in memory.
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    if bom {
        out.write_all("\u{feff}".as_bytes()).map_err(|e| e.to_string())?;
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["rule", "entity_kind", "entity_id", "subject", "detail"]).map_err(|e| e.to_string())?;
    for f in findings {
        w.write_record([f.rule, f.entity_kind, &f.entity_id, &f.subject, &f.detail]).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())?.into_inner().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

/// A rule's sheet, named in Chinese (the two single-person rules told apart by what they are about).
fn sheet_name(rule: Rule) -> &'static str {
    match rule {
        Rule::SinglePersonOrder => "单人作业（工单）",
        Rule::SinglePersonTicket => "单人作业（工作票）",
        other => other.chinese(),
    }
}

/// What a finding is about, in Chinese.
fn entity_words(kind: &str) -> &str {
    match kind {
        "order" => "工单",
        "ticket" => "工作票",
        "person" => "人员",
        "event" => "电能表事件",
        "contractor" => "承包单位",
        other => other,
    }
}

fn write_xlsx(path: &std::path::Path, findings: &[Finding]) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let summary = wb.add_worksheet();
    summary.set_name("汇总").map_err(e)?;
    for (c, h) in ["规则", "名称", "发现数"].iter().enumerate() {
        summary.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold).map_err(e)?;
    }
    for (r, rule) in Rule::ALL.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(0);
        summary.write_string(row, 0, rule.code()).map_err(e)?;
        summary.write_string(row, 1, rule.chinese()).map_err(e)?;
        summary.write_number(row, 2, findings.iter().filter(|f| f.rule == rule.code()).count() as f64).map_err(e)?;
    }
    summary.set_column_width(0, 30).map_err(e)?;
    summary.set_column_width(1, 20).map_err(e)?;
    for rule in Rule::ALL {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(rule)).map_err(e)?;
        for (c, h) in ["对象类型", "对象", "相关人员/票/单位", "说明"].iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold).map_err(e)?;
        }
        for (r, f) in findings.iter().filter(|f| f.rule == rule.code()).enumerate() {
            let row = u32::try_from(r + 1).map_err(|_| "too many findings for one sheet".to_owned())?;
            ws.write_string(row, 0, entity_words(f.entity_kind)).map_err(e)?;
            ws.write_string(row, 1, &f.entity_id).map_err(e)?;
            ws.write_string(row, 2, &f.subject).map_err(e)?;
            ws.write_string(row, 3, &f.detail).map_err(e)?;
        }
        ws.set_column_width(3, 80).map_err(e)?;
        ws.set_freeze_panes(1, 0).map_err(e)?;
    }
    atomically(path, &wb.save_to_buffer().map_err(e)?)
}
