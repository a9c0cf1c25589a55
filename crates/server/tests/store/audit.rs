//! Minimum necessary's and the audit trail's part of the contract: each clinic's records form
//! a hash chain, read back by place, by time and by visit; pruning keeps the anchor the chain
//! verifies from; appends racing from several store instances on one database (several server
//! processes) each take their own place; a page of events says who may read each; and a
//! database made before all this keeps reception on every room.

use super::{Backend, arrive, at, command, fixture};
use frontdesk_domain::access::Audience;
use frontdesk_domain::{ClinicId, Command, Role, Roles, StaffId, VisitId};
use frontdesk_server::audit::{AuditRecord, ChainMark, GENESIS, verify};
use frontdesk_server::store::{StaffSecrets, Store};
use serde_json::json;
use std::sync::Arc;

fn record(clinic: ClinicId, ms: i64, action: &str, visits: &[VisitId]) -> AuditRecord {
    AuditRecord {
        clinic_id: clinic,
        at: at(ms),
        actor: "staff:desk".into(),
        client: "192.0.2.7".into(),
        action: action.into(),
        visits: visits.to_vec(),
        detail: json!({"ms": ms}),
    }
}

/// Verifies one clinic's chain through the store, as `audit verify` does.
async fn checked(store: &dyn Store, clinic: ClinicId) -> u64 {
    verify(store, clinic)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the chain of {clinic} does not hold: {e}"))
}

contract!(each_clinic_has_its_own_chain_read_back_by_place_time_and_visit);
async fn each_clinic_has_its_own_chain_read_back_by_place_time_and_visit(backend: Backend) {
    let f = fixture(backend).await;
    let other = ClinicId::from_u128(9);
    let (v1, v2) = (VisitId::from_u128(201), VisitId::from_u128(202));
    assert_eq!(f.store.audit_marks(f.clinic).await.unwrap(), (None, None));
    f.store
        .append_audit(vec![
            record(f.clinic, 10, "visit.read", &[v1]),
            record(other, 11, "sign_in.succeeded", &[]),
            record(f.clinic, 20, "queue.read", &[v1, v2]),
        ])
        .await
        .unwrap();
    f.store
        .append_audit(vec![record(f.clinic, 30, "visit.read", &[v2])])
        .await
        .unwrap();

    let chain = f.store.audit_chain(f.clinic, 0, 100).await.unwrap();
    let places: Vec<u64> = chain.iter().map(|e| e.n).collect();
    assert_eq!(
        places,
        [1, 2, 3],
        "the other clinic's record is in its own chain"
    );
    assert_eq!(chain[0].prev_hash, GENESIS);
    assert_eq!(chain[1].prev_hash, chain[0].hash);
    assert_eq!(chain[2].record, record(f.clinic, 30, "visit.read", &[v2]));
    let (anchor, head) = f.store.audit_marks(f.clinic).await.unwrap();
    assert_eq!(anchor, None);
    assert_eq!(
        head,
        Some(ChainMark {
            n: 3,
            hash: chain[2].hash.clone()
        })
    );
    assert_eq!(checked(f.store.as_ref(), f.clinic).await, 3);
    assert_eq!(checked(f.store.as_ref(), other).await, 1);
    let other_chain = f.store.audit_chain(other, 0, 100).await.unwrap();
    assert_eq!(other_chain[0].n, 1);
    assert_eq!(other_chain[0].record.action, "sign_in.succeeded");

    let paged = f.store.audit_chain(f.clinic, 1, 1).await.unwrap();
    assert_eq!(paged.iter().map(|e| e.n).collect::<Vec<_>>(), [2]);
    let span = f
        .store
        .audit_range(f.clinic, (at(20), at(30)), 0, 100)
        .await
        .unwrap();
    assert_eq!(
        span.iter().map(|e| e.n).collect::<Vec<_>>(),
        [2],
        "to is left out"
    );
    let after = f
        .store
        .audit_range(f.clinic, (at(0), at(100)), 2, 100)
        .await
        .unwrap();
    assert_eq!(after.iter().map(|e| e.n).collect::<Vec<_>>(), [3]);
    let trail = f.store.audit_for_visit(f.clinic, v2).await.unwrap();
    assert_eq!(trail.iter().map(|e| e.n).collect::<Vec<_>>(), [2, 3]);
    assert!(f.store.audit_for_visit(other, v2).await.unwrap().is_empty());
    let clinics = f.store.audit_clinics().await.unwrap();
    assert!(
        clinics.contains(&f.clinic) && clinics.contains(&other),
        "{clinics:?}"
    );
}

contract!(pruning_removes_old_records_and_the_chain_verifies_from_its_anchor);
async fn pruning_removes_old_records_and_the_chain_verifies_from_its_anchor(backend: Backend) {
    let f = fixture(backend).await;
    let v = VisitId::from_u128(201);
    let records = (1..=5)
        .map(|i| record(f.clinic, i * 10, "visit.read", &[v]))
        .collect();
    f.store.append_audit(records).await.unwrap();
    let before = f.store.audit_chain(f.clinic, 0, 100).await.unwrap();

    assert_eq!(f.store.prune_audit(at(30)).await.unwrap(), 2);
    let (anchor, head) = f.store.audit_marks(f.clinic).await.unwrap();
    assert_eq!(
        anchor,
        Some(ChainMark {
            n: 2,
            hash: before[1].hash.clone()
        })
    );
    assert_eq!(head.unwrap().n, 5);
    let kept = f.store.audit_chain(f.clinic, 0, 100).await.unwrap();
    assert_eq!(kept, before[2..]);
    let trail = f.store.audit_for_visit(f.clinic, v).await.unwrap();
    assert_eq!(trail.iter().map(|e| e.n).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(checked(f.store.as_ref(), f.clinic).await, 3);
    assert_eq!(
        f.store.prune_audit(at(30)).await.unwrap(),
        0,
        "nothing older left"
    );

    // The chain goes on from its head after a prune.
    f.store
        .append_audit(vec![record(f.clinic, 60, "visit.read", &[])])
        .await
        .unwrap();
    assert_eq!(checked(f.store.as_ref(), f.clinic).await, 4);
}

contract!(appends_racing_from_several_server_processes_each_take_their_own_place);
async fn appends_racing_from_several_server_processes_each_take_their_own_place(backend: Backend) {
    let f = fixture(backend).await;
    // On PostgreSQL each server process has its own store on the one database; an SQLite file
    // has one server process, whose store every request shares.
    let mut stores: Vec<Arc<dyn Store>> = vec![f.store.clone()];
    if let Backend::Postgres(_) = &f.backend {
        for _ in 0..2 {
            stores.push(f.backend.open().await);
        }
    }
    let other = ClinicId::from_u128(9);
    let appends = (0..60).map(|i| {
        let store = stores[i % stores.len()].clone();
        let clinic = f.clinic;
        tokio::spawn(async move {
            // Two records in one append, the second for another clinic's chain.
            let ms = i as i64;
            store
                .append_audit(vec![
                    record(clinic, ms, &format!("race.{i}"), &[]),
                    record(other, ms, &format!("race.{i}"), &[]),
                ])
                .await
        })
    });
    for done in futures_util::future::join_all(appends).await {
        done.unwrap().unwrap();
    }
    for clinic in [f.clinic, other] {
        assert_eq!(checked(f.store.as_ref(), clinic).await, 60);
        let mut actions: Vec<String> = f
            .store
            .audit_chain(clinic, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.record.action)
            .collect();
        actions.sort();
        actions.dedup();
        assert_eq!(actions.len(), 60, "every append recorded once");
    }

    // The sweeps of every process prune at once, each by its own clock: what is left is what
    // the furthest one kept (records take places in the order appends commit, so the cut is
    // the last place of a record older than its time), and it verifies from its anchor.
    let furthest = at(48);
    let mut cuts = Vec::new();
    for clinic in [f.clinic, other] {
        let chain = f.store.audit_chain(clinic, 0, 100).await.unwrap();
        let cut = chain
            .iter()
            .filter(|e| e.record.at < furthest)
            .map(|e| e.n)
            .max()
            .unwrap();
        cuts.push((clinic, cut));
    }
    let prunes = (1..=12).map(|i| {
        let store = stores[i % stores.len()].clone();
        tokio::spawn(async move { store.prune_audit(at(i as i64 * 4)).await })
    });
    let removed: usize = futures_util::future::join_all(prunes)
        .await
        .into_iter()
        .map(|done| done.unwrap().unwrap())
        .sum();
    let expected: u64 = cuts.iter().map(|(_, cut)| cut).sum();
    assert_eq!(removed as u64, expected, "each record removed once");
    for (clinic, cut) in cuts {
        let (anchor, _) = f.store.audit_marks(clinic).await.unwrap();
        assert_eq!(anchor.unwrap().n, cut);
        assert_eq!(checked(f.store.as_ref(), clinic).await, 60 - cut);
    }
}

contract!(a_page_of_events_says_who_may_read_each);
async fn a_page_of_events_says_who_may_read_each(backend: Backend) {
    let f = fixture(backend).await;
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    let id = VisitId::from_u128(101);
    let claimed = f
        .store
        .write_visit(command(&f, id, Command::Claim, 1, None))
        .await
        .unwrap();
    let page = f
        .store
        .events_with_audience(f.clinic, 0, 100)
        .await
        .unwrap();
    let plain = f.store.events_after(f.clinic, 0, 100).await.unwrap();
    assert_eq!(
        page.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(),
        plain,
        "the same events"
    );
    let kinds: Vec<(&str, bool)> = page
        .iter()
        .map(|(e, who)| (e.body.kind(), who.is_some()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("room", false),
            ("staff", false),
            ("visit", true),
            ("visit", true)
        ],
        "a visit's change names who may read it; rooms and staff are for everyone"
    );
    // The claim is for the room's staff and, by name, the one who claimed.
    let claim = Audience::of_change(&claimed.reply.visit, &claimed.reply.entries);
    assert_eq!(claim.rooms, [f.room]);
    assert_eq!(claim.staff, [f.desk.id]);
    let paged = f.store.events_with_audience(f.clinic, 3, 1).await.unwrap();
    assert_eq!(paged.len(), 1);
    assert_eq!(paged[0].0.seq, 4);
    assert_eq!(paged[0].1, Some(claim));
}

/// What the steps of minimum necessary and the audit trail added, and every step appended
/// after them, taken away again: the database as a server made it before them.
const BEFORE_MINIMUM_NECESSARY: &str = "
    ALTER TABLE staff DROP COLUMN all_rooms;
    ALTER TABLE events DROP COLUMN audience;
    DROP TABLE audit_log;
    DROP TABLE audit_visits;
    DROP TABLE audit_chains;
    DROP TABLE external_bookings;
    DROP INDEX visits_by_arrival;";
/// How many steps [`BEFORE_MINIMUM_NECESSARY`] takes away: minimum necessary, the audit
/// trail, the FHIR import's external bookings and the reports' index.
const STEPS_TAKEN_AWAY: i64 = 4;
/// The PostgreSQL steps after those, taken away too: the attempts' one-call reservation.
const POSTGRES_STEPS_SINCE: &str = "DROP FUNCTION reserve_attempts;";
const POSTGRES_STEPS_SINCE_COUNT: i64 = 1;

/// Rolls the closed store's database back to before those steps.
async fn made_before_minimum_necessary(backend: &Backend) {
    match backend {
        Backend::Sqlite(dir) => {
            let c = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
            let version: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            c.execute_batch(BEFORE_MINIMUM_NECESSARY).unwrap();
            c.execute_batch(&format!(
                "PRAGMA user_version = {}",
                version - STEPS_TAKEN_AWAY
            ))
            .unwrap();
        }
        Backend::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let driver = tokio::spawn(connection);
            client
                .batch_execute(&format!(
                    "{BEFORE_MINIMUM_NECESSARY}
                     {POSTGRES_STEPS_SINCE}
                     UPDATE schema_version SET version = version - {};",
                    STEPS_TAKEN_AWAY + POSTGRES_STEPS_SINCE_COUNT
                ))
                .await
                .unwrap();
            drop(client);
            let _ = driver.await;
        }
    }
}

contract!(reception_keeps_every_room_when_a_database_made_before_minimum_necessary_is_migrated);
async fn reception_keeps_every_room_when_a_database_made_before_minimum_necessary_is_migrated(
    backend: Backend,
) {
    let f = fixture(backend).await;
    let mut provider = f.desk.clone();
    provider.id = StaffId::from_u128(4);
    provider.email = "doc@c.org".into();
    provider.roles = Roles::of(&[Role::Provider]);
    let secrets = StaffSecrets {
        password_hash: "x".into(),
        pin_hash: None,
        pin_failures: 0,
    };
    f.store
        .create_staff(provider.clone(), secrets, at(0))
        .await
        .unwrap();
    f.store.write_visit(arrive(&f, 1)).await.unwrap();
    let (clinic, desk, backend) = (f.clinic, f.desk.id, f.backend);
    drop(f.store);
    made_before_minimum_necessary(&backend).await;

    let store = backend.open().await;
    let staff = store.staff(clinic).await.unwrap();
    let all_rooms = |id: StaffId| staff.iter().find(|s| s.id == id).unwrap().all_rooms;
    assert!(all_rooms(desk), "the receptionist keeps every room");
    assert!(!all_rooms(provider.id), "a provider keeps their own rooms");
    // An event stored before events kept their audience is for those who see every room.
    let page = store.events_with_audience(clinic, 0, 100).await.unwrap();
    let visit = page.iter().find(|(e, _)| e.body.kind() == "visit").unwrap();
    assert_eq!(visit.1, Some(Audience::default()));
    store
        .append_audit(vec![record(clinic, 10, "visit.read", &[])])
        .await
        .unwrap();
    assert_eq!(checked(store.as_ref(), clinic).await, 1);
}
