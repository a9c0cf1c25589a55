//! One route for every staff command: the console sends the domain's `Command` whole to
//! `/v1/visits/{id}/commands`, and the domain decides it exactly as on the per-action routes.

use frontdesk_testkit::{Answer, PRIYA, RECEPTION, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A command sent whole, with `If-Match` when a version is given.
async fn send_command(
    app: &TestServer,
    token: &str,
    visit: &str,
    version: Option<u64>,
    command: Value,
) -> Answer {
    let v = version.map(|v| v.to_string());
    let headers: Vec<(&str, &str)> = v.iter().map(|v| ("if-match", v.as_str())).collect();
    app.send(
        Method::POST,
        &format!("/v1/visits/{visit}/commands"),
        Some(token),
        Some(command),
        &headers,
    )
    .await
}

#[tokio::test]
async fn reception_claims_messages_and_transfers_to_a_provider_who_ends_the_call() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let (id, patient, v) = app.waiting_patient("Ines R.").await;

    let a = send_command(&app, &reception, &id, Some(v), json!({"command": "claim"})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "in_call");

    // A message means the same whatever happened meanwhile: no version needed.
    let a = send_command(
        &app,
        &reception,
        &id,
        None,
        json!({"command": "message", "text": "The doctor will see you next"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let me = app
        .patient(&patient, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(me.body["messages"], json!(["The doctor will see you next"]));

    let priya_id = app.staff_id(PRIYA.0);
    let shah_room = app.room_id("Dr. Shah's room");
    let a = send_command(
        &app,
        &reception,
        &id,
        Some(a.version()),
        json!({
            "command": "transfer",
            "to": {"kind": "provider", "provider": priya_id, "room": shah_room},
            "note": "Script renewal",
        }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["room_id"], shah_room.as_str());
    assert_eq!(a.body["visit"]["assigned_provider"], priya_id.as_str());

    let a = send_command(
        &app,
        &priya,
        &id,
        Some(a.version()),
        json!({"command": "claim"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = send_command(
        &app,
        &priya,
        &id,
        Some(a.version()),
        json!({"command": "end_call"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.status_of_visit(), "completed");

    let visit = app.visit(&reception, &id).await;
    let kinds: Vec<&str> = visit["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"]["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"transferred"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"call_ended"), "{kinds:?}");
}

#[tokio::test]
async fn a_refused_command_gets_the_stable_error_body_and_changes_nothing() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, v) = app.waiting_patient("Joel T.").await;
    let seq = app.last_seq(&reception).await;
    let before = app.visit(&reception, &id).await;

    // Nobody is in the call, so there is no call to end.
    let a = send_command(
        &app,
        &reception,
        &id,
        Some(v),
        json!({"command": "leave_call"}),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{:?}",
        a.body
    );
    assert!(a.body["message"].is_string());
    // The conflict carries the visit as it stands (its history is read on its own).
    let mut as_it_stands = before.clone();
    as_it_stands["history"] = json!([]);
    assert_eq!(
        a.body["visit"], as_it_stands,
        "the conflict carries the visit"
    );

    // The patient's own commands are not staff commands.
    for command in [
        json!({"command": "leave"}),
        json!({"command": "finish_intake"}),
        json!({"command": "update_intake", "answers": {"Reason for visit": "Cough"}}),
    ] {
        let a = send_command(&app, &reception, &id, Some(v), command.clone()).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{command}: {:?}",
            a.body
        );
    }

    // A command decided on a version needs one.
    let a = send_command(&app, &reception, &id, None, json!({"command": "claim"})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );

    // What a command names must be this clinic's.
    let a = send_command(
        &app,
        &reception,
        &id,
        Some(v),
        json!({
            "command": "transfer",
            "to": {"kind": "room", "room": "00000000-0000-4000-8000-000000000000"},
        }),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let a = send_command(&app, &reception, &id, Some(v), json!({"command": "dance"})).await;
    assert!(a.status.is_client_error(), "{:?}", a.body);

    assert_eq!(app.last_seq(&reception).await, seq, "no event was recorded");
    assert_eq!(
        app.visit(&reception, &id).await,
        before,
        "the visit is as it was"
    );
}

#[tokio::test]
async fn a_message_or_a_new_priority_through_their_own_routes_needs_no_version() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, _) = app.waiting_patient("Kemal O.").await;

    let path = format!("/v1/visits/{id}/message");
    let body = json!({"text": "Thanks for your patience"});
    let a = app
        .send(Method::POST, &path, Some(&reception), Some(body), &[])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);

    let path = format!("/v1/visits/{id}/priority");
    let body = json!({"priority": "urgent", "note": "Chest pain"});
    let a = app
        .send(Method::POST, &path, Some(&reception), Some(body), &[])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["visit"]["priority"], "urgent");

    // Claiming still needs the version the caller saw.
    let path = format!("/v1/visits/{id}/claim");
    let a = app
        .send(Method::POST, &path, Some(&reception), None, &[])
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
}
