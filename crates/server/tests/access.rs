//! Minimum necessary: every role against every read path and the live stream shows exactly
//! the domain's table (`frontdesk_domain::access::TABLE`, shown in the README). Providers and
//! reception see the rooms they work in (reception may be given every room), schedulers see
//! every visit without intake answers, admins see all; a visit someone may not read is "not
//! found", and its events reach them only as a withheld seq. The clinic's tests run on SQLite
//! and on PostgreSQL (whose events are read back from the database for the live stream).

use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, RECEPTION, SCHEDULER, TestServer, Ws, both_backends, open_link,
};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const HOUR: i64 = 3_600_000;

/// One reader of the matrix and what the table says they get.
struct Expect {
    who: &'static str,
    token: String,
    visits: BTreeSet<String>,
    intake: bool,
    admin_reads: bool,
}

/// The clinic the matrix runs on: four patients, each placed so that a different set of
/// people may read them.
struct Clinic {
    app: TestServer,
    admin: String,
    /// In Reception, intake answered.
    a: String,
    /// In Dr. Shah's room (Priya's own).
    b: String,
    /// A session booked in Reception with Dr. Haddad, the guest in a call with Rita.
    c: String,
    /// In Dr. Haddad's room, declined: finished today.
    d: String,
    /// A session booked with Dr. Haddad in his room, not started yet.
    s: String,
    /// The seq before any of them.
    start: u64,
}

async fn ok(a: frontdesk_testkit::Answer) -> Value {
    assert!(a.status.is_success(), "{} {:?}", a.status, a.body);
    a.body
}

async fn clinic(backend: Backend) -> Clinic {
    let app = TestServer::with_demo_on(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let start = app.last_seq(&admin).await;
    let reception = app.sign_in(RECEPTION).await;
    let (a, _, _) = app.waiting_patient("Ana Reception").await;
    let (b, _, _) = app
        .arrive(&app.room_id("Dr. Shah's room"), "Ben Shah")
        .await;
    let (d, _, dv) = app
        .arrive(&app.room_id("Dr. Haddad's room"), "Dee Haddad")
        .await;
    ok(app
        .command(
            &admin,
            &d,
            "decline",
            dv,
            Some(json!({"note": "Please call us"})),
        )
        .await)
    .await;

    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = app.clock().now().as_millis() + 2 * HOUR;
    let booking = json!({"booking": {
        "provider": app.staff_id(OMAR.0),
        "starts_at": starts,
        "guests": [{"name": "Cy Booked", "contact": {"email": "cy@example.org"}}]
    }});
    let path = format!("/v1/rooms/{}/scheduled", app.room_id("Reception"));
    let booked = ok(app
        .send(Method::POST, &path, Some(&scheduler), Some(booking), &[])
        .await)
    .await;
    let c = booked["visit"]["id"].as_str().unwrap().to_owned();
    let later = json!({"booking": {
        "provider": app.staff_id(OMAR.0),
        "starts_at": starts + HOUR,
        "guests": [{"name": "Sol Later", "contact": {"phone": "0400 000 009"}}]
    }});
    let path = format!("/v1/rooms/{}/scheduled", app.room_id("Dr. Haddad's room"));
    let booked = ok(app
        .send(Method::POST, &path, Some(&scheduler), Some(later), &[])
        .await)
    .await;
    let s = booked["visit"]["id"].as_str().unwrap().to_owned();
    let store = app.server().store();
    let c_guest = frontdesk_server::service::guest_token(&store.secret(), c.parse().unwrap(), 0);
    let link = open_link(&app.url(&format!("/wait/{c_guest}"))).await;
    assert!(link.press("arrive").await.status().is_redirection());
    let v = app.visit(&reception, &c).await["version"].as_u64().unwrap();
    ok(app.command(&reception, &c, "claim", v, None).await).await;
    Clinic {
        app,
        admin,
        a,
        b,
        c,
        d,
        s,
        start,
    }
}

/// The readers and, from the table, what each may read of the four patients.
async fn readers(k: &Clinic) -> Vec<Expect> {
    let app = &k.app;
    // A second receptionist who works in Reception only (not given every room), and Omar
    // taken out of Reception: he keeps his own room.
    ok(app
        .send(
            Method::POST,
            "/v1/staff",
            Some(&k.admin),
            Some(
                json!({"name": "Desk Two", "email": "desk2@demo.clinic", "roles": ["receptionist"],
                "password": "desk-two-password", "rooms": [app.room_id("Reception")]}),
            ),
            &[],
        )
        .await)
    .await;
    ok(app
        .edit_staff(&k.admin, &app.staff_id(OMAR.0), json!({"rooms": []}))
        .await)
    .await;
    let set = |ids: &[&String]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let all = set(&[&k.a, &k.b, &k.c, &k.d, &k.s]);
    vec![
        Expect {
            who: "admin",
            token: k.admin.clone(),
            visits: all.clone(),
            intake: true,
            admin_reads: true,
        },
        Expect {
            who: "reception given every room",
            token: app.sign_in(RECEPTION).await,
            visits: all,
            intake: true,
            admin_reads: false,
        },
        Expect {
            who: "reception in Reception only",
            token: app
                .sign_in(("desk2@demo.clinic", "desk-two-password"))
                .await,
            visits: set(&[&k.a, &k.c, &k.s]),
            intake: true,
            admin_reads: false,
        },
        Expect {
            who: "provider in Reception and her own room",
            token: app.sign_in(PRIYA).await,
            visits: set(&[&k.a, &k.b, &k.c, &k.s]),
            intake: true,
            admin_reads: false,
        },
        Expect {
            who: "provider in his own room, booked with C",
            token: app.sign_in(OMAR).await,
            visits: set(&[&k.c, &k.d, &k.s]),
            intake: true,
            admin_reads: false,
        },
        Expect {
            who: "scheduler",
            token: app.sign_in(SCHEDULER).await,
            visits: set(&[&k.a, &k.b, &k.c, &k.d, &k.s]),
            intake: false,
            admin_reads: false,
        },
    ]
}

/// Whether a visit (or a list of history entries) carries intake answers.
fn answers_in(entries: &Value) -> bool {
    entries.as_array().unwrap().iter().any(|e| {
        e["change"]["type"] == "intake_updated"
            && !e["change"]["answers"].as_object().unwrap().is_empty()
    })
}

fn has_intake(visit: &Value) -> bool {
    !visit["intake"].as_object().unwrap().is_empty() || answers_in(&visit["history"])
}

/// Checks a run of events (a page's or a stream's): whole from `after`, each visit event of
/// a visit this reader may read given (answers only when they may read them), every other one
/// withheld.
fn check_events(e: &Expect, ours: &[&String], events: &[Value], span: (u64, u64), how: &str) {
    let (after, through) = span;
    let seqs: Vec<u64> = events.iter().map(|x| x["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (after + 1..=through).collect::<Vec<_>>(),
        "{}: {how} has every seq once",
        e.who
    );
    let mut seen = BTreeSet::new();
    for x in events {
        match x["kind"].as_str().unwrap() {
            "visit" => {
                let id = x["visit_id"].as_str().unwrap().to_owned();
                assert!(
                    e.visits.contains(&id) || !ours.contains(&&id),
                    "{}: {how} gave {id}",
                    e.who
                );
                if !e.intake {
                    assert!(!answers_in(&x["entries"]), "{}: {how} gave answers", e.who);
                }
                seen.insert(id);
            }
            "withheld" => {
                assert!(x.get("entries").is_none() && x.get("visit_id").is_none());
            }
            _ => {}
        }
    }
    let expected: BTreeSet<String> = e.visits.iter().cloned().collect();
    assert_eq!(
        seen.intersection(&expected).count(),
        expected.len(),
        "{}: {how} gave every visit they may read",
        e.who
    );
}

/// The stream's events through `through` (heartbeats skipped).
async fn events_through(ws: &mut Ws, through: u64) -> Vec<Value> {
    let mut out = Vec::new();
    while out
        .last()
        .is_none_or(|e: &Value| e["seq"].as_u64().unwrap() < through)
    {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a frame within 30 s")
            .expect("the stream open")
            .unwrap();
        if let Message::Text(t) = msg {
            let f: Value = serde_json::from_str(t.as_str()).unwrap();
            if f["type"] == "event" {
                out.push(f["event"].clone());
            }
        }
    }
    out
}

both_backends!(every_role_reads_exactly_what_the_table_gives_it_on_every_read_path_and_the_stream);
async fn every_role_reads_exactly_what_the_table_gives_it_on_every_read_path_and_the_stream(
    backend: Backend,
) {
    let k = clinic(backend).await;
    let app = &k.app;
    let expects = readers(&k).await;
    let ours = [&k.a, &k.b, &k.c, &k.d, &k.s];
    let rooms: Vec<String> = app.demo().rooms.iter().map(|r| r.id.to_string()).collect();
    let through = app.last_seq(&k.admin).await;

    for e in &expects {
        let t = &e.token;
        // One visit, and its history.
        for id in ours {
            let may = e.visits.contains(id.as_str());
            let one = app.get(&format!("/v1/visits/{id}"), t).await;
            let history = app.get(&format!("/v1/visits/{id}/history"), t).await;
            if may {
                assert_eq!(one.status, StatusCode::OK, "{}: visit {id}", e.who);
                assert_eq!(history.status, StatusCode::OK, "{}: history {id}", e.who);
                if id == &k.a {
                    assert_eq!(has_intake(&one.body), e.intake, "{}: {id}'s answers", e.who);
                    assert_eq!(answers_in(&history.body["entries"]), e.intake, "{}", e.who);
                }
            } else {
                assert_eq!(one.status, StatusCode::NOT_FOUND, "{}: visit {id}", e.who);
                assert_eq!(one.code(), "not_found");
                assert_eq!(history.status, StatusCode::NOT_FOUND, "{}", e.who);
            }
        }

        // The snapshot (open visits) and the day's finished ones.
        let snapshot = ok(app.get("/v1/snapshot", t).await).await;
        let mut listed: BTreeSet<String> = BTreeSet::new();
        for v in snapshot["visits"].as_array().unwrap() {
            assert!(e.intake || !has_intake(v), "{}: snapshot answers", e.who);
            listed.insert(v["id"].as_str().unwrap().into());
        }
        let day = ok(app.get("/v1/visits", t).await).await;
        for v in day["visits"].as_array().unwrap() {
            listed.insert(v["id"].as_str().unwrap().into());
        }
        let listed: BTreeSet<String> = listed.into_iter().filter(|id| ours.contains(&id)).collect();
        assert_eq!(listed, e.visits, "{}: snapshot and day list", e.who);

        // The queue, room by room (a finished visit is in no queue).
        let mut queued = BTreeSet::new();
        for room in &rooms {
            let q = ok(app.get(&format!("/v1/queue?room={room}"), t).await).await;
            for row in q.as_array().unwrap() {
                let answers = row["intake"].as_object().map_or(0, |m| m.len());
                assert!(e.intake || answers == 0, "{}: queue answers", e.who);
                queued.insert(row["visit_id"].as_str().unwrap().to_owned());
            }
        }
        let open: BTreeSet<String> = e
            .visits
            .iter()
            .filter(|v| **v != k.d && **v != k.s)
            .cloned()
            .collect();
        assert_eq!(
            queued, open,
            "{}: queue (a session not started is in none)",
            e.who
        );

        // Pages of events, and the stream's backlog.
        let page = ok(app
            .get(&format!("/v1/events?after={}&limit=1000", k.start), t)
            .await)
        .await;
        let events = page["events"].as_array().unwrap().clone();
        check_events(e, &ours, &events, (k.start, through), "the events page");
        let mut ws = app.open_stream(t, k.start).await;
        let streamed = events_through(&mut ws, through).await;
        check_events(
            e,
            &ours,
            &streamed,
            (k.start, through),
            "the stream's backlog",
        );

        // The clinic's deliveries and audit trail are the admins'.
        for path in ["/v1/deliveries", "/v1/audit"] {
            let a = app.get(path, t).await;
            let want = if e.admin_reads {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(a.status, want, "{}: {path}", e.who);
        }
    }

    // Live: each reader's stream, open while every patient changes once more and a new one
    // comes to Reception and answers the intake form.
    let mut streams = Vec::new();
    for e in &expects {
        streams.push(app.open_stream(&e.token, through).await);
    }
    for id in [&k.a, &k.b, &k.c] {
        let v = app.visit(&k.admin, id).await["version"].as_u64().unwrap();
        ok(app
            .command(
                &k.admin,
                id,
                "message",
                v,
                Some(json!({"text": "Nearly there"})),
            )
            .await)
        .await;
    }
    let (eve, eve_token, _) = app.arrive(&app.room_id("Reception"), "Eve Live").await;
    ok(app
        .answer_intake(&eve_token, json!({"Reason for visit": "A rash"}))
        .await)
    .await;
    let live_through = app.last_seq(&k.admin).await;
    for (e, ws) in expects.iter().zip(&mut streams) {
        let live = events_through(ws, live_through).await;
        // Eve is read by those who read Ana (both in Reception).
        let mut visits: BTreeSet<String> = e
            .visits
            .iter()
            .filter(|v| **v != k.d && **v != k.s)
            .cloned()
            .collect();
        if e.visits.contains(&k.a) {
            visits.insert(eve.clone());
        }
        let open = Expect {
            visits,
            token: String::new(),
            ..*e
        };
        let live_ours = [&k.a, &k.b, &k.c, &k.d, &k.s, &eve];
        check_events(
            &open,
            &live_ours,
            &live,
            (through, live_through),
            "the live stream",
        );
        let answers = live
            .iter()
            .filter(|x| x["kind"] == "visit" && answers_in(&x["entries"]))
            .count();
        let expected = usize::from(e.intake && e.visits.contains(&k.a));
        assert_eq!(answers, expected, "{}: live answers", e.who);
    }
}

#[tokio::test]
async fn the_table_in_the_readme_is_the_domains() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let table = frontdesk_domain::access::readme_table();
    assert!(
        readme.contains(&table),
        "the README's access table is not the domain's; put this in it:\n{table}"
    );
}

both_backends!(
    a_provider_takes_over_a_colleagues_patient_only_by_asking_and_only_those_in_the_call_end_it
);
async fn a_provider_takes_over_a_colleagues_patient_only_by_asking_and_only_those_in_the_call_end_it(
    backend: Backend,
) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let omar = app.sign_in(OMAR).await;
    let (priya_id, omar_id) = (app.staff_id(PRIYA.0), app.staff_id(OMAR.0));
    let (id, _, v) = app.waiting_patient("Tom Taken").await;
    let body = json!({"provider": priya_id});
    let v =
        ok(app.command(&reception, &id, "assign", v, Some(body)).await).await["visit"]["version"]
            .as_u64()
            .unwrap();

    let claim = app.command(&omar, &id, "claim", v, None).await;
    assert_eq!(claim.status, StatusCode::CONFLICT, "{:?}", claim.body);
    assert_eq!(claim.code(), "assigned_elsewhere");
    assert_eq!(claim.body["held_by"][0]["id"], priya_id.as_str());
    let taken = ok(app.command(&omar, &id, "take-over", v, None).await).await;
    assert_eq!(taken["visit"]["status"], "in_call");
    assert_eq!(taken["visit"]["assigned_provider"], omar_id.as_str());
    let history = ok(app.get(&format!("/v1/visits/{id}/history"), &omar).await).await;
    let took = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["change"]["type"] == "taken_over")
        .expect("the takeover in the history")
        .clone();
    assert_eq!(took["actor"]["id"], omar_id.as_str(), "who took over");
    assert_eq!(took["change"]["from"], priya_id.as_str(), "from whom");

    // Neither reception nor Priya is in the call: only Omar (or an admin) ends it.
    let v = taken["visit"]["version"].as_u64().unwrap();
    for outsider in [&reception, &priya] {
        let end = app.command(outsider, &id, "end-call", v, None).await;
        assert_eq!(
            (end.status, end.code()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
    }
    let ended = ok(app.command(&omar, &id, "end-call", v, None).await).await;
    assert_eq!(ended["visit"]["status"], "completed");
}

both_backends!(a_command_is_refused_with_what_its_sender_may_read_and_on_a_visit_they_may_not_read_as_not_found);
async fn a_command_is_refused_with_what_its_sender_may_read_and_on_a_visit_they_may_not_read_as_not_found(
    backend: Backend,
) {
    let k = clinic(backend).await;
    let app = &k.app;
    let whole = app.visit(&k.admin, &k.a).await;
    assert!(
        has_intake(&whole),
        "the patient answered the intake questions"
    );

    // A scheduler may not assign a patient already waiting: the refusal carries the visit
    // without what the patient told the clinic.
    let scheduler = app.sign_in(SCHEDULER).await;
    let v = whole["version"].as_u64().unwrap();
    let body = json!({"provider": app.staff_id(OMAR.0)});
    let refused = app.command(&scheduler, &k.a, "assign", v, Some(body)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["visit"]["id"], k.a.as_str());
    assert!(!has_intake(&refused.body["visit"]), "{}", refused.body);
    // An admin is refused with the visit whole.
    let body = json!({"provider": app.staff_id(OMAR.0)});
    let stale = app
        .command(&k.admin, &k.a, "assign", v - 1, Some(body))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{:?}", stale.body);
    assert!(has_intake(&stale.body["visit"]), "{}", stale.body);

    // Dr. Haddad does not work in Dr. Shah's room: her patient is not found for him, as on a
    // read, and stays as it was.
    let omar = app.sign_in(OMAR).await;
    let before = app.visit(&k.admin, &k.b).await;
    let v = before["version"].as_u64().unwrap();
    let claim = app.command(&omar, &k.b, "claim", v, None).await;
    assert_eq!(
        (claim.status, claim.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{:?}",
        claim.body
    );
    assert!(claim.body.get("visit").is_none());
    let after = app.visit(&k.admin, &k.b).await;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["status"], before["status"]);
}
