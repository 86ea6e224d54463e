//! The hash chain: how an event's hash is computed, and how a chain is verified.

use gridsafe_domain::time::Timestamp;
use sha2::{Digest, Sha256};

use crate::secret::hex;

/// The hash algorithm of new events. Recorded per event, so another (e.g. SM3) can follow.
pub const ALGO: &str = "sha256";

/// The `prev_hash` of the very first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub use gridsafe_store::audit::EventRecord;

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
    /// The checkpoint at `seq` is in the journal but not (or not the same) in the database:
    /// deleted or replaced.
    CheckpointMissing { seq: i64 },
    /// The database holds checkpoints but the journal beside the key is gone (`seq`: the first).
    JournalMissing { seq: i64 },
    /// Line `seq` of the journal is not an entry.
    JournalDamaged { seq: i64 },
    /// The journal's entries are out of order at the checkpoint `seq`.
    JournalOutOfOrder { seq: i64 },
    /// Events from `seq` on went longer than the checkpoint interval without a signed
    /// checkpoint (and no restart of the server explains it): checkpoints were removed.
    Uncovered { seq: i64 },
    /// The chain starts after the anchor `seq`, but no `audit.pruned` event records that cut.
    PruneUnaudited { seq: i64 },
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
            | ChainProblem::BadAnchor { seq }
            | ChainProblem::CheckpointMissing { seq }
            | ChainProblem::JournalMissing { seq }
            | ChainProblem::JournalDamaged { seq }
            | ChainProblem::JournalOutOfOrder { seq }
            | ChainProblem::Uncovered { seq }
            | ChainProblem::PruneUnaudited { seq } => *seq,
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
            ChainProblem::CheckpointMissing { .. } => "audit-problem-checkpoint-missing",
            ChainProblem::JournalMissing { .. } => "audit-problem-journal-missing",
            ChainProblem::JournalDamaged { .. } => "audit-problem-journal-damaged",
            ChainProblem::JournalOutOfOrder { .. } => "audit-problem-journal-out-of-order",
            ChainProblem::Uncovered { .. } => "audit-problem-uncovered",
            ChainProblem::PruneUnaudited { .. } => "audit-problem-prune-unaudited",
        }
    }
}

pub use gridsafe_store::audit::Checkpoint;

/// The message a checkpoint signs.
pub fn checkpoint_message(seq: i64, hash: &str, at: &str) -> Vec<u8> {
    format!("gridsafe-audit-checkpoint\n{seq}\n{hash}\n{at}").into_bytes()
}

/// How soon every event must be under a signed checkpoint: within `limit` of its time, unless
/// a server start falls in between (the machine was down, so nothing could sign).
#[derive(Debug, Clone)]
pub struct Coverage {
    pub limit: chrono::Duration,
    /// When servers started, in order.
    pub starts: Vec<Timestamp>,
}

impl Coverage {
    /// Whether an event at `since` is covered by a checkpoint (or the present) at `by`.
    fn covers(&self, since: Timestamp, by: Timestamp) -> bool {
        by <= Timestamp::from_utc(since.as_utc() + self.limit) || self.starts.iter().any(|s| since < *s && *s <= by)
    }
}

/// Walks a chain in order. Feed events with [`Verifier::push`]; [`Verifier::finish`] checks
/// that no checkpoint points past the end, that the newest events are not overdue for a
/// checkpoint, and that a pruned chain records its pruning.
pub struct Verifier<'a> {
    checkpoints: &'a std::collections::BTreeMap<i64, Checkpoint>,
    signature_ok: &'a (dyn Fn(&Checkpoint) -> bool + Sync),
    coverage: Coverage,
    anchor: Option<i64>,
    prune_recorded: bool,
    /// The oldest event not yet under a checkpoint.
    uncovered: Option<(i64, Timestamp)>,
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
        coverage: Coverage,
    ) -> Result<Self, ChainProblem> {
        let anchor_seq = anchor.as_ref().map(|(seq, _)| *seq);
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
            coverage,
            anchor: anchor_seq,
            prune_recorded: false,
            uncovered: None,
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
        if self.uncovered.is_none() {
            self.uncovered = Timestamp::from_db(&e.at).map(|at| (e.seq, at));
        }
        if e.action == "audit.pruned" && self.anchor.is_some() {
            let through =
                serde_json::from_str::<serde_json::Value>(&e.summary).ok().and_then(|s| s["through_seq"].as_i64());
            self.prune_recorded |= through == self.anchor;
        }
        if let Some(cp) = self.checkpoints.get(&e.seq) {
            if !(self.signature_ok)(cp) {
                return Err(ChainProblem::BadSignature { seq: cp.seq });
            }
            if cp.hash != e.hash {
                return Err(ChainProblem::Rewritten { seq: cp.seq, since: self.last_good_checkpoint });
            }
            if let (Some((seq, since)), Some(signed)) = (self.uncovered.take(), Timestamp::from_db(&cp.at))
                && !self.coverage.covers(since, signed)
            {
                return Err(ChainProblem::Uncovered { seq });
            }
            self.last_good_checkpoint = cp.seq;
            self.checkpoints_checked += 1;
        }
        self.prev_hash.clone_from(&e.hash);
        self.expected_seq += 1;
        self.events += 1;
        Ok(())
    }

    /// At the end of the chain, `now`: no checkpoint may point past the last event (the tail
    /// was cut), the newest events may not be overdue for one, and a pruned chain must record
    /// its pruning.
    pub fn finish(&self, now: Timestamp) -> Result<(), ChainProblem> {
        if self.checkpoints.range(self.expected_seq..).next().is_some() {
            return Err(ChainProblem::Missing { seq: self.expected_seq });
        }
        if let Some((seq, since)) = self.uncovered
            && !self.coverage.covers(since, now)
        {
            return Err(ChainProblem::Uncovered { seq });
        }
        match self.anchor {
            Some(seq) if !self.prune_recorded => Err(ChainProblem::PruneUnaudited { seq }),
            _ => Ok(()),
        }
    }
}
