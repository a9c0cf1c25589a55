//! The seeds' workflows end to end over HTTP, as the front desk and providers live them.

use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, RECEPTION, SCHEDULER, TestServer, both_backends,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn entry_kinds(visit: &Value) -> Vec<String> {
    visit["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"]["type"].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(coviu_reception_sees_the_patient_puts_them_on_hold_and_the_provider_takes_over);
async fn coviu_reception_sees_the_patient_puts_them_on_hold_and_the_provider_takes_over(
    backend: Backend,
) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let (id, patient, v) = app.waiting_patient("Ana P.").await;

    let a = app.command(&reception, &id, "claim", v, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "in_call");
    assert_eq!(
        a.body["visit"]["in_call"],
        json!([app.staff_id(RECEPTION.0)])
    );

    let a = app
        .command(&reception, &id, "leave-call", a.version(), None)
        .await;
    assert_eq!(
        a.status_of_visit(),
        "on_hold",
        "last one out puts the patient on hold"
    );

    // The provider is told through the event stream: the change names the hold.
    let events = app.get("/v1/events?after=0&limit=1000", &priya).await.body;
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    let kinds: Vec<&str> = last["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["left_call", "put_on_hold"]);

    let queue = app
        .get(
            &format!("/v1/queue?room={}", app.room_id("Reception")),
            &priya,
        )
        .await
        .body;
    let item = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["visit_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["status"], "on_hold");
    assert_eq!(item["intake"]["Reason for visit"], "Sore throat");

    let a = app.command(&priya, &id, "claim", a.version(), None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["in_call"], json!([app.staff_id(PRIYA.0)]));
    let a = app
        .command(&priya, &id, "end-call", a.version(), None)
        .await;
    assert_eq!(a.status_of_visit(), "completed");

    let me = app
        .patient(&patient, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(me.body["status"], "completed");
    let visit = app.visit(&priya, &id).await;
    assert_eq!(
        entry_kinds(&visit),
        [
            "opened",
            "intake_updated",
            "intake_finished",
            "claimed",
            "left_call",
            "put_on_hold",
            "claimed",
            "call_ended"
        ]
    );
}

both_backends!(a_provider_ends_a_call_they_left_on_hold_and_no_one_who_never_saw_the_patient_may);
async fn a_provider_ends_a_call_they_left_on_hold_and_no_one_who_never_saw_the_patient_may(
    backend: Backend,
) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let (id, _, v) = app.waiting_patient("Ana P.").await;
    let a = app.command(&priya, &id, "claim", v, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = app
        .command(&priya, &id, "leave-call", a.version(), None)
        .await;
    assert_eq!(a.status_of_visit(), "on_hold");
    let on_hold = a.version();

    let refused = app
        .command(&reception, &id, "end-call", on_hold, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert_eq!(app.visit(&priya, &id).await["status"], "on_hold");

    let ended = app.command(&priya, &id, "end-call", on_hold, None).await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    assert_eq!(ended.status_of_visit(), "completed");
}

both_backends!(doxy_shared_reception_transfers_to_a_room_and_then_to_a_provider);
async fn doxy_shared_reception_transfers_to_a_room_and_then_to_a_provider(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let omar = app.sign_in(OMAR).await;
    let (id, _, v) = app.waiting_patient("Ben K.").await;
    let haddad_room = app.room_id("Dr. Haddad's room");

    let a = app
        .command(
            &reception,
            &id,
            "transfer",
            v,
            Some(json!({"room": haddad_room, "note": "Needs a script renewal"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["room_id"], haddad_room.as_str());
    assert_eq!(a.status_of_visit(), "waiting");
    let queue = app
        .get(&format!("/v1/queue?room={haddad_room}"), &omar)
        .await
        .body;
    assert!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["visit_id"] == id.as_str())
    );

    // To a provider: their own room, with them assigned.
    let a = app
        .command(
            &reception,
            &id,
            "transfer",
            a.version(),
            Some(json!({"provider": app.staff_id(PRIYA.0)})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        a.body["visit"]["room_id"],
        app.room_id("Dr. Shah's room").as_str()
    );
    assert_eq!(
        a.body["visit"]["assigned_provider"],
        app.staff_id(PRIYA.0).as_str()
    );
    let priya = app.sign_in(PRIYA).await;
    let mine = app.get("/v1/queue", &priya).await.body;
    let item = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["visit_id"] == id.as_str())
        .expect("in Dr. Shah's queue")
        .clone();
    assert_eq!(item["assigned_provider"]["name"], "Dr. Priya Shah");

    let visit = app.visit(&reception, &id).await;
    let transfers: Vec<&Value> = visit["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["change"]["type"] == "transferred")
        .collect();
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0]["change"]["note"], "Needs a script renewal");
    assert_eq!(
        transfers[0]["actor"]["id"],
        app.staff_id(RECEPTION.0).as_str(),
        "transferred by reception"
    );

    // Moving someone to where they already are is refused and changes nothing.
    let a = app
        .command(
            &reception,
            &id,
            "transfer",
            a.version(),
            Some(json!({"provider": app.staff_id(PRIYA.0)})),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.body);
    assert_eq!(a.code(), "validation");
}

async fn request(app: &TestServer, token: &str, provider: &str, name: &str) -> (String, Value) {
    let room = app.room_id("Dr. Shah's room");
    let a = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/requests"),
            Some(token),
            Some(
                json!({"patient": {"name": name, "email": "p@example.org"}, "provider": provider}),
            ),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    (
        a.body["visit"]["id"].as_str().unwrap().to_owned(),
        a.body.clone(),
    )
}

both_backends!(securevideo_requests_are_accepted_entered_declined_or_declined_at_once);
async fn securevideo_requests_are_accepted_entered_declined_or_declined_at_once(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let omar = app.sign_in(OMAR).await;
    let priya_id = app.staff_id(PRIYA.0);

    let (first, opened) = request(&app, &reception, &priya_id, "Chloe M.").await;
    assert_eq!(opened["visit"]["status"], "requested");
    let a = app.command(&priya, &first, "accept", 1, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "waiting");
    assert_eq!(a.body["visit"]["assigned_provider"], priya_id.as_str());

    let (second, _) = request(&app, &reception, &priya_id, "Dev T.").await;
    // Only the provider asked may answer: a request to Dr. Shah in her room is not Dr.
    // Haddad's to read, let alone answer, so he is told there is no such visit.
    let a = app.command(&omar, &second, "accept", 1, None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "only the provider asked may answer: {:?}",
        a.body
    );
    let a = app
        .command(&priya, &second, "accept-and-enter", 1, None)
        .await;
    assert_eq!(a.status_of_visit(), "in_call");
    assert_eq!(a.body["visit"]["in_call"], json!([priya_id]));

    let (third, opened) = request(&app, &reception, &priya_id, "Ella R.").await;
    let patient = opened["patient_token"].as_str().unwrap().to_owned();
    let a = app
        .command(
            &priya,
            &third,
            "decline",
            1,
            Some(json!({"note": "Please book with the nurse instead."})),
        )
        .await;
    assert_eq!(a.status_of_visit(), "declined");
    let seen = app
        .patient(&patient, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(seen["decline_note"], "Please book with the nurse instead.");

    // Unavailable: a new request is declined at once, by the clinic.
    let a = app
        .send(
            Method::PUT,
            "/v1/me/availability",
            Some(&priya),
            Some(json!({"availability": "unavailable"})),
            &[],
        )
        .await;
    assert_eq!(a.body["availability"], "unavailable");
    let room = app.room_id("Dr. Shah's room");
    let a = app
        .send(
            Method::POST,
            &format!("/v1/join/demo/{room}/request"),
            None,
            Some(json!({"name": "Finn W.", "provider": priya_id})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "declined");
    let last = a.body["visit"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last["change"]["type"], &last["change"]["automatic"]),
        (&json!("declined"), &json!(true))
    );
    let note = last["change"]["note"].as_str().unwrap();
    assert!(
        note.contains("not available"),
        "the patient is told why: {note}"
    );
    assert_eq!(last["actor"]["kind"], "system");

    // The availability change reached the stream as a staff event.
    let events = app
        .get("/v1/events?after=0&limit=1000", &reception)
        .await
        .body;
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "staff"
                && e["staff"]["id"] == priya_id.as_str()
                && e["staff"]["availability"] == "unavailable")
    );
}

both_backends!(visuwell_claim_while_intake_is_being_filled_then_assign_and_decline);
async fn visuwell_claim_while_intake_is_being_filled_then_assign_and_decline(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let omar_id = app.staff_id(OMAR.0);
    let (id, patient, v) = app.arrive(&app.room_id("Reception"), "Grace N.").await;
    assert_eq!(v, 1);
    let queue = app.get("/v1/queue", &reception).await.body;
    let item = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["visit_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        item["status"], "intake",
        "visible and claimable while on the intake form"
    );

    let a = app.command(&reception, &id, "claim", v, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["intake_finished"], false);
    // The patient can still answer during the call.
    let p = app
        .answer_intake(&patient, json!({"Date of birth": "1990-02-03"}))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);

    let visit = app.visit(&reception, &id).await;
    let a = app
        .command(
            &reception,
            &id,
            "assign",
            visit["version"].as_u64().unwrap(),
            Some(json!({"provider": omar_id, "note": "Dr. Haddad knows this patient"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["assigned_provider"], omar_id.as_str());

    // Another patient is declined with a note they see.
    let (other, other_token, v) = app.arrive(&app.room_id("Reception"), "Hiro L.").await;
    let a = app
        .command(
            &reception,
            &other,
            "decline",
            v,
            Some(json!({"note": "We are closed for walk-ins today."})),
        )
        .await;
    assert_eq!(a.status_of_visit(), "declined");
    let seen = app
        .patient(&other_token, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(seen["status"], "declined");
    assert_eq!(seen["decline_note"], "We are closed for walk-ins today.");
}

both_backends!(the_queue_puts_emergencies_first_and_patients_see_messages);
async fn the_queue_puts_emergencies_first_and_patients_see_messages(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let (first, _, _) = app.waiting_patient("Isla S.").await;
    let (second, second_token, v) = app.waiting_patient("Jack B.").await;
    let ids = |q: &Value| {
        q.as_array()
            .unwrap()
            .iter()
            .map(|i| i["visit_id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let q = app.get("/v1/queue", &reception).await.body;
    assert_eq!(
        ids(&q),
        [first.clone(), second.clone()],
        "longest wait first"
    );

    let a = app
        .command(
            &reception,
            &second,
            "priority",
            v,
            Some(json!({"priority": "emergency", "note": "Chest pain"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let q = app.get("/v1/queue", &reception).await.body;
    assert_eq!(ids(&q), [second.clone(), first]);
    assert_eq!(q[0]["triage_note"], "Chest pain");
    assert!(q[0]["waiting_now_ms"].as_i64().unwrap() >= 0);

    let a = app
        .command(
            &reception,
            &second,
            "message",
            a.version(),
            Some(json!({"text": "A doctor is on the way."})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let seen = app
        .patient(&second_token, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(seen["messages"], json!(["A doctor is on the way."]));
    assert_eq!(seen["position"], 1);

    let left = app
        .patient(&second_token, Method::POST, "/v1/patient/visit/leave", None)
        .await;
    assert_eq!(left.body["status"], "left");
    let q = app.get("/v1/queue", &reception).await.body;
    assert_eq!(q.as_array().unwrap().len(), 1);
}

both_backends!(a_scheduler_books_a_session_that_can_be_cancelled_or_marked_no_show);
async fn a_scheduler_books_a_session_that_can_be_cancelled_or_marked_no_show(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let reception = app.sign_in(RECEPTION).await;
    let room = app.room_id("Dr. Shah's room");
    let starts_at = app.server().state.now().as_millis() + 3_600_000;
    let booking = |name: &str| json!({"booking": {"provider": app.staff_id(PRIYA.0), "starts_at": starts_at, "guests": [{"name": name, "contact": {"email": "guest@example.org"}}], "service_type": "Follow-up"}});
    let a = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/scheduled"),
            Some(&scheduler),
            Some(booking("Kai P.")),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "scheduled");
    let id = a.body["visit"]["id"].as_str().unwrap().to_owned();

    let claim = app.command(&scheduler, &id, "claim", 1, None).await;
    assert_eq!(claim.status, StatusCode::FORBIDDEN, "{:?}", claim.body);
    let a = app.command(&reception, &id, "no-show", 1, None).await;
    assert_eq!(a.status_of_visit(), "no_show");

    let a = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/scheduled"),
            Some(&scheduler),
            Some(booking("Lena M.")),
            &[],
        )
        .await;
    let id = a.body["visit"]["id"].as_str().unwrap().to_owned();
    let a = app
        .command(
            &scheduler,
            &id,
            "cancel",
            1,
            Some(json!({"note": "Rebooked for Friday"})),
        )
        .await;
    assert_eq!(a.status_of_visit(), "cancelled");
}

both_backends!(staff_choose_which_rooms_alert_them_and_how);
async fn staff_choose_which_rooms_alert_them_and_how(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let priya = app.sign_in(PRIYA).await;
    assert_eq!(app.get("/v1/me/alerts", &priya).await.body, json!([]));
    let mine = json!([
        {"room_id": app.room_id("Reception"), "desktop": true, "email": false, "sms": false},
        {"room_id": app.room_id("Dr. Shah's room"), "desktop": true, "email": true, "sms": true},
    ]);
    let a = app
        .send(
            Method::PUT,
            "/v1/me/alerts",
            Some(&priya),
            Some(mine.clone()),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let got = app.get("/v1/me/alerts", &priya).await.body;
    let mut got = got.as_array().unwrap().clone();
    let mut want = mine.as_array().unwrap().clone();
    let key = |v: &Value| v["room_id"].as_str().unwrap().to_owned();
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want);

    let a = app
        .send(Method::PUT, "/v1/me/alerts", Some(&priya), Some(json!([{"room_id": "00000000-0000-0000-0000-000000000000", "desktop": true, "email": false, "sms": false}])), &[])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/v1/me/alerts", &priya)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2,
        "unchanged"
    );
}

both_backends!(a_patient_told_no_hears_why_but_never_sees_the_staff_side);
async fn a_patient_told_no_hears_why_but_never_sees_the_staff_side(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let (_, token, _) = app.waiting_patient("Zoe W.").await;
    let a = app.finish_intake(&token).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{:?}",
        a.body
    );
    assert!(
        a.body.get("visit").is_none() && a.body.get("held_by").is_none(),
        "{:?}",
        a.body
    );
}

both_backends!(an_admin_changes_who_works_in_which_room_and_with_which_roles);
async fn an_admin_changes_who_works_in_which_room_and_with_which_roles(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let omar = app.sign_in(OMAR).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let reception = app.room_id("Reception");
    let (ana, _, v) = app.arrive(&reception, "Ana P.").await;
    let in_my_queue = |token: String| {
        let app = &app;
        let ana = ana.clone();
        async move {
            let q = app.get("/v1/queue", &token).await.body;
            q.as_array()
                .unwrap()
                .iter()
                .any(|i| i["visit_id"].as_str() == Some(ana.as_str()))
        }
    };
    assert!(
        in_my_queue(omar.clone()).await,
        "Omar helps at the front desk"
    );

    // Omar is taken off the front desk, then put back: his queue follows at once.
    let omar_id = app.staff_id(OMAR.0);
    let own_room = app.room_id("Dr. Haddad's room");
    let set_rooms = |rooms: Value| {
        let (app, admin, omar_id) = (&app, admin.clone(), omar_id.clone());
        async move {
            let a = app
                .edit_staff(&admin, &omar_id, json!({ "rooms": rooms }))
                .await;
            assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
            a
        }
    };
    let a = set_rooms(json!([own_room])).await;
    assert_eq!(a.body["rooms"], json!([own_room]));
    assert!(
        !in_my_queue(omar.clone()).await,
        "Reception is no longer his"
    );
    let a = set_rooms(json!([own_room, reception, reception])).await;
    assert_eq!(
        a.body["rooms"].as_array().unwrap().len(),
        2,
        "each room once"
    );
    assert!(in_my_queue(omar.clone()).await, "Reception is his again");
    let me = app.get("/v1/me", &omar).await.body;
    assert_eq!(me["rooms"], a.body["rooms"]);
    assert_eq!(me["roles"], json!(["provider"]), "roles left as they were");

    // The scheduler may not take a patient into a call until given the front desk's role.
    let refused = app.command(&scheduler, &ana, "claim", v, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let scheduler_id = app.staff_id(SCHEDULER.0);
    let seq = app.last_seq(&admin).await;
    let a = app
        .edit_staff(
            &admin,
            &scheduler_id,
            json!({"roles": ["scheduler", "receptionist"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let events = app
        .get(&format!("/v1/events?after={seq}"), &admin)
        .await
        .body;
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["staff"]["id"].as_str() == Some(scheduler_id.as_str())),
        "consoles hear of the change: {events}"
    );
    let claimed = app.command(&scheduler, &ana, "claim", v, None).await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);

    // A new phone number, then none: only what was given changes.
    for (phone, want) in [
        ("+61 400 555 111", json!("+61400555111")),
        ("", Value::Null),
    ] {
        let a = app
            .edit_staff(&admin, &omar_id, json!({ "phone": phone }))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(a.body.get("phone").cloned().unwrap_or(Value::Null), want);
        assert_eq!(a.body["name"], "Dr. Omar Haddad");
        assert_eq!(a.body["rooms"].as_array().unwrap().len(), 2, "rooms kept");
        assert_eq!(a.body["roles"], json!(["provider"]));
    }

    // Refused, and nothing changed: not an admin, a room of nowhere, no roles, an unknown
    // field, an admin taking away their own admin role, someone who does not exist.
    let before = app.get("/v1/staff", &admin).await.body;
    let admin_id = app.staff_id(ADMIN.0);
    let cases = [
        (
            &omar,
            omar_id.as_str(),
            json!({"rooms": []}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &admin,
            omar_id.as_str(),
            json!({"rooms": ["00000000-0000-4000-8000-000000000000"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            &admin,
            omar_id.as_str(),
            json!({"roles": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            &admin,
            omar_id.as_str(),
            json!({"email": "x@y.z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            &admin,
            admin_id.as_str(),
            json!({"roles": ["provider"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            &admin,
            "00000000-0000-4000-8000-000000000000",
            json!({"name": "Nobody"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (token, id, body, status, code) in cases {
        let a = app.edit_staff(token, id, body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {:?}", a.body);
        assert!(!a.body["message"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(app.get("/v1/staff", &admin).await.body, before);
}

both_backends!(a_server_on_a_moved_clock_stamps_setup_and_sweeps_by_that_clock);
/// A server whose clock is set back three days (`serve --clock-offset-ms`) stamps its setup
/// (the demo's rooms, staff and availability, rooms and staff an admin adds) with that clock,
/// and its sweeps judge sessions and retries by it too: sign-ins and retried commands keep
/// working while the sweep runs.
async fn a_server_on_a_moved_clock_stamps_setup_and_sweeps_by_that_clock(backend: Backend) {
    let day = 86_400_000;
    let clock = frontdesk_server::Clock::offset(-3 * day);
    let c = clock.clone();
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(move |s| {
            s.clock = c;
            s.background_tick = std::time::Duration::from_millis(20);
            s.sweep_every = std::time::Duration::from_millis(20);
            s.session_cache_ttl = std::time::Duration::ZERO;
        })
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    let a = app
        .send(
            Method::POST,
            "/v1/rooms",
            Some(&admin),
            Some(json!({"name": "Clinic C"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let room = a.body["id"].as_str().unwrap().to_owned();
    let a = app
        .send(
            Method::PUT,
            &format!("/v1/rooms/{room}"),
            Some(&admin),
            Some(json!({"name": "Clinic C (renamed)"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = app
        .send(
            Method::POST,
            "/v1/staff",
            Some(&admin),
            Some(json!({"name": "Nia New", "email": "nia@demo.clinic", "roles": ["receptionist"], "password": "nia-password"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let page = app.get("/v1/events?after=0&limit=1000", &admin).await.body;
    let events = page["events"].as_array().unwrap();
    let now = clock.now().as_millis();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"room") && kinds.contains(&"staff"),
        "{kinds:?}"
    );
    for e in events {
        let at = e["at"].as_i64().unwrap();
        assert!(
            (now - 60_000..=now).contains(&at),
            "{} stamped {} ms off the server's clock",
            e["kind"],
            at - now
        );
    }

    // Sweeps run every few milliseconds; a sign-in and a retry three days "old" by the
    // machine's time are young by the server's, and stay.
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, version) = app.waiting_patient("Ola Offset").await;
    let (path, v) = (format!("/v1/visits/{id}/claim"), version.to_string());
    let headers = [("if-match", v.as_str()), ("idempotency-key", "claim-ola")];
    let claim = || app.send(Method::POST, &path, Some(&reception), None, &headers);
    let first = claim().await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.get("/v1/me", &reception).await.status, StatusCode::OK);
    let again = claim().await;
    assert!(again.replayed, "{:?}", again.body);
    assert_eq!(again.body, first.body);
}
