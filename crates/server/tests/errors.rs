//! Bad input gets a clean 4xx in one shape and changes nothing.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn malformed_oversize_and_unknown_requests_are_clean_4xx_and_change_nothing() {
    let app = TestApp::spawn().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, v) = app.waiting_patient("Sofia B.").await;
    let seq = app.last_seq(&reception).await;
    let before = app.visit(&reception, &id).await;
    let url = app.url(&format!("/v1/visits/{id}/message"));
    let raw = |body: String, content_type: &'static str| {
        app.http
            .post(&url)
            .bearer_auth(&reception)
            .header("if-match", v.to_string())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        (
            "syntax",
            raw("{\"text\": ".into(), "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "wrong field type",
            raw("{\"text\": 42}".into(), "application/json")
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "invalid value",
            raw("{\"text\": \"   \"}".into(), "application/json")
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "not json",
            raw("text=hi".into(), "text/plain").await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversize",
            raw(
                format!("{{\"text\": \"{}\"}}", "x".repeat(200_000)),
                "application/json",
            )
            .await
            .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (what, res, status, code) in cases {
        assert_eq!(res.status(), status, "{what}");
        let body: serde_json::Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("{what}: body not JSON: {e}"));
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }

    let unknown = "00000000-0000-0000-0000-000000000000";
    for (method, path) in [
        (Method::POST, format!("/v1/visits/{unknown}/claim")),
        (Method::POST, "/v1/visits/not-a-uuid/claim".to_owned()),
        (Method::GET, format!("/v1/visits/{unknown}")),
        (Method::GET, format!("/v1/queue?room={unknown}")),
        (Method::POST, format!("/v1/join/demo/{unknown}")),
        (
            Method::POST,
            format!("/v1/join/nowhere/{}", app.room("Reception")),
        ),
        (Method::GET, "/v1/no-such-thing".to_owned()),
    ] {
        let a = app
            .send(
                method.clone(),
                &path,
                Some(&reception),
                Some(json!({"name": "Ghost"})),
                &[("if-match", "1")],
            )
            .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{method} {path}: {:?}",
            a.body
        );
    }
    let a = app
        .send(Method::DELETE, "/v1/me", Some(&reception), None, &[])
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let a = app
        .send(
            Method::POST,
            &format!("/v1/visits/{id}/claim"),
            Some(&reception),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "If-Match is required"
    );
    let a = app
        .command(
            &reception,
            &id,
            "transfer",
            v,
            Some(json!({"room": "00000000-0000-0000-0000-000000000000"})),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let a = app
        .command(
            &reception,
            &id,
            "priority",
            v,
            Some(json!({"priority": "whenever"})),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );

    assert_eq!(app.last_seq(&reception).await, seq, "no event was recorded");
    assert_eq!(
        app.visit(&reception, &id).await,
        before,
        "the visit is as it was"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/auth/sign-in",
        "/v1/queue",
        "/v1/visits/{id}/claim",
        "/v1/visits/{id}/accept-and-enter",
        "/v1/rooms/{room}/requests",
        "/v1/join/{clinic}/{room}",
        "/v1/events",
        "/v1/stream",
        "/v1/snapshot",
        "/v1/audit",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
    let claim = &paths["/v1/visits/{id}/claim"]["post"];
    assert!(claim["responses"]["409"].is_object());
}
