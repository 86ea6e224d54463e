//! Organisation units: the tree every record and every role hangs from.

use gridsafe_domain::access::{Capability, UnitPath, perm};
use gridsafe_domain::rules::{self, Violation};
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// 省公司
    Province,
    /// 市公司
    City,
    /// 县公司 / 供电中心
    County,
    /// 班组
    Team,
}

impl UnitKind {
    pub const ALL: [UnitKind; 4] = [UnitKind::Province, UnitKind::City, UnitKind::County, UnitKind::Team];

    pub fn code(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::City => "city",
            UnitKind::County => "county",
            UnitKind::Team => "team",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        UnitKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    #[serde(skip)]
    pub path: UnitPath,
}

impl Unit {
    pub fn depth(&self) -> usize {
        self.path.depth()
    }
}

fn unit_from_row(row: &sqlx::any::AnyRow) -> Result<Unit, AppError> {
    let kind: String = row.try_get(3)?;
    let path: String = row.try_get(5)?;
    Ok(Unit {
        id: row.try_get(0)?,
        code: row.try_get(1)?,
        name: row.try_get(2)?,
        kind: UnitKind::from_code(&kind).ok_or_else(|| AppError::internal(format!("unit kind {kind}")))?,
        parent_id: row.try_get(4)?,
        path: UnitPath::parse(&path).ok_or_else(|| AppError::internal(format!("unit path {path}")))?,
    })
}

const UNIT_COLUMNS: &str = "id, code, name, kind, parent_id, path";

/// Units within `scope`, in tree order.
pub async fn list_units(app: &App, scope: &[UnitPath]) -> Result<Vec<Unit>, AppError> {
    let (clause, binds) = super::scope_clause("path", scope, 1);
    let sql = format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE {clause} ORDER BY path");
    let query = gridsafe_store::bound(sql, &binds);
    let rows = query.fetch_all(app.db().pool()).await?;
    let mut units: Vec<Unit> = rows.iter().map(unit_from_row).collect::<Result<_, _>>()?;
    // Text order of "/1/10/" and "/1/9/" is not tree order; sort by the numeric path.
    units.sort_by_key(|u| u.path.as_str().split('/').filter_map(|p| p.parse::<i64>().ok()).collect::<Vec<_>>());
    Ok(units)
}

pub async fn unit_by_id(app: &App, id: i64) -> Result<Option<Unit>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?;
    row.as_ref().map(unit_from_row).transpose()
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// `None` for a root (only when the caller's scope is the whole tree).
    pub parent_id: Option<i64>,
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
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query("INSERT INTO org_units (code, name, kind, parent_id, path, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(&code)
        .bind(trim_blank(&input.name))
        .bind(kind.code())
        .bind(input.parent_id)
        .bind(format!("/pending-{code}/"))
        .bind(now.to_db())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-unit-code"))?
        .try_get(0)?;
    let path = match &parent {
        Some(parent) => parent.path.child(id),
        None => UnitPath::root_of(id),
    };
    sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2").bind(path.as_str()).bind(id).execute(&mut *tx).await?;
    let event = NewEvent::new("unit.created", "org_unit", id)
        .unit(id)
        .summary(serde_json::json!({ "code": code, "name": trim_blank(&input.name), "kind": kind.code(), "parent_id": input.parent_id }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(Unit { id, code, name: trim_blank(&input.name).to_owned(), kind, parent_id: input.parent_id, path })
}

pub async fn rename_unit(
    app: &App,
    cap: &Capability<perm::UnitsManage>,
    meta: &RequestMeta,
    id: i64,
    name: &str,
) -> Result<Unit, AppError> {
    let mut problems = Vec::new();
    check_name("name", name, &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let unit = unit_by_id(app, id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE org_units SET name = $1 WHERE id = $2")
        .bind(trim_blank(name))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("unit.renamed", "org_unit", id)
        .unit(id)
        .summary(serde_json::json!({ "from": unit.name, "to": trim_blank(name) }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(Unit { name: trim_blank(name).to_owned(), ..unit })
}

pub(crate) async fn unit_count(app: &App) -> Result<i64, AppError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM org_units").fetch_one(app.db().pool()).await?.try_get(0)?)
}

pub async fn unit_by_code(app: &App, code: &str) -> Result<Option<Unit>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE code = $1")))
        .bind(code.trim())
        .fetch_optional(app.db().pool())
        .await?;
    row.as_ref().map(unit_from_row).transpose()
}
