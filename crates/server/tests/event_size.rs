//! What a command writes does not grow with the visit's age: its event carries the change (the
//! visit id, its new version and the entries the command added), and the visit's row holds its
//! state while the history sits beside it. Read straight from the database file.

use frontdesk_testkit::{RECEPTION, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The stored size of the events of one visit, in seq order.
fn event_sizes(app: &TestServer, visit: &str) -> Vec<usize> {
    let db = rusqlite::Connection::open(app.db_path()).unwrap();
    let mut stmt = db
        .prepare("SELECT length(payload) FROM events WHERE visit_id = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([visit], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|n| n.unwrap() as usize)
        .collect()
}

fn row_size(app: &TestServer, visit: &str) -> usize {
    let db = rusqlite::Connection::open(app.db_path()).unwrap();
    db.query_row(
        "SELECT length(data) FROM visits WHERE id = ?1",
        [visit],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as usize
}

#[tokio::test]
async fn the_251st_command_on_a_visit_writes_an_event_as_small_as_the_second() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, _) = app.waiting_patient("Olu A.").await;
    let send = |path: &'static str, body: serde_json::Value| {
        let (app, reception, id) = (&app, reception.clone(), id.clone());
        async move {
            let a = app
                .send(
                    Method::POST,
                    &format!("/v1/visits/{id}/{path}"),
                    Some(&reception),
                    Some(body),
                    &[],
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{path}: {:?}", a.body);
        }
    };
    // A long morning: as many messages as a visit takes, then triage notes back and forth.
    for n in 0..100 {
        send(
            "message",
            json!({"text": format!("Update {n}: the doctor is running a little late today")}),
        )
        .await;
    }
    let priorities = ["urgent", "routine"];
    let mut commands = 3 + 100; // arriving, answering and finishing the intake, the messages
    while commands < 250 {
        let priority = priorities[commands % 2];
        send(
            "priority",
            json!({"priority": priority, "note": format!("Triage {commands}: breathing checked")}),
        )
        .await;
        commands += 1;
    }
    let row_before = row_size(&app, &id);
    send(
        "priority",
        json!({"priority": "urgent", "note": "Triage 251: short of breath again"}),
    )
    .await;
    let sizes = event_sizes(&app, &id);
    assert_eq!(sizes.len(), 251, "one event per command");
    let (second, last) = (sizes[1], sizes[250]);
    println!(
        "event bytes: 2nd {second}, 251st {last}, largest {}; the visit's row {} bytes",
        sizes.iter().max().unwrap(),
        row_size(&app, &id)
    );
    assert!(last < 4 * 1024, "the 251st event is {last} bytes");
    assert!(
        last <= second + 200,
        "an event does not grow with the visit's age: 2nd {second}, 251st {last}"
    );
    assert!(
        row_size(&app, &id) <= row_before + 200,
        "the row holds the state, not the history"
    );
    // The history is all there, beside the visit.
    let whole = app.visit(&reception, &id).await;
    assert!(whole["history"].as_array().unwrap().len() >= 251);
}
