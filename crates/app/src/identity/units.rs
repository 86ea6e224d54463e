//! Organisation units: the tree every record and every role hangs from.

use gridsafe_domain::access::{Capability, UnitPath, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::rules::{self, Violation};
use gridsafe_domain::text::trim_blank;
use gridsafe_store::identity as store;

use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};
pub use gridsafe_domain::access::UnitKind;
pub use gridsafe_store::identity::Unit;

/// The units of `scope` (each with its subtree), in tree order.
pub async fn list_units(app: &App, scope: &[UnitPath]) -> Result<Vec<Unit>, AppError> {
    Ok(store::units(&mut *app.db().read().await?, scope).await?)
}

pub async fn unit_by_id(app: &App, id: UnitId) -> Result<Option<Unit>, AppError> {
    Ok(store::unit_by_id(&mut *app.db().read().await?, id).await?)
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// `None` for a root (only when the caller's scope is the whole tree).
    pub parent_id: Option<UnitId>,
}

fn check_code(code: &str, problems: &mut Vec<FieldProblem>) {
    let ok = (1..=32).contains(&code.chars().count())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        problems.push(FieldProblem::new("code", "field-code-format"));
    }
}

pub(crate) fn check_name(field: &'static str, name: &str, problems: &mut Vec<FieldProblem>) {
    // Blank is empty; too long counts what was sent, as the API's schema does.
    if trim_blank(name).is_empty() || name.chars().count() > 100 {
        problems.push(FieldProblem::new(field, "field-name-length").with("max", 100));
    }
}

pub async fn create_unit(
    app: &App,
    cap: &Capability<perm::UnitsManage>,
    meta: &RequestMeta,
    input: NewUnit,
) -> Result<Unit, AppError> {
    let mut problems = Vec::new();
    let code = input.code.trim().to_owned();
    check_code(&code, &mut problems);
    check_name("name", &input.name, &mut problems);
    let kind = UnitKind::from_code(&input.kind);
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-unit-kind"));
    }
    // A parent that does not exist is a reference to nothing: not found, not a form error.
    let parent = match input.parent_id {
        Some(id) => Some(unit_by_id(app, id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    let (Some(kind), true) = (kind, problems.is_empty()) else {
        return Err(AppError::Invalid(problems));
    };
    match &parent {
        Some(parent) => cap.check(&parent.path)?,
        // A new root needs the whole tree in scope.
        None if !cap.scope().iter().any(|s| s.as_str() == "/") && unit_count(app).await? > 0 => {
            return Err(Violation::of(rules::UNIT_TREE).into());
        }
        None => {}
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let (id, path) = store::insert_unit(work.conn(), &code, trim_blank(&input.name), kind, parent.as_ref(), now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-unit-code"))?;
    work.audit(NewEvent::new("unit.created", "org_unit", id).unit(id).summary(
        serde_json::json!({ "code": code, "name": trim_blank(&input.name), "kind": kind.code(), "parent_id": input.parent_id }),
    ))
    .await?;
    work.commit().await?;
    Ok(Unit { id, code, name: trim_blank(&input.name).to_owned(), kind, parent_id: input.parent_id, path })
}

pub async fn rename_unit(
    app: &App,
    cap: &Capability<perm::UnitsManage>,
    meta: &RequestMeta,
    id: UnitId,
    name: &str,
) -> Result<Unit, AppError> {
    let mut problems = Vec::new();
    check_name("name", name, &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let unit = unit_by_id(app, id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    store::rename_unit(work.conn(), id, trim_blank(name)).await?;
    work.audit(
        NewEvent::new("unit.renamed", "org_unit", id)
            .unit(id)
            .summary(serde_json::json!({ "from": unit.name, "to": trim_blank(name) })),
    )
    .await?;
    work.commit().await?;
    Ok(Unit { name: trim_blank(name).to_owned(), ..unit })
}
pub(crate) async fn unit_count(app: &App) -> Result<i64, AppError> {
    Ok(store::unit_count(&mut *app.db().read().await?).await?)
}

/// The unit with this code, if any.
pub async fn unit_by_code(app: &App, code: &str) -> Result<Option<Unit>, AppError> {
    Ok(store::unit_by_code(&mut *app.db().read().await?, code).await?)
}
