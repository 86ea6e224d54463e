use proptest::prelude::*;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn plan(id: i64, unit: i64, kind: PlanKind, approved: &str) -> PlanFacts {
    PlanFacts { id, unit_id: unit, kind, approved_on: d(approved) }
}

fn drill(plan_id: i64, unit: i64, kind: PlanKind, held: &str) -> DrillFacts {
    DrillFacts { plan_id, unit_id: unit, kind, held_on: d(held) }
}

#[test]
fn a_unit_drills_its_comprehensive_or_special_plans_yearly_and_each_onsite_plan_half_yearly() {
    let plans = [
        plan(1, 10, PlanKind::Comprehensive, "2025-03-01"),
        plan(2, 10, PlanKind::Special, "2025-06-01"),
        plan(3, 10, PlanKind::OnSite, "2026-01-15"),
        plan(4, 10, PlanKind::Customer, "2025-11-20"),
    ];
    let drills = [drill(2, 10, PlanKind::Special, "2025-12-10"), drill(3, 10, PlanKind::OnSite, "2026-05-20")];
    let due = schedule(&plans, &drills, DrillCycles::default(), d("2026-12-01"));
    let unit = due.iter().find(|x| x.plan_id.is_none()).expect("the unit's yearly drill");
    assert_eq!(
        (unit.last, unit.due, unit.overdue),
        (Some(d("2025-12-10")), d("2026-12-10"), false),
        "a special drill counts"
    );
    let onsite = due.iter().find(|x| x.plan_id == Some(3)).expect("on-site plan");
    assert_eq!((onsite.due, onsite.overdue), (d("2026-11-20"), true));
    let customer = due.iter().find(|x| x.plan_id == Some(4)).expect("the customer's plan");
    assert_eq!(
        (customer.last, customer.due, customer.overdue),
        (None, d("2026-11-20"), true),
        "never drilled: from its approval"
    );
    assert_eq!(due.len(), 3, "one line per unit for its 综合/专项 plans, one per other plan");
    assert!(due.windows(2).all(|w| w[0].due <= w[1].due), "soonest first");
}

#[test]
fn months_clamp_to_the_end_of_a_shorter_month_and_the_day_itself_is_not_late() {
    assert_eq!(add_months(d("2026-08-31"), 6), d("2027-02-28"));
    assert_eq!(add_months(d("2027-08-31"), 6), d("2028-02-29"));
    let plans = [plan(1, 1, PlanKind::OnSite, "2026-05-31")];
    assert!(!schedule(&plans, &[], DrillCycles::default(), d("2026-11-30"))[0].overdue, "due on 30 November");
    assert!(schedule(&plans, &[], DrillCycles::default(), d("2026-12-01"))[0].overdue);
    let short = DrillCycles { onsite_months: 3, ..DrillCycles::default() };
    assert_eq!(schedule(&plans, &[], short, d("2026-06-01"))[0].due, d("2026-08-31"), "the cycle is a setting");
}

#[test]
fn a_drill_is_held_between_its_plans_approval_and_today_and_a_review_day_follows_approval() {
    assert!(check_drill(d("2026-06-01"), d("2026-01-01"), d("2026-12-01")).is_ok());
    assert_eq!(
        check_drill(d("2026-12-02"), d("2026-01-01"), d("2026-12-01")).map_err(|v| v.rule.code),
        Err("DRILL_DAY")
    );
    assert!(check_drill(d("2025-12-31"), d("2026-01-01"), d("2026-12-01")).is_err());
    assert!(check_review(d("2026-01-01"), d("2029-01-01"), 3).is_ok());
    assert!(check_review(d("2026-01-01"), d("2029-01-02"), 3).is_err(), "past the plan's validity");
    assert!(check_review(d("2026-01-01"), d("2026-01-01"), 3).is_err());
    assert!(review_overdue(d("2026-11-30"), d("2026-12-01")) && !review_overdue(d("2026-12-01"), d("2026-12-01")));
}

#[test]
fn safety_related_complaints_are_told_by_their_category() {
    assert!(safety_related("用电安全"));
    assert!(safety_related("频繁停电"));
    assert!(safety_related("电能表计量异常"));
    assert!(!safety_related("电费咨询"));
    assert!(!safety_related("服务态度"));
}

proptest! {
    #[test]
    fn a_drill_on_or_before_its_due_day_moves_the_next_due_by_one_cycle(
        approved in 0i64..1000, held in 0i64..400, months in 1u32..25, today in 0i64..2000,
    ) {
        let approved = d("2024-01-01") + chrono::Duration::days(approved);
        let held = approved + chrono::Duration::days(held);
        let today = d("2024-01-01") + chrono::Duration::days(today);
        let cycles = DrillCycles { unit_months: months, onsite_months: months, customer_months: months };
        let plans = [plan(1, 1, PlanKind::OnSite, &approved.to_string())];
        let before = schedule(&plans, &[], cycles, today);
        prop_assert_eq!(before[0].due, add_months(approved, months));
        let after = schedule(&plans, &[drill(1, 1, PlanKind::OnSite, &held.to_string())], cycles, today);
        prop_assert_eq!(after[0].due, add_months(held, months));
        prop_assert!(after[0].due > held);
        prop_assert_eq!(after[0].overdue, today > after[0].due);
        // Due is never earlier than the same months after the last drill's day would give.
        prop_assert!(after[0].due >= before[0].due || held < approved);
    }
}
