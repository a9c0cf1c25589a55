//! Storage behind one trait, so the handlers never know which database holds the clinic.
//! The embedded default is SQLite ([`sqlite::SqliteStore`]); PostgreSQL ([`postgres::PgStore`])
//! implements the same trait for several server processes on one database. A visit write is
//! one transaction: the state change, its history, its event with the clinic's next `seq` and
//! the idempotency record commit together or not at all. The store also fans committed events
//! out to live subscribers, because only it knows the commit order. What both share about rows
//! and the JSON they keep or answer with is in `rows`, so both answer byte for byte alike.

pub mod postgres;
pub(crate) mod rows;
pub mod sqlite;

use crate::events::{Event, Subscription};
use crate::model::{
    AlertSubscription, Clinic, CommandReply, RoomInfo, Session, StaffInfo, Station,
};
use async_trait::async_trait;
pub use frontdesk_api::admin::{Channel, Delivery, DeliveryState};
use frontdesk_domain::{
    Availability, ClinicId, DomainError, Outcome, RoomId, StaffId, Timestamp, Visit, VisitId,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

/// Decides a change against the visit as stored, inside the write transaction (again, should
/// the transaction be run a second time).
pub type Decide = Box<dyn Fn(&Visit) -> Result<Outcome, DomainError> + Send>;

/// Makes a retried command answer the first answer. Keys are scoped to who sent them.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    /// A digest of the request, so a key reused for a different request is refused.
    pub fingerprint: String,
}

pub enum WriteAction {
    /// A new visit, already decided by the domain (nothing stored to read first).
    Open {
        outcome: Box<Outcome>,
        patient_token_hash: Option<String>,
        /// Each guest's link token hash, by guest index (scheduled sessions).
        guest_token_hashes: Vec<String>,
    },
    Change(Decide),
}

impl std::fmt::Debug for WriteAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteAction::Open { .. } => f.write_str("Open"),
            WriteAction::Change(_) => f.write_str("Change"),
        }
    }
}

#[derive(Debug)]
pub struct VisitWrite {
    pub clinic: ClinicId,
    pub visit_id: VisitId,
    pub at: Timestamp,
    pub idempotency: Option<Idempotency>,
    pub action: WriteAction,
}

#[derive(Clone, Debug)]
pub struct Committed {
    /// 201 for a new visit, 200 for a change (as first answered, on a replay).
    pub status: u16,
    pub reply: CommandReply,
    /// `reply` as JSON, made once by the store (the visit is most of it).
    pub reply_json: String,
    /// The answer was saved from an earlier request with the same key; nothing was applied.
    pub replayed: bool,
}

impl Committed {
    /// A command's first answer: its `seq`, the visit and the entries it added, with the reply
    /// made from their JSON (made once, for the event too).
    pub(crate) fn first(
        status: u16,
        reply: CommandReply,
        visit_json: &str,
        entries_json: &str,
    ) -> Self {
        Committed {
            status,
            reply_json: rows::reply_json(reply.seq, visit_json, entries_json),
            reply,
            replayed: false,
        }
    }
}

/// A visit command decided, as both stores write it: the visit without its history (its row
/// keeps the state; the entries go beside it, into the event and into the reply), the entries
/// it adds, and the columns kept beside the visit's JSON.
pub(crate) struct Decided {
    /// 201 for a new visit, 200 for a change.
    pub status: u16,
    pub visit: Visit,
    pub entries: Vec<frontdesk_domain::HistoryEntry>,
    /// The version a change was decided on; `None` for an opening.
    pub decided_on: Option<u64>,
    /// An opening's patient and guest link token hashes.
    pub token_hash: Option<String>,
    pub guest_tokens: Vec<String>,
    /// The visit as its row keeps it.
    pub data: String,
    pub room: String,
    pub line_priority: i64,
    pub line_since: i64,
    /// When a visit that has ended did (ms), for the finished-visits index.
    pub finished_at: Option<i64>,
}

impl VisitWrite {
    /// Decides this write: an opening as it came, checked to be the visit and clinic it names;
    /// a change on `current`, the visit as stored (none: not found).
    pub(crate) fn decide_on(&self, current: Option<&Visit>) -> Result<Decided, WriteRefused> {
        let (status, outcome, decided_on, token_hash, guest_tokens) = match &self.action {
            WriteAction::Open {
                outcome,
                patient_token_hash,
                guest_token_hashes,
            } => {
                if outcome.visit.id != self.visit_id || outcome.visit.clinic_id != self.clinic {
                    return Err(StoreError::Corrupt(
                        "opened visit does not match the write".into(),
                    )
                    .into());
                }
                (
                    201,
                    outcome.as_ref().clone(),
                    None,
                    patient_token_hash.clone(),
                    guest_token_hashes.clone(),
                )
            }
            WriteAction::Change(decide) => {
                // Another clinic's visit does not exist for this one.
                let current = current
                    .filter(|v| v.clinic_id == self.clinic)
                    .ok_or(WriteRefused::NotFound)?;
                let outcome = decide(current).map_err(|error| WriteRefused::Domain {
                    error,
                    visit: Box::new(current.clone()),
                })?;
                (200, outcome, Some(current.version), None, Vec::new())
            }
        };
        let mut visit = outcome.visit;
        visit.history.clear();
        let (line_priority, line_since) = frontdesk_domain::queue::line_position(&visit);
        Ok(Decided {
            status,
            data: rows::to_json(&visit)?,
            room: visit.room_id.to_string(),
            line_priority: line_priority as i64,
            line_since: line_since.as_millis(),
            finished_at: visit
                .status
                .is_terminal()
                .then(|| visit.updated_at.as_millis()),
            visit,
            entries: outcome.entries,
            decided_on,
            token_hash,
            guest_tokens,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteRefused {
    #[error("visit not found")]
    NotFound,
    #[error("{error}")]
    Domain {
        error: DomainError,
        visit: Box<Visit>,
    },
    #[error("idempotency key reused for a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an admin changes about a member of staff, already checked; `None` leaves it alone.
#[derive(Clone, Debug, Default)]
pub struct StaffEdit {
    pub name: Option<String>,
    /// `Some(None)` removes the phone number.
    pub phone: Option<Option<String>>,
    pub roles: Option<frontdesk_domain::Roles>,
    /// Rooms of the clinic, each once.
    pub rooms: Option<Vec<frontdesk_domain::RoomId>>,
    pub all_rooms: Option<bool>,
}

/// Secrets kept beside a staff member, never sent anywhere.
#[derive(Clone)]
pub struct StaffSecrets {
    pub password_hash: String,
    pub pin_hash: Option<String>,
    /// Wrong station PINs in a row (see [`Store::take_pin_try`]).
    pub pin_failures: u32,
}

/// A one-time password reset link, as kept: only its token's hash.
#[derive(Clone, Debug)]
pub struct PasswordReset {
    pub token_hash: String,
    pub clinic: ClinicId,
    pub staff: StaffId,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for StaffSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffSecrets(..)")
    }
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub clinic: ClinicId,
    pub staff: StaffId,
    pub station: Option<uuid::Uuid>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The clinic as one consistent read, with the `seq` it reflects.
#[derive(Clone, Debug)]
pub struct SnapshotData {
    pub seq: u64,
    pub clinic: Clinic,
    pub rooms: Vec<RoomInfo>,
    pub staff: Vec<StaffInfo>,
    pub open_visits: Vec<Visit>,
}

/// A message to send, as the notifier decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// The same key is queued once, however often the notifier decides it.
    pub key: String,
    pub visit: Option<VisitId>,
    /// What it is for ("arrival", "booked", "reminder_24h", ...), for admins and tests.
    pub kind: String,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Not sent before this time.
    pub due_at: Timestamp,
    /// Skipped, not sent, if the visit is over (cancelled, no-show, ended) when it falls due.
    pub only_while_open: bool,
}

/// What became of one delivery attempt.
#[derive(Clone, Debug)]
pub enum Attempt {
    /// About to hand it to the transport (counts an attempt).
    Sending,
    Sent,
    Retry {
        error: String,
        next_at: Timestamp,
    },
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn create_clinic(&self, clinic: Clinic) -> Result<(), StoreError>;
    async fn clinic(&self, id: ClinicId) -> Result<Option<Clinic>, StoreError>;
    async fn clinic_by_slug(&self, slug: &str) -> Result<Option<Clinic>, StoreError>;

    /// Adds or replaces a room; publishes a room event. Returns its seq.
    async fn put_room(&self, room: RoomInfo, at: Timestamp) -> Result<u64, StoreError>;
    async fn rooms(&self, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError>;

    /// Adds a member of staff (email unique in the clinic); publishes a staff event.
    async fn create_staff(
        &self,
        staff: StaffInfo,
        secrets: StaffSecrets,
        at: Timestamp,
    ) -> Result<u64, StoreError>;
    async fn staff(&self, clinic: ClinicId) -> Result<Vec<StaffInfo>, StoreError>;
    async fn staff_with_secrets(
        &self,
        clinic: ClinicId,
        email: &str,
    ) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError>;
    async fn set_pin(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        pin_hash: String,
    ) -> Result<(), StoreError>;
    /// Changes what `edit` gives of a member of staff's name, phone, roles and rooms (not
    /// their email, secrets or availability, which are theirs to set), leaving the rest as
    /// stored at that moment; publishes a staff event. None if no such staff
    /// in the clinic.
    async fn update_staff(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        edit: StaffEdit,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError>;
    /// Deactivates (every session of theirs ends in the same transaction) or reactivates a
    /// member of staff; publishes a staff event when it changed something. None if no such
    /// staff in the clinic.
    async fn set_staff_active(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        active: bool,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError>;
    /// Sets a new password hash; every session of theirs but `keep` ends and a locked PIN
    /// unlocks. False if no such staff in the clinic.
    async fn set_password(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        password_hash: String,
        keep: Option<String>,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Ends every live session of a member of staff (stations included); how many ended.
    async fn revoke_staff_sessions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        now: Timestamp,
    ) -> Result<usize, StoreError>;
    /// Takes one try from a person's station PIN allowance, before the PIN is checked: which
    /// try in a row this is, or None when `limit` are spent (the PIN is locked until
    /// [`Store::clear_pin_failures`]).
    async fn take_pin_try(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError>;
    /// A try taken by [`Store::take_pin_try`] whose PIN could not be checked: it does not count.
    async fn give_back_pin_try(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError>;
    /// The PIN was right or the password signed them in: wrong tries count from zero again.
    async fn clear_pin_failures(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError>;
    /// Keeps a reset link and queues the email carrying it, in one transaction.
    async fn create_password_reset(
        &self,
        reset: PasswordReset,
        email: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Who a reset link is for while it is usable at `now`, without using it.
    async fn password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError>;
    /// Uses a reset link once and sets the new password (their sessions end). None when the
    /// link is unknown, used or expired: nothing changes.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: String,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError>;
    /// Queues one message outside the notifier (a key already queued is left alone).
    async fn queue_message(
        &self,
        clinic: ClinicId,
        message: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Publishes a staff event. None if no such staff in the clinic.
    async fn set_availability(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError>;
    async fn alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
    ) -> Result<Vec<AlertSubscription>, StoreError>;
    async fn set_alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        subscriptions: Vec<AlertSubscription>,
    ) -> Result<(), StoreError>;

    async fn create_session(&self, session: NewSession) -> Result<(), StoreError>;
    /// Forgets what no one can use any more, judged at `now` by the server's clock (which
    /// stamped them): idempotency records older than a day (a retry comes within minutes) and
    /// sessions a day past their end. Returns how many records went.
    async fn sweep(&self, now: Timestamp) -> Result<usize, StoreError>;
    /// A live session: known, not expired at `now`, not revoked.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError>;
    async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError>;
    async fn create_station(&self, station: Station, token_hash: String) -> Result<(), StoreError>;
    async fn station_by_token(&self, token_hash: &str) -> Result<Option<Station>, StoreError>;
    /// The clinic's stations still registered, by name.
    async fn stations(&self, clinic: ClinicId) -> Result<Vec<Station>, StoreError>;
    /// Ends a station: its device token stops working and every session started on it ends.
    /// False if the clinic has no such station still registered.
    async fn revoke_station(
        &self,
        clinic: ClinicId,
        station: uuid::Uuid,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Applies one visit command as one transaction (see the module doc).
    async fn write_visit(&self, write: VisitWrite) -> Result<Committed, WriteRefused>;
    /// Opens several visits in one transaction (the sessions of a weekly booking): all are
    /// written, or none is. Openings only.
    async fn write_openings(&self, writes: Vec<VisitWrite>)
    -> Result<Vec<Committed>, WriteRefused>;
    /// A visit whole, with its history.
    async fn visit(&self, clinic: ClinicId, id: VisitId) -> Result<Option<Visit>, StoreError>;
    /// Up to `limit` history entries of a visit after version `after`, oldest first; None
    /// when the clinic has no such visit.
    async fn visit_history(
        &self,
        clinic: ClinicId,
        id: VisitId,
        after: u64,
        limit: u32,
    ) -> Result<Option<Vec<frontdesk_domain::HistoryEntry>>, StoreError>;
    /// A waiting patient's place in line in `room` (1: next), as the domain's
    /// `place_in_line` counts it, without reading the room's other visits; None when the
    /// visit is not waiting there (or not the clinic's).
    async fn place_in_line(
        &self,
        clinic: ClinicId,
        room: RoomId,
        visit: VisitId,
    ) -> Result<Option<usize>, StoreError>;
    /// Every visit of the clinic not in a terminal status.
    async fn open_visits(&self, clinic: ClinicId) -> Result<Vec<Visit>, StoreError>;
    /// Up to `limit` of the clinic's visits that finished (any terminal status) in
    /// `[from, to)`, whole, in the order they finished, after `after` (the previous page's
    /// last visit: when it finished and its id).
    async fn finished_visits(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
        after: Option<(Timestamp, VisitId)>,
        limit: u32,
    ) -> Result<Vec<Visit>, StoreError>;

    /// The histories a report of `[from, to)` reads: those of the clinic's visits that arrived
    /// or finished then, each whole and in order (see `rows::REPORT_HISTORY_SQL`).
    async fn report_histories(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(VisitId, Vec<frontdesk_domain::HistoryEntry>)>, StoreError>;

    async fn events_after(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError>;
    async fn snapshot(&self, clinic: ClinicId) -> Result<Option<SnapshotData>, StoreError>;
    /// Live events of the clinic from now on, in seq order, for as long as the subscriber
    /// keeps within its budget.
    fn subscribe(&self, clinic: ClinicId) -> Subscription;
    /// Tells the other processes on this database now of everything committed here (on
    /// PostgreSQL, the notices of the last commits, which otherwise wait a moment to go with
    /// the next ones). For a process about to exit; nothing to do on SQLite.
    async fn flush(&self) {}

    /// A secret of this server's, made once and kept with the data: links it derives (a
    /// guest's, a retried arrival's) stay the same across restarts.
    fn secret(&self) -> [u8; 32];
    /// A patient's (or guest's, with their index) visit by the hash of their link token.
    async fn visit_for_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Visit, Option<usize>)>, StoreError>;
    /// Every active member of staff's alert subscriptions in the clinic (someone deactivated
    /// is not written to).
    async fn clinic_subscriptions(
        &self,
        clinic: ClinicId,
    ) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError>;

    /// Clinics with events the notifier has not looked at: (clinic, last seq it looked at).
    async fn unnotified(&self) -> Result<Vec<(ClinicId, u64)>, StoreError>;
    /// Queues the messages (a key already queued is left alone) and records that the
    /// notifier has looked at the clinic's events up to `through`, in one transaction.
    async fn queue_messages(
        &self,
        clinic: ClinicId,
        through: u64,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Messages due at `now`, oldest first. On a store several processes share, they are
    /// claimed for this process (marked `sending` for a lease), so no other process gets them.
    async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError>;
    /// Messages left `sending` by a server that stopped go back to `pending`: on a store one
    /// process opens, all of them; on a shared store, those whose claim's lease ran out.
    /// Returns how many.
    async fn requeue_interrupted(&self) -> Result<usize, StoreError>;
    async fn record_attempt(
        &self,
        id: i64,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// The clinic's messages, newest first, optionally only those in `state`.
    async fn deliveries(
        &self,
        clinic: ClinicId,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Sends a failed message once more: a `failed` one becomes `pending`, due now, keeping
    /// its count of attempts (so one more failure leaves it failed again). Returns the message
    /// and whether it was failed and is now queued again; None when the clinic has no such
    /// message.
    async fn retry_delivery(
        &self,
        clinic: ClinicId,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<(bool, Delivery)>, StoreError>;
    /// A patient whose waiting page closed is to be marked `left` at `leave_at` (replacing an
    /// earlier time for the same visit).
    async fn depart_at(
        &self,
        clinic: ClinicId,
        visit: VisitId,
        leave_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The page came back, or the departure was carried out.
    async fn cancel_departure(&self, visit: VisitId) -> Result<(), StoreError>;
    /// Every pending departure, soonest first: (clinic, visit, when).
    async fn departures(&self) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError>;
    /// Every scheduled session not yet started or missed, across clinics.
    async fn scheduled_visits(&self) -> Result<Vec<Visit>, StoreError>;
    /// Updates the clinic's settings (name, time zone, video link template).
    async fn update_clinic(&self, clinic: Clinic) -> Result<(), StoreError>;

    /// Whether other server processes share this store (PostgreSQL): then what a process keeps
    /// in memory is only its own view, and what must hold for all is read from the store.
    fn shared(&self) -> bool {
        false
    }
    /// Whether this process runs the timers and the notifier now (one process at a time does).
    /// A store that one process opens always leads.
    async fn lead(&self) -> bool {
        true
    }
    /// Where attempts against the sign-in and other budgets are counted when the store is
    /// shared (every process counts the same ones); None: each process counts its own.
    fn attempt_budgets(&self) -> Option<std::sync::Arc<dyn crate::limits::AttemptBudgets>> {
        None
    }
    /// Takes `visit`'s departure if it is still pending and due by `now`: whether it was (a
    /// page that came back meanwhile cancelled it). The timer takes a departure before marking
    /// the visit `left`, so a page coming back on another process is not overtaken by it.
    async fn take_departure(&self, visit: VisitId, now: Timestamp) -> Result<bool, StoreError> {
        let due = self
            .departures()
            .await?
            .iter()
            .any(|(_, v, until)| *v == visit && *until <= now);
        if due {
            self.cancel_departure(visit).await?;
        }
        Ok(due)
    }
    /// Tells the other processes sharing this store that sessions ended here.
    async fn announce_session_end(
        &self,
        _ended: &crate::auth::SessionEnded,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// Sessions that ended in other processes sharing this store, as they are told.
    fn session_ends(&self) -> Option<tokio::sync::broadcast::Receiver<crate::auth::SessionEnded>> {
        None
    }

    // ---- FHIR appointments booked from a practice management system ----

    /// The session an Appointment identifier (its sender's system and value) booked last, and
    /// the minutes it was booked for; None when the clinic has none by that identifier.
    async fn external_booking(
        &self,
        clinic: ClinicId,
        system: &str,
        value: &str,
    ) -> Result<Option<(VisitId, Option<u32>)>, StoreError>;
    /// Records (or moves, on a reschedule) which session an Appointment identifier booked.
    async fn link_external_booking(
        &self,
        clinic: ClinicId,
        booking: frontdesk_domain::fhir::export::ExternalBooking,
        visit: VisitId,
    ) -> Result<(), StoreError>;
    /// The Appointment identifiers of those of `visits` booked from outside.
    async fn external_bookings_of(
        &self,
        clinic: ClinicId,
        visits: Vec<VisitId>,
    ) -> Result<Vec<(VisitId, frontdesk_domain::fhir::export::ExternalBooking)>, StoreError>;

    // ---- Minimum necessary and the audit trail (issue 13, parts 3 and 4) ----
    // Kept together so another store implements them in one place.

    /// The clinic's events after `after`, in order, each with who may read it (see
    /// [`frontdesk_domain::Audience`]): None for an event everyone reads (staff, rooms). A
    /// visit event stored without one is for those who see every room.
    async fn events_with_audience(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(Event, Option<frontdesk_domain::Audience>)>, StoreError>;

    /// Appends audit records to their clinics' hash chains, in the order given, in one
    /// transaction (see [`crate::audit`]).
    async fn append_audit(&self, records: Vec<crate::audit::AuditRecord>)
    -> Result<(), StoreError>;
    /// A clinic's chain anchor (left by pruning; None: it starts at the first record) and
    /// head (the last record written; None: nothing recorded yet).
    async fn audit_marks(
        &self,
        clinic: ClinicId,
    ) -> Result<
        (
            Option<crate::audit::ChainMark>,
            Option<crate::audit::ChainMark>,
        ),
        StoreError,
    >;
    /// A clinic's records after place `after`, in chain order, at most `limit`.
    async fn audit_chain(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<crate::audit::ChainedRecord>, StoreError>;
    /// A clinic's records recorded in `[span.0, span.1)`, after place `after`, in chain order.
    async fn audit_range(
        &self,
        clinic: ClinicId,
        span: (Timestamp, Timestamp),
        after: u64,
        limit: u32,
    ) -> Result<Vec<crate::audit::ChainedRecord>, StoreError>;
    /// The records that name one visit, in chain order.
    async fn audit_for_visit(
        &self,
        clinic: ClinicId,
        visit: VisitId,
    ) -> Result<Vec<crate::audit::ChainedRecord>, StoreError>;
    /// Every clinic (each has a chain, perhaps empty), for `audit verify`.
    async fn audit_clinics(&self) -> Result<Vec<ClinicId>, StoreError>;
    /// Removes every chain's records older than `before`, keeping the last one removed as the
    /// chain's anchor; how many were removed.
    async fn prune_audit(&self, before: Timestamp) -> Result<usize, StoreError>;
}
