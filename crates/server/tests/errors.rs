//! Bad input gets a clean 4xx in one shape and changes nothing.

use frontdesk_testkit::{RECEPTION, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn malformed_oversize_and_unknown_requests_are_clean_4xx_and_change_nothing() {
    let app = TestServer::with_demo().await;
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
            format!("/v1/join/nowhere/{}", app.room_id("Reception")),
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

/// The route table's (path, method) pairs, read from its source: `.route("PATH", get(..).put(..))`.
fn route_table() -> Vec<(String, String)> {
    let src = include_str!("../src/api/mod.rs");
    let mut routes = Vec::new();
    for chunk in src.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).unwrap().to_owned();
        // The handlers run up to the closing parenthesis of `.route(`.
        let mut depth = 1;
        let end = chunk
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .unwrap()
            .0;
        let handlers = &chunk[..end];
        for m in ["get", "post", "put", "delete", "patch"] {
            let call = format!("{m}(");
            if handlers
                .match_indices(&call)
                .any(|(at, _)| at == 0 || !handlers.as_bytes()[at - 1].is_ascii_alphanumeric())
            {
                routes.push((path.clone(), m.to_owned()));
            }
        }
    }
    routes.sort();
    routes
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let app = TestServer::with_demo().await;
    let res = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    documented.sort();
    let routes = route_table();
    assert!(routes.len() > 40, "the route table was read: {routes:?}");
    assert_eq!(
        documented, routes,
        "the document and the router list the same operations"
    );

    // And each documented operation is really served there: filled in with made-up ids it
    // reaches a handler (which refuses it), never the router's "no such route" or 405.
    for (path, method) in &documented {
        let url = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "00000000-0000-4000-8000-000000000000"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app
            .http
            .request(method.clone(), app.url(&url))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!body.contains("route not found"), "{method} {path}: {body}");
    }
    let claim = &doc["paths"]["/v1/visits/{id}/claim"]["post"];
    assert!(claim["responses"]["409"].is_object());
}

#[tokio::test]
async fn health_answers_and_a_request_that_stalls_is_cut_off_with_the_error_shape() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.request_timeout = std::time::Duration::from_millis(300))
        .start()
        .await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");

    // A client that promises a body and stops sending halfway (a dropped Wi-Fi, say).
    let reception = app.sign_in(RECEPTION).await;
    let seq = app.last_seq(&reception).await;
    let mut conn = tokio::net::TcpStream::connect(app.server().addr)
        .await
        .unwrap();
    let head = format!(
        "PUT /v1/me/availability HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {reception}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"availab"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        conn.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "the server let go of the stalled request");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    assert_eq!(app.last_seq(&reception).await, seq, "nothing changed");
}
