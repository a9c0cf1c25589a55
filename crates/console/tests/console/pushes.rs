//! What the console pushes to the UI: the whole state when a session starts (and after a
//! resync), then only the rows of the visits that changed, with the header's figures.

use crate::rig::{json, rig};
use frontdesk_console::Push;
use frontdesk_domain::Command;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// A push as the UI gets it: `{"state": …}` or `{"changes": …}`.
fn as_sent(push: &Push) -> Value {
    match push {
        Push::State(state) => serde_json::json!({ "state": json(state) }),
        Push::Changes(changes) => serde_json::json!({ "changes": json(changes) }),
    }
}

/// The next push that passes `check` (the test fails after 30 s).
async fn push_until(
    pushes: &mut UnboundedReceiver<Value>,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let wait = async {
        loop {
            let push = pushes.recv().await.expect("the console keeps pushing");
            if check(&push) {
                return push;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("no push {what}"))
}

/// The visit's row in a push of changes, if it has one.
fn row_of<'a>(push: &'a Value, visit: &str) -> Option<&'a Value> {
    push["changes"]["rows"]
        .as_array()?
        .iter()
        .find(|r| r["visit_id"] == visit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_a_claim_and_the_call_ending_each_push_that_one_row() {
    let rig = rig().await;
    let (tx, mut pushes) = unbounded_channel();
    let console = rig.console.clone();
    tokio::spawn(async move {
        let send = move |push: &Push| {
            let _ = tx.send(as_sent(push));
        };
        console.forward_changes(send, |_| {}).await;
    });
    rig.sign_in_as_reception().await;
    // The queue screen comes whole; being online may come with it or in a later push.
    let queue = push_until(&mut pushes, "of the queue screen", |p| {
        p["state"]["screen"] == "queue"
    })
    .await;
    if queue["state"]["connection"]["state"] != "online" {
        push_until(&mut pushes, "of the synced queue", |p| {
            p["state"]["connection"]["state"] == "online"
                || p["changes"]["connection"]["state"] == "online"
        })
        .await;
    }
    let first = rig.arrive("Ada Obi").await;
    push_until(&mut pushes, "with the first patient", |p| {
        row_of(p, &first).is_some()
    })
    .await;

    // A patient arrives: one row, added to the queue.
    let id = rig.arrive("Noor Haddad").await;
    let arrival = push_until(&mut pushes, "with the arrival", |p| {
        row_of(p, &id).is_some()
    })
    .await;
    let rows = arrival["changes"]["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "only the new patient's row, not the others': {arrival}"
    );
    assert_eq!(rows[0]["listed"]["list"], "queue");
    assert_eq!(rows[0]["listed"]["row"]["patient_name"], "Noor Haddad");
    assert_eq!(rows[0]["version"], rows[0]["listed"]["row"]["version"]);
    let changes = &arrival["changes"];
    assert_eq!(
        changes["base"].as_u64().unwrap() + 1,
        changes["push"].as_u64().unwrap()
    );
    assert!(
        changes.get("directory").is_none(),
        "the rooms did not change"
    );

    // Reception claims her: her row shows the claim pending, then in a call. On a quick
    // loopback the server may confirm before the console pushes again, and then the first push
    // with the claim already shows the call: either way it carries her row alone.
    let id_parsed = id.parse().unwrap();
    rig.console.act(id_parsed, Command::Claim).unwrap();
    let in_call =
        |p: &Value| row_of(p, &id).is_some_and(|r| r["listed"]["row"]["status"] == "in_call");
    let first = push_until(&mut pushes, "with the claim", |p| {
        in_call(p)
            || row_of(p, &id)
                .is_some_and(|r| r["listed"]["row"]["pending"][0]["command"] == "claim")
    })
    .await;
    assert_eq!(first["changes"]["rows"].as_array().unwrap().len(), 1);
    let claimed = if in_call(&first) {
        first
    } else {
        assert_eq!(first["changes"]["connection"]["pending"], 1);
        push_until(&mut pushes, "with the claim done", in_call).await
    };
    assert_eq!(claimed["changes"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(claimed["changes"]["connection"]["pending"], 0);
    let row = row_of(&claimed, &id).unwrap();
    assert_eq!(row["listed"]["row"]["section"], "with_staff");
    assert!(row["version"].as_u64().unwrap() > rows[0]["version"].as_u64().unwrap());

    // The call ends: her row leaves the queue for the day's list.
    rig.console.act(id_parsed, Command::EndCall).unwrap();
    let ended = push_until(&mut pushes, "with the call ended", |p| {
        row_of(p, &id).is_some_and(|r| r["listed"]["list"] == "today")
    })
    .await;
    assert_eq!(ended["changes"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        row_of(&ended, &id).unwrap()["listed"]["row"]["status"],
        "completed"
    );
}
