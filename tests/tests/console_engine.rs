//! The console's engine against a real clinic server on loopback: what a receptionist sees and
//! is alerted to, through network drops, restarts and lost races.

use frontdesk_client::view::ConnectionState;
use frontdesk_domain::{Change, Command, MessageText, Status, VisitId};
use frontdesk_tests::{Backend, Console, CuttingProxy, TestClinic, eventually};
use std::collections::BTreeMap;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);
const RITA: &str = "reception@demo.clinic";
const PRIYA: &str = "priya@demo.clinic";

fn online(c: &Console) -> bool {
    c.engine.view().connection.state == ConnectionState::Online
}

fn visit_id(s: &str) -> VisitId {
    s.parse().expect("visit id")
}

/// Visit id → version, as the server has it and as the console's cache has it.
async fn server_versions(clinic: &TestClinic, token: &str) -> (u64, BTreeMap<VisitId, u64>) {
    let snap = clinic.snapshot(token).await;
    let versions = snap
        .visits
        .iter()
        .filter(|v| !v.status.is_terminal())
        .map(|v| (v.id, v.version))
        .collect();
    (snap.seq, versions)
}

fn cache_versions(c: &Console) -> BTreeMap<VisitId, u64> {
    c.engine
        .confirmed()
        .visits
        .values()
        .map(|v| (v.id, v.version))
        .collect()
}

async fn converged(clinic: &TestClinic, c: &Console) {
    let token = c.token.clone();
    for _ in 0..300 {
        let (seq, server) = server_versions(clinic, &token).await;
        if c.engine.confirmed().seq >= seq && cache_versions(c) == server {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (seq, server) = server_versions(clinic, &token).await;
    assert_eq!(
        c.engine.confirmed().seq,
        seq,
        "cache seq equals the server's"
    );
    assert_eq!(
        cache_versions(c),
        server,
        "cache equals the server's snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_shows_in_the_queue_and_alerts_exactly_once() {
    let clinic = TestClinic::start().await;
    let token = clinic.sign_in(RITA).await;
    let cache = clinic.dir().join("rita.db");
    let mut rita = Console::start(&clinic.url(), cache.clone(), &token);
    eventually(&rita.engine, LONG, "online", || online(&rita)).await;

    let reception = clinic.room("Reception");
    let id = visit_id(&clinic.arrive(&reception, "Ana Pereira").await);
    eventually(&rita.engine, LONG, "the row appears", || {
        rita.engine.view().queue.iter().any(|r| r.visit_id == id)
    })
    .await;
    let row = rita
        .engine
        .view()
        .queue
        .into_iter()
        .find(|r| r.visit_id == id)
        .unwrap();
    assert_eq!(row.patient_name, "Ana Pereira");
    assert_eq!(
        row.status,
        Status::Intake,
        "Reception asks intake questions"
    );
    assert!(row.waiting_since.is_some(), "the wait is counting");
    let notice = rita.next_notice(LONG).await;
    assert_eq!(notice.summary, "Ana Pereira is waiting");
    assert_eq!(notice.body, "Arrived in Reception");
    assert_eq!(notice.visit_id, id);
    // A heartbeat later, still just the one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(rita.drain_notices().is_empty(), "one arrival, one alert");

    // The console restarts from its cache: the patient is there at once, and the arrival is
    // not announced again.
    drop(rita);
    let mut rita = Console::start(&clinic.url(), cache, &token);
    assert!(
        rita.engine.view().queue.iter().any(|r| r.visit_id == id),
        "shown from the cache before the server answers"
    );
    eventually(&rita.engine, LONG, "online again", || online(&rita)).await;
    let other = visit_id(&clinic.arrive(&reception, "Ben Okoro").await);
    eventually(&rita.engine, LONG, "second row", || {
        rita.engine.view().queue.iter().any(|r| r.visit_id == other)
    })
    .await;
    // The next notice is the new patient's: Ana's arrival is not announced again.
    assert_eq!(rita.next_notice(LONG).await.summary, "Ben Okoro is waiting");
    assert!(rita.drain_notices().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_claim_the_same_patient_and_one_is_told_who_won() {
    let clinic = TestClinic::start().await;
    let rita_token = clinic.sign_in(RITA).await;
    let priya_token = clinic.sign_in(PRIYA).await;
    let rita = Console::start(&clinic.url(), clinic.dir().join("r.db"), &rita_token);
    let priya = Console::start(&clinic.url(), clinic.dir().join("p.db"), &priya_token);
    let id = visit_id(&clinic.arrive(&clinic.room("Reception"), "Cai Lin").await);
    for c in [&rita, &priya] {
        eventually(&c.engine, LONG, "patient visible", || {
            c.engine.visit(id).is_some()
        })
        .await;
    }
    rita.engine.act(id, Command::Claim).unwrap();
    priya.engine.act(id, Command::Claim).unwrap();
    for c in [&rita, &priya] {
        eventually(&c.engine, LONG, "both actions answered", || {
            let v = c.engine.view();
            v.connection.pending == 0
                && c.engine
                    .visit(id)
                    .is_some_and(|v| v.status == Status::InCall)
        })
        .await;
    }
    let outcomes: Vec<_> = [&rita, &priya]
        .iter()
        .flat_map(|c| c.engine.view().outcomes)
        .collect();
    assert_eq!(outcomes.len(), 1, "exactly one loses: {outcomes:?}");
    let lost = &outcomes[0];
    assert_eq!(lost.code, "already_claimed");
    let winner = &rita.engine.visit(id).unwrap().in_call;
    assert_eq!(winner.len(), 1);
    let winner_name = rita.engine.confirmed().staff[&winner[0]].name.clone();
    assert_eq!(lost.message, format!("Already claimed by {winner_name}"));
    // The loser dismisses it and carries on.
    let loser = if rita.engine.view().outcomes.is_empty() {
        &priya
    } else {
        &rita
    };
    loser.engine.dismiss_outcome(&lost.action_id).unwrap();
    assert!(loser.engine.view().outcomes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_taken_offline_survives_a_restart_and_is_applied_once() {
    let mut clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let token = clinic.sign_in(RITA).await;
    let cache = clinic.dir().join("rita.db");
    let rita = Console::start(&proxy.url(), cache.clone(), &token);
    let id = visit_id(&clinic.arrive(&clinic.room("Reception"), "Dee Ahmed").await);
    eventually(&rita.engine, LONG, "patient visible", || {
        rita.engine.visit(id).is_some()
    })
    .await;

    // The clinic's server goes away, and its connections with it.
    proxy.set_down(true);
    clinic.stop().await;
    eventually(&rita.engine, LONG, "offline", || {
        rita.engine.view().connection.state == ConnectionState::Offline
    })
    .await;
    rita.engine.act(id, Command::Claim).unwrap();
    rita.engine
        .act(
            id,
            Command::Message {
                text: MessageText::parse("We are running 5 minutes late").unwrap(),
            },
        )
        .unwrap();
    let view = rita.engine.view();
    assert_eq!(view.connection.pending, 2);
    assert!(view.connection.since.is_some() && view.connection.as_of.is_some());
    let row = view.queue.iter().find(|r| r.visit_id == id).unwrap();
    assert_eq!(
        row.status,
        Status::Intake,
        "not shown as done before the server says so"
    );
    let pending: Vec<_> = row.pending.iter().map(|p| p.command.as_str()).collect();
    assert_eq!(pending, ["claim", "message"]);

    // The app is closed with the actions unsent and opened again while the server is still
    // away (opened once it is back, it may send one before anyone could look), then the server
    // comes back.
    drop(rita);
    let rita = Console::start(&proxy.url(), cache, &token);
    assert_eq!(
        rita.engine.view().connection.pending,
        2,
        "the outbox survived the restart"
    );
    clinic.restart().await;
    proxy.set_down(false);
    eventually(&rita.engine, LONG, "sent and confirmed", || {
        rita.engine.view().connection.pending == 0
            && rita
                .engine
                .visit(id)
                .is_some_and(|v| v.status == Status::InCall)
    })
    .await;
    let visit = rita.engine.visit(id).unwrap();
    let claims = visit
        .history
        .iter()
        .filter(|e| matches!(e.change, Change::Claimed { .. }))
        .count();
    assert_eq!(claims, 1);
    assert_eq!(visit.messages.len(), 1);
    assert!(rita.engine.view().outcomes.is_empty());
}

/// Once the console's outbox has drained and it agrees with the server, the visit `id` has the
/// messages "Update 0" to "Update {n-1}" the console sent, each once, in order.
async fn applied_once_in_order(clinic: &TestClinic, rita: &Console, id: VisitId, n: usize) {
    eventually(
        &rita.engine,
        Duration::from_secs(90),
        "outbox drained",
        || rita.engine.view().connection.pending == 0,
    )
    .await;
    converged(clinic, rita).await;
    let texts: Vec<String> = rita
        .engine
        .visit(id)
        .unwrap()
        .messages
        .iter()
        .map(|m| m.text.to_string())
        .collect();
    let expected: Vec<String> = (0..n).map(|i| format!("Update {i}")).collect();
    assert_eq!(texts, expected, "each once, in the order they were sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_sent_while_connections_keep_dropping_are_applied_exactly_once() {
    let mut clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let token = clinic.sign_in(RITA).await;
    let rita = Console::start(&proxy.url(), clinic.dir().join("rita.db"), &token);
    let id = visit_id(&clinic.arrive(&clinic.room("Reception"), "Eli Novak").await);
    eventually(&rita.engine, LONG, "patient visible", || {
        rita.engine.visit(id).is_some()
    })
    .await;

    for i in 0..40 {
        let text = MessageText::parse(&format!("Update {i}")).unwrap();
        rita.engine.act(id, Command::Message { text }).unwrap();
        if i % 7 == 3 {
            // Replies are lost mid-flight: the server may have applied what it was sent.
            proxy.cut();
        }
        if i == 20 {
            // The server itself goes down while the outbox drains, and comes back.
            proxy.set_down(true);
            clinic.stop().await;
            clinic.restart().await;
            proxy.set_down(false);
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    applied_once_in_order(&clinic, &rita, id, 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_after_ten_thousand_events_offline() {
    let clinic = TestClinic::start().await;
    let token = clinic.sign_in(RITA).await;
    let cache = clinic.dir().join("rita.db");
    let rita = Console::start(&clinic.url(), cache.clone(), &token);
    eventually(&rita.engine, LONG, "online", || online(&rita)).await;
    let seq_before = rita.engine.confirmed().seq;
    drop(rita);

    // 6,000 patients arrive and 4,000 of them leave while the console is closed: 10,000 events.
    let reception = clinic.room("Reception");
    let http = reqwest::Client::new();
    let url = clinic.url();
    let slug = clinic.demo().clinic.slug.clone();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (http, url, slug, room) = (
            http.clone(),
            url.clone(),
            slug.clone(),
            reception.id.to_string(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0..750 {
                let name = format!("Patient {w}-{i}");
                let arrival = frontdesk_testkit::arrive(&http, &url, &slug, &room, &name).await;
                if i % 3 != 0 {
                    let resp = http
                        .post(format!("{url}/v1/patient/visit/leave"))
                        .bearer_auth(&arrival.patient_token)
                        .send()
                        .await
                        .unwrap();
                    assert!(resp.status().is_success(), "leave: {}", resp.status());
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let (server_seq, _) = server_versions(&clinic, &token).await;
    assert_eq!(server_seq - seq_before, 10_000, "a long absence");

    let mut rita = Console::start(&clinic.url(), cache, &token);
    converged(&clinic, &rita).await;
    assert_eq!(
        rita.engine.resyncs(),
        0,
        "caught up from events, no snapshot needed"
    );
    // Of each worker's 750 patients, the 250 numbered by three are still waiting.
    assert_eq!(rita.engine.view().queue.len(), 8 * 250);
    // Those who arrived while the console was closed are still announced (folded together),
    // once the catch-up is whole: the alerts may follow the cache by a moment.
    let mut alerted = 0;
    let deadline = tokio::time::Instant::now() + LONG;
    while alerted < 8 * 250 && tokio::time::Instant::now() < deadline {
        alerted += rita
            .drain_notices()
            .iter()
            .map(|n| n.alerts.len())
            .sum::<usize>();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    alerted += rita
        .drain_notices()
        .iter()
        .map(|n| n.alerts.len())
        .sum::<usize>();
    assert_eq!(alerted, 8 * 250, "each patient still waiting alerts once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_cut_every_few_seconds_for_a_minute_misses_nothing() {
    let clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let token = clinic.sign_in(RITA).await;
    let mut rita = Console::start(&proxy.url(), clinic.dir().join("rita.db"), &token);
    eventually(&rita.engine, LONG, "online", || online(&rita)).await;

    let reception = clinic.room("Reception");
    let started = tokio::time::Instant::now();
    let mut arrived = Vec::new();
    let mut claimed = Vec::new();
    let mut next_cut = started + Duration::from_secs(3);
    let mut alerted = 0;
    while started.elapsed() < Duration::from_secs(60) {
        let id = visit_id(
            &clinic
                .arrive(&reception, &format!("Walk-in {}", arrived.len()))
                .await,
        );
        arrived.push(id);
        // Every fifth patient is claimed from the console as soon as it has them.
        if arrived.len() % 5 == 0
            && let Some(known) = arrived
                .iter()
                .find(|v| !claimed.contains(*v) && rita.engine.visit(**v).is_some())
        {
            rita.engine.act(*known, Command::Claim).unwrap();
            claimed.push(*known);
        }
        if tokio::time::Instant::now() >= next_cut {
            proxy.cut();
            next_cut += Duration::from_secs(3);
        }
        alerted += rita
            .drain_notices()
            .iter()
            .map(|n| n.alerts.len())
            .sum::<usize>();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eventually(&rita.engine, LONG, "outbox drained", || {
        rita.engine.view().connection.pending == 0
    })
    .await;
    converged(&clinic, &rita).await;
    alerted += rita
        .drain_notices()
        .iter()
        .map(|n| n.alerts.len())
        .sum::<usize>();

    assert!(arrived.len() > 100, "a busy minute: {}", arrived.len());
    assert!(claimed.len() >= 10, "claims were made: {}", claimed.len());
    let state = rita.engine.confirmed();
    for id in &claimed {
        let v = &state.visits[id];
        let claims = v
            .history
            .iter()
            .filter(|e| matches!(e.change, Change::Claimed { .. }))
            .count();
        assert_eq!(
            (v.status, claims),
            (Status::InCall, 1),
            "claimed once: {id}"
        );
    }
    assert!(
        rita.engine.view().outcomes.is_empty(),
        "no action was refused"
    );
    // Every arrival alerted exactly once: the console only claims patients it already knew,
    // so each was still waiting when it was announced.
    assert_eq!(alerted, arrived.len(), "one alert per arrival");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_falls_behind_the_stream_resyncs_and_misses_nothing() {
    // A stream buffer of one event: a burst of arrivals leaves the console behind, and the
    // server tells it to resync rather than skip events.
    let clinic = TestClinic::start_with(|s| s.stream_buffer = 1).await;
    let token = clinic.sign_in(RITA).await;
    let mut rita = Console::start(&clinic.url(), clinic.dir().join("rita.db"), &token);
    eventually(&rita.engine, LONG, "online", || online(&rita)).await;
    let first = rita.engine.resyncs();
    let reception = clinic.room("Reception");
    let mut arrived = 0;
    for burst in 0..20 {
        let arrivals = (0..16).map(|i| {
            let clinic = &clinic;
            let reception = &reception;
            async move {
                clinic
                    .arrive(reception, &format!("Burst {burst}-{i}"))
                    .await
            }
        });
        // All at once: a burst the stream cannot keep up with.
        arrived += futures_util::future::join_all(arrivals).await.len();
        if rita.engine.resyncs() > first {
            break;
        }
    }
    converged(&clinic, &rita).await;
    assert!(
        rita.engine.resyncs() > first,
        "the console was told to resync and did"
    );
    assert_eq!(rita.engine.view().queue.len(), arrived);
    let mut alerted = 0;
    while let Ok(Some(n)) = tokio::time::timeout(Duration::from_secs(3), rita.notices.recv()).await
    {
        alerted += n.alerts.len();
    }
    assert_eq!(alerted, arrived, "one alert per arrival, across the resync");
}

/// A console behind a load balancer in front of two replicas on one PostgreSQL database:
/// replica A dies in the middle of a run of actions and the balancer sends everything to B.
/// Every action is applied once, in the order sent, and the console misses nothing committed
/// through either replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_whose_replica_dies_resumes_on_another_with_no_action_lost_or_doubled() {
    let mut a = TestClinic::start_on(Backend::Postgres, |_| {}).await;
    let b = a.replica().await;
    let balancer = CuttingProxy::start(a.addr()).await;
    let token = a.sign_in(RITA).await;
    let rita = Console::start(&balancer.url(), a.dir().join("rita.db"), &token);
    let reception = a.room("Reception");
    let id = visit_id(&a.arrive(&reception, "Eli Novak").await);
    eventually(&rita.engine, LONG, "patient visible", || {
        rita.engine.visit(id).is_some()
    })
    .await;

    let mut walk_ins = Vec::new();
    for i in 0..30 {
        let text = MessageText::parse(&format!("Update {i}")).unwrap();
        rita.engine.act(id, Command::Message { text }).unwrap();
        if i % 5 == 2 {
            // Others commit through B meanwhile.
            walk_ins.push(visit_id(
                &b.arrive(&reception, &format!("Walk-in {i}")).await,
            ));
        }
        if i == 15 {
            // A dies: its connections drop, and from now on the balancer sends to B.
            balancer.switch_to(b.addr());
            balancer.cut();
            a.stop().await;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    applied_once_in_order(&b, &rita, id, 30).await;
    for walk_in in walk_ins {
        assert!(
            rita.engine.visit(walk_in).is_some(),
            "{walk_in} reached the console"
        );
    }
}
