//! The local cache and outbox on a real SQLite file: what survives a restart, in what order,
//! and how events are laid on (in order, each once, gaps reported).

use frontdesk_api::{Clinic, Event, EventBody, RoomInfo, StaffInfo};
use frontdesk_client::CacheKey;
use frontdesk_client::state::ClinicState;
use frontdesk_client::store::{Action, ActionKind, Outcome, Store};
use frontdesk_domain::*;

const CLINIC: ClinicId = ClinicId::from_u128(1);
const RECEPTION: RoomId = RoomId::from_u128(10);
const RITA: StaffId = StaffId::from_u128(100);
const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

/// The key this console keeps in its keyring.
fn key() -> CacheKey {
    CacheKey::from_bytes([7; 32])
}

fn arrival(n: u128) -> Visit {
    open(
        VisitId::from_u128(n),
        CLINIC,
        &Context {
            actor: Actor::Patient,
            at: T0,
            expected_version: None,
        },
        Opening::Arrive {
            room: RECEPTION,
            patient: Patient {
                name: PersonName::parse(&format!("Patient {n}")).unwrap(),
                contact: None,
            },
            has_intake: false,
            after_hours: false,
        },
    )
    .unwrap()
    .visit
}

fn claimed(v: &Visit) -> Visit {
    apply(
        v,
        &Context {
            actor: Actor::staff(RITA, &[Role::Receptionist]),
            at: T0 + Span::from_mins(1),
            expected_version: Some(v.version),
        },
        &Command::Claim,
    )
    .unwrap()
    .visit
}

fn event(seq: u64, visit: &Visit) -> Event {
    Event {
        seq,
        clinic_id: CLINIC,
        at: T0,
        // The change that brought the visit to its version: that version's entries.
        body: EventBody::Visit {
            visit_id: visit.id,
            version: visit.version,
            entries: visit
                .history
                .iter()
                .filter(|e| e.version == visit.version)
                .cloned()
                .collect(),
        },
    }
}

fn staff_event(seq: u64, availability: Availability) -> Event {
    Event {
        seq,
        clinic_id: CLINIC,
        at: T0,
        body: EventBody::Staff {
            staff: StaffInfo {
                id: RITA,
                clinic_id: CLINIC,
                name: "Rita".into(),
                email: "rita@example.org".into(),
                phone: None,
                roles: Roles::of(&[Role::Receptionist]),
                availability,
                rooms: vec![RECEPTION],
                all_rooms: false,
                deactivated: false,
            },
        },
    }
}

#[test]
fn events_are_laid_on_in_order_each_once_and_gaps_are_reported() {
    let mut state = ClinicState::default();
    let a = arrival(1);
    let b = arrival(2);
    let (changed, gap) = state.apply_events([event(1, &a), event(2, &b)], T0);
    assert_eq!((state.seq, gap), (2, None));
    assert_eq!(changed.visit_changes.len(), 2);
    // Seen again (a replay after a reconnect): nothing changes.
    let (changed, gap) = state.apply_events([event(1, &a), event(2, &b)], T0);
    assert!(changed.is_empty() && gap.is_none());
    // A jump: laid on up to the gap, then reported.
    let a2 = claimed(&a);
    let (changed, gap) = state.apply_events([event(3, &a2), event(5, &b)], T0);
    assert_eq!(changed.visits.len(), 1);
    let gap = gap.expect("gap");
    assert_eq!((gap.expected, gap.got, state.seq), (4, 5, 3));
    assert_eq!(state.visits[&a.id].status, Status::InCall);
}

#[test]
fn an_older_copy_of_a_visit_never_replaces_a_newer_one() {
    let mut state = ClinicState::default();
    let a = arrival(1);
    let a2 = claimed(&a);
    let (changed, _) = state.apply_events([event(1, &a)], T0);
    assert_eq!(changed.visits.len(), 1);
    let claim = entries_of(&a2);
    assert!(
        state.lay_answer(a2.id, a2.version, &claim),
        "the command's answer arrives first"
    );
    assert_eq!(
        *state.visits[&a.id], a2,
        "laid on, the copy is the server's visit"
    );
    let (changed, gap) = state.apply_events([event(2, &a2)], T0);
    assert!(
        changed.visits.is_empty() && gap.is_none(),
        "the same change from the stream is not laid on twice"
    );
    assert_eq!(state.visits[&a.id].version, 2);
    assert_eq!(state.seq, 2, "but its seq counts as seen");
    assert!(
        !state.lay_answer(a2.id, a2.version, &claim),
        "nor from an answer"
    );
}

fn entries_of(visit: &Visit) -> Vec<HistoryEntry> {
    visit
        .history
        .iter()
        .filter(|e| e.version == visit.version)
        .cloned()
        .collect()
}

#[test]
fn a_change_whose_visit_this_console_does_not_hold_is_a_gap_to_resync() {
    let mut state = ClinicState::default();
    let a = arrival(1);
    let a3 = claimed(&claimed_then_left(&a));
    // Version 3's change for a visit never seen: the console cannot build it from that.
    let (changed, gap) = state.apply_events([event(1, &a3)], T0);
    assert!(changed.is_empty());
    let gap = gap.expect("a gap");
    assert_eq!((gap.expected, gap.got, gap.visit), (1, 1, Some(a.id)));
    assert_eq!(state.seq, 0, "the event is not counted as seen");
    // Held one version too far behind: the same.
    let (_, gap) = state.apply_events([event(1, &a)], T0);
    assert!(gap.is_none());
    let (_, gap) = state.apply_events([event(2, &a3)], T0);
    assert_eq!(gap.map(|g| g.visit), Some(Some(a.id)));
    assert_eq!(*state.visits[&a.id], a, "the copy is left as it was");
}

fn claimed_then_left(v: &Visit) -> Visit {
    let claimed = claimed(v);
    apply(
        &claimed,
        &Context {
            actor: Actor::staff(RITA, &[Role::Receptionist]),
            at: T0 + Span::from_mins(2),
            expected_version: Some(claimed.version),
        },
        &Command::LeaveCall,
    )
    .unwrap()
    .visit
}

#[test]
fn the_cache_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let mut state = ClinicState::default();
    state.clinic = Some(Clinic {
        id: CLINIC,
        slug: "demo".into(),
        name: "Demo Clinic".into(),
        time_zone: "UTC".into(),
        video_link_template: None,
        nameless_alerts: false,
        open_link_hours: None,
    });
    state.rooms.insert(
        RECEPTION,
        RoomInfo {
            id: RECEPTION,
            clinic_id: CLINIC,
            name: "Reception".into(),
            provider: None,
            office_hours: vec![],
            emergency_info: None,
            waiting_message: None,
            intake_questions: vec![],
            after_hours: Default::default(),
            show_place_in_line: false,
            minutes_per_patient: None,
        },
    );
    let (a, b) = (arrival(1), arrival(2));
    let (changed, _) = state.apply_events(
        [
            event(1, &a),
            event(2, &b),
            staff_event(3, Availability::Available),
        ],
        T0,
    );
    {
        let mut store = Store::open(&path, &key()).unwrap();
        store.replace_all(&state).unwrap();
        store.save_changes(&state, &changed).unwrap();
    }
    let reopened = Store::open(&path, &key()).unwrap().load().unwrap();
    assert_eq!(reopened.seq, 3);
    assert_eq!(reopened.visits.len(), 2);
    assert_eq!(*reopened.visits[&a.id], a);
    assert_eq!(reopened.rooms[&RECEPTION].name, "Reception");
    assert_eq!(reopened.staff[&RITA].availability, Availability::Available);
    assert_eq!(reopened.as_of, Some(T0));

    // A visit that ends leaves the cache.
    let mut state = reopened;
    let in_call = claimed(&a);
    let done = apply(
        &in_call,
        &Context {
            actor: Actor::staff(RITA, &[Role::Receptionist]),
            at: T0 + Span::from_mins(5),
            expected_version: None,
        },
        &Command::EndCall,
    )
    .unwrap()
    .visit;
    let (changed, gap) = state.apply_events([event(4, &in_call), event(5, &done)], T0);
    assert_eq!(gap, None);
    Store::open(&path, &key())
        .unwrap()
        .save_changes(&state, &changed)
        .unwrap();
    let reopened = Store::open(&path, &key()).unwrap().load().unwrap();
    assert_eq!(reopened.visits.keys().collect::<Vec<_>>(), vec![&b.id]);
    // It is kept for the day view instead, whole.
    assert_eq!(reopened.today.keys().collect::<Vec<_>>(), vec![&a.id]);
    assert_eq!(reopened.today[&a.id].status, Status::Completed);
    assert_eq!(reopened.today[&a.id].history.len(), done.history.len());
}

#[test]
fn the_days_list_from_the_server_replaces_the_day_view_and_a_snapshot_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let mut state = ClinicState::default();
    let (a, b) = (arrival(1), arrival(2));
    let (changed, _) = state.apply_events([event(1, &a), event(2, &b)], T0);
    let mut store = Store::open(&path, &key()).unwrap();
    store.save_changes(&state, &changed).unwrap();

    // The server says `a` finished (after the state this console holds): it leaves the queue
    // for the day view, and a late event for it is known, not a gap.
    let in_call = claimed(&a);
    let done = apply(
        &in_call,
        &Context {
            actor: Actor::staff(RITA, &[Role::Receptionist]),
            at: T0 + Span::from_mins(5),
            expected_version: None,
        },
        &Command::EndCall,
    )
    .unwrap()
    .visit;
    let changed = state.set_today(vec![done.clone()], T0);
    store.save_changes(&state, &changed).unwrap();
    assert!(!state.visits.contains_key(&a.id));
    assert_eq!(*state.today[&a.id], done);
    let (_, gap) = state.apply_events([event(3, &in_call), event(4, &done)], T0);
    assert_eq!(gap, None, "already known");
    let reopened = Store::open(&path, &key()).unwrap().load().unwrap();
    assert_eq!(reopened.today.keys().collect::<Vec<_>>(), vec![&a.id]);
    assert_eq!(reopened.visits.keys().collect::<Vec<_>>(), vec![&b.id]);

    // An older list never takes back what finished since; a new day drops yesterday's.
    let changed = state.set_today(vec![], T0);
    assert!(
        state.today.contains_key(&a.id),
        "finished after the day began"
    );
    store.save_changes(&state, &changed).unwrap();
    let tomorrow = T0 + Span::from_mins(24 * 60);
    let changed = state.set_today(vec![], tomorrow);
    assert!(state.today.is_empty());
    store.save_changes(&state, &changed).unwrap();
    assert!(
        Store::open(&path, &key())
            .unwrap()
            .load()
            .unwrap()
            .today
            .is_empty()
    );
}

fn action(n: u32, visit: VisitId, command: Command) -> Action {
    Action {
        action_id: format!("action-{n}"),
        at: T0 + Span::from_secs(n.into()),
        by: None,
        kind: ActionKind::Visit {
            visit_id: visit,
            command,
            expected_version: Some(1),
        },
    }
}

#[test]
fn the_outbox_keeps_its_order_across_restarts_and_rejections_become_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let v = VisitId::from_u128(7);
    {
        let mut store = Store::open(&path, &key()).unwrap();
        store.enqueue(&action(1, v, Command::Claim)).unwrap();
        store.enqueue(&action(2, v, Command::LeaveCall)).unwrap();
        store
            .enqueue(&Action {
                action_id: "action-3".into(),
                at: T0,
                by: Some(frontdesk_domain::StaffId::from_u128(9)),
                kind: ActionKind::Availability {
                    availability: Availability::Away,
                },
            })
            .unwrap();
        store
            .note_attempt("action-1", "connection refused")
            .unwrap();
    }
    let mut store = Store::open(&path, &key()).unwrap();
    let ids: Vec<String> = store
        .pending()
        .unwrap()
        .into_iter()
        .map(|a| a.action_id)
        .collect();
    assert_eq!(ids, ["action-1", "action-2", "action-3"]);
    assert!(
        store.enqueue(&action(1, v, Command::Claim)).is_err(),
        "an action is queued once"
    );

    store.confirm("action-1").unwrap();
    store
        .reject(
            &Outcome {
                action_id: "action-2".into(),
                visit_id: Some(v),
                command: "leave_call".into(),
                code: "invalid_transition".into(),
                message: "cannot leave_call a visit that is completed".into(),
                held_by: None,
            },
            T0,
        )
        .unwrap();
    drop(store);
    let mut store = Store::open(&path, &key()).unwrap();
    let left = store.pending().unwrap();
    let ids: Vec<&str> = left.iter().map(|a| a.action_id.as_str()).collect();
    assert_eq!(ids, ["action-3"]);
    assert_eq!(
        left[0].by,
        Some(frontdesk_domain::StaffId::from_u128(9)),
        "who queued it is kept with it"
    );
    let outcomes = store.outcomes().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].code, "invalid_transition");
    store.dismiss("action-2").unwrap();
    assert!(store.outcomes().unwrap().is_empty());
}

#[test]
fn an_alert_key_is_new_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let keys = vec!["v1:arrived:1".to_string(), "v2:arrived:1".to_string()];
    assert_eq!(
        Store::open(&path, &key())
            .unwrap()
            .first_time(&keys, T0)
            .unwrap(),
        keys
    );
    let mut store = Store::open(&path, &key()).unwrap();
    let again = vec!["v2:arrived:1".to_string(), "v3:arrived:1".to_string()];
    assert_eq!(
        store.first_time(&again, T0).unwrap(),
        vec!["v3:arrived:1".to_string()]
    );
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        all.extend(std::fs::read(p).unwrap_or_default());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_cache_file_holds_no_patient_name_message_or_answer_and_only_its_owner_may_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let mut state = ClinicState::default();
    let visits: Vec<Visit> = (1..=50).map(arrival).collect();
    let events: Vec<Event> = visits
        .iter()
        .enumerate()
        .map(|(i, v)| event(i as u64 + 1, v))
        .collect();
    let (changed, _) = state.apply_events(events, T0);
    let mut store = Store::open(&path, &key()).unwrap();
    store.save_changes(&state, &changed).unwrap();
    store
        .enqueue(&action(
            1,
            visits[0].id,
            Command::Message {
                text: MessageText::parse("Ella, we are running late").unwrap(),
            },
        ))
        .unwrap();
    drop(store);
    let bytes = file_bytes(&path);
    for n in [1, 17, 50] {
        assert!(
            !contains(&bytes, &format!("Patient {n}")),
            "patient {n}'s name is in the file"
        );
    }
    assert!(
        !contains(&bytes, "running late"),
        "a queued message is in the file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the cache file is for its owner only");
    }
    // With the key it all comes back.
    let reopened = Store::open(&path, &key()).unwrap();
    assert_eq!(reopened.load().unwrap().visits.len(), 50);
    assert_eq!(reopened.pending().unwrap().len(), 1);
}

#[test]
fn a_cache_opened_with_another_key_is_refused_and_can_be_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let mut state = ClinicState::default();
    let (changed, _) = state.apply_events([event(1, &arrival(1))], T0);
    Store::open(&path, &key())
        .unwrap()
        .save_changes(&state, &changed)
        .unwrap();
    let err = Store::open(&path, &CacheKey::from_bytes([8; 32])).unwrap_err();
    assert_eq!(err.code(), "cache_key");
    Store::destroy(&path).unwrap();
    assert!(!path.exists());
    let fresh = Store::open(&path, &CacheKey::from_bytes([8; 32])).unwrap();
    assert!(fresh.load().unwrap().visits.is_empty());
}

#[test]
fn a_cache_written_before_sealing_keeps_its_outbox_sealed_and_forgets_the_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        // The schema and rows as an earlier console left them: bodies in clear.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE rooms (id TEXT PRIMARY KEY, body TEXT NOT NULL);
             CREATE TABLE staff (id TEXT PRIMARY KEY, body TEXT NOT NULL);
             CREATE TABLE visits (id TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
             CREATE TABLE outbox (pos INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL UNIQUE,
                 body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                 last_error TEXT);
             CREATE TABLE outcomes (action_id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE alerted (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let queued = action(
            1,
            VisitId::from_u128(1),
            Command::Message {
                text: MessageText::parse("Back in five minutes").unwrap(),
            },
        );
        conn.execute(
            "INSERT INTO outbox (action_id, body, created_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![queued.action_id, serde_json::to_string(&queued).unwrap(), 1],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO visits (id, version, body) VALUES ('x', 1, '{\"name\":\"Patient 9\"}')",
            [],
        )
        .unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('seq', '40')", [])
            .unwrap();
    }
    let store = Store::open(&path, &key()).unwrap();
    let pending = store.pending().unwrap();
    assert_eq!(pending.len(), 1, "the unsent action is kept");
    assert_eq!(pending[0].action_id, "action-1");
    let state = store.load().unwrap();
    assert_eq!(state.seq, 0, "the clinic is fetched again");
    assert!(state.visits.is_empty());
    drop(store);
    // VACUUM-free check: the clear text is gone from the live rows (SQLite may keep freed
    // pages until they are reused, which is why the body was never written in clear since).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let clear: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE CAST(body AS TEXT) LIKE '%Back in five%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(clear, 0);
}

#[test]
fn a_session_request_put_away_stays_away_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let sam = VisitId::from_u128(7);
    {
        let mut store = Store::open(&path, &key()).unwrap();
        assert!(store.dismissed_requests().unwrap().is_empty());
        store.dismiss_request(sam, T0).unwrap();
        store.dismiss_request(sam, T0).unwrap();
    }
    let store = Store::open(&path, &key()).unwrap();
    assert_eq!(
        store
            .dismissed_requests()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![sam]
    );
}
