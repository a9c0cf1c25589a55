//! Tenancy, roles and sign-in: another clinic's things do not exist for you; a role may only
//! do its own work; tokens end when they should.

use frontdesk_domain::Role;
use frontdesk_server::HashCost;
use frontdesk_server::admin::{self, NewRoom, NewStaff};
use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, RECEPTION, SCHEDULER, TestServer, both_backends,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct OtherClinic {
    room: String,
    staff: String,
    visit: String,
    patient: String,
    token: String,
}

async fn other_clinic(app: &TestServer) -> OtherClinic {
    let store = app.server().store();
    let clinic = admin::create_clinic(store, "other", "Other Clinic")
        .await
        .unwrap();
    let room = admin::create_room(
        store,
        clinic.id,
        NewRoom {
            name: "Front desk".into(),
            show_place_in_line: true,
            ..NewRoom::default()
        },
        app.server().state.now(),
    )
    .await
    .unwrap();
    let olga = admin::create_staff(
        store,
        clinic.id,
        NewStaff {
            name: "Olga Other".into(),
            email: "olga@other.clinic".into(),
            roles: vec![Role::Admin, Role::Provider],
            password: "other-password".into(),
            pin: Some("9999".into()),
            rooms: vec![room.id],
            all_rooms: false,
            availability: None,
            phone: None,
        },
        HashCost::Fast,
        app.server().state.now(),
    )
    .await
    .unwrap();
    let a = app
        .send(
            Method::POST,
            &format!("/v1/join/other/{}", room.id),
            None,
            Some(json!({"name": "Pat Other", "phone": "0400 000 003"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    OtherClinic {
        room: room.id.to_string(),
        staff: olga.id.to_string(),
        visit: a.body["visit"]["id"].as_str().unwrap().into(),
        patient: a.body["patient_token"].as_str().unwrap().into(),
        token: app
            .sign_in_at("other", "olga@other.clinic", "other-password")
            .await,
    }
}

both_backends!(clinic_a_tokens_find_nothing_of_clinic_b_and_change_nothing);
async fn clinic_a_tokens_find_nothing_of_clinic_b_and_change_nothing(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let b = other_clinic(&app).await;
    let b_seq = app.last_seq(&b.token).await;
    let tokens = [
        ("reception", app.sign_in(RECEPTION).await),
        ("provider", app.sign_in(PRIYA).await),
        ("admin", app.sign_in(ADMIN).await),
        ("scheduler", app.sign_in(SCHEDULER).await),
    ];
    let provider = app.staff_id(PRIYA.0);
    let commands: Vec<(&str, Option<Value>)> = vec![
        ("claim", None),
        ("join", None),
        ("leave-call", None),
        ("end-call", None),
        ("transfer", Some(json!({"room": b.room}))),
        ("assign", Some(json!({"provider": provider}))),
        ("decline", Some(json!({"note": "no"}))),
        ("message", Some(json!({"text": "hi"}))),
        ("priority", Some(json!({"priority": "urgent"}))),
        ("accept", None),
        ("accept-and-enter", None),
        ("cancel", Some(json!({}))),
        ("no-show", None),
    ];
    for (role, token) in &tokens {
        for (op, body) in &commands {
            let a = app.command(token, &b.visit, op, 1, body.clone()).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{role} {op}: {:?}", a.body);
            assert_eq!(a.code(), "not_found");
            assert!(a.body.get("visit").is_none(), "no data leaks: {:?}", a.body);
        }
        let reads = [
            format!("/v1/visits/{}", b.visit),
            format!("/v1/queue?room={}", b.room),
        ];
        for path in &reads {
            let a = app.get(path, token).await;
            assert_eq!(
                a.status,
                StatusCode::NOT_FOUND,
                "{role} GET {path}: {:?}",
                a.body
            );
        }
        let a = app
            .send(
                Method::POST,
                &format!("/v1/rooms/{}/requests", b.room),
                Some(token),
                Some(json!({"patient": {"name": "X"}, "provider": provider})),
                &[],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{role} request in B's room: {:?}",
            a.body
        );
        // B's room and staff cannot be changed, nor a session booked in B's room; an admin
        // (who may make such changes in A) is told they do not exist.
        let starts_at = app.server().state.now().as_millis() + 3_600_000;
        let writes = [
            (
                Method::PUT,
                format!("/v1/rooms/{}", b.room),
                json!({"name": "Taken over"}),
            ),
            (
                Method::PUT,
                format!("/v1/staff/{}", b.staff),
                json!({"roles": ["receptionist"]}),
            ),
            (
                Method::POST,
                format!("/v1/rooms/{}/scheduled", b.room),
                json!({"booking": {"provider": b.staff, "starts_at": starts_at,
                    "guests": [{"name": "G", "contact": {"email": "g@example.org"}}]}}),
            ),
        ];
        for (method, path, body) in &writes {
            let a = app
                .send(method.clone(), path, Some(token), Some(body.clone()), &[])
                .await;
            let expected = if *role == "admin" || path.ends_with("/scheduled") {
                vec![StatusCode::NOT_FOUND]
            } else {
                vec![StatusCode::NOT_FOUND, StatusCode::FORBIDDEN]
            };
            assert!(
                expected.contains(&a.status),
                "{role} {method} {path}: {} {:?}",
                a.status,
                a.body
            );
            assert!(!a.body.to_string().contains("Front desk"), "no data leaks");
        }

        // Nothing of B shows in A's own views, an admin's included.
        let mut views = vec![
            "/v1/snapshot",
            "/v1/events?after=0&limit=1000",
            "/v1/queue",
            "/v1/staff",
            "/v1/rooms",
        ];
        if *role == "admin" {
            views.extend(["/v1/audit", "/v1/deliveries"]);
        }
        for path in views {
            let a = app.get(path, token).await;
            assert_eq!(a.status, StatusCode::OK, "{role} GET {path}: {:?}", a.body);
            let text = a.body.to_string();
            for b_thing in [&b.visit, &b.room, &b.staff] {
                assert!(
                    !text.contains(b_thing.as_str()),
                    "{role} GET {path} shows B's {b_thing}"
                );
            }
            assert!(
                !text.contains("Pat Other") && !text.contains("olga@"),
                "{role} GET {path}"
            );
        }
    }
    // A's front-door slug with B's room.
    let a = app
        .send(
            Method::POST,
            &format!("/v1/join/demo/{}", b.room),
            None,
            Some(json!({"name": "Sneaky"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // B saw no change at all.
    assert_eq!(app.last_seq(&b.token).await, b_seq);
    let visit = app.visit(&b.token, &b.visit).await;
    assert_eq!(visit["version"], 1);
    assert_eq!(visit["status"], "waiting");
    let seen = app
        .patient(&b.patient, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(
        (seen["clinic"].as_str(), seen["position"].as_u64()),
        (Some("Other Clinic"), Some(1))
    );
}

both_backends!(each_role_does_only_its_own_work);
async fn each_role_does_only_its_own_work(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let reception = app.sign_in(RECEPTION).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let admin = app.sign_in(ADMIN).await;
    let (id, patient, v) = app.waiting_patient("Ravi K.").await;

    let a = app.command(&scheduler, &id, "claim", v, None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{:?}",
        a.body
    );

    for (method, path, body) in [
        (Method::GET, "/v1/audit", None),
        (
            Method::POST,
            "/v1/rooms",
            Some(json!({"name": "Nurse triage"})),
        ),
        (
            Method::POST,
            "/v1/stations",
            Some(json!({"name": "Front desk PC"})),
        ),
        (
            Method::POST,
            "/v1/staff",
            Some(
                json!({"name": "New", "email": "new@demo.clinic", "roles": ["admin"], "password": "long-enough"}),
            ),
        ),
    ] {
        let a = app
            .send(method.clone(), path, Some(&reception), body.clone(), &[])
            .await;
        assert_eq!(
            a.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {:?}",
            a.body
        );
        let a = app
            .send(method.clone(), path, Some(&admin), body, &[])
            .await;
        assert!(a.status.is_success(), "admin {method} {path}: {:?}", a.body);
    }
    let audit = app.get("/v1/audit?after=0&limit=1000", &admin).await.body;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["visit_id"] == id.as_str() && e["change"]["type"] == "intake_finished")
    );

    // A patient's token opens only the patient's own door.
    for path in ["/v1/queue", "/v1/me", "/v1/snapshot"] {
        let a = app.get(path, &patient).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{path}"
        );
    }
    let a = app
        .send(
            Method::GET,
            "/v1/patient/visit",
            Some(&reception),
            None,
            &[],
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNAUTHORIZED,
        "a staff token is not a patient token"
    );
    let a = app.send(Method::GET, "/v1/queue", None, None, &[]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

both_backends!(sign_out_revokes_and_repeated_failures_are_rate_limited);
async fn sign_out_revokes_and_repeated_failures_are_rate_limited(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let token = app.sign_in(RECEPTION).await;
    assert_eq!(app.get("/v1/me", &token).await.body["email"], RECEPTION.0);
    let a = app
        .send(Method::POST, "/v1/auth/sign-out", Some(&token), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );

    let attempt = |password: &'static str| {
        app.send(
            Method::POST,
            "/v1/auth/sign-in",
            None,
            Some(json!({"clinic": "demo", "email": PRIYA.0, "password": password})),
            &[],
        )
    };
    for _ in 0..10 {
        let a = attempt("wrong-password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = attempt(PRIYA.1).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    // Other people are not locked out by it.
    app.sign_in(OMAR).await;
}

both_backends!(one_address_guessing_many_accounts_is_slowed_down);
async fn one_address_guessing_many_accounts_is_slowed_down(backend: Backend) {
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(|s| s.sign_in_failures_per_ip_per_minute = 5)
        .start()
        .await;
    // A different email each time, so no one account's limit is reached: the address's is.
    for i in 0..5 {
        let a = app
            .send(
                Method::POST,
                "/v1/auth/sign-in",
                None,
                Some(json!({"clinic": "demo", "email": format!("guess{i}@demo.clinic"), "password": "password1"})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    }
    let a = app
        .send(
            Method::POST,
            "/v1/auth/sign-in",
            None,
            Some(json!({"clinic": "demo", "email": RECEPTION.0, "password": RECEPTION.1})),
            &[],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{:?}",
        a.body
    );
    assert!(a.body.get("token").is_none());
}

both_backends!(staff_switch_on_a_clinic_station_with_their_pin);
async fn staff_switch_on_a_clinic_station_with_their_pin(backend: Backend) {
    // Every request reads its session afresh, so what another clinic did shows at once.
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(|s| s.session_cache_ttl = std::time::Duration::ZERO)
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    let a = app
        .send(
            Method::POST,
            "/v1/stations",
            Some(&admin),
            Some(json!({"name": "Front desk PC"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let device = a.body["device_token"].as_str().unwrap().to_owned();

    let switch = |pin: &'static str| {
        let device = device.clone();
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/v1/stations/switch",
                None,
                Some(json!({"device_token": device, "email": RECEPTION.0, "pin": pin})),
                &[],
            )
            .await
        }
    };
    assert_eq!(switch("0000").await.status, StatusCode::UNAUTHORIZED);
    let a = switch("2222").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let token = a.body["token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me", token).await.body["email"], RECEPTION.0);

    let a = app
        .send(
            Method::POST,
            "/v1/stations/switch",
            None,
            Some(json!({"device_token": "fdd_forged", "email": RECEPTION.0, "pin": "2222"})),
            &[],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "station_unknown")
    );

    // The PC is stolen: the admin finds it in the list and ends it. Its device token no longer
    // switches anyone on, and whoever was signed in on it is signed out at once.
    let listed = app.get("/v1/stations", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    let stations = listed.body.as_array().unwrap();
    assert_eq!(stations.len(), 1, "{stations:?}");
    assert_eq!(stations[0]["name"], "Front desk PC");
    assert!(
        !listed.body.to_string().contains(&device),
        "the list shows no token"
    );
    let station = stations[0]["id"].as_str().unwrap().to_owned();
    let elsewhere = app.sign_in(RECEPTION).await;
    let path = format!("/v1/stations/{station}");
    let other = other_clinic(&app).await;
    for (who, status) in [
        (&elsewhere, StatusCode::FORBIDDEN),
        (&other.token, StatusCode::NOT_FOUND),
    ] {
        let a = app.send(Method::DELETE, &path, Some(who), None, &[]).await;
        assert_eq!(a.status, status, "{:?}", a.body);
    }
    assert_eq!(
        app.get("/v1/me", token).await.status,
        StatusCode::OK,
        "still on"
    );
    let a = app
        .send(Method::DELETE, &path, Some(&admin), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    assert_eq!(
        app.get("/v1/me", token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let a = switch("2222").await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "station_unknown")
    );
    assert_eq!(app.get("/v1/stations", &admin).await.body, json!([]));
    let again = app
        .send(Method::DELETE, &path, Some(&admin), None, &[])
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(
        app.get("/v1/me", &elsewhere).await.status,
        StatusCode::OK,
        "a session on another computer goes on"
    );
}
