//! `gridsafe audit` as a user runs it: the worked example reproduced exactly, bad input refused
//! with exit code 2 and no output, skipped rows reported.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crossaudit/tests/fixtures/small")
}

fn gridsafe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gridsafe")).args(args).env("GRIDSAFE_LANG", "zh-CN").output().expect("runs")
}

/// The worked example's files, copied into `dir`.
fn copy_example(dir: &Path) {
    for entry in std::fs::read_dir(example()).expect("example") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
}

/// An order of a type the spec does not know, in line 5 of the orders of the export in `dir`.
fn spoil_an_order(dir: &Path) {
    let orders = dir.join("work_orders.csv");
    let text = std::fs::read_to_string(&orders).expect("orders").replace("WO04,meter_reading", "WO04,meter_painting");
    std::fs::write(&orders, text).expect("write");
}

/// `gridsafe audit` of the export in `input` as of the example's day, into `out`.
fn audit(input: &Path, out: &Path, more: &[&str]) -> std::process::Output {
    let args = ["audit", "--input", input.to_str().expect("path"), "--as-of", "2026-01-31", "--out"];
    gridsafe(&[&args[..], &[out.to_str().expect("path")], more].concat())
}

#[test]
fn the_worked_example_is_reproduced_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("findings.csv");
    let run = audit(&example(), &out, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let written = std::fs::read_to_string(&out).expect("findings");
    let keys: Vec<String> = written.lines().map(|l| l.splitn(5, ',').take(4).collect::<Vec<_>>().join(",")).collect();
    let expected = std::fs::read_to_string(example().join("expected_findings.csv")).expect("expected");
    assert_eq!(keys, expected.lines().collect::<Vec<_>>());
    assert!(written.starts_with("rule,entity_kind,entity_id,subject,detail\n"));
    assert!(String::from_utf8_lossy(&run.stdout).contains("NO_TICKET"), "a per-rule summary");

    // For Excel: the same file after a byte-order mark, so its Chinese details open as Chinese.
    let for_excel = dir.path().join("findings-excel.csv");
    let run = audit(&example(), &for_excel, &["--bom"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let bytes = std::fs::read(&for_excel).expect("findings");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    assert_eq!(&bytes[3..], written.as_bytes());

    let xlsx = dir.path().join("findings.xlsx");
    let run = audit(&example(), &xlsx, &["--format", "xlsx"]);
    assert_eq!(run.status.code(), Some(0));
    let bytes = std::fs::read(&xlsx).expect("workbook");
    assert!(bytes.starts_with(b"PK"), "a real xlsx (zip)");
    // Read back: its sheets and what each finding is about are named in Chinese.
    let limits =
        gridsafe_sheet::Limits { unpacked_bytes: 10 << 20, parts: 100, rows: 1000, columns: 50, cell_chars: 32_767 };
    let sheets = gridsafe_sheet::read_xlsx("findings.xlsx", &bytes, &limits).expect("readable");
    let names: Vec<&str> = sheets.iter().map(|(name, _)| name.as_str()).collect();
    for name in ["汇总", "无票作业", "单人作业（工单）", "单人作业（工作票）", "无票开表盖"]
    {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let no_ticket = &sheets.iter().find(|(name, _)| name == "无票作业").expect("sheet").1;
    assert_eq!(no_ticket.headers[0], "对象类型");
    assert!(
        matches!(&no_ticket.rows[0].cells[0], gridsafe_sheet::Cell::Text(t) if t == "工单"),
        "{:?}",
        no_ticket.rows[0]
    );
}

#[test]
fn bad_input_is_refused_with_its_place_and_nothing_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_example(dir.path());
    spoil_an_order(dir.path());
    let out = dir.path().join("out.csv");
    let run = audit(dir.path(), &out, &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("work_orders.csv第 5 行「order_type」列：取值「meter_painting」不在允许的范围内"), "{err}");
    assert!(!out.exists(), "no output");
    assert!(!out.with_extension("partial").exists(), "no partial output");

    let run = audit(dir.path(), &out, &["--skip-invalid"]);
    assert_eq!(run.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&run.stderr).contains("已跳过 1 行"));
    assert!(out.exists());
}

#[test]
fn a_run_replaces_the_findings_of_an_earlier_one_and_a_refused_run_leaves_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export");
    std::fs::create_dir(&input).expect("folder");
    copy_example(&input);
    let out = dir.path().join("findings.csv");
    std::fs::write(&out, "findings of an earlier run\n").expect("write");
    let run = audit(&input, &out, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let written = std::fs::read_to_string(&out).expect("findings");
    assert!(written.starts_with("rule,entity_kind,entity_id,subject,detail\n"), "{written}");
    assert!(written.contains("NO_TICKET"));
    assert!(!out.with_extension("partial").exists(), "no partial output");

    spoil_an_order(&input);
    assert_eq!(audit(&input, &out, &[]).status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).expect("findings"), written, "the earlier findings are kept");
    assert!(!out.with_extension("partial").exists(), "no partial output");
}

/// The example's tables as one workbook, a sheet per table (each CSV cell as text).
fn example_workbook(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for table in
        ["persons", "qualifications", "contractors", "safety_agreements", "work_orders", "tickets", "meter_events"]
    {
        let text = std::fs::read_to_string(example().join(format!("{table}.csv"))).expect("table");
        let sheet = book.add_worksheet();
        sheet.set_name(table).expect("name");
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        for (r, record) in reader.records().enumerate() {
            for (c, cell) in record.expect("record").iter().enumerate() {
                let (r, c) = (u32::try_from(r).expect("row"), u16::try_from(c).expect("column"));
                sheet.write_string(r, c, cell).expect("cell");
            }
        }
    }
    book.save(path).expect("saved");
}

#[test]
fn a_folder_with_one_workbook_is_read_as_that_workbook() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export");
    std::fs::create_dir(&input).expect("folder");
    example_workbook(&input.join("营销系统导出.xlsx"));
    let out = dir.path().join("findings.csv");
    let run = audit(&input, &out, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let written = std::fs::read_to_string(&out).expect("findings");
    let keys: Vec<String> =
        written.lines().skip(1).map(|l| l.splitn(5, ',').take(4).collect::<Vec<_>>().join(",")).collect();
    let expected = std::fs::read_to_string(example().join("expected_findings.csv")).expect("expected");
    assert_eq!(keys, expected.lines().skip(1).collect::<Vec<_>>(), "the same findings as from the CSV folder");

    // Two workbooks: which one is meant is said, naming both; nothing is written.
    std::fs::remove_file(&out).expect("removed");
    example_workbook(&input.join("上月导出.xlsx"));
    let run = audit(&input, &out, &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("上月导出.xlsx") && err.contains("营销系统导出.xlsx") && err.contains("--input"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_arguments_are_named_in_the_users_language() {
    let run = |lang: &str, args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_gridsafe")).args(args).env("GRIDSAFE_LANG", lang).output().expect("runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run("zh-CN", &["--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("不认识的参数：--bogus") && err.contains("gridsafe --help"), "{err}");
    let (code, err) = run("zh-CN", &["audit", "--input", "x", "--as-of", "yesterday"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--as-of") && err.contains("yesterday") && err.contains("的值不对"), "{err}");
    let (code, err) = run("zh-CN", &["audit"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("缺少参数") && err.contains("--input"), "{err}");
    let (_, err) = run("zh-CN", &["frobnicate"]);
    assert!(err.contains("没有这个命令：frobnicate"), "{err}");
    let (code, err) = run("en", &["--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("Unknown argument: --bogus"), "{err}");
    // Help is clap's own, and succeeds.
    let (code, _) = run("zh-CN", &["--help"]);
    assert_eq!(code, Some(0));
}

/// Beyond `--memory-budget` the export is split on disk and audited partition by partition:
/// the same file byte for byte, the same problems named at the same lines, no folder left.
#[test]
fn an_export_beyond_the_memory_budget_is_audited_in_partitions_with_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("export");
    let run =
        gridsafe(&["demo", "export", "--orders", "20000", "--seed", "3", "--out", export.to_str().expect("path")]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let within = |out: &Path, budget: &str| audit(&export, out, &["--memory-budget", budget]);
    let (whole, parted) = (dir.path().join("whole.csv"), dir.path().join("parted.csv"));
    // About 4.6 MB of export: 1 MB of budget takes a dozen partitions.
    for (out, budget) in [(&whole, "4096"), (&parted, "1")] {
        let run = within(out, budget);
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let written = std::fs::read(&parted).expect("findings");
    assert!(written.len() > 100_000, "findings of every kind");
    assert_eq!(written, std::fs::read(&whole).expect("findings"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left.len(), 3, "only the export and the two files: {left:?}");

    let orders = export.join("work_orders.csv");
    let text = std::fs::read_to_string(&orders).expect("orders");
    std::fs::write(&orders, text.replacen(",meter_install,", ",meter_painting,", 2)).expect("write");
    let (whole, parted) = (within(&dir.path().join("a.csv"), "4096"), within(&dir.path().join("b.csv"), "1"));
    assert_eq!(parted.status.code(), Some(2));
    let err = String::from_utf8_lossy(&parted.stderr);
    assert!(err.contains("「order_type」列：取值「meter_painting」不在允许的范围内"), "{err}");
    assert_eq!(err, String::from_utf8_lossy(&whole.stderr), "the same problems, named alike");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 3, "nothing written");
}
