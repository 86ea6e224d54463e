//! The unit of work: one write transaction with who acts, for which request, at what time.
//!
//! A use case that changes state begins one, loads **inside it** everything its rule needs
//! (with the rows it decides on held: `FOR UPDATE` on PostgreSQL, the one writer lock on
//! SQLite), asks the domain, applies the change through the store, appends its audit event
//! through [`Work::audit`] and commits. A check made on what another request changes meanwhile
//! cannot pass: that request waits, or has committed and is seen.

use gridsafe_domain::access::Actor;
use gridsafe_domain::time::Timestamp;
use gridsafe_domain::webhooks::EventKind;
use gridsafe_store::{BulkConn, BulkTx, Conn, WriteTx};

use crate::audit::{NewEvent, append, append_bulk};
use crate::{App, AppError, RequestMeta};

pub struct Work<'a> {
    tx: WriteTx,
    actor: &'a Actor,
    meta: &'a RequestMeta,
    now: Timestamp,
}

impl std::fmt::Debug for Work<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work").field("actor", &self.actor.name).field("now", &self.now).finish_non_exhaustive()
    }
}

impl App {
    /// Begins a unit of work for `actor`, at the clock's time now.
    pub async fn begin<'a>(&self, actor: &'a Actor, meta: &'a RequestMeta) -> Result<Work<'a>, AppError> {
        Ok(Work { tx: self.db().begin_write().await?, actor, meta, now: self.now() })
    }
}

impl<'a> Work<'a> {
    /// The transaction's connection, for the store's functions.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.tx
    }

    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// The time of this unit of work: every stamp it writes is this one.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Appends `event` to the audit trail, in this transaction; an action other systems may hear
    /// of (`EventKind::of_action`) also writes its webhook outbox row here.
    pub async fn audit(&mut self, event: NewEvent) -> Result<i64, AppError> {
        let announced = EventKind::of_action(event.action).is_some().then(|| event.clone());
        let seq = append(&mut self.tx, self.actor, self.meta, self.now, event).await?;
        if let Some(event) = announced {
            crate::webhooks::announce(&mut self.tx, &event, seq, self.now).await?;
        }
        Ok(seq)
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Ends a refused action: `event` is written to the audit trail and committed (the refusal
    /// stays on record though nothing else changed), and `refusal` is the answer to return.
    pub async fn refused(mut self, event: NewEvent, refusal: AppError) -> AppError {
        match self.audit(event).await {
            Ok(_) => self.commit().await.err().unwrap_or(refusal),
            Err(e) => e,
        }
    }
}

/// A unit of work on PostgreSQL's own driver ([`BulkTx`]), for a write the `Any` driver cannot
/// make (an import's `COPY`): the same rules as [`Work`]. Its audit events are none that other
/// systems hear of (`EventKind::of_action`), whose outbox rows only [`Work`] writes.
pub struct BulkWork<'a> {
    tx: BulkTx,
    actor: &'a Actor,
    meta: &'a RequestMeta,
    now: Timestamp,
}

impl std::fmt::Debug for BulkWork<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkWork").field("actor", &self.actor.name).field("now", &self.now).finish_non_exhaustive()
    }
}

impl App {
    /// Begins a unit of work on PostgreSQL's own driver; `None` on SQLite.
    pub(crate) async fn begin_bulk<'a>(
        &self,
        actor: &'a Actor,
        meta: &'a RequestMeta,
    ) -> Result<Option<BulkWork<'a>>, AppError> {
        Ok(self.db().begin_bulk().await?.map(|tx| BulkWork { tx, actor, meta, now: self.now() }))
    }
}

impl BulkWork<'_> {
    pub fn conn(&mut self) -> &mut BulkConn {
        &mut self.tx
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Appends `event` to the audit trail, in this transaction.
    pub async fn audit(&mut self, event: NewEvent) -> Result<i64, AppError> {
        if EventKind::of_action(event.action).is_some() {
            return Err(AppError::internal(format!(
                "{} is announced to other systems: write it in a Work",
                event.action
            )));
        }
        append_bulk(&mut self.tx, self.actor, self.meta, self.now, event).await
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.tx.commit().await?;
        Ok(())
    }
}
