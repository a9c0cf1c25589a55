//! Races and retries: two staff reaching for one patient, and a command sent twice.

use frontdesk_domain::Role;
use frontdesk_server::HashCost;
use frontdesk_server::admin::{NewStaff, create_staff};
use frontdesk_testkit::{PRIYA, RECEPTION, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn fifty_staff_claim_one_patient_at_once_and_exactly_one_wins() {
    let app = TestServer::with_demo().await;
    let (id, _, version) = app.waiting_patient("Mia T.").await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        let email = format!("desk{i}@demo.clinic");
        create_staff(
            app.server().store(),
            app.demo().clinic.id,
            NewStaff {
                name: format!("Desk {i}"),
                email: email.clone(),
                roles: vec![Role::Receptionist],
                password: "desk-password".into(),
                pin: None,
                rooms: vec![],
                all_rooms: false,
                availability: None,
                phone: None,
            },
            HashCost::Fast,
            app.server().state.now(),
        )
        .await
        .unwrap();
        tokens.push(app.sign_in((&email, "desk-password")).await);
    }
    let seq_before = app.last_seq(&tokens[0]).await;

    let answers = futures_util::future::join_all(
        tokens
            .iter()
            .map(|t| app.command(t, &id, "claim", version, None)),
    )
    .await;

    let winners: Vec<_> = answers.iter().filter(|a| a.status.is_success()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    let winner = winners[0].body["visit"]["in_call"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let losers: Vec<_> = answers.iter().filter(|a| !a.status.is_success()).collect();
    assert_eq!(losers.len(), 49);
    for a in losers {
        assert_eq!(a.status, StatusCode::CONFLICT, "{:?}", a.body);
        assert_eq!(a.code(), "already_claimed");
        assert_eq!(
            a.body["held_by"][0]["id"],
            winner.as_str(),
            "the loser is told who won"
        );
        assert!(
            a.body["held_by"][0]["name"]
                .as_str()
                .unwrap()
                .starts_with("Desk ")
        );
        assert_eq!(a.body["visit"]["status"], "in_call");
    }
    assert_eq!(
        app.last_seq(&tokens[0]).await,
        seq_before + 1,
        "one change, one event"
    );
    let visit = app.visit(&tokens[0], &id).await;
    assert_eq!(visit["version"], version + 1);
}

#[tokio::test]
async fn a_command_sent_twice_with_one_key_is_applied_once_and_answered_the_same() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, patient, v) = app.waiting_patient("Noah W.").await;
    let send = |key: &'static str, text: &'static str| {
        let (reception, id) = (reception.clone(), id.clone());
        let vs = v.to_string();
        let app = &app;
        async move {
            app.send(
                Method::POST,
                &format!("/v1/visits/{id}/message"),
                Some(&reception),
                Some(json!({"text": text})),
                &[("if-match", &vs), ("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send("msg-1", "Five more minutes, thanks for waiting").await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert!(!first.replayed);
    let seq_after_first = app.last_seq(&reception).await;

    let retry = send("msg-1", "Five more minutes, thanks for waiting").await;
    assert_eq!(retry.status, StatusCode::OK);
    assert!(retry.replayed);
    assert_eq!(retry.body, first.body, "the same answer, word for word");
    assert_eq!(
        app.last_seq(&reception).await,
        seq_after_first,
        "nothing applied twice"
    );
    let seen = app
        .patient(&patient, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(seen["messages"].as_array().unwrap().len(), 1);

    // The same key for a different request is refused, not silently answered.
    let other = send("msg-1", "Something else").await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        other.body
    );
    assert_eq!(other.code(), "idempotency_key_reused");
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_with_the_current_visit_and_changes_nothing() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let (id, _, v) = app.waiting_patient("Olive L.").await;
    let a = app
        .command(
            &reception,
            &id,
            "priority",
            v,
            Some(json!({"priority": "urgent"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);

    // Dr. Shah acts on what she saw before the triage.
    let stale = app
        .command(&priya, &id, "message", v, Some(json!({"text": "Hello"})))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{:?}", stale.body);
    assert_eq!(stale.code(), "version_conflict");
    assert_eq!(stale.body["visit"]["version"], v + 1);
    assert_eq!(stale.body["visit"]["priority"], "urgent");
    assert_eq!(stale.body["held_by"], json!([]));
    let visit = app.visit(&priya, &id).await;
    assert_eq!(visit["messages"], json!([]));

    // An invalid transition is a conflict too, with its own code.
    let ended = app.command(&priya, &id, "end-call", v + 1, None).await;
    assert_eq!(ended.status, StatusCode::CONFLICT);
    assert_eq!(ended.code(), "invalid_transition");
}
