//! The database's tables, as a list of migrations run in order when the store opens (the
//! schema is only ever extended: a new step, never an edited one), and the statuses a visit
//! is still open in, as SQL.

use super::db;
use crate::store::StoreError;
use rusqlite::{Connection, Transaction, params};
use rusqlite_migration::{HookError, HookResult, M, Migrations};
use serde_json::Value;

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

/// A visit's history beside it rather than inside it: each command adds its entries as rows,
/// and neither the visit's row nor its event grows with the visit's age.
const HISTORY_BESIDE_VISITS: &str = r#"
CREATE TABLE visit_history (
    visit_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    clinic_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (visit_id, version, position)
) WITHOUT ROWID;
"#;

/// Each visit's place in its room's line as columns (the domain's `line_position`: priority
/// as 0 routine, 1 urgent, 2 emergency, and since when it waits), indexed over the visits in
/// a waiting area, so a patient's place in line is a count rather than a read of every visit.
const LINE_COLUMNS: &str = r#"
ALTER TABLE visits ADD COLUMN line_priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN line_since INTEGER NOT NULL DEFAULT 0;
UPDATE visits SET
    line_priority = CASE json_extract(data, '$.priority')
        WHEN 'emergency' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END,
    line_since = COALESCE(json_extract(data, '$.arrived_at'), json_extract(data, '$.created_at'), 0);
CREATE INDEX visits_in_line ON visits(room_id, line_priority, line_since, id)
    WHERE status IN ('intake','waiting','on_hold');
"#;

/// When each finished visit finished (its last change), indexed per clinic, so the day's
/// finished visits ("Today" in the console) are a range read rather than a scan of every visit.
const FINISHED_AT: &str = r#"
ALTER TABLE visits ADD COLUMN finished_at INTEGER;
UPDATE visits SET finished_at = json_extract(data, '$.updated_at')
    WHERE status NOT IN ('scheduled','requested','intake','waiting','in_call','on_hold');
CREATE INDEX visits_finished ON visits(clinic_id, finished_at, id) WHERE finished_at IS NOT NULL;
"#;

/// A clinic may keep patients' names out of every desktop alert.
const NAMELESS_ALERTS: &str = r#"
ALTER TABLE clinics ADD COLUMN nameless_alerts INTEGER NOT NULL DEFAULT 0;
"#;

/// Accounts: deactivated staff (NULL: active), wrong station PINs in a row (the PIN locks at the
/// server's limit until a password sign-in), and one-time password reset links (only a hash of
/// the token is kept).
const ACCOUNTS: &str = r#"
ALTER TABLE staff ADD COLUMN deactivated_at INTEGER;
ALTER TABLE staff ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_by_staff ON sessions(staff_id) WHERE revoked_at IS NULL;
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) WITHOUT ROWID;
"#;

pub(super) use crate::store::rows::{OPEN_STATUSES, WAITING_STATUSES};

/// Minimum necessary: reception may be given every room (those already at the desk keep
/// seeing every room, as they did), and each event keeps who may read it.
const MINIMUM_NECESSARY: &str = r#"
ALTER TABLE staff ADD COLUMN all_rooms INTEGER NOT NULL DEFAULT 0;
UPDATE staff SET all_rooms = 1 WHERE roles LIKE '%"receptionist"%';
ALTER TABLE events ADD COLUMN audience TEXT;
"#;

/// The audit trail: each clinic's hash chain of records, the visits each touched (for one
/// patient's trail), and each chain's head and the anchor pruning leaves.
const AUDIT_TRAIL: &str = r#"
CREATE TABLE audit_log (
    clinic_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    client TEXT NOT NULL,
    action TEXT NOT NULL,
    visits TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (clinic_id, n)
);
CREATE INDEX audit_log_by_time ON audit_log(clinic_id, at);
CREATE TABLE audit_visits (
    clinic_id TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, visit_id, n)
);
CREATE TABLE audit_chains (
    clinic_id TEXT PRIMARY KEY,
    head_n INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    anchor_n INTEGER NOT NULL,
    anchor_hash TEXT NOT NULL
);
"#;

// Step "external bookings" (FHIR import): which session each Appointment identifier of a
// practice management system booked, unique per clinic; `minutes` is the length it was booked
// for (sessions themselves have none).
const EXTERNAL_BOOKINGS: &str = r#"
CREATE TABLE external_bookings (
    clinic_id TEXT NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    minutes INTEGER,
    PRIMARY KEY (clinic_id, system, value)
);
CREATE INDEX external_bookings_by_visit ON external_bookings(clinic_id, visit_id);
"#;

/// Reports (step "report indexes"): the visits that arrived in a window are a range read, as
/// those that finished in it already are (`visits_finished`).
const REPORT_INDEXES: &str = r#"
CREATE INDEX visits_by_arrival ON visits(clinic_id, line_since, id);
"#;

/// Brings the database's schema up to date.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let mut steps: Vec<M<'static>> = MIGRATIONS.iter().map(|m| M::up(m)).collect();
    steps.push(M::up_with_hook(
        HISTORY_BESIDE_VISITS,
        move_history_beside_visits,
    ));
    steps.push(M::up(LINE_COLUMNS));
    // A clinic's own lifetime for open visits' patient links (NULL: the server's default).
    steps.push(M::up(
        "ALTER TABLE clinics ADD COLUMN open_link_hours INTEGER;",
    ));
    steps.push(M::up(FINISHED_AT));
    steps.push(M::up(NAMELESS_ALERTS));
    steps.push(M::up(ACCOUNTS));
    steps.push(M::up(MINIMUM_NECESSARY));
    steps.push(M::up(AUDIT_TRAIL));
    steps.push(M::up(EXTERNAL_BOOKINGS));
    steps.push(M::up(REPORT_INDEXES));
    Migrations::new(steps).to_latest(conn).map_err(db)
}

/// Moves each stored visit's history into `visit_history`, and rewrites what still carries a
/// whole visit (visit events, early idempotency replies) in today's shapes. Works on JSON
/// values, so it does not depend on the Rust types of any one release.
fn move_history_beside_visits(tx: &Transaction<'_>) -> HookResult {
    let bad = |what: &str, e: &dyn std::fmt::Display| HookError::Hook(format!("{what}: {e}"));
    let visits: Vec<(String, String, String)> = tx
        .prepare("SELECT id, clinic_id, data FROM visits")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, clinic, data) in visits {
        let mut visit: Value = serde_json::from_str(&data).map_err(|e| bad("a visit", &e))?;
        let history = visit_without_history(&mut visit);
        for (position, entry) in history.iter().enumerate() {
            tx.execute(
                "INSERT INTO visit_history (visit_id, version, position, clinic_id, entry)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id,
                    entry["version"].as_i64().unwrap_or_default(),
                    position as i64,
                    clinic,
                    entry.to_string()
                ],
            )?;
        }
        tx.execute(
            "UPDATE visits SET data = ?2 WHERE id = ?1",
            params![id, visit.to_string()],
        )?;
    }
    let events: Vec<(String, i64, String)> = tx
        .prepare("SELECT clinic_id, seq, payload FROM events WHERE kind = 'visit'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (clinic, seq, payload) in events {
        let mut event: Value = serde_json::from_str(&payload).map_err(|e| bad("an event", &e))?;
        let version = event["visit"]["version"].clone();
        if let Some(fields) = event.as_object_mut() {
            fields.remove("visit");
            fields.insert("version".into(), version);
        }
        tx.execute(
            "UPDATE events SET payload = ?3 WHERE clinic_id = ?1 AND seq = ?2",
            params![clinic, seq, event.to_string()],
        )?;
    }
    let replies: Vec<(String, String, String, String)> = tx
        .prepare("SELECT clinic_id, scope, key, response FROM idempotency WHERE response <> ''")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (clinic, scope, key, response) in replies {
        let mut reply: Value =
            serde_json::from_str(&response).map_err(|e| bad("a saved reply", &e))?;
        let history = visit_without_history(&mut reply["visit"]);
        let version = reply["visit"]["version"].as_u64();
        let entries: Vec<Value> = history
            .into_iter()
            .filter(|e| e["version"].as_u64() == version)
            .collect();
        reply["entries"] = Value::Array(entries);
        tx.execute(
            "UPDATE idempotency SET response = ?4 WHERE clinic_id = ?1 AND scope = ?2 AND key = ?3",
            params![clinic, scope, key, reply.to_string()],
        )?;
    }
    Ok(())
}

/// Takes the history out of a stored visit's JSON, noting when it last changed.
fn visit_without_history(visit: &mut Value) -> Vec<Value> {
    let history = match visit.get_mut("history").map(Value::take) {
        Some(Value::Array(entries)) => entries,
        _ => Vec::new(),
    };
    if let Some(fields) = visit.as_object_mut() {
        fields.remove("history");
        if !fields.contains_key("updated_at") {
            let last = history
                .last()
                .map(|e| e["at"].clone())
                .or_else(|| fields.get("created_at").cloned())
                .unwrap_or(Value::Null);
            fields.insert("updated_at".into(), last);
        }
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_domain::{
        Actor, Command, Context, Opening, Patient, PersonName, Status, Timestamp, Visit, VisitId,
        apply, open,
    };
    use serde_json::json;

    #[test]
    fn a_database_from_before_history_moved_keeps_every_visit_and_event() {
        let mut conn = Connection::open_in_memory().unwrap();
        // The schema as the previous release left it, with a visit stored whole.
        Migrations::new(MIGRATIONS.iter().map(|m| M::up(m)).collect())
            .to_latest(&mut conn)
            .unwrap();
        let clinic = frontdesk_domain::ClinicId::from_u128(1);
        let ctx = |at: i64, actor| Context {
            actor,
            at: Timestamp::from_millis(at),
            expected_version: None,
        };
        let opened = open(
            VisitId::from_u128(7),
            clinic,
            &ctx(1_000, Actor::Patient),
            Opening::Arrive {
                room: frontdesk_domain::RoomId::from_u128(2),
                patient: Patient {
                    name: PersonName::parse("Ada L.").unwrap(),
                    contact: None,
                },
                has_intake: false,
                after_hours: false,
            },
        )
        .unwrap();
        let desk = Actor::staff(
            frontdesk_domain::StaffId::from_u128(3),
            &[frontdesk_domain::Role::Receptionist],
        );
        let claimed = apply(&opened.visit, &ctx(2_000, desk), &Command::Claim).unwrap();
        // Stored as the previous release did: whole, without `updated_at`.
        let mut old = serde_json::to_value(&claimed.visit).unwrap();
        old.as_object_mut().unwrap().remove("updated_at");
        conn.execute(
            "INSERT INTO clinics (id, slug, name, seq) VALUES (?1, 'c', 'C', 2)",
            [clinic.to_string()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO visits (id, clinic_id, room_id, status, version, data)
             VALUES (?1, ?2, 'r', 'in_call', 2, ?3)",
            params![
                claimed.visit.id.to_string(),
                clinic.to_string(),
                old.to_string()
            ],
        )
        .unwrap();
        let old_event = json!({"seq": 2, "clinic_id": clinic, "at": 2_000, "kind": "visit",
            "visit_id": claimed.visit.id, "entries": claimed.entries, "visit": old});
        conn.execute(
            "INSERT INTO events (clinic_id, seq, at, kind, visit_id, payload)
             VALUES (?1, 2, 2000, 'visit', ?2, ?3)",
            params![
                clinic.to_string(),
                claimed.visit.id.to_string(),
                old_event.to_string()
            ],
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM visit_history WHERE visit_id = ?1",
                [claimed.visit.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 2, "both entries moved beside the visit");
        let data: String = conn
            .query_row("SELECT data FROM visits", [], |r| r.get(0))
            .unwrap();
        let state: Visit = serde_json::from_str(&data).unwrap();
        assert!(state.history.is_empty(), "the row keeps the state only");
        assert_eq!(state.updated_at, Timestamp::from_millis(2_000));
        let mut whole = state;
        whole.history = claimed.visit.history.clone();
        assert_eq!(
            whole, claimed.visit,
            "state and history make the same visit"
        );
        let payload: String = conn
            .query_row("SELECT payload FROM events WHERE seq = 2", [], |r| r.get(0))
            .unwrap();
        let event: frontdesk_api::Event = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            event.body,
            frontdesk_api::EventBody::Visit {
                visit_id: claimed.visit.id,
                version: 2,
                entries: claimed.entries.clone(),
            }
        );
    }

    #[test]
    fn waiting_statuses_are_the_domains_and_the_line_index_uses_them() {
        for s in Status::ALL {
            let listed = WAITING_STATUSES.contains(&format!("'{}'", s.as_str()));
            assert_eq!(listed, s.is_waiting(), "{s}");
        }
        assert!(LINE_COLUMNS.contains(&format!("WHERE status IN {WAITING_STATUSES}")));
    }

    #[test]
    fn finished_at_is_set_for_the_terminal_statuses_only() {
        assert!(FINISHED_AT.contains(&format!("WHERE status NOT IN {OPEN_STATUSES}")));
    }

    #[test]
    fn open_statuses_are_the_non_terminal_ones() {
        for s in Status::ALL {
            let listed = OPEN_STATUSES.contains(&format!("'{}'", s.as_str()));
            assert_eq!(listed, !s.is_terminal(), "{s}");
        }
    }
}
