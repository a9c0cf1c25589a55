//! The engine's speed, measured: how fast caught-up events go into the cache, how fast a big
//! cache opens into a queue view, and how long an arrival takes from reaching the engine to its
//! alert being decided. Run with a release build:
//!
//!     cargo run --release -p frontdesk-client --example bench
//!
//! Prints medians (and p99 where it matters) over several runs; the machine is shared, so read
//! ratios, not single numbers.
#![allow(clippy::print_stdout)]

use frontdesk_api::{Event, EventBody, StaffInfo};
use frontdesk_client::state::ClinicState;
use frontdesk_client::store::Store;
use frontdesk_client::view::{self, ConnectionState, ConnectionView};
use frontdesk_domain::alerts::{Recipient, alerts_for};
use frontdesk_domain::*;
use std::time::{Duration, Instant};

const CLINIC: ClinicId = ClinicId::from_u128(1);
const RECEPTION: RoomId = RoomId::from_u128(10);
const RITA: StaffId = StaffId::from_u128(100);
const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

fn arrival(n: u128) -> Visit {
    open(
        VisitId::from_u128(n),
        CLINIC,
        &Context {
            actor: Actor::Patient,
            at: T0 + Span::from_secs(n as i64),
            expected_version: None,
        },
        Opening::Arrive {
            room: RECEPTION,
            patient: Patient {
                name: PersonName::parse(&format!("Patient {n}")).expect("name"),
                contact: Some(Contact::parse(Some("+61400000000"), None).expect("contact")),
            },
            has_intake: false,
            after_hours: false,
        },
    )
    .expect("arrival")
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

fn me() -> StaffInfo {
    StaffInfo {
        id: RITA,
        clinic_id: CLINIC,
        name: "Rita".into(),
        email: "rita@example.org".into(),
        phone: None,
        roles: Roles::of(&[Role::Receptionist]),
        availability: Availability::Available,
        rooms: vec![RECEPTION],
        all_rooms: false,
        deactivated: false,
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn p99(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[(xs.len() * 99 / 100).min(xs.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");

    // 1. Catch-up: 20,000 events in pages of 1,000 as the server sends them (JSON), each page
    // decoded, laid on and written in one transaction.
    let events: Vec<Event> = (0..20_000u64)
        .map(|i| event(i + 1, &arrival(u128::from(i) + 1)))
        .collect();
    let pages: Vec<String> = events
        .chunks(1_000)
        .map(|p| serde_json::to_string(p).expect("page"))
        .collect();
    let mut runs = Vec::new();
    // Each run's time spent decoding pages, laying them on and writing them to the cache.
    let mut phases: [Vec<Duration>; 3] = Default::default();
    for run in 0..5 {
        let mut store =
            Store::open(&dir.path().join(format!("catchup-{run}.db")), &key()).expect("store");
        let mut state = ClinicState::default();
        let mut spent = [Duration::ZERO; 3];
        let started = Instant::now();
        for page in &pages {
            let t0 = Instant::now();
            let page: Vec<Event> = serde_json::from_str(page).expect("decode");
            let t1 = Instant::now();
            let (changed, gap) = state.apply_events(page, T0);
            assert!(gap.is_none());
            let t2 = Instant::now();
            store.save_changes(&state, &changed).expect("save");
            let t3 = Instant::now();
            spent[0] += t1 - t0;
            spent[1] += t2 - t1;
            spent[2] += t3 - t2;
        }
        runs.push(started.elapsed());
        for (phase, s) in phases.iter_mut().zip(spent) {
            phase.push(s);
        }
    }
    let m = median(runs);
    println!(
        "catch-up: 20000 events applied and cached in {:?} (median of 5) = {:.0} events/s",
        m,
        20_000.0 / m.as_secs_f64()
    );
    let [decode, lay, write] = phases.map(median);
    println!(
        "  of which (medians): decoding pages {decode:?}, laying on {lay:?}, writing the cache {write:?}"
    );
    // What sealing alone costs of the writing: every visit written once, sealed as the cache
    // seals it (a random nonce, XChaCha20-Poly1305 bound to its row), beside making its JSON.
    let visits: Vec<Visit> = events
        .iter()
        .map(|e| match &e.body {
            EventBody::Visit {
                visit_id, entries, ..
            } => Visit::replay(*visit_id, entries).expect("replay"),
            _ => unreachable!("visit events only"),
        })
        .collect();
    let mut json_runs = Vec::new();
    let mut seal_runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let bodies: Vec<Vec<u8>> = visits
            .iter()
            .map(|v| serde_json::to_vec(v).expect("json"))
            .collect();
        json_runs.push(started.elapsed());
        let started = Instant::now();
        let sealed: usize = visits
            .iter()
            .zip(&bodies)
            .map(|(v, body)| seal(&format!("visits:{}", v.id), body).len())
            .sum();
        seal_runs.push(started.elapsed());
        assert!(sealed > 0);
    }
    println!(
        "  of the writing: each visit's JSON {:?}, sealing it {:?} (medians, 20000 visits)",
        median(json_runs),
        median(seal_runs)
    );

    // 2. Open a cache of 2,000 waiting visits and build the first queue view.
    let path = dir.path().join("big.db");
    {
        let mut state = ClinicState::default();
        state.me = Some(me());
        let (changed, _) = state.apply_events(events[..2_000].iter().cloned(), T0);
        let mut store = Store::open(&path, &key()).expect("store");
        store.replace_all(&state).expect("replace");
        store.save_changes(&state, &changed).expect("save");
    }
    let mut runs = Vec::new();
    for _ in 0..11 {
        let started = Instant::now();
        let store = Store::open(&path, &key()).expect("open");
        let state = store.load().expect("load");
        let pending = store.pending().expect("pending");
        let v = view::build(
            &state,
            &pending,
            vec![],
            ConnectionView {
                state: ConnectionState::Connecting,
                since: None,
                as_of: None,
                pending: 0,
            },
            T0,
            (T0, T0 + Span::from_mins(24 * 60)),
        );
        assert_eq!(v.queue.len(), 2_000);
        runs.push(started.elapsed());
    }
    println!(
        "cold open: 2000 waiting visits from SQLite to the first queue view in {:?} (median of 11)",
        median(runs)
    );

    // 3. One arrival: its stream frame decoded, laid on, cached, and its alert decided and
    // recorded, with 200 patients already waiting.
    let mut store = Store::open(&dir.path().join("live.db"), &key()).expect("store");
    let mut state = ClinicState::default();
    state.me = Some(me());
    let (changed, _) = state.apply_events(events[..200].iter().cloned(), T0);
    store.save_changes(&state, &changed).expect("save");
    let rooms = [RECEPTION];
    let recipient = Recipient {
        me: RITA,
        is_provider: false,
        availability: Availability::Available,
        subscribed_rooms: &rooms,
        first_in_queue_only: false,
    };
    let mut runs = Vec::new();
    let frames: Vec<String> = events[200..1_200]
        .iter()
        .map(|e| {
            serde_json::to_string(&frontdesk_api::Frame::Event { event: e.clone() }).expect("frame")
        })
        .collect();
    for frame in &frames {
        let started = Instant::now();
        let frontdesk_api::Frame::Event { event: e } =
            serde_json::from_str::<frontdesk_api::Frame>(frame).expect("decode")
        else {
            unreachable!("an event frame")
        };
        let (changed, _) = state.apply_events([e], T0);
        store.save_changes(&state, &changed).expect("save");
        let mut alerts = Vec::new();
        for c in &changed.visit_changes {
            let visit = &state.visits[&c.visit_id];
            alerts.extend(alerts_for(&recipient, visit, &c.new_entries, 0));
        }
        let keys: Vec<String> = alerts.iter().map(|a| a.key()).collect();
        let fresh = store.first_time(&keys, T0).expect("alerted");
        runs.push(started.elapsed());
        assert_eq!(fresh.len(), 1);
    }
    println!(
        "arrival: applied, cached and alert decided in {:?} median, {:?} p99 (1000 arrivals)",
        median(runs.clone()),
        p99(runs)
    );
}

/// Seals a body the way the cache does (a fresh random nonce, the row's place bound in), to
/// time sealing apart from the rest of writing a row.
fn seal(place: &str, plain: &[u8]) -> Vec<u8> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let cipher = XChaCha20Poly1305::new((&[3u8; 32]).into());
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).expect("nonce");
    let mut out = nonce.to_vec();
    out.extend(
        cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place.as_bytes(),
                },
            )
            .expect("seal"),
    );
    out
}

/// The cache key a console would keep in its keyring.
fn key() -> frontdesk_client::CacheKey {
    frontdesk_client::CacheKey::from_bytes([3; 32])
}
