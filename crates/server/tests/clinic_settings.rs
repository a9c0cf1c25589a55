//! A clinic's own settings (`PUT /v1/clinic`): alerts without patients' names on every
//! console, set by an admin, kept across a restart, in every console's snapshot.

use frontdesk_testkit::{ADMIN, RECEPTION, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_admin_turns_on_nameless_alerts_for_the_whole_clinic() {
    let mut app = TestServer::with_demo().await;
    let admin = app.sign_in(ADMIN).await;
    let rita = app.sign_in(RECEPTION).await;
    // Off unless asked for.
    let clinic = app.get("/v1/clinic", &rita).await;
    assert_eq!(clinic.status, StatusCode::OK, "{:?}", clinic.body);
    assert!(
        clinic.body.get("nameless_alerts").is_none(),
        "{:?}",
        clinic.body
    );

    // Reception may not change it; an admin may.
    let change = Some(json!({"nameless_alerts": true}));
    let refused = app
        .send(Method::PUT, "/v1/clinic", Some(&rita), change.clone(), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    let set = app
        .send(Method::PUT, "/v1/clinic", Some(&admin), change, &[])
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["nameless_alerts"], true);
    // Other settings are left as they were.
    assert_eq!(set.body["name"], "Demo Family Clinic");
    assert!(set.body["video_link_template"].is_string());

    // Kept, and in every console's snapshot.
    app.restart().await;
    let rita = app.sign_in(RECEPTION).await;
    assert_eq!(
        app.get("/v1/clinic", &rita).await.body["nameless_alerts"],
        true
    );
    let snapshot = app.get("/v1/snapshot", &rita).await;
    assert_eq!(snapshot.body["clinic"]["nameless_alerts"], true);

    // And off again.
    let admin = app.sign_in(ADMIN).await;
    let off = app
        .send(
            Method::PUT,
            "/v1/clinic",
            Some(&admin),
            Some(json!({"nameless_alerts": false})),
            &[],
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert!(off.body.get("nameless_alerts").is_none());
}
