//! The store's contract, checked on each store directly (SQLite on a temp file, PostgreSQL on
//! a fresh database of a throwaway cluster): every test runs on both. No HTTP here.

use frontdesk_domain::{
    Actor, Availability, ClinicId, Command, Context, Opening, Patient, PersonName, Role, Roles,
    RoomId, Span, StaffId, Status, Timestamp, Visit, VisitId, apply, open,
};
use frontdesk_server::events::EventBody;
use frontdesk_server::model::{AlertSubscription, Clinic, RoomInfo, StaffInfo};
use frontdesk_server::store::{
    Attempt, Channel, Delivery, DeliveryState, Idempotency, NewMessage, NewSession, PasswordReset,
    StaffSecrets, Store, VisitWrite, WriteAction, WriteRefused,
};
use frontdesk_server::{PgStore, SqliteStore};
use frontdesk_testkit::PgCluster;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Where a test's store keeps its data; opening it again reads the same data.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    fn sqlite() -> Self {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Self {
        Backend::Postgres(PgCluster::shared().fresh_database())
    }

    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(dir) => {
                Arc::new(SqliteStore::open(dir.path().join("s.db"), 64).unwrap())
            }
            Backend::Postgres(url) => Arc::new(PgStore::connect(url, 64).await.unwrap()),
        }
    }
}

/// A test of the contract, run once on each store: `NAME::sqlite` and `NAME::postgres`.
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Backend::sqlite()).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(super::Backend::postgres()).await
            }
        }
    };
}

struct Fixture {
    store: Arc<dyn Store>,
    clinic: ClinicId,
    room: RoomId,
    desk: StaffInfo,
    backend: Backend,
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + ms)
}

async fn fixture(backend: Backend) -> Fixture {
    let store = backend.open().await;
    let clinic = ClinicId::from_u128(1);
    store
        .create_clinic(Clinic {
            id: clinic,
            slug: "c".into(),
            name: "C".into(),
            time_zone: "UTC".into(),
            video_link_template: None,
            nameless_alerts: false,
            open_link_hours: None,
        })
        .await
        .unwrap();
    let room = RoomId::from_u128(2);
    store
        .put_room(
            RoomInfo {
                id: room,
                clinic_id: clinic,
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
            at(0),
        )
        .await
        .unwrap();
    let desk = StaffInfo {
        id: StaffId::from_u128(3),
        clinic_id: clinic,
        name: "Desk".into(),
        email: "desk@c.org".into(),
        phone: None,
        roles: Roles::of(&[Role::Receptionist]),
        availability: Availability::Available,
        rooms: vec![room],
        all_rooms: false,
        deactivated: false,
    };
    store
        .create_staff(
            desk.clone(),
            StaffSecrets {
                password_hash: "x".into(),
                pin_hash: None,
                pin_failures: 0,
            },
            at(0),
        )
        .await
        .unwrap();
    Fixture {
        store,
        clinic,
        room,
        desk,
        backend,
    }
}

fn arrive(f: &Fixture, n: u128) -> VisitWrite {
    let ctx = Context {
        actor: Actor::Patient,
        at: at(1),
        expected_version: None,
    };
    let id = VisitId::from_u128(100 + n);
    let outcome = open(
        id,
        f.clinic,
        &ctx,
        Opening::Arrive {
            room: f.room,
            patient: Patient {
                name: PersonName::parse("Ana").unwrap(),
                contact: None,
            },
            has_intake: false,
            after_hours: false,
        },
    )
    .unwrap();
    VisitWrite {
        clinic: f.clinic,
        visit_id: id,
        at: at(1),
        idempotency: None,
        action: WriteAction::Open {
            outcome: Box::new(outcome),
            patient_token_hash: Some(format!("token-{n}")),
            guest_token_hashes: Vec::new(),
        },
    }
}

fn command(f: &Fixture, id: VisitId, cmd: Command, expected: u64, key: Option<&str>) -> VisitWrite {
    let ctx = Context {
        actor: Actor::Staff {
            id: f.desk.id,
            roles: f.desk.roles,
        },
        at: at(2),
        expected_version: Some(expected),
    };
    VisitWrite {
        clinic: f.clinic,
        visit_id: id,
        at: at(2),
        idempotency: key.map(|k| Idempotency {
            scope: "desk".into(),
            key: k.into(),
            fingerprint: format!("{cmd:?}"),
        }),
        action: WriteAction::Change(Box::new(move |v: &Visit| apply(v, &ctx, &cmd))),
    }
}

contract!(every_change_gets_the_next_seq_and_its_event);
async fn every_change_gets_the_next_seq_and_its_event(backend: Backend) {
    let f = fixture(backend).await;
    // Room and staff were events 1 and 2.
    let opened = f.store.write_visit(arrive(&f, 1)).await.unwrap();
    assert_eq!((opened.status, opened.reply.seq), (201, 3));
    let claimed = f
        .store
        .write_visit(command(
            &f,
            VisitId::from_u128(101),
            Command::Claim,
            1,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(claimed.reply.seq, 4);
    assert_eq!(claimed.reply.visit.status, Status::InCall);

    let events = f.store.events_after(f.clinic, 0, 100).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.body.kind()).collect();
    assert_eq!(kinds, ["room", "staff", "visit", "visit"]);
    let EventBody::Visit {
        visit_id,
        version,
        entries,
    } = &events[3].body
    else {
        panic!()
    };
    assert_eq!(*visit_id, claimed.reply.visit.id);
    assert_eq!(*version, claimed.reply.visit.version);
    assert_eq!(entries, &claimed.reply.entries);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        f.store.events_after(f.clinic, 2, 1).await.unwrap()[0].seq,
        3,
        "paged"
    );
    // Read on its own, a visit comes whole: its state as answered, and its history.
    let whole = f
        .store
        .visit(f.clinic, VisitId::from_u128(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(whole.history.len(), 2);
    assert_eq!(
        frontdesk_domain::Visit::replay(whole.id, &whole.history).unwrap(),
        whole
    );
    let mut state = whole.clone();
    state.history.clear();
    assert_eq!(state, claimed.reply.visit);
    assert_eq!(
        f.store
            .visit_for_token("token-1")
            .await
            .unwrap()
            .unwrap()
            .0
            .id,
        VisitId::from_u128(101)
    );
    assert_eq!(f.store.snapshot(f.clinic).await.unwrap().unwrap().seq, 4);
}

contract!(a_refused_command_leaves_no_trace_and_names_the_current_visit);
async fn a_refused_command_leaves_no_trace_and_names_the_current_visit(backend: Backend) {
    let f = fixture(backend).await;
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    let id = VisitId::from_u128(101);
    let refused = f
        .store
        .write_visit(command(&f, id, Command::EndCall, 1, None))
        .await
        .unwrap_err();
    let WriteRefused::Domain { visit, .. } = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(visit.version, 1);
    let other_clinic = VisitWrite {
        clinic: ClinicId::from_u128(9),
        ..command(&f, id, Command::Claim, 1, None)
    };
    assert!(matches!(
        f.store.write_visit(other_clinic).await,
        Err(WriteRefused::NotFound)
    ));
    assert_eq!(
        f.store.events_after(f.clinic, 0, 100).await.unwrap().len(),
        3
    );
}

contract!(concurrent_commands_each_apply_whole_or_not_at_all);
async fn concurrent_commands_each_apply_whole_or_not_at_all(backend: Backend) {
    let f = fixture(backend).await;
    for n in 1..=20 {
        f.store.write_visit(arrive(&f, n)).await.unwrap();
    }
    // Twenty claims and twenty stale claims race; each visit is claimed once.
    let mut writes = Vec::new();
    for n in 1..=20 {
        let id = VisitId::from_u128(100 + n);
        writes.push(
            f.store
                .write_visit(command(&f, id, Command::Claim, 1, None)),
        );
        writes.push(
            f.store
                .write_visit(command(&f, id, Command::Claim, 1, None)),
        );
    }
    let results = futures_util::future::join_all(writes).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 20);
    let events = f.store.events_after(f.clinic, 0, 1000).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=42).collect::<Vec<_>>(),
        "no holes from refused commands"
    );
    for n in 1..=20 {
        let v = f
            .store
            .visit(f.clinic, VisitId::from_u128(100 + n))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((v.version, v.status), (2, Status::InCall));
    }
}

contract!(a_command_the_database_refuses_is_refused_alone);
async fn a_command_the_database_refuses_is_refused_alone(backend: Backend) {
    let f = fixture(backend).await;
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    // Arrivals race, one of them reusing a patient token (its insert fails): the others
    // commit, the refused one leaves no trace and no hole in the seqs.
    let mut writes = Vec::new();
    for n in 2..=20 {
        let mut write = arrive(&f, n);
        if n == 10
            && let WriteAction::Open {
                patient_token_hash, ..
            } = &mut write.action
        {
            *patient_token_hash = Some("token-1".into());
        }
        writes.push(f.store.write_visit(write));
    }
    let results = futures_util::future::join_all(writes).await;
    for (n, r) in (2..=20).zip(&results) {
        assert_eq!(r.is_ok(), n != 10, "arrival {n}");
    }
    assert!(matches!(results[8], Err(WriteRefused::Store(_))));
    let events = f.store.events_after(f.clinic, 0, 1000).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
    let refused = f.store.visit(f.clinic, VisitId::from_u128(110)).await;
    assert!(refused.unwrap().is_none());
}

contract!(clinics_and_rooms_read_again_are_as_last_written);
async fn clinics_and_rooms_read_again_are_as_last_written(backend: Backend) {
    let f = fixture(backend).await;
    for _ in 0..2 {
        let by_slug = f.store.clinic_by_slug("c").await.unwrap().unwrap();
        assert_eq!(by_slug.id, f.clinic);
        assert_eq!(f.store.clinic(f.clinic).await.unwrap(), Some(by_slug));
        assert_eq!(f.store.rooms(f.clinic).await.unwrap()[0].name, "Reception");
    }
    assert!(f.store.clinic_by_slug("other").await.unwrap().is_none());
    let mut room = f.store.rooms(f.clinic).await.unwrap().remove(0);
    room.name = "Front desk".into();
    f.store.put_room(room, at(5)).await.unwrap();
    let rooms = f.store.rooms(f.clinic).await.unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].name, "Front desk");

    // A clinic's time zone and call link change; every way of reading it sees the change.
    let mut clinic = f.store.clinic(f.clinic).await.unwrap().unwrap();
    clinic.time_zone = "Australia/Sydney".into();
    clinic.video_link_template = Some("https://meet.example/{visit}".into());
    f.store.update_clinic(clinic.clone()).await.unwrap();
    assert_eq!(
        f.store.clinic(f.clinic).await.unwrap(),
        Some(clinic.clone())
    );
    assert_eq!(f.store.clinic_by_slug("c").await.unwrap(), Some(clinic));
}

contract!(an_idempotency_key_replays_the_first_answer);
async fn an_idempotency_key_replays_the_first_answer(backend: Backend) {
    let f = fixture(backend).await;
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    let id = VisitId::from_u128(101);
    let first = f
        .store
        .write_visit(command(&f, id, Command::Claim, 1, Some("k")))
        .await
        .unwrap();
    // The visit moves on; a late retry still gets the answer as it was first given.
    f.store
        .write_visit(command(&f, id, Command::LeaveCall, 2, None))
        .await
        .unwrap();
    let again = f
        .store
        .write_visit(command(&f, id, Command::Claim, 1, Some("k")))
        .await
        .unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(
        (again.reply, again.reply_json),
        (first.reply, first.reply_json)
    );
    let other = f
        .store
        .write_visit(command(&f, id, Command::LeaveCall, 3, Some("k")))
        .await;
    assert!(matches!(other, Err(WriteRefused::KeyReused)));
    assert_eq!(
        f.store.events_after(f.clinic, 0, 100).await.unwrap().len(),
        5
    );
}

contract!(sessions_expire_and_are_revoked);
async fn sessions_expire_and_are_revoked(backend: Backend) {
    let f = fixture(backend).await;
    let session = |hash: &str, expires_at| NewSession {
        token_hash: hash.into(),
        clinic: f.clinic,
        staff: f.desk.id,
        station: None,
        created_at: 0,
        expires_at,
    };
    f.store
        .create_session(session("live", 1_000))
        .await
        .unwrap();
    assert_eq!(
        f.store.session("live", 999).await.unwrap().unwrap().staff,
        f.desk
    );
    assert!(
        f.store.session("live", 1_000).await.unwrap().is_none(),
        "expired"
    );
    f.store.revoke_session("live", 10).await.unwrap();
    assert!(
        f.store.session("live", 500).await.unwrap().is_none(),
        "revoked"
    );
    assert!(f.store.session("unknown", 0).await.unwrap().is_none());
}

contract!(availability_and_alerts_belong_to_one_clinic);
async fn availability_and_alerts_belong_to_one_clinic(backend: Backend) {
    let f = fixture(backend).await;
    let (info, seq) = f
        .store
        .set_availability(f.clinic, f.desk.id, Availability::Away, at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.availability, seq), (Availability::Away, 3));
    assert!(
        f.store
            .set_availability(ClinicId::from_u128(9), f.desk.id, Availability::Busy, at(6))
            .await
            .unwrap()
            .is_none()
    );
    let sub = AlertSubscription {
        room_id: f.room,
        desktop: true,
        email: false,
        sms: true,
    };
    f.store
        .set_alert_subscriptions(f.clinic, f.desk.id, vec![sub.clone()])
        .await
        .unwrap();
    assert_eq!(
        f.store
            .alert_subscriptions(f.clinic, f.desk.id)
            .await
            .unwrap(),
        vec![sub]
    );
    assert!(
        f.store
            .alert_subscriptions(ClinicId::from_u128(9), f.desk.id)
            .await
            .unwrap()
            .is_empty()
    );
}

contract!(sweeping_forgets_old_records_by_the_clock_that_stamped_them);
/// Sweeping judges age by the time it is given (the server's clock, which stamped the
/// records), never by the machine's: a server whose clock runs days behind keeps its live
/// sessions, one running ahead forgets on its own schedule.
async fn sweeping_forgets_old_records_by_the_clock_that_stamped_them(backend: Backend) {
    let f = fixture(backend).await;
    let hour = 3_600_000;
    let day = 24 * hour;
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let session = |hash: &str, created_at: i64| NewSession {
        token_hash: hash.into(),
        clinic: f.clinic,
        staff: f.desk.id,
        station: None,
        created_at,
        expires_at: created_at + 12 * hour,
    };
    // A sign-in on a clock three days behind the machine's, and one on the fixture's clock
    // (weeks ahead of it).
    let behind = system - 3 * day;
    f.store
        .create_session(session("behind", behind))
        .await
        .unwrap();
    f.store
        .create_session(session("ahead", at(0).as_millis()))
        .await
        .unwrap();
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    let id = VisitId::from_u128(101);
    let claim = || command(&f, id, Command::Claim, 1, Some("k"));
    f.store.write_visit(claim()).await.unwrap();

    // An hour into the behind clock's session: nothing is old.
    f.store
        .sweep(Timestamp::from_millis(behind + hour))
        .await
        .unwrap();
    assert!(
        f.store
            .session("behind", behind + hour)
            .await
            .unwrap()
            .is_some(),
        "a live session was swept"
    );

    // An hour after the claim, by the fixture's clock: the retry still replays; the behind
    // session, days past its end by now, is gone.
    f.store
        .sweep(at(2) + Span::from_millis(hour))
        .await
        .unwrap();
    assert!(f.store.write_visit(claim()).await.unwrap().replayed);
    assert!(f.store.session("behind", behind).await.unwrap().is_none());
    assert!(
        f.store
            .session("ahead", at(0).as_millis())
            .await
            .unwrap()
            .is_some()
    );

    // Two days on: the idempotency record and the ended session are forgotten.
    f.store
        .sweep(at(2) + Span::from_millis(2 * day))
        .await
        .unwrap();
    assert!(
        f.store
            .session("ahead", at(0).as_millis())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !matches!(f.store.write_visit(claim()).await, Ok(c) if c.replayed),
        "the key was still remembered"
    );
}

contract!(pending_departures_survive_a_reopen_and_go_when_cancelled);
/// Pending departures are kept across a reopen of the store, in time order, and go when
/// cancelled; a second close of the same page moves its time.
async fn pending_departures_survive_a_reopen_and_go_when_cancelled(backend: Backend) {
    let f = fixture(backend).await;
    let (a, b) = (VisitId::from_u128(1), VisitId::from_u128(2));
    f.store.depart_at(f.clinic, a, at(500)).await.unwrap();
    f.store.depart_at(f.clinic, b, at(100)).await.unwrap();
    f.store.depart_at(f.clinic, a, at(300)).await.unwrap();
    let reopened = f.backend.open().await;
    assert_eq!(
        reopened.departures().await.unwrap(),
        vec![(f.clinic, b, at(100)), (f.clinic, a, at(300))]
    );
    reopened.cancel_departure(b).await.unwrap();
    assert_eq!(
        f.store.departures().await.unwrap(),
        vec![(f.clinic, a, at(300))]
    );
}

/// Two processes' stores on one PostgreSQL database.
async fn two_processes() -> (Fixture, Arc<dyn Store>) {
    let f = fixture(Backend::postgres()).await;
    let other = f.backend.open().await;
    (f, other)
}

fn message(n: u32) -> NewMessage {
    NewMessage {
        key: format!("m{n}"),
        visit: None,
        kind: "test".into(),
        channel: Channel::Email,
        to: format!("p{n}@example.org"),
        subject: format!("Message {n}"),
        body: "Hello".into(),
        due_at: at(0),
        only_while_open: false,
    }
}

/// Messages are claimed for sending by one process each: two processes asking at once get
/// different messages, a process starting meanwhile leaves the others' claims alone, and a
/// claim whose lease ran out (its process died mid-send) is claimed again.
#[tokio::test]
async fn each_due_message_is_claimed_by_one_process_until_its_lease_runs_out() {
    let (f, other) = two_processes().await;
    f.store
        .queue_messages(f.clinic, 0, (0..6).map(message).collect(), at(0))
        .await
        .unwrap();
    let (mine, theirs) = tokio::join!(f.store.due_messages(at(1), 4), other.due_messages(at(1), 4));
    let (mine, theirs) = (mine.unwrap(), theirs.unwrap());
    let ids = |d: &[Delivery]| d.iter().map(|m| m.id).collect::<BTreeSet<i64>>();
    assert!(ids(&mine).is_disjoint(&ids(&theirs)), "{mine:?} {theirs:?}");
    assert_eq!(mine.len() + theirs.len(), 6, "every due message claimed");

    // A third process starts: nothing is interrupted, nothing is left to claim.
    let starting = f.backend.open().await;
    assert_eq!(starting.requeue_interrupted().await.unwrap(), 0);
    assert!(starting.due_messages(at(1), 10).await.unwrap().is_empty());

    // The first process sends its messages; the other dies holding its claims. Once their
    // lease has run out (moved back here, as the database's clock would in minutes), they
    // are claimed again, by the process that asks.
    for m in &mine {
        f.store
            .record_attempt(m.id, Attempt::Sending, at(2))
            .await
            .unwrap();
        f.store
            .record_attempt(m.id, Attempt::Sent, at(2))
            .await
            .unwrap();
    }
    drop(other);
    let Backend::Postgres(url) = &f.backend else {
        unreachable!()
    };
    let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    db.execute(
        "UPDATE messages SET claimed_until = claimed_until - 3600000 WHERE state = 'sending'",
        &[],
    )
    .await
    .unwrap();
    let again = starting.due_messages(at(3), 10).await.unwrap();
    assert_eq!(ids(&again), ids(&theirs));
    assert!(f.store.due_messages(at(3), 10).await.unwrap().is_empty());
    let sent = f
        .store
        .deliveries(f.clinic, Some(DeliveryState::Sent), 10)
        .await
        .unwrap();
    assert_eq!(ids(&sent), ids(&mine));
}

/// One process at a time leads the timed work; when the leader's store goes (its process
/// died: its connection closed), another takes over.
#[tokio::test]
async fn one_process_leads_and_another_takes_over_when_it_goes() {
    let (f, other) = two_processes().await;
    let first = f.store.lead().await;
    let second = other.lead().await;
    assert!(first ^ second, "one leader: {first} {second}");
    assert_eq!(f.store.lead().await, first, "the leader stays the leader");
    assert_eq!(other.lead().await, second);
    let (leader, follower) = if first {
        (f.store, other)
    } else {
        (other, f.store)
    };
    drop(leader);
    frontdesk_testkit::eventually(20, "the follower to take over", || async {
        follower.lead().await.then_some(())
    })
    .await;
}

contract!(a_departure_is_taken_once_when_due_and_not_after_the_page_came_back);
/// The timer takes a due departure before marking the patient: once, only when due, and not
/// at all once the page came back (cancelled it).
async fn a_departure_is_taken_once_when_due_and_not_after_the_page_came_back(backend: Backend) {
    let f = fixture(backend).await;
    let (gone, back) = (VisitId::from_u128(1), VisitId::from_u128(2));
    f.store.depart_at(f.clinic, gone, at(100)).await.unwrap();
    f.store.depart_at(f.clinic, back, at(100)).await.unwrap();
    assert!(
        !f.store.take_departure(gone, at(99)).await.unwrap(),
        "not due yet"
    );
    f.store.cancel_departure(back).await.unwrap();
    assert!(f.store.take_departure(gone, at(100)).await.unwrap());
    assert!(
        !f.store.take_departure(gone, at(100)).await.unwrap(),
        "taken once"
    );
    assert!(!f.store.take_departure(back, at(100)).await.unwrap());
    assert!(f.store.departures().await.unwrap().is_empty());
}

fn session_of(f: &Fixture, token: &str, station: Option<uuid::Uuid>) -> NewSession {
    NewSession {
        token_hash: token.into(),
        clinic: f.clinic,
        staff: f.desk.id,
        station,
        created_at: at(0).as_millis(),
        expires_at: at(3_600_000).as_millis(),
    }
}

contract!(deactivating_ends_every_session_and_reactivating_brings_none_back);
async fn deactivating_ends_every_session_and_reactivating_brings_none_back(backend: Backend) {
    let f = fixture(backend).await;
    let now = at(10).as_millis();
    for token in ["laptop", "desk"] {
        f.store
            .create_session(session_of(&f, token, None))
            .await
            .unwrap();
    }
    let (info, seq) = f
        .store
        .set_staff_active(f.clinic, f.desk.id, false, at(10))
        .await
        .unwrap()
        .unwrap();
    assert!(info.deactivated && seq > 0);
    assert!(f.store.session("laptop", now).await.unwrap().is_none());
    assert!(f.store.session("desk", now).await.unwrap().is_none());
    let (again, unchanged) = f
        .store
        .set_staff_active(f.clinic, f.desk.id, false, at(11))
        .await
        .unwrap()
        .unwrap();
    assert!(again.deactivated);
    assert_eq!(unchanged, 0, "nothing changed, nothing published");
    // A session made meanwhile (a race with a sign-in) is refused while deactivated.
    f.store
        .create_session(session_of(&f, "late", None))
        .await
        .unwrap();
    assert!(f.store.session("late", now).await.unwrap().is_none());
    let (back, _) = f
        .store
        .set_staff_active(f.clinic, f.desk.id, true, at(12))
        .await
        .unwrap()
        .unwrap();
    assert!(!back.deactivated);
    assert!(
        f.store.session("desk", now).await.unwrap().is_none(),
        "ended stays ended"
    );
    assert!(
        f.store
            .staff(f.clinic)
            .await
            .unwrap()
            .iter()
            .all(|s| !s.deactivated)
    );
}

contract!(a_new_password_ends_every_session_but_the_one_kept);
async fn a_new_password_ends_every_session_but_the_one_kept(backend: Backend) {
    let f = fixture(backend).await;
    let now = at(10).as_millis();
    for token in ["here", "there"] {
        f.store
            .create_session(session_of(&f, token, None))
            .await
            .unwrap();
    }
    assert!(
        f.store
            .set_password(
                f.clinic,
                f.desk.id,
                "new".into(),
                Some("here".into()),
                at(10)
            )
            .await
            .unwrap()
    );
    assert!(f.store.session("here", now).await.unwrap().is_some());
    assert!(f.store.session("there", now).await.unwrap().is_none());
    let (_, secrets) = f
        .store
        .staff_with_secrets(f.clinic, &f.desk.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.password_hash, "new");
    assert_eq!(
        f.store
            .revoke_staff_sessions(f.clinic, f.desk.id, at(11))
            .await
            .unwrap(),
        1
    );
    assert!(f.store.session("here", now).await.unwrap().is_none());
}

contract!(concurrent_pin_tries_get_no_more_than_the_limit_and_a_clear_starts_again);
async fn concurrent_pin_tries_get_no_more_than_the_limit_and_a_clear_starts_again(
    backend: Backend,
) {
    let f = fixture(backend).await;
    let tries = futures_util::future::join_all(
        (0..12).map(|_| f.store.take_pin_try(f.clinic, f.desk.id, 5)),
    )
    .await;
    let mut taken: Vec<u32> = tries.into_iter().filter_map(|t| t.unwrap()).collect();
    taken.sort_unstable();
    assert_eq!(taken, [1, 2, 3, 4, 5]);
    f.store
        .give_back_pin_try(f.clinic, f.desk.id)
        .await
        .unwrap();
    assert_eq!(
        f.store.take_pin_try(f.clinic, f.desk.id, 5).await.unwrap(),
        Some(5),
        "an unchecked try given back is taken again"
    );
    f.store
        .clear_pin_failures(f.clinic, f.desk.id)
        .await
        .unwrap();
    assert_eq!(
        f.store.take_pin_try(f.clinic, f.desk.id, 5).await.unwrap(),
        Some(1)
    );
}

contract!(a_reset_link_is_used_once_before_it_expires_and_comes_with_its_email);
async fn a_reset_link_is_used_once_before_it_expires_and_comes_with_its_email(backend: Backend) {
    let f = fixture(backend).await;
    f.store
        .create_session(session_of(&f, "desk", None))
        .await
        .unwrap();
    let reset = |hash: &str| PasswordReset {
        token_hash: hash.into(),
        clinic: f.clinic,
        staff: f.desk.id,
        expires_at: at(3_600_000),
    };
    let email = |key: &str| NewMessage {
        key: key.into(),
        visit: None,
        kind: "password_reset".into(),
        channel: Channel::Email,
        to: f.desk.email.clone(),
        subject: "Reset".into(),
        body: "code".into(),
        due_at: at(0),
        only_while_open: false,
    };
    f.store
        .create_password_reset(reset("r1"), email("k1"), at(0))
        .await
        .unwrap();
    let queued = f.store.deliveries(f.clinic, None, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, "password_reset");
    let who = Some((f.clinic, f.desk.id));
    assert_eq!(f.store.password_reset("r1", at(1)).await.unwrap(), who);
    assert_eq!(
        f.store
            .use_password_reset("r1", "new".into(), at(2))
            .await
            .unwrap(),
        who
    );
    assert!(
        f.store
            .session("desk", at(3).as_millis())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        f.store
            .use_password_reset("r1", "other".into(), at(3))
            .await
            .unwrap(),
        None
    );
    assert_eq!(f.store.password_reset("r1", at(3)).await.unwrap(), None);

    f.store
        .create_password_reset(reset("r2"), email("k2"), at(0))
        .await
        .unwrap();
    let late = at(3_600_000);
    assert_eq!(
        f.store
            .use_password_reset("r2", "late".into(), late)
            .await
            .unwrap(),
        None
    );
    let (_, secrets) = f
        .store
        .staff_with_secrets(f.clinic, &f.desk.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        secrets.password_hash, "new",
        "neither a used nor an expired link changed it"
    );
}

contract!(a_second_member_of_staff_with_the_same_email_is_refused_alike);
async fn a_second_member_of_staff_with_the_same_email_is_refused_alike(backend: Backend) {
    let f = fixture(backend).await;
    let again = StaffInfo {
        id: StaffId::from_u128(99),
        ..f.desk.clone()
    };
    let secrets = StaffSecrets {
        password_hash: "y".into(),
        pin_hash: None,
        pin_failures: 0,
    };
    let refused = f.store.create_staff(again, secrets, at(5)).await;
    match refused {
        Err(frontdesk_server::store::StoreError::Duplicate(what)) => assert_eq!(
            what, "UNIQUE constraint failed: staff.clinic_id, staff.email",
            "both stores name what was duplicated the same way"
        ),
        other => panic!("not refused as a duplicate: {other:?}"),
    }
    assert_eq!(f.store.staff(f.clinic).await.unwrap().len(), 1);
    assert_eq!(
        f.store.events_after(f.clinic, 0, 100).await.unwrap().len(),
        2,
        "no event for what was refused"
    );
}

/// The same commands on both stores give the same bytes: each answer, the replay of a retried
/// command, the events, the snapshot and a whole visit.
#[tokio::test]
async fn both_stores_answer_the_same_commands_with_the_same_bytes() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    for backend in [Backend::sqlite(), Backend::postgres()] {
        let f = fixture(backend).await;
        let mut bytes = Vec::new();
        for n in 1..=3 {
            bytes.push(f.store.write_visit(arrive(&f, n)).await.unwrap().reply_json);
        }
        let id = VisitId::from_u128(102);
        let claim = || command(&f, id, Command::Claim, 1, Some("k"));
        bytes.push(f.store.write_visit(claim()).await.unwrap().reply_json);
        let replay = f.store.write_visit(claim()).await.unwrap();
        assert!(replay.replayed);
        bytes.push(replay.reply_json);
        let events = f.store.events_after(f.clinic, 0, 100).await.unwrap();
        bytes.push(serde_json::to_string(&events).unwrap());
        let snapshot = f.store.snapshot(f.clinic).await.unwrap().unwrap();
        bytes.push(serde_json::to_string(&snapshot.open_visits).unwrap());
        bytes.push(serde_json::to_string(&snapshot.staff).unwrap());
        bytes.push(serde_json::to_string(&snapshot.rooms).unwrap());
        bytes.push(format!("{}", snapshot.seq));
        let visit = f.store.visit(f.clinic, id).await.unwrap().unwrap();
        bytes.push(serde_json::to_string(&visit).unwrap());
        seen.push(bytes);
    }
    assert_eq!(seen[0], seen[1], "SQLite's bytes, then PostgreSQL's");
}

// The test binary's root sits beside the other suites, so the path is said.
#[path = "store/audit.rs"]
mod audit;
