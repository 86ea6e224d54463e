//! `shared/spec/examples/small`: the findings must be exactly the expected keys. A copy lives in
//! `tests/fixtures/small`; when `shared/` is beside the project, the copy must equal it.

use gridsafe_crossaudit::engine::{Thresholds, audit};
use gridsafe_crossaudit::export::read_export;

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small")
}

#[test]
fn the_worked_example_gives_exactly_the_expected_findings() {
    let dir = fixture();
    let tables = read_export(&dir);
    assert!(tables.errors.is_empty(), "{:?}", tables.errors);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let findings = audit(&tables, as_of, &Thresholds::default());
    let got: Vec<String> =
        findings.iter().map(|f| format!("{},{},{},{}", f.rule, f.entity_kind, f.entity_id, f.subject)).collect();
    let expected = std::fs::read_to_string(dir.join("expected_findings.csv")).expect("expected findings");
    let want: Vec<&str> = expected.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(got, want);
    assert!(findings.iter().all(|f| !f.detail.is_empty()), "every finding explains itself");
}

#[test]
fn the_copy_matches_the_contract_when_it_is_beside_the_project() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/small");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        eprintln!("NOTICE: shared/ is not beside the project; the copy in tests/fixtures is used as is");
        return;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name");
        let copy = std::fs::read(fixture().join(name)).unwrap_or_default();
        assert_eq!(
            std::fs::read(&path).expect("contract"),
            copy,
            "tests/fixtures/small/{} differs from the contract",
            name.to_string_lossy()
        );
    }
}
