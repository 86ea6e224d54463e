use proptest::prelude::*;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn project(class: Class, stage: Stage) -> Project {
    Project {
        class,
        stage,
        surveyed: false,
        clock_started: !stage.waits_for_customer(),
        paused: false,
        open_defects: Vec::new(),
    }
}

fn codes(r: Result<Stage, Violation>) -> &'static str {
    r.err().map_or("ok", |v| v.rule.code)
}

/// 2026's 国庆: 1–7 October off, Saturday 10 October worked (调休).
fn october() -> Calendar {
    Calendar {
        holidays: (1..=7).map(|day| d(&format!("2026-10-{day:02}"))).collect(),
        workdays: [d("2026-10-10")].into(),
    }
}

#[test]
fn high_voltage_projects_go_through_every_stage_and_low_voltage_ones_the_short_path() {
    assert_eq!(Stage::PlanReply.next(Class::HighSingle), Stage::DesignReview);
    assert_eq!(Stage::Completion.next(Class::HighDual), Stage::Energise);
    assert_eq!(Stage::Energise.next(Class::HighDual), Stage::Energised);
    assert_eq!(Stage::PlanReply.next(Class::LowVoltage), Stage::Energise);
    assert_eq!(Stage::PlanReply.next(Class::Residential), Stage::Energise);
    assert_eq!(Class::of(0.4, true, false), Class::Residential);
    assert_eq!(Class::of(0.38, false, true), Class::LowVoltage, "dual source does not make LV high voltage");
    assert_eq!(Class::of(10.0, false, false), Class::HighSingle);
    assert_eq!(Class::of(110.0, true, true), Class::HighDual);
}

#[test]
fn the_reply_waits_for_the_survey() {
    let mut p = project(Class::HighSingle, Stage::PlanReply);
    assert_eq!(codes(check(&p, ProjectStep::Reply)), "PROJECT_SURVEY");
    assert_eq!(check(&p, ProjectStep::Survey), Ok(Stage::PlanReply));
    p.surveyed = true;
    assert_eq!(codes(check(&p, ProjectStep::Survey)), "PROJECT_STATE", "surveyed once");
    assert_eq!(check(&p, ProjectStep::Reply), Ok(Stage::DesignReview));
    p.class = Class::LowVoltage;
    assert_eq!(check(&p, ProjectStep::Reply), Ok(Stage::Energise));
}

#[test]
fn an_inspection_follows_the_customers_submission() {
    let mut p = project(Class::HighSingle, Stage::DesignReview);
    assert_eq!(codes(check(&p, ProjectStep::Inspect)), "PROJECT_SUBMISSION");
    assert_eq!(check(&p, ProjectStep::Submit), Ok(Stage::DesignReview));
    p.clock_started = true;
    assert_eq!(codes(check(&p, ProjectStep::Submit)), "PROJECT_STATE", "submitted once");
    assert_eq!(check(&p, ProjectStep::Inspect), Ok(Stage::DesignReview));
    assert_eq!(codes(check(&project(Class::HighSingle, Stage::PlanReply), ProjectStep::Inspect)), "PROJECT_STATE");
    assert_eq!(codes(check(&project(Class::HighSingle, Stage::Energise), ProjectStep::Submit)), "PROJECT_STATE");
}

#[test]
fn a_paused_project_takes_only_its_resumption_or_cancellation() {
    let mut p = project(Class::HighSingle, Stage::Completion);
    p.clock_started = true;
    p.paused = true;
    assert_eq!(codes(check(&p, ProjectStep::Inspect)), "PROJECT_PAUSED");
    assert_eq!(codes(check(&p, ProjectStep::Pause)), "PROJECT_PAUSED");
    assert_eq!(check(&p, ProjectStep::Resume), Ok(Stage::Completion));
    assert_eq!(check(&p, ProjectStep::Cancel), Ok(Stage::Cancelled));
    p.paused = false;
    assert_eq!(codes(check(&p, ProjectStep::Resume)), "PROJECT_STATE");
}

#[test]
fn supply_is_given_at_the_last_stage_with_no_defect_open() {
    let mut p = project(Class::HighSingle, Stage::Energise);
    p.open_defects = vec!["电缆沟未封堵".into()];
    assert_eq!(codes(check(&p, ProjectStep::Energise)), "PROJECT_DEFECTS_OPEN");
    p.open_defects.clear();
    assert_eq!(check(&p, ProjectStep::Energise), Ok(Stage::Energised));
    assert_eq!(codes(check(&project(Class::HighSingle, Stage::Completion), ProjectStep::Energise)), "PROJECT_STATE");
    for final_stage in [Stage::Energised, Stage::Cancelled] {
        for step in ProjectStep::ALL {
            assert_eq!(codes(check(&project(Class::LowVoltage, final_stage), step)), "PROJECT_STATE");
        }
    }
}

#[test]
fn the_first_inspector_is_accountable_and_a_recheck_answers_every_open_defect() {
    let (first, second) = (PersonId::new(1), PersonId::new(2));
    let v = judge(None, first, &[], &[], 2).expect("first");
    assert_eq!(v, Verdict { passed: false, accountable: first, missed: 0 });
    assert!(judge(None, first, &[], &[], 0).expect("first").passed);
    let stray_first = [Recheck { defect: 7, rectified: true }];
    assert!(judge(None, first, &[], &stray_first, 0).is_err(), "a first inspection has no list to answer");
    let open = [10, 11];
    let one = [Recheck { defect: 10, rectified: true }];
    assert_eq!(judge(Some(first), second, &open, &one, 0).err().map(|v| v.rule.code), Some("PROJECT_RECHECK"));
    let stray = [
        Recheck { defect: 10, rectified: true },
        Recheck { defect: 11, rectified: true },
        Recheck { defect: 99, rectified: true },
    ];
    assert!(judge(Some(first), second, &open, &stray, 0).is_err(), "a defect not on the list");
    let both = [Recheck { defect: 10, rectified: true }, Recheck { defect: 11, rectified: true }];
    assert_eq!(
        judge(Some(first), second, &open, &both, 0),
        Ok(Verdict { passed: true, accountable: first, missed: 0 })
    );
    let left = [Recheck { defect: 10, rectified: true }, Recheck { defect: 11, rectified: false }];
    assert!(!judge(Some(first), second, &open, &left, 0).expect("recheck").passed);
    let v = judge(Some(first), second, &open, &both, 1).expect("recheck");
    assert_eq!((v.passed, v.accountable, v.missed), (false, first, 1), "a new defect is the first inspector's miss");
}

#[test]
fn the_gate_names_the_project_and_its_open_defect() {
    let g =
        Gate { number: "YK-202612-0001".into(), accepted: false, open_defects: vec!["接地电阻不合格".into()] };
    let refusals = g.check();
    assert_eq!(
        refusals.iter().map(|v| v.rule.code).collect::<Vec<_>>(),
        ["PROJECT_NOT_ACCEPTED", "PROJECT_DEFECTS_OPEN"]
    );
    assert!(refusals[1].args.contains(&("defect", "接地电阻不合格".to_owned())));
    assert!(Gate { accepted: true, ..Gate::default() }.check().is_empty());
}

#[test]
fn energising_before_acceptance_is_found_and_a_power_up_only_for_a_new_connection() {
    let row = |kind, install, at: &str, cleared: Option<&str>| Energising {
        entity_kind: if install { "order" } else { "event" },
        entity_id: at.into(),
        project: "YK-1".into(),
        kind,
        registered: "2026-11-01T00:00:00Z".into(),
        cleared: cleared.map(str::to_owned),
        at: at.into(),
        install,
    };
    let rows = [
        row(ProjectKind::New, true, "2026-11-10T00:00:00Z", None),
        row(ProjectKind::New, false, "2026-11-10T00:00:00Z", Some("2026-11-20T00:00:00Z")),
        row(ProjectKind::New, true, "2026-11-21T00:00:00Z", Some("2026-11-20T00:00:00Z")),
        row(ProjectKind::Increase, false, "2026-11-10T00:00:00Z", None),
        row(ProjectKind::Increase, true, "2026-10-10T00:00:00Z", None),
    ];
    let found: Vec<&str> = early(&rows).iter().map(|e| e.entity_kind).collect();
    assert_eq!(found, ["order", "event"], "after clearance, an existing supply's power-up, before registration: none");
}

#[test]
fn working_days_skip_weekends_and_holidays_and_count_the_working_weekend() {
    let cal = october();
    // Friday 25 September + 5 working days: 28, 29, 30 September, (1–7 off), Thursday 8, Friday 9.
    assert_eq!(due(&cal, d("2026-09-25"), 5, &[]), Some(d("2026-10-09")));
    // The 调休 Saturday counts.
    assert_eq!(due(&cal, d("2026-10-09"), 1, &[]), Some(d("2026-10-10")));
    assert_eq!(due(&Calendar::default(), d("2026-10-09"), 1, &[]), Some(d("2026-10-12")));
    assert_eq!(used(&cal, d("2026-09-25"), d("2026-10-09"), &[]), 5);
    assert_eq!(used(&cal, d("2026-10-09"), d("2026-10-01"), &[]), 0, "an end before the start uses none");
}

#[test]
fn paused_days_do_not_count_and_an_open_pause_stops_the_clock() {
    let cal = Calendar::default();
    // Monday 2 November + 5: Monday 9 November; paused Wednesday 4 to Friday 6 (not counted 4, 5).
    assert_eq!(due(&cal, d("2026-11-02"), 5, &[]), Some(d("2026-11-09")));
    let pause = Pause { from: d("2026-11-04"), until: Some(d("2026-11-06")) };
    assert_eq!(due(&cal, d("2026-11-02"), 5, &[pause]), Some(d("2026-11-11")));
    assert_eq!(due(&cal, d("2026-11-02"), 5, &[Pause { from: d("2026-11-04"), until: None }]), None);
    assert_eq!(
        timing(&cal, Some(d("2026-11-02")), 5, &[pause], None, d("2026-11-11")),
        Timing::Running { due: d("2026-11-11") }
    );
    assert_eq!(
        timing(&cal, Some(d("2026-11-02")), 5, &[pause], None, d("2026-11-12")),
        Timing::Overdue { due: d("2026-11-11") }
    );
    assert_eq!(
        timing(&cal, Some(d("2026-11-02")), 5, &[], Some(d("2026-11-10")), d("2026-12-01")),
        Timing::Late { due: d("2026-11-09") }
    );
    assert_eq!(timing(&cal, None, 5, &[], None, d("2026-12-01")), Timing::NotStarted);
    let open = Pause { from: d("2026-11-04"), until: None };
    assert_eq!(timing(&cal, Some(d("2026-11-02")), 5, &[open], None, d("2026-12-01")), Timing::Paused);
    // Finished while paused: the pause ends with the stage.
    assert_eq!(
        timing(&cal, Some(d("2026-11-02")), 5, &[open], Some(d("2026-11-05")), d("2026-12-01")),
        Timing::OnTime { due: d("2026-11-10") }
    );
}

#[test]
fn the_limits_table_holds_the_briefs_defaults() {
    let rows = default_limits();
    assert_eq!(limit_of(&rows, Stage::PlanReply, Class::HighDual), 30);
    assert_eq!(limit_of(&rows, Stage::PlanReply, Class::HighSingle), 15);
    assert_eq!(limit_of(&rows, Stage::PlanReply, Class::Residential), 3);
    assert_eq!(limit_of(&rows, Stage::DesignReview, Class::HighSingle), 10);
    assert_eq!(limit_of(&rows, Stage::Energise, Class::LowVoltage), 5);
    let changed = vec![Limit { stage: Stage::Energise, class: Class::LowVoltage, days: 2, origin: String::new() }];
    assert_eq!(limit_of(&changed, Stage::Energise, Class::LowVoltage), 2, "a version's own row first");
    assert_eq!(limit_of(&changed, Stage::PlanReply, Class::HighDual), 30, "else the brief's");
    assert!(rows.iter().all(|l| l.origin.contains("[S-5")));
}

#[test]
fn kinds_are_read_in_the_marketing_systems_words() {
    assert_eq!(ProjectKind::read("高压新装"), Some(ProjectKind::New));
    assert_eq!(ProjectKind::read("低压增容"), Some(ProjectKind::Increase));
    assert_eq!(ProjectKind::read("改类"), Some(ProjectKind::Change));
    assert_eq!(ProjectKind::read("increase"), Some(ProjectKind::Increase));
    assert_eq!(ProjectKind::read("销户"), None);
}

fn calendar() -> impl Strategy<Value = Calendar> {
    let day = (0i64..120).prop_map(|i| d("2026-09-01") + Duration::days(i));
    (proptest::collection::btree_set(day.clone(), 0..30), proptest::collection::btree_set(day, 0..10))
        .prop_map(|(holidays, workdays)| Calendar { holidays, workdays })
}

fn pauses() -> impl Strategy<Value = Vec<Pause>> {
    proptest::collection::vec((0i64..100, 0i64..15), 0..4).prop_map(|v| {
        v.into_iter()
            .map(|(from, len)| {
                let from = d("2026-09-01") + Duration::days(from);
                Pause { from, until: Some(from + Duration::days(len)) }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn a_limit_never_ends_on_a_non_working_or_paused_day(
        cal in calendar(), start in 0i64..90, limit in 1u32..40, pauses in pauses(),
    ) {
        let start = d("2026-09-01") + Duration::days(start);
        let end = due(&cal, start, limit, &pauses).expect("a due day within ten years");
        prop_assert!(cal.is_working(end));
        prop_assert!(!pauses.iter().any(|p| p.covers(end)));
        prop_assert!(end > start);
        prop_assert_eq!(used(&cal, start, end, &pauses), limit);
        prop_assert_eq!(used(&cal, start, end - Duration::days(1), &pauses), limit - 1, "the day before is not yet the end");
    }

    #[test]
    fn paused_time_never_counts(cal in calendar(), start in 0i64..90, end in 0i64..120, pauses in pauses()) {
        let start = d("2026-09-01") + Duration::days(start);
        let end = d("2026-09-01") + Duration::days(end);
        let with = used(&cal, start, end, &pauses);
        let without = used(&cal, start, end, &[]);
        let paused_working = (1..=(end - start).num_days().max(0))
            .map(|i| start + Duration::days(i))
            .filter(|day| cal.is_working(*day) && pauses.iter().any(|p| p.covers(*day)))
            .count() as u32;
        prop_assert_eq!(with + paused_working, without);
        // A pause makes the limit end no earlier.
        prop_assert!(due(&cal, start, 5, &pauses) >= due(&cal, start, 5, &[]));
    }
}
