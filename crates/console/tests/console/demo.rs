//! Demo mode (the `demo` feature): the console serves the demo clinic itself and opens signed in
//! as the receptionist, on a station her PIN unlocks.

use crate::rig::{FakeHost, json};
use frontdesk_console::Console;
use frontdesk_console::demo::{DEMO_DESK, start};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_on_the_front_desk_of_a_live_demo_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let (console, _notices) = Console::new(dir.path().join("app"), Arc::new(FakeHost::default()));
    let _server = start(&console, &dir.path().join("demo")).await.unwrap();
    let state = json(&console.app_state());
    assert_eq!(state["screen"], "queue", "{state}");
    assert_eq!(state["me"]["email"], DEMO_DESK);
    assert_eq!(state["station"], true, "a registered clinic station");
    assert_eq!(console.progress(), "", "start-up has nothing more to say");

    // A clinic morning: a line of patients waiting (not all "after hours"), and some already
    // seen today.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let state = loop {
        let state = json(&console.app_state());
        let waiting = state["queue"].as_array().map_or(0, |q| {
            q.iter().filter(|r| r["section"] == "waiting").count()
        });
        if waiting >= 5 && state["today"].as_array().is_some_and(|t| t.len() >= 2) {
            break state;
        }
        assert!(std::time::Instant::now() < deadline, "no morning: {state}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let queue = state["queue"].as_array().unwrap();
    assert!(queue.iter().all(|r| r["after_hours"] == false), "{queue:?}");

    console.lock_now();
    let open = json(&console.unlock("2222", None).await.unwrap());
    assert_eq!(open["screen"], "queue", "the receptionist's PIN unlocks");
}
