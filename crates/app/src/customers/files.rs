//! Photos and signed copies kept as evidence: checked for size and for what they are (by their
//! first bytes, not their names), stored in the database with their hash, read back in scope.

use gridsafe_domain::access::Capability;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::customers as store;
use sha2::Digest;

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
    conn: &mut gridsafe_store::Conn,
    owner_kind: &str,
    owner_id: i64,
    unit_id: UnitId,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    by: &str,
    at: Timestamp,
) -> Result<i64, AppError> {
    let name: String = name.rsplit(['/', '\\']).next().unwrap_or(name).chars().take(100).collect();
    let sha256 = crate::secret::hex(&sha2::Sha256::digest(bytes));
    let file =
        store::NewAttachment { owner_kind, owner_id, unit_id, name: &name, content_type, sha256: &sha256, bytes, by };
    Ok(store::insert_attachment(conn, &file, at).await?)
}

pub use gridsafe_store::customers::{Attachment, AttachmentMeta};

/// The files of one record (`owner_kind` inspection, notice or hazard).
pub async fn attachments_of(app: &App, owner_kind: &str, owner_id: i64) -> Result<Vec<AttachmentMeta>, AppError> {
    Ok(store::attachments_of(&mut *app.db().read().await?, owner_kind, owner_id).await?)
}

/// One file, if its unit is in reach.
pub async fn attachment<P: CustomersReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<Attachment, AppError> {
    let (file, path) = store::attachment(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &path)?;
    Ok(file)
}
