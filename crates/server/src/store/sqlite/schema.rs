//! The database's tables, as a list of migrations run in order when the store opens (the
//! schema is only ever extended: a new step, never an edited one), and the statuses a visit
//! is still open in, as SQL.

use super::db;
use crate::store::StoreError;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE clinics (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    provider_id TEXT,
    office_hours TEXT NOT NULL DEFAULT '[]',
    emergency_info TEXT,
    waiting_message TEXT,
    intake_questions TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX rooms_by_clinic ON rooms(clinic_id);
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    roles TEXT NOT NULL,
    availability TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    pin_hash TEXT,
    UNIQUE (clinic_id, email)
);
CREATE TABLE room_members (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    PRIMARY KEY (room_id, staff_id)
);
CREATE INDEX room_members_by_staff ON room_members(staff_id);
CREATE TABLE alert_subscriptions (
    staff_id TEXT NOT NULL REFERENCES staff(id),
    room_id TEXT NOT NULL REFERENCES rooms(id),
    desktop INTEGER NOT NULL,
    email INTEGER NOT NULL,
    sms INTEGER NOT NULL,
    PRIMARY KEY (staff_id, room_id)
);
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    revoked_at INTEGER
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    station_id TEXT REFERENCES stations(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    room_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    patient_token_hash TEXT UNIQUE,
    data TEXT NOT NULL
);
CREATE INDEX visits_by_status ON visits(clinic_id, status);
CREATE TABLE events (
    clinic_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    visit_id TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (clinic_id, seq)
) WITHOUT ROWID;
CREATE TABLE idempotency (
    clinic_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, scope, key)
) WITHOUT ROWID;
"#,
    r#"
ALTER TABLE clinics ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE clinics ADD COLUMN video_link_template TEXT;
ALTER TABLE rooms ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE staff ADD COLUMN phone TEXT;
CREATE TABLE visit_tokens (
    token_hash TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    guest INTEGER
) WITHOUT ROWID;
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE notifier (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    seq INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    key TEXT NOT NULL,
    visit_id TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    only_while_open INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_at INTEGER NOT NULL,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (clinic_id, key)
);
CREATE INDEX messages_due ON messages(state, next_at);
CREATE INDEX messages_by_clinic ON messages(clinic_id, id);
CREATE INDEX visits_scheduled ON visits(status) WHERE status = 'scheduled';
"#,
    // An idempotency record keeps the seq of its event rather than a copy of the reply: the
    // event holds the visit as it was answered, and a record stays small (its key is random,
    // so every record lands on a page of its own).
    r#"
ALTER TABLE idempotency ADD COLUMN seq INTEGER;
"#,
    // Patients whose waiting page closed, marked `left` at `leave_at` unless the page comes
    // back first; kept here so a restart in between still marks them.
    r#"
CREATE TABLE departures (
    visit_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    leave_at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
];

pub(super) const OPEN_STATUSES: &str =
    "('scheduled','requested','intake','waiting','in_call','on_hold')";

/// Brings the database's schema up to date.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    Migrations::new(MIGRATIONS.iter().map(|m| M::up(m)).collect())
        .to_latest(conn)
        .map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_domain::Status;

    #[test]
    fn open_statuses_are_the_non_terminal_ones() {
        for s in Status::ALL {
            let listed = OPEN_STATUSES.contains(&format!("'{}'", s.as_str()));
            assert_eq!(listed, !s.is_terminal(), "{s}");
        }
    }
}
