//! `gridsafe audit`: the batch cross-audit of an export, with no database.

use std::process::ExitCode;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use gridsafe_crossaudit::engine::{Finding, FindingRef, Rule, Thresholds, audit, csv_record};
use gridsafe_crossaudit::export::read_export;
use gridsafe_crossaudit::input::InputError;
use gridsafe_crossaudit::partition::{Budget, Within, audit_export_within};
use gridsafe_messages::{Arg, Lang};

use crate::args::{AuditArgs, AuditFormat};
use crate::commands::ProgressBar;

/// Exit codes: 0 findings written, 1 the output could not be written, 2 bad input.
pub fn run(lang: Lang, args: AuditArgs) -> ExitCode {
    let bar = ProgressBar::new(lang.t("cli-auditing"));
    bar.update(0, 3);
    let thresholds = Thresholds::default();
    let cannot_write = |cause: String| {
        eprintln!(
            "{}",
            lang.t_args(
                "cli-cannot-write",
                &[("path", Arg::from(args.out.display().to_string())), ("cause", Arg::from(cause))]
            )
        );
        ExitCode::FAILURE
    };
    let mut out = match Output::create(&args) {
        Ok(out) => out,
        Err(cause) => return cannot_write(cause),
    };
    // A folder of UTF-8 CSV files is audited in place (split on disk beyond the memory
    // budget), each finding written as it comes; anything else, or anything the fast reader is
    // not certain of, is read the exact way, which names every problem.
    let budget = Budget {
        bytes: args.memory_budget.saturating_mul(1 << 20),
        scratch: args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned(),
    };
    let written = match audit_export_within(
        &args.input,
        args.as_of,
        &thresholds,
        &budget,
        &|done, of| bar.update(done, of),
        |f| out.push(f),
    ) {
        Within::Done(written) => written,
        Within::Refused(problems) if !args.skip_invalid => {
            out.abandon();
            return refuse(lang, &problems);
        }
        Within::Scratch(e) => {
            out.abandon();
            eprintln!(
                "{}",
                lang.t_args(
                    "cli-cannot-write",
                    &[("path", Arg::from(budget.scratch.display().to_string())), ("cause", Arg::from(e.to_string()))]
                )
            );
            return ExitCode::FAILURE;
        }
        Within::Refused(_) | Within::NotTaken => match read_and_audit(lang, &args, &thresholds, &bar) {
            Ok(findings) => findings.iter().try_for_each(|f| out.push(f.as_ref())),
            Err(code) => {
                out.abandon();
                return code;
            }
        },
    };
    bar.update(2, 3);
    let counts = out.counts;
    if let Err(cause) = written {
        out.abandon();
        return cannot_write(cause);
    }
    if let Err(cause) = out.finish() {
        return cannot_write(cause);
    }
    bar.update(3, 3);
    crate::say(lang.t_args(
        "cli-audit-summary",
        &[
            ("count", Arg::Number(i64::try_from(counts.iter().sum::<usize>()).unwrap_or(0))),
            ("path", Arg::from(args.out.display().to_string())),
        ],
    ));
    for rule in Rule::ALL {
        crate::say(format_args!("  {:<28} {:<14} {:>8}", rule.code(), rule.chinese(), counts[rule as usize]));
    }
    ExitCode::SUCCESS
}

/// Where the findings go: a CSV file written as they come, or a workbook once all are in.
/// Either is written beside the target and renamed, so a failed run never leaves half a file.
struct Output {
    counts: [usize; Rule::ALL.len()],
    to: To,
}

enum To {
    Csv {
        path: PathBuf,
        partial: PathBuf,
        writer: Behind,
        /// A record written here (the fast engine hands most findings out written already).
        line: String,
    },
    Xlsx {
        path: PathBuf,
        findings: Vec<Finding>,
    },
}

impl Output {
    fn create(args: &AuditArgs) -> Result<Self, String> {
        let to = match args.format {
            AuditFormat::Csv => {
                let partial = args.out.with_extension("partial");
                let file = File::create(&partial).map_err(|e| e.to_string())?;
                let mut out = Behind::new(file);
                if args.bom {
                    out.write_all("\u{feff}".as_bytes()).map_err(|e| e.to_string())?;
                }
                let mut line = String::new();
                csv_record(&mut line, ["rule", "entity_kind", "entity_id", "subject", "detail"]);
                out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
                To::Csv { path: args.out.clone(), partial, writer: out, line }
            }
            AuditFormat::Xlsx => To::Xlsx { path: args.out.clone(), findings: Vec::new() },
        };
        Ok(Self { counts: [0; Rule::ALL.len()], to })
    }

    fn push(&mut self, f: FindingRef<'_>) -> Result<(), String> {
        if let Some(rule) = Rule::from_code(f.rule) {
            self.counts[rule as usize] += 1;
        }
        match &mut self.to {
            To::Csv { writer, line, .. } => {
                let record = if f.record.is_empty() {
                    line.clear();
                    csv_record(line, [f.rule, f.entity_kind, f.entity_id, f.subject, f.detail]);
                    line.as_str()
                } else {
                    f.record
                };
                writer.write_all(record.as_bytes()).map_err(|e| e.to_string())
            }
            To::Xlsx { findings, .. } => {
                findings.push(f.to_owned());
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self.to {
            To::Csv { path, partial, writer, .. } => {
                writer.finish().map_err(|e| e.to_string())?;
                // The findings of an earlier run are removed first: renamed over, ext4 writes
                // the new file out before the rename returns (auto_da_alloc), which at ten
                // million orders kept the user waiting 2.6 s for nothing.
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.to_string()),
                    _ => {}
                }
                std::fs::rename(&partial, path).map_err(|e| e.to_string())
            }
            To::Xlsx { path, findings } => write_xlsx(&path, &findings),
        }
    }

    /// The input was refused or the output failed: no file is left behind.
    fn abandon(self) {
        if let To::Csv { partial, writer, .. } = self.to {
            drop(writer);
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// A file written a megabyte at a time on a thread of its own: the kernel's copying of the
/// findings into the page cache (a second at ten million orders) then goes on beside the audit
/// handing them out, where after the audit's last words were written it kept one core busy
/// and the other idle. At most three megabytes wait.
struct Behind {
    buffer: Vec<u8>,
    /// To the writing thread; `None` once it has stopped.
    send: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Behind {
    const BUFFER: usize = 1 << 20;

    fn new(mut file: File) -> Self {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let thread = std::thread::spawn(move || receive.iter().try_for_each(|buffer| file.write_all(&buffer)));
        Self { buffer: Vec::with_capacity(Self::BUFFER), send: Some(send), thread: Some(thread) }
    }

    /// Hands the buffer to the writing thread; its error once it has stopped on one.
    fn hand_over(&mut self) -> std::io::Result<()> {
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(Self::BUFFER));
        match self.send.as_ref().map(|send| send.send(full)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.stop().err().unwrap_or_else(|| std::io::ErrorKind::BrokenPipe.into())),
        }
    }

    /// Stops the writing thread once it has written what it was handed; its first error.
    fn stop(&mut self) -> std::io::Result<()> {
        self.send = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(written)) => written,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }

    /// Writes what is left and waits until everything is written.
    fn finish(mut self) -> std::io::Result<()> {
        self.flush()?;
        self.stop()
    }
}

impl Write for Behind {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buffer.len() + bytes.len() > Self::BUFFER && !self.buffer.is_empty() {
            self.hand_over()?;
        }
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Hands what is buffered to the writing thread ([`Behind::finish`] waits for it).
    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() { Ok(()) } else { self.hand_over() }
    }
}

impl Drop for Behind {
    /// An abandoned file: the thread stops once it has written what it holds.
    fn drop(&mut self) {
        self.send = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
    if !tables.errors.is_empty() {
        if !args.skip_invalid {
            return Err(refuse(lang, &tables.errors));
        }
        for problem in &tables.errors {
            eprintln!("{}", gridsafe_web::people::problem_line(lang, problem));
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

/// Names every problem of the export, and that it was refused (exit code 2).
fn refuse(lang: Lang, problems: &[InputError]) -> ExitCode {
    for problem in problems {
        eprintln!("{}", gridsafe_web::people::problem_line(lang, problem));
    }
    eprintln!(
        "{}",
        lang.t_args("cli-audit-input-refused", &[("count", Arg::Number(i64::try_from(problems.len()).unwrap_or(0)))])
    );
    ExitCode::from(2)
}

/// Writes next to the target and renames, so a failed run never leaves half a file.
fn atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of every length, many crossing from one megabyte to the next, arrive whole and
    /// in order.
    #[test]
    fn a_file_written_behind_holds_every_record_in_order() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("findings.csv");
        let mut behind = Behind::new(File::create(&path).expect("create"));
        let mut expected = Vec::new();
        for n in 0..40_000_usize {
            let record = format!("{n},{}\r\n", "倒查".repeat(n % 97));
            behind.write_all(record.as_bytes()).expect("write");
            expected.extend_from_slice(record.as_bytes());
        }
        assert!(expected.len() > 3 * Behind::BUFFER);
        behind.finish().expect("finish");
        assert_eq!(std::fs::read(&path).expect("read"), expected);
    }

    /// A disk that fills up: the error comes back to the writer, at the latest when it finishes.
    #[test]
    fn a_file_that_cannot_be_written_behind_gives_its_error() {
        let mut behind = Behind::new(File::options().write(true).open("/dev/full").expect("/dev/full"));
        let record = [b'x'; 1000];
        let written = (0..10_000).try_for_each(|_| behind.write_all(&record));
        let finished = behind.finish();
        let error = written.err().or(finished.err()).expect("an error");
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
    }
}
