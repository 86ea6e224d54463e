//! The hash chain: how an event's hash is computed, and how a chain is verified.

use sha2::{Digest, Sha256};

use crate::secret::hex;

/// The hash algorithm of new events. Recorded per event, so another (e.g. SM3) can follow.
pub const ALGO: &str = "sha256";

/// The `prev_hash` of the very first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored event, as hashed and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub channel: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub unit_id: Option<i64>,
    pub summary: String,
    pub request_id: String,
    pub algo: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an event over every field but the hash itself, each length-prefixed so that no
/// two different events share an input. `None` for an algorithm this binary does not know.
pub fn event_hash(e: &EventRecord) -> Option<String> {
    if e.algo != ALGO {
        return None;
    }
    let mut hasher = Sha256::new();
    let fields = [
        e.seq.to_string(),
        e.at.clone(),
        e.actor_user_id.map(|v| v.to_string()).unwrap_or_default(),
        e.actor_name.clone(),
        e.channel.clone(),
        e.action.clone(),
        e.record_kind.clone(),
        e.record_id.clone(),
        e.unit_id.map(|v| v.to_string()).unwrap_or_default(),
        e.summary.clone(),
        e.request_id.clone(),
        e.algo.clone(),
        e.prev_hash.clone(),
    ];
    for field in &fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    Some(hex(&hasher.finalize()))
}

/// The first thing wrong with a chain. Each names the event (or checkpoint) where it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// Event `seq` is missing (deleted, or the chain was cut here).
    Missing { seq: i64 },
    /// Event `seq` does not match its own hash: it was changed.
    Altered { seq: i64 },
    /// Event `seq` does not follow the event before it: something was inserted or reordered.
    BrokenLink { seq: i64 },
    /// Event `seq` uses a hash algorithm this binary does not know.
    UnknownAlgorithm { seq: i64 },
    /// The checkpoint at `seq` is not validly signed by the configured key.
    BadSignature { seq: i64 },
    /// The chain up to `seq` was rewritten since the checkpoint at `seq` was signed; it was
    /// intact at the checkpoint `since` (0: none before).
    Rewritten { seq: i64, since: i64 },
    /// The pruning anchor at `seq` is not a signed checkpoint.
    BadAnchor { seq: i64 },
}

impl ChainProblem {
    pub fn seq(&self) -> i64 {
        match self {
            ChainProblem::Missing { seq }
            | ChainProblem::Altered { seq }
            | ChainProblem::BrokenLink { seq }
            | ChainProblem::UnknownAlgorithm { seq }
            | ChainProblem::BadSignature { seq }
            | ChainProblem::Rewritten { seq, .. }
            | ChainProblem::BadAnchor { seq } => *seq,
        }
    }

    pub fn message_key(&self) -> &'static str {
        match self {
            ChainProblem::Missing { .. } => "audit-problem-missing",
            ChainProblem::Altered { .. } => "audit-problem-altered",
            ChainProblem::BrokenLink { .. } => "audit-problem-broken-link",
            ChainProblem::UnknownAlgorithm { .. } => "audit-problem-unknown-algorithm",
            ChainProblem::BadSignature { .. } => "audit-problem-bad-signature",
            ChainProblem::Rewritten { .. } => "audit-problem-rewritten",
            ChainProblem::BadAnchor { .. } => "audit-problem-bad-anchor",
        }
    }
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub key_id: String,
    pub signature: String,
}

/// The message a checkpoint signs.
pub fn checkpoint_message(seq: i64, hash: &str, at: &str) -> Vec<u8> {
    format!("gridsafe-audit-checkpoint\n{seq}\n{hash}\n{at}").into_bytes()
}

/// Walks a chain in order. Feed events with [`Verifier::push`]; [`Verifier::finish`] checks
/// that no checkpoint points past the end.
pub struct Verifier<'a> {
    checkpoints: &'a std::collections::BTreeMap<i64, Checkpoint>,
    signature_ok: &'a (dyn Fn(&Checkpoint) -> bool + Sync),
    expected_seq: i64,
    prev_hash: String,
    last_good_checkpoint: i64,
    pub events: u64,
    pub checkpoints_checked: u64,
}

impl<'a> Verifier<'a> {
    /// Starts after the anchor `(seq, hash)` of a pruned chain, or at the genesis.
    pub fn new(
        anchor: Option<(i64, String)>,
        checkpoints: &'a std::collections::BTreeMap<i64, Checkpoint>,
        signature_ok: &'a (dyn Fn(&Checkpoint) -> bool + Sync),
    ) -> Result<Self, ChainProblem> {
        let (start, prev_hash) = match anchor {
            Some((seq, hash)) => {
                let signed = checkpoints.get(&seq).is_some_and(|cp| cp.hash == hash && signature_ok(cp));
                if !signed {
                    return Err(ChainProblem::BadAnchor { seq });
                }
                (seq + 1, hash)
            }
            None => (1, GENESIS.to_owned()),
        };
        Ok(Self {
            checkpoints,
            signature_ok,
            expected_seq: start,
            prev_hash,
            last_good_checkpoint: start - 1,
            events: 0,
            checkpoints_checked: 0,
        })
    }

    pub fn push(&mut self, e: &EventRecord) -> Result<(), ChainProblem> {
        if e.seq != self.expected_seq {
            return Err(ChainProblem::Missing { seq: self.expected_seq });
        }
        match event_hash(e) {
            None => return Err(ChainProblem::UnknownAlgorithm { seq: e.seq }),
            Some(h) if h != e.hash => return Err(ChainProblem::Altered { seq: e.seq }),
            Some(_) => {}
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainProblem::BrokenLink { seq: e.seq });
        }
        if let Some(cp) = self.checkpoints.get(&e.seq) {
            if !(self.signature_ok)(cp) {
                return Err(ChainProblem::BadSignature { seq: cp.seq });
            }
            if cp.hash != e.hash {
                return Err(ChainProblem::Rewritten { seq: cp.seq, since: self.last_good_checkpoint });
            }
            self.last_good_checkpoint = cp.seq;
            self.checkpoints_checked += 1;
        }
        self.prev_hash.clone_from(&e.hash);
        self.expected_seq += 1;
        self.events += 1;
        Ok(())
    }

    /// The last event seen must not be followed by a checkpoint: that would mean the tail was cut.
    pub fn finish(&self) -> Result<(), ChainProblem> {
        match self.checkpoints.range(self.expected_seq..).next() {
            Some(_) => Err(ChainProblem::Missing { seq: self.expected_seq }),
            None => Ok(()),
        }
    }
}
