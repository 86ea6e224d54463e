use proptest::prelude::*;

use super::*;

fn m(pairs: &[(&str, i64)]) -> Measures {
    let mut out = Measures::default();
    for (k, v) in pairs {
        out.add(k, *v);
    }
    out
}

fn eval(formula: &str, pairs: &[(&str, i64)]) -> Option<f64> {
    Formula::parse(formula).expect("formula").eval(&m(pairs))
}

#[test]
fn formulas_follow_arithmetic_precedence_and_parentheses() {
    assert_eq!(eval("1 + 2 * 3", &[]), Some(7.0));
    assert_eq!(eval("(1 + 2) * 3", &[]), Some(9.0));
    assert_eq!(eval("10 - 4 - 3", &[]), Some(3.0));
    assert_eq!(eval("100 / 4 / 5", &[]), Some(5.0));
    assert!(Formula::parse("（1＋2）×3").is_err(), "a full-width plus is not an operator");
    assert_eq!(eval("（1 + 2）× 3 ÷ 9", &[]), Some(1.0));
}

#[test]
fn the_default_indicators_on_hand_made_counts() {
    // 工作票合格率: 47 of 50 executed tickets rated good (an unevaluated one is not good).
    assert_eq!(
        eval("100 * tickets_passed / tickets_executed", &[("tickets_passed", 47), ("tickets_executed", 50)]),
        Some(94.0)
    );
    // 评价覆盖率: 50 of 80 executed tickets evaluated.
    assert_eq!(
        eval("100 * tickets_evaluated / tickets_executed", &[("tickets_evaluated", 50), ("tickets_executed", 80)]),
        Some(62.5)
    );
    // 无票作业 per 1,000 field orders: 3 in 1,200 orders.
    assert_eq!(
        eval("1000 * findings_no_ticket / field_orders", &[("findings_no_ticket", 3), ("field_orders", 1200)]),
        Some(2.5)
    );
    // 平均恢复时长: 300 minutes over 4 restored faults.
    assert_eq!(
        eval("fault_restore_minutes / faults_restored", &[("fault_restore_minutes", 300), ("faults_restored", 4)]),
        Some(75.0)
    );
    // A count stands as it is.
    assert_eq!(eval("accounts_dormant", &[("accounts_dormant", 2)]), Some(2.0));
}

#[test]
fn nothing_due_means_no_figure_not_a_perfect_one() {
    assert_eq!(eval("100 * hazards_closed_on_time / hazards_due", &[]), None);
    assert_eq!(eval("100 * hazards_closed_on_time / hazards_due + 1", &[]), None);
}

#[test]
fn a_subtree_is_the_formula_over_its_sums_not_an_average_of_rates() {
    let f = Formula::parse("100 * tickets_passed / tickets_evaluated").expect("formula");
    let county_a = m(&[("tickets_passed", 9), ("tickets_evaluated", 10)]);
    let county_b = m(&[("tickets_passed", 50), ("tickets_evaluated", 100)]);
    let mut city = county_a.clone();
    city.merge(&county_b);
    let rate = f.eval(&city).expect("rate");
    assert!((rate - 59.0 / 110.0 * 100.0).abs() < 1e-9, "{rate}");
}

#[test]
fn unreadable_formulas_say_what_and_where() {
    let problem = |text: &str| Formula::parse(text).expect_err(text);
    assert_eq!(
        problem("100 * ticket_passed / tickets_evaluated"),
        FormulaError { position: 7, problem: FormulaProblem::UnknownMeasure("ticket_passed".into()) }
    );
    assert_eq!(problem("100 *"), FormulaError { position: 6, problem: FormulaProblem::UnexpectedEnd });
    assert_eq!(problem("(faults"), FormulaError { position: 8, problem: FormulaProblem::UnexpectedEnd });
    assert_eq!(problem("faults faults"), FormulaError { position: 8, problem: FormulaProblem::Unexpected("f".into()) });
    assert_eq!(problem("faults; drop"), FormulaError { position: 7, problem: FormulaProblem::Unexpected(";".into()) });
    assert_eq!(problem("1.2.3"), FormulaError { position: 1, problem: FormulaProblem::Unexpected("1.2.3".into()) });
    assert_eq!(problem(&"(".repeat(30)).problem, FormulaProblem::Unexpected("(".into()));
    assert_eq!(problem(&"1+".repeat(200)).problem, FormulaProblem::TooLong);
}

#[test]
fn targets_are_met_in_the_indicators_direction() {
    assert!(Direction::Higher.meets(98.0, 98.0));
    assert!(!Direction::Higher.meets(97.9, 98.0));
    assert!(Direction::Lower.meets(0.0, 0.0));
    assert!(!Direction::Lower.meets(0.5, 0.0));
    let f = Formula::parse("faults").expect("formula");
    let now = m(&[("faults", 2)]);
    let fig = figure(&f, Some(0.0), Direction::Lower, &now, &m(&[("faults", 1)]), &Measures::default());
    assert_eq!(fig, Figure { value: Some(2.0), last_month: Some(1.0), last_year: Some(0.0), met: Some(false) });
    assert_eq!(figure(&f, None, Direction::Lower, &now, &now, &now).met, None);
}

#[test]
fn months_count_across_years() {
    let nov = Month::read("2026-11").expect("month");
    assert_eq!(nov.plus(-1).code(), "2026-10");
    assert_eq!(nov.plus(-12).code(), "2025-11");
    assert_eq!(nov.plus(2).code(), "2027-01");
    assert_eq!(Month::read("2026-1"), None);
    assert_eq!(Month::read("2026-13"), None);
    assert_eq!(Month::read("1999-12"), None);
    assert_eq!(nov.first_day().to_string(), "2026-11-01");
}

#[test]
fn units_rank_by_the_share_of_targets_met_then_the_headline() {
    let r = |id: i64, met: usize, missed: usize, headline: Option<f64>| Ranked {
        unit_id: id,
        unit_name: format!("U{id}"),
        met,
        missed,
        headline,
    };
    let ranked = rank(
        vec![
            r(1, 3, 2, Some(99.0)),
            r(2, 4, 1, Some(90.0)),
            r(3, 3, 2, Some(99.5)),
            r(4, 3, 2, None),
            // More targets met, but a smaller share of those judged.
            r(5, 5, 7, Some(100.0)),
            // Nothing judged at all.
            r(6, 0, 0, Some(100.0)),
            // The same share as unit 2 with fewer judged: unit 2 met more.
            r(7, 4, 1, Some(95.0)),
            r(8, 8, 2, Some(80.0)),
        ],
        Direction::Higher,
    );
    let order: Vec<i64> = ranked.iter().map(|u| u.unit_id).collect();
    assert_eq!(order, vec![8, 7, 2, 3, 1, 4, 5, 6]);
}

proptest! {
    #[test]
    fn parsing_never_panics(text in "\\PC{0,80}") {
        let _ = Formula::parse(&text);
    }

    #[test]
    fn a_sum_of_measures_evaluates_to_their_sum(a in 0i64..1_000_000, b in 0i64..1_000_000) {
        let counts = m(&[("faults", a), ("faults_human", b)]);
        prop_assert_eq!(Formula::parse("faults + faults_human").expect("formula").eval(&counts), Some((a + b) as f64));
        let ratio = Formula::parse("100 * faults_human / faults").expect("formula").eval(&counts);
        prop_assert_eq!(ratio.is_none(), a == 0);
    }

    #[test]
    fn months_round_trip(y in 2000i32..2099, mo in 1u32..=12, n in -120i32..120) {
        let month = Month { year: y, month: mo };
        prop_assert_eq!(Month::read(&month.code()), Some(month));
        prop_assert_eq!(month.plus(n).plus(-n), month);
    }
}
