//! Photos and signed copies kept as evidence: checked for size and for what they are (by their
//! first bytes, not their names), stored in the database with their hash, read back in scope.

use gridsafe_domain::access::Capability;
use serde::Serialize;
use sha2::Digest;
use sqlx::Row;

use super::CustomersReach;
use crate::{App, AppError, FieldProblem};

/// What a file is, by its first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Checks an upload: not empty, not above the configured size, a photo (JPEG, PNG, WebP) or,
/// where `pdf` is allowed, a PDF. Answers the content type.
pub(crate) fn check_upload(app: &App, field: &'static str, bytes: &[u8], pdf: bool) -> Result<&'static str, AppError> {
    let config = app.inspections_config();
    let max = config.max_upload_bytes;
    if bytes.is_empty() {
        return Err(AppError::invalid(field, "field-upload-empty"));
    }
    if bytes.len() as u64 > max {
        return Err(AppError::Invalid(vec![
            FieldProblem::new(field, "field-upload-too-large")
                .with("size", format!("{:.1}", bytes.len() as f64 / 1_048_576.0))
                .with("max", format!("{:.1}", config.max_upload_mib())),
        ]));
    }
    match sniff(bytes) {
        Some("application/pdf") if !pdf => Err(AppError::invalid(field, "field-upload-type-photo")),
        Some(t) => Ok(t),
        None => Err(AppError::invalid(field, if pdf { "field-upload-type" } else { "field-upload-type-photo" })),
    }
}

/// Stores a checked file in the transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner_kind: &str,
    owner_id: i64,
    unit_id: i64,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    by: &str,
    at: &str,
) -> Result<i64, AppError> {
    let name: String = name.rsplit(['/', '\\']).next().unwrap_or(name).chars().take(100).collect();
    let hash = crate::secret::hex(&sha2::Sha256::digest(bytes));
    let id: i64 = sqlx::query(
        "INSERT INTO attachments (owner_kind, owner_id, unit_id, name, content_type, size, sha256, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(owner_kind)
    .bind(owner_id)
    .bind(unit_id)
    .bind(&name)
    .bind(content_type)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(&hash)
    .bind(bytes.to_vec())
    .bind(by)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentMeta {
    pub id: i64,
    pub owner_kind: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

impl AttachmentMeta {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// The files of one record (`owner_kind` inspection, notice or hazard).
pub async fn attachments_of(app: &App, owner_kind: &str, owner_id: i64) -> Result<Vec<AttachmentMeta>, AppError> {
    let rows = sqlx::query(
        "SELECT id, owner_kind, name, content_type, size, sha256, uploaded_by, uploaded_at FROM attachments \
         WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id",
    )
    .bind(owner_kind)
    .bind(owner_id)
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttachmentMeta {
                id: r.try_get(0)?,
                owner_kind: r.try_get(1)?,
                name: r.try_get(2)?,
                content_type: r.try_get(3)?,
                size: r.try_get(4)?,
                sha256: r.try_get(5)?,
                uploaded_by: r.try_get(6)?,
                uploaded_at: gridsafe_domain::time::Timestamp::from_db(&r.try_get::<String, _>(7)?)
                    .map(|t| t.local_display())
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// One file, if its unit is in reach.
pub async fn attachment<P: CustomersReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<Attachment, AppError> {
    let r = sqlx::query(
        "SELECT a.name, a.content_type, a.content, u.path FROM attachments a JOIN org_units u ON u.id = a.unit_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &r.try_get::<String, _>(3)?)?;
    Ok(Attachment { name: r.try_get(0)?, content_type: r.try_get(1)?, content: r.try_get(2)? })
}
