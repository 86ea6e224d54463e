//! Messages in the user's language: the ground-floor crate `gridsafe-messages`, re-exported
//! for the pages. A request's language comes from the `gs_lang` cookie the language switch
//! sets, else from `Accept-Language`, else zh-CN.

pub use gridsafe_messages::*;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::Lang;

    /// Every key the code and templates look up literally exists; so do the keys built from
    /// codes (roles, permissions, unit kinds, statuses, rules).
    #[test]
    fn every_message_used_exists() {
        let mut used = BTreeSet::new();
        for (path, text) in sources(&["src", "../gridsafe/src", "../app/src", "../store/src"]) {
            // Message keys handed over as literals (field problems, conflicts) count too.
            let literals: &[&str] = if path.extension().is_some_and(|e| e == "rs") {
                &[
                    "\"field-",
                    "\"conflict-",
                    "\"password-",
                    "\"token-",
                    "\"import-",
                    "\"error-",
                    "\"finding-",
                    "\"stats-",
                ]
            } else {
                &[]
            };
            for prefix in literals {
                for piece in text.split(prefix).skip(1) {
                    if let Some(rest) = piece
                        .split('"')
                        .next()
                        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                    {
                        used.insert(format!("{}{rest}", &prefix[1..]));
                    }
                }
            }
            for call in [".t(\"", ".t1(\"", ".t_args(\""] {
                for piece in text.split(call).skip(1) {
                    if let Some(key) =
                        piece.split('"').next().filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                    {
                        used.insert(key.to_owned());
                    }
                }
            }
        }
        let mut built: Vec<String> = Vec::new();
        built.extend(
            gridsafe_domain::access::Permission::ALL.iter().map(|p| format!("perm-{}", p.code().replace('.', "-"))),
        );
        for role in [
            "system_admin",
            "security_admin",
            "log_auditor",
            "safety_auditor",
            "customer_manager",
            "inspector",
            "ticket_issuer",
            "work_leader",
            "work_permitter",
            "crew_member",
            "contractor_admin",
            "leader",
        ] {
            built.push(format!("role-{role}"));
        }
        for kind in ["province", "city", "county", "team"] {
            built.push(format!("unit-kind-{kind}"));
        }
        for status in ["active", "locked", "dormant", "disabled"] {
            built.push(format!("user-status-{status}"));
        }
        for class in ["system", "security", "audit"] {
            built.push(format!("admin-class-{class}"));
        }
        for kind in gridsafe_domain::people::QualificationKind::ALL {
            built.push(format!("qual-kind-{}", kind.code()));
        }
        for role in ["crew_member", "work_leader", "ticket_issuer", "work_permitter", "inspector"] {
            built.push(format!("field-role-{role}"));
        }
        for kind in ["qualification", "license", "agreement"] {
            built.push(format!("expiring-kind-{kind}"));
        }
        for rating in gridsafe_app::people::RATINGS {
            built.push(format!("rating-{rating}"));
        }
        for key in gridsafe_domain::customers::COLUMNS.iter().map(|c| c.key) {
            built.push(format!("customer-col-{key}"));
        }
        for (prefix, codes) in [
            ("importance", &crate::customers::IMPORTANCE[..]),
            ("emergency", &crate::customers::EMERGENCY[..]),
            ("due", &["overdue", "due", "not_due", "no_cycle"][..]),
            ("inspection-kind", &gridsafe_app::customers::KINDS[..]),
            ("section", &gridsafe_domain::inspections::SECTIONS[..]),
            ("outcome", &["ok", "defect", "na"][..]),
            ("hazard-state", &crate::hazards::STATES[..]),
            ("responsibility", &["grid", "customer"][..]),
            (
                "hazard-step",
                &[
                    "register",
                    "plan",
                    "notify",
                    "sign_receipt",
                    "file",
                    "rectify",
                    "submit_for_review",
                    "review",
                    "close",
                    "review_failed",
                    "seal",
                    "escalate",
                ][..],
            ),
        ] {
            built.extend(codes.iter().map(|c| format!("{prefix}-{c}")));
        }
        for rule in gridsafe_domain::inspections::default_rules() {
            built.push(format!("cycle-{}", rule.code));
        }
        for arg in ["day", "expired", "contractor", "since", "voltage", "max"] {
            built.push(format!("rule-arg-{arg}"));
        }
        use gridsafe_sheet::Problem;
        for p in [
            Problem::Encoding,
            Problem::Unreadable(String::new()),
            Problem::NoHeader,
            Problem::MissingColumn,
            Problem::Empty,
            Problem::BadDate,
            Problem::BadDateTime,
            Problem::UnknownValue,
            Problem::Duplicate { first_line: 0 },
            Problem::EndBeforeStart,
            Problem::UnknownReference,
            Problem::NotPermitted,
            Problem::NulCharacter,
        ] {
            built.push(p.message_key().to_owned());
        }
        built.extend(
            (gridsafe_domain::risk::HIGHEST..=gridsafe_domain::risk::LOWEST).map(|l| format!("risk-level-{l}")),
        );
        built.extend(gridsafe_domain::risk::Condition::ALL.iter().map(|c| format!("risk-condition-{}", c.code())));
        for rule in gridsafe_domain::rules::ALL {
            built.push(format!("rule-{}", rule.code));
            built.push(format!("rule-{}-fix", rule.code));
        }
        // The facts refusals carry, by the names the domain gives them (`.with("name", …)`),
        // and the codes `error::fact` turns into words.
        built.extend(refusal_facts().into_iter().map(|name| format!("rule-arg-{name}")));
        use gridsafe_domain::{findings::FindingState, hazards::HazardState, tickets};
        built.extend(tickets::StepKind::ALL.iter().map(|k| format!("ticket-step-{}", k.code())));
        built.extend(tickets::State::ALL.iter().map(|s| format!("ticket-state-{}", s.code())));
        built.extend(HazardState::ALL.iter().map(|s| format!("hazard-state-{}", s.code())));
        built.extend(FindingState::ALL.iter().map(|s| format!("finding-state-{}", s.code())));
        built.extend(gridsafe_domain::orders::ORDER_TYPES.iter().map(|(code, _, _)| format!("order-type-{code}")));
        built.extend(["task-open", "task-closed"].map(String::from));
        // Every audit action the code records by name, and every ticket step's.
        built.extend(actions_recorded().iter().map(|a| format!("audit-action-{}", a.replace('.', "-"))));
        built.extend(tickets::StepKind::ALL.iter().map(|k| format!("audit-action-{}", k.action().replace('.', "-"))));
        let missing: Vec<&String> =
            used.iter().chain(built.iter()).filter(|k| !(Lang::ZhCn.knows(k) && Lang::En.knows(k))).collect();
        assert!(used.len() > 50, "the scan found the lookups");
        assert!(missing.is_empty(), "message keys used but not defined in both languages: {missing:?}");
    }

    /// Every file under `dirs` (relative to this crate) with its text.
    fn sources(dirs: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut stack: Vec<std::path::PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
        let mut out = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    out.push((path, text));
                }
            }
        }
        out
    }

    /// The first quoted word after each `marker` in `dirs`' sources, when it is `a-z` and `_`.
    fn quoted_after(dirs: &[&str], marker: &str, also: char) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (_, text) in sources(dirs) {
            for piece in text.split(marker).skip(1) {
                if let Some(word) = piece
                    .split('"')
                    .next()
                    .filter(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == also))
                {
                    out.insert(word.to_owned());
                }
            }
        }
        out
    }

    /// The actions written with a literal name (`NewEvent::new("ticket.created", …)`).
    fn actions_recorded() -> BTreeSet<String> {
        let out = quoted_after(&["../app/src"], "NewEvent::new(\"", '.');
        assert!(out.contains("ticket.created") && out.contains("plan.created"), "the scan finds the actions: {out:?}");
        out
    }

    /// The names of the facts the domain attaches to refusals.
    fn refusal_facts() -> BTreeSet<String> {
        let names = quoted_after(&["../domain/src"], ".with(\"", '_');
        assert!(names.contains("hazard_state") && names.contains("person"), "the scan finds the facts: {names:?}");
        names
    }
}
