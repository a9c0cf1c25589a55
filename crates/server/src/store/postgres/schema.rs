//! The PostgreSQL store's tables, as numbered migrations run in order (the schema is only
//! ever extended: a new step, never an edited one). `schema_version` says how many have run.
//! Migrating holds an advisory lock, so replicas starting together migrate once.
//!
//! The tables are the SQLite store's, in PostgreSQL's types; text that is compared or sorted
//! (ids, names) is compared byte-wise (`COLLATE "C"`), as SQLite does, so both stores list in
//! the same order whatever the database's locale.

use super::{Fail, pg_error};
use crate::store::StoreError;
use tokio_postgres::GenericClient;

/// Any number shared by every Frontdesk process: the lock that migrations hold.
const MIGRATION_LOCK: i64 = 0x0046_726f_6e74_6d69;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE clinics (
    id TEXT COLLATE "C" PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    video_link_template TEXT,
    nameless_alerts BOOLEAN NOT NULL DEFAULT false,
    open_link_hours BIGINT
);
CREATE TABLE rooms (
    id TEXT COLLATE "C" PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    name TEXT COLLATE "C" NOT NULL,
    provider_id TEXT COLLATE "C",
    office_hours TEXT NOT NULL DEFAULT '[]',
    emergency_info TEXT,
    waiting_message TEXT,
    intake_questions TEXT NOT NULL DEFAULT '[]',
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rooms_by_clinic ON rooms(clinic_id);
CREATE TABLE staff (
    id TEXT COLLATE "C" PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    name TEXT COLLATE "C" NOT NULL,
    email TEXT NOT NULL,
    roles TEXT NOT NULL,
    availability TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    pin_hash TEXT,
    phone TEXT,
    deactivated_at BIGINT,
    pin_failures BIGINT NOT NULL DEFAULT 0,
    UNIQUE (clinic_id, email)
);
CREATE TABLE room_members (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id),
    staff_id TEXT COLLATE "C" NOT NULL REFERENCES staff(id),
    PRIMARY KEY (room_id, staff_id)
);
CREATE INDEX room_members_by_staff ON room_members(staff_id);
CREATE TABLE alert_subscriptions (
    staff_id TEXT COLLATE "C" NOT NULL REFERENCES staff(id),
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id),
    desktop BOOLEAN NOT NULL,
    email BOOLEAN NOT NULL,
    sms BOOLEAN NOT NULL,
    PRIMARY KEY (staff_id, room_id)
);
CREATE TABLE stations (
    id TEXT COLLATE "C" PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    name TEXT COLLATE "C" NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    revoked_at BIGINT
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    staff_id TEXT COLLATE "C" NOT NULL REFERENCES staff(id),
    station_id TEXT COLLATE "C" REFERENCES stations(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_by_staff ON sessions(staff_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_by_station ON sessions(station_id) WHERE revoked_at IS NULL;
CREATE TABLE visits (
    id TEXT COLLATE "C" PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    room_id TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    patient_token_hash TEXT UNIQUE,
    data TEXT NOT NULL,
    line_priority BIGINT NOT NULL DEFAULT 0,
    line_since BIGINT NOT NULL DEFAULT 0,
    finished_at BIGINT
);
CREATE INDEX visits_by_status ON visits(clinic_id, status);
CREATE INDEX visits_in_line ON visits(room_id, line_priority, line_since, id)
    WHERE status IN ('intake','waiting','on_hold');
CREATE INDEX visits_finished ON visits(clinic_id, finished_at, id) WHERE finished_at IS NOT NULL;
CREATE INDEX visits_scheduled ON visits(status) WHERE status = 'scheduled';
CREATE TABLE visit_history (
    visit_id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    position BIGINT NOT NULL,
    clinic_id TEXT COLLATE "C" NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (visit_id, version, position)
);
CREATE TABLE events (
    clinic_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    visit_id TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (clinic_id, seq)
);
CREATE TABLE idempotency (
    clinic_id TEXT COLLATE "C" NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    seq BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (clinic_id, scope, key)
);
CREATE INDEX idempotency_by_age ON idempotency(created_at);
CREATE TABLE visit_tokens (
    token_hash TEXT PRIMARY KEY,
    visit_id TEXT COLLATE "C" NOT NULL REFERENCES visits(id),
    guest BIGINT
);
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE notifier (
    clinic_id TEXT COLLATE "C" PRIMARY KEY REFERENCES clinics(id),
    seq BIGINT NOT NULL
);
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    key TEXT NOT NULL,
    visit_id TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    only_while_open BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_at BIGINT NOT NULL,
    sent_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (clinic_id, key)
);
CREATE INDEX messages_due ON messages(state, next_at);
CREATE INDEX messages_by_clinic ON messages(clinic_id, id);
CREATE TABLE departures (
    visit_id TEXT COLLATE "C" PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    leave_at BIGINT NOT NULL
);
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    clinic_id TEXT COLLATE "C" NOT NULL REFERENCES clinics(id),
    staff_id TEXT COLLATE "C" NOT NULL REFERENCES staff(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
"#,
    r#"
ALTER TABLE messages ADD COLUMN claimed_by TEXT, ADD COLUMN claimed_until BIGINT;
CREATE INDEX messages_claimed ON messages(claimed_until) WHERE state = 'sending';
CREATE TABLE attempts (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX attempts_by_key ON attempts(key, at);
"#,
    // Minimum necessary: reception may be given every room (those already at the desk keep
    // seeing every room, as they did), and each event keeps who may read it.
    r#"
ALTER TABLE staff ADD COLUMN all_rooms BOOLEAN NOT NULL DEFAULT false;
UPDATE staff SET all_rooms = true WHERE roles LIKE '%"receptionist"%';
ALTER TABLE events ADD COLUMN audience TEXT;
"#,
    // The audit trail: each clinic's hash chain of records, the visits each touched (for one
    // patient's trail), and each chain's head and the anchor pruning leaves. Appending locks
    // the clinic's `audit_chains` row, so appends from every process take places one by one.
    r#"
CREATE TABLE audit_log (
    clinic_id TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    at BIGINT NOT NULL,
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
    clinic_id TEXT COLLATE "C" NOT NULL,
    visit_id TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (clinic_id, visit_id, n)
);
CREATE TABLE audit_chains (
    clinic_id TEXT COLLATE "C" PRIMARY KEY,
    head_n BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    anchor_n BIGINT NOT NULL,
    anchor_hash TEXT NOT NULL
);
"#,
    // Step "external bookings" (FHIR import): which session each Appointment identifier of a
    // practice management system booked, unique per clinic; `minutes` is the length it was
    // booked for (sessions themselves have none).
    r#"
CREATE TABLE external_bookings (
    clinic_id TEXT COLLATE "C" NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    visit_id TEXT COLLATE "C" NOT NULL,
    minutes INTEGER,
    PRIMARY KEY (clinic_id, system, value)
);
CREATE INDEX external_bookings_by_visit ON external_bookings(clinic_id, visit_id);
"#,
    // Reports (step "report indexes"): the visits that arrived in a window are a range read, as
    // those that finished in it already are (`visits_finished`).
    r#"
CREATE INDEX visits_by_arrival ON visits(clinic_id, line_since, id);
"#,
    // Step "attempts in one call": a reservation of sign-in, arrival and intake attempts is one
    // round trip (`budgets.rs`): each key's advisory lock in key order, the window's old rows
    // let go, every budget counted, and a row added to each, or to none if any is full. Answers
    // each full budget (its place in `keys`) with its oldest attempt.
    r#"
CREATE FUNCTION reserve_attempts(keys TEXT[], limits BIGINT[], now_ms BIGINT, window_start BIGINT)
RETURNS TABLE (refused INT, oldest BIGINT) LANGUAGE plpgsql AS $$
DECLARE
    k TEXT;
    i INT;
    counted BIGINT;
    first_at BIGINT;
    any_full BOOLEAN := false;
BEGIN
    FOR k IN SELECT DISTINCT u FROM unnest(keys) AS u ORDER BY u LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        DELETE FROM attempts WHERE key = keys[i] AND at <= window_start;
        SELECT count(*), min(at) INTO counted, first_at FROM attempts WHERE key = keys[i];
        IF counted >= limits[i] THEN
            refused := i;
            oldest := first_at;
            any_full := true;
            RETURN NEXT;
        END IF;
    END LOOP;
    IF NOT any_full THEN
        INSERT INTO attempts (key, at) SELECT u, now_ms FROM unnest(keys) AS u;
    END IF;
END
$$;
"#,
];

/// How many migrations the database has had.
pub(super) async fn version<C: GenericClient + Sync>(client: &C) -> Result<i64, StoreError> {
    let row = client
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .map_err(|e| pg_error(&e))?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// Brings the schema up to date, each migration in a transaction with its new version.
pub(super) async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(|e| pg_error(&e))?;
    let run = async {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
             INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
        )
        .await?;
        let done: i64 = tx
            .query_one("SELECT version FROM schema_version", &[])
            .await?
            .get(0);
        for (n, step) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            tx.batch_execute(step).await?;
            tx.execute("UPDATE schema_version SET version = $1", &[&(n as i64 + 1)])
                .await?;
        }
        Ok::<_, tokio_postgres::Error>(())
    };
    run.await.map_err(|e| pg_error(&e))?;
    tx.commit()
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_covers_the_domains_waiting_statuses() {
        use frontdesk_domain::Status;
        let waiting: Vec<String> = Status::ALL
            .iter()
            .filter(|s| s.is_waiting())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert!(MIGRATIONS[0].contains(&format!("WHERE status IN ({})", waiting.join(","))));
    }
}
