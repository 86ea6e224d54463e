//! The Ed25519 key that signs checkpoints, kept in a file outside the database.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use super::chain::{Checkpoint, checkpoint_message};
use crate::AppError;
use crate::secret::{hex, unhex};

#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("Signer").field("key_id", &self.key_id).finish()
    }
}

impl Signer {
    /// Reads the key file, or creates it (readable by its owner only) on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, AppError> {
        let key = match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes: [u8; 32] = unhex(text.trim())
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| AppError::internal(format!("{} is not an audit signing key", path.display())))?;
                SigningKey::from_bytes(&bytes)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| AppError::internal(format!("cannot create {}: {e}", dir.display())))?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .map_err(|e| AppError::internal(format!("cannot create {}: {e}", path.display())))?;
                writeln!(file, "{}", hex(&bytes))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
                tracing::info!(path = %path.display(), "created the audit signing key");
                SigningKey::from_bytes(&bytes)
            }
            Err(error) => return Err(AppError::internal(format!("cannot read {}: {error}", path.display()))),
        };
        let key_id = key_id(&key.verifying_key());
        Ok(Self { key, key_id })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    pub fn sign(&self, seq: i64, hash: &str, at: &str) -> String {
        hex(&self.key.sign(&checkpoint_message(seq, hash, at)).to_bytes())
    }

    /// Whether `checkpoint` was signed by this key.
    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        verify_with(&self.key.verifying_key(), checkpoint)
    }
}

fn key_id(key: &VerifyingKey) -> String {
    hex(&Sha256::digest(key.as_bytes())[..8])
}

fn verify_with(key: &VerifyingKey, cp: &Checkpoint) -> bool {
    let Some(bytes) = unhex(&cp.signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    cp.key_id == key_id(key)
        && key.verify(&checkpoint_message(cp.seq, &cp.hash, &cp.at), &Signature::from_bytes(&bytes)).is_ok()
}
