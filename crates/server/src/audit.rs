//! The audit trail of reads and security events: who read which patients' data (a visit, the
//! queue, the snapshot, a page of events, an opened stream, deliveries, an export) and every
//! sign-in, sign-out, lockout, password or PIN change, grant, account, station and clinic
//! change, with the actor, the time, the client's address and the visits touched.
//!
//! Each clinic's records form a hash chain: a record's hash covers its content and the hash
//! before it, so a record changed or removed in the database file breaks the chain at that
//! point ([`verify`], `frontdesk-server audit verify`). Records older than the retention are
//! pruned; the last pruned record's position and hash stay as the chain's anchor.
//!
//! Reads are many, so their records are gathered for a moment and written together
//! ([`AuditSink::read`]); a security event is written at once ([`AuditSink::now`]). Changes to
//! visits are not repeated here: their history is their trail, and the per-patient trail
//! ([`visit_trail`]) merges the two.

use crate::error::AppError;
use crate::limits::ClientAddr;
use crate::model::Session;
use crate::store::Store;
use frontdesk_domain::{ActorRef, ClinicId, HistoryEntry, StaffId, Timestamp, VisitId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use utoipa::ToSchema;

/// One thing that happened, before it takes its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    #[schema(value_type = i64)]
    pub at: Timestamp,
    /// `staff:<id>`, `email:<address>` (a sign-in that named no account of the clinic), or
    /// `system`.
    pub actor: String,
    /// The client's address (through trusted proxies), or `-` for the server's own work.
    pub client: String,
    /// What happened, such as `visit.read` or `sign_in.failed` (see [`Action`]).
    pub action: String,
    /// The visits whose data was read or changed.
    #[schema(value_type = Vec<String>)]
    pub visits: Vec<VisitId>,
    /// What else says what was touched (the staff member changed, the grants given, ...).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A record in its clinic's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainedRecord {
    /// Its place in the clinic's chain, from 1.
    pub n: u64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// The names of what is recorded.
#[derive(Debug)]
pub struct Action;

impl Action {
    pub const VISIT_READ: &str = "visit.read";
    pub const HISTORY_READ: &str = "visit.history_read";
    pub const VISITS_LISTED: &str = "visits.listed";
    pub const QUEUE_READ: &str = "queue.read";
    pub const SNAPSHOT_READ: &str = "snapshot.read";
    pub const EVENTS_READ: &str = "events.read";
    pub const STREAM_OPENED: &str = "stream.opened";
    pub const DELIVERIES_READ: &str = "deliveries.read";
    pub const AUDIT_EXPORTED: &str = "audit.exported";
    pub const VISIT_TRAIL_READ: &str = "audit.visit_trail_read";
    /// A FHIR search (Encounters or Appointments of a day).
    pub const FHIR_READ: &str = "fhir.read";
    pub const REPORT_READ: &str = "report.read";
    pub const SIGN_IN: &str = "sign_in.succeeded";
    pub const SIGN_IN_FAILED: &str = "sign_in.failed";
    pub const SIGNED_OUT: &str = "signed_out";
    pub const SIGN_IN_LOCKED: &str = "sign_in.locked_out";
    pub const PIN_LOCKED: &str = "pin.locked";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    pub const PASSWORD_RESET_SENT: &str = "password.reset_sent";
    pub const PASSWORD_RESET: &str = "password.reset";
    pub const PIN_CHANGED: &str = "pin.changed";
    pub const STAFF_CREATED: &str = "staff.created";
    pub const STAFF_CHANGED: &str = "staff.changed";
    pub const STAFF_DEACTIVATED: &str = "staff.deactivated";
    pub const STAFF_REACTIVATED: &str = "staff.reactivated";
    pub const STAFF_SIGNED_OUT: &str = "staff.signed_out_everywhere";
    pub const STATION_REGISTERED: &str = "station.registered";
    pub const STATION_ENDED: &str = "station.ended";
    pub const CLINIC_CHANGED: &str = "clinic.changed";
    pub const ROOM_CHANGED: &str = "room.changed";
    pub const DELIVERY_RETRIED: &str = "delivery.retried";
}

pub fn staff_actor(id: StaffId) -> String {
    format!("staff:{id}")
}

impl AuditRecord {
    /// Something a signed-in member of staff did or read, from where.
    pub fn by(who: &Session, from: &ClientAddr, at: Timestamp, action: &str) -> Self {
        Self {
            clinic_id: who.staff.clinic_id,
            at,
            actor: staff_actor(who.staff.id),
            client: from.0.clone(),
            action: action.to_owned(),
            visits: Vec::new(),
            detail: serde_json::Value::Null,
        }
    }

    pub fn visits(mut self, visits: impl IntoIterator<Item = VisitId>) -> Self {
        self.visits = visits.into_iter().collect();
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// What it says, as text, in the order the hash covers it and the CSV shows it: time,
    /// actor, client, action, visits, detail.
    fn text_fields(&self) -> [String; 6] {
        [
            self.at.as_millis().to_string(),
            self.actor.clone(),
            self.client.clone(),
            self.action.clone(),
            visits_text(&self.visits),
            self.detail.to_string(),
        ]
    }
}

/// The hash of a record at place `n` after `prev_hash`: SHA-256 over every field, each
/// length-prefixed so no two records share a preimage.
pub fn chain_hash(prev_hash: &str, n: u64, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let link = [prev_hash.to_owned(), n.to_string(), r.clinic_id.to_string()];
    for f in link.iter().chain(&r.text_fields()) {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    crate::auth::hex(&h.finalize())
}

/// The visits a record touched as text: their ids, comma-separated (how they are hashed,
/// stored and exported).
pub fn visits_text(visits: &[VisitId]) -> String {
    visits
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where a chain stands: the place and hash of a record (the anchor left by pruning, or the
/// last record written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainMark {
    pub n: u64,
    pub hash: String,
}

/// Why a chain does not hold, naming the first bad record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBroken {
    #[error("record {n}: its content does not match its hash (changed)")]
    Altered { n: u64 },
    #[error("record {expected} is missing (the next one found is {found})")]
    Missing { expected: u64, found: u64 },
    #[error("record {n}: it does not follow the record before it")]
    Unlinked { n: u64 },
    #[error("records after {n} are missing (the chain was written up to {head})")]
    Truncated { n: u64, head: u64 },
}

/// Checks one clinic's chain from its anchor (or the start) to its recorded head, reading it a
/// page at a time. Returns how many records it checked.
pub async fn verify(
    store: &dyn Store,
    clinic: ClinicId,
) -> Result<Result<u64, ChainBroken>, AppError> {
    const PAGE: u32 = 1000;
    let (anchor, head) = store.audit_marks(clinic).await?;
    let mut last = anchor.unwrap_or(ChainMark {
        n: 0,
        hash: GENESIS.to_owned(),
    });
    let mut checked = 0;
    loop {
        let page = store.audit_chain(clinic, last.n, PAGE).await?;
        let full = page.len() == PAGE as usize;
        for e in page {
            if e.n != last.n + 1 {
                return Ok(Err(ChainBroken::Missing {
                    expected: last.n + 1,
                    found: e.n,
                }));
            }
            if e.prev_hash != last.hash {
                return Ok(Err(ChainBroken::Unlinked { n: e.n }));
            }
            if chain_hash(&e.prev_hash, e.n, &e.record) != e.hash {
                return Ok(Err(ChainBroken::Altered { n: e.n }));
            }
            last = ChainMark {
                n: e.n,
                hash: e.hash,
            };
            checked += 1;
        }
        if !full {
            break;
        }
    }
    if let Some(head) = head
        && (head.n != last.n || head.hash != last.hash)
    {
        return Ok(Err(ChainBroken::Truncated {
            n: last.n,
            head: head.n,
        }));
    }
    Ok(Ok(checked))
}

/// Reads' records wait here for a moment and go to the store together; security events go at
/// once. Shared by every handler.
pub struct AuditSink {
    store: Arc<dyn Store>,
    waiting: Mutex<Vec<AuditRecord>>,
    /// Held while a batch is written, so a flush or an event written now returns only once
    /// every read recorded before it is in the store, in order (also those a gathering task
    /// took a moment earlier).
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink").finish_non_exhaustive()
    }
}

/// How long a read's record waits for others to be written with.
const GATHER: Duration = Duration::from_millis(50);
/// Past this many waiting, the reader that adds one writes them itself (the store is behind).
const MAX_WAITING: usize = 5_000;

impl AuditSink {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            store,
            waiting: Mutex::default(),
            writing: tokio::sync::Mutex::default(),
        })
    }

    fn take(&self) -> Vec<AuditRecord> {
        std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records a read, written with the others that come within a moment.
    pub async fn read(self: &Arc<Self>, record: AuditRecord) {
        let waiting = {
            let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            w.push(record);
            w.len()
        };
        if waiting >= MAX_WAITING {
            self.flush().await;
        } else if waiting == 1 {
            let sink = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GATHER).await;
                sink.flush().await;
            });
        }
    }

    /// Writes what is waiting now, and returns once every read recorded before it is written.
    pub async fn flush(&self) {
        let _writing = self.writing.lock().await;
        let batch = self.take();
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.append_audit(batch).await {
            tracing::error!(error = %e, "audit records could not be written");
        }
    }

    /// Records a security or admin event now, after what was waiting.
    pub async fn now(&self, record: AuditRecord) -> Result<(), AppError> {
        let _writing = self.writing.lock().await;
        let mut batch = self.take();
        batch.push(record);
        self.store.append_audit(batch).await?;
        Ok(())
    }
}

/// One line of a patient's trail: someone read or changed their visit.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TrailLine {
    #[schema(value_type = i64)]
    pub at: Timestamp,
    /// `staff:<id>`, `patient` or `system`.
    pub actor: String,
    /// The staff member's name, when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `read`: a read of the audit trail's (its `action` says which); `changed`: a change to
    /// the visit (its `action` is the change's kind).
    pub what: String,
    pub action: String,
    /// The client's address, for reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// Everyone who read or changed one visit, in order of time (reads from the audit trail,
/// changes from the visit's history).
pub async fn visit_trail(
    store: &dyn Store,
    clinic: ClinicId,
    visit: VisitId,
    history: &[HistoryEntry],
) -> Result<Vec<TrailLine>, AppError> {
    let names: std::collections::HashMap<String, String> = store
        .staff(clinic)
        .await?
        .into_iter()
        .map(|s| (staff_actor(s.id), s.name))
        .collect();
    let mut lines: Vec<TrailLine> = store
        .audit_for_visit(clinic, visit)
        .await?
        .into_iter()
        .map(|e| TrailLine {
            at: e.record.at,
            name: names.get(&e.record.actor).cloned(),
            actor: e.record.actor,
            what: "read".into(),
            action: e.record.action,
            client: Some(e.record.client),
        })
        .collect();
    lines.extend(history.iter().map(|h| {
        let actor = match h.actor {
            ActorRef::Staff { id } => staff_actor(id),
            ActorRef::Patient => "patient".into(),
            ActorRef::System => "system".into(),
        };
        TrailLine {
            at: h.at,
            name: names.get(&actor).cloned(),
            actor,
            what: "changed".into(),
            action: h.change.kind().into(),
            client: None,
        }
    }));
    // Stable: a read and a change at the same instant keep the order each was recorded in.
    lines.sort_by_key(|l| l.at);
    Ok(lines)
}

/// The records as CSV, a header line first.
pub fn to_csv(entries: &[ChainedRecord]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from("n,at,actor,client,action,visits,detail,prev_hash,hash\n");
    for e in entries {
        let row = std::iter::once(e.n.to_string())
            .chain(e.record.text_fields())
            .chain([e.prev_hash.clone(), e.hash.clone()]);
        out.push_str(&row.map(|f| field(&f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

impl crate::state::AppState {
    /// Records what a member of staff read (written with the others of the moment).
    pub async fn audit_read(
        &self,
        who: &Session,
        from: &ClientAddr,
        action: &str,
        visits: impl IntoIterator<Item = VisitId>,
        detail: serde_json::Value,
    ) {
        let record = AuditRecord::by(who, from, self.now(), action)
            .visits(visits)
            .detail(detail);
        self.audit.read(record).await;
    }

    /// Records a security or admin event a member of staff caused, now.
    pub async fn audit_event(
        &self,
        who: &Session,
        from: &ClientAddr,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let record = AuditRecord::by(who, from, self.now(), action).detail(detail);
        self.audit.now(record).await
    }

    /// Records how a sign-in (by password or a station's PIN) ended, for the clinic it named:
    /// in, refused, locked out. Other failures (the server busy) are not a sign-in's outcome.
    pub async fn audit_sign_in(
        &self,
        clinic: Option<ClinicId>,
        from: &ClientAddr,
        email: &str,
        outcome: Result<StaffId, &AppError>,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let Some(clinic) = clinic else {
            return Ok(());
        };
        let (action, actor) = match outcome {
            Ok(id) => (Action::SIGN_IN, staff_actor(id)),
            Err(AppError::BadCredentials | AppError::AccountDeactivated) => {
                (Action::SIGN_IN_FAILED, format!("email:{email}"))
            }
            Err(AppError::RateLimited { .. }) => (Action::SIGN_IN_LOCKED, format!("email:{email}")),
            Err(AppError::PinLocked) => (Action::PIN_LOCKED, format!("email:{email}")),
            Err(_) => return Ok(()),
        };
        let reason = outcome.err().map(|e| e.code());
        let mut detail = detail;
        if let (Some(reason), Some(map)) = (reason, detail.as_object_mut()) {
            map.insert("reason".into(), reason.into());
        }
        self.audit
            .now(AuditRecord {
                clinic_id: clinic,
                at: self.now(),
                actor,
                client: from.0.clone(),
                action: action.to_owned(),
                visits: Vec::new(),
                detail,
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            clinic_id: ClinicId::from_u128(1),
            at: Timestamp::from_millis(1_700_000_000_000),
            actor: "staff:x".into(),
            client: "10.0.0.1".into(),
            action: action.into(),
            visits: vec![VisitId::from_u128(2)],
            detail: serde_json::json!({"a": 1}),
        }
    }

    #[test]
    fn every_field_and_the_link_are_in_the_hash() {
        let r = record("visit.read");
        let h = chain_hash(GENESIS, 1, &r);
        assert_eq!(h, chain_hash(GENESIS, 1, &r.clone()));
        assert_ne!(h, chain_hash(GENESIS, 2, &r));
        assert_ne!(h, chain_hash(&h, 1, &r));
        let changes: [fn(&mut AuditRecord); 6] = [
            |r| r.at = Timestamp::from_millis(1),
            |r| r.actor.push('y'),
            |r| r.client.push('1'),
            |r| r.action.push('s'),
            |r| r.visits.clear(),
            |r| r.detail = serde_json::Value::Null,
        ];
        for change in changes {
            let mut other = r.clone();
            change(&mut other);
            assert_ne!(h, chain_hash(GENESIS, 1, &other));
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let e = ChainedRecord {
            n: 1,
            record: record("visit.read"),
            prev_hash: GENESIS.into(),
            hash: "h".into(),
        };
        let csv = to_csv(&[e]);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.contains(r#","{""a"":1}","#), "{line}");
    }
}
