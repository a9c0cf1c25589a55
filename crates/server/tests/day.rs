//! The day's finished visits (`GET /v1/visits`, the console's "Today"): who was seen, who left
//! and who was declined today, whole with their history, a page at a time, and never another
//! clinic's.

use frontdesk_domain::Timestamp;
use frontdesk_testkit::{RECEPTION, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 2026-12-03 10:00 UTC: the demo clinic's day is 2026-12-03.
const MORNING: Timestamp = Timestamp::from_millis(1_796_292_000_000);

fn ids(page: &Value) -> Vec<String> {
    page["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn reception_lists_todays_finished_visits_in_order_page_by_page_and_only_its_own() {
    let app = TestServer::builder()
        .demo_clinic()
        .clock_at(MORNING)
        .start()
        .await;
    let rita = app.sign_in(RECEPTION).await;

    // Ana is seen and the call ends; Ben is declined; Cai still waits.
    let (ana, _, v) = app.waiting_patient("Ana Pereira").await;
    let a = app.command(&rita, &ana, "claim", v, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = app
        .command(&rita, &ana, "end-call", a.version(), None)
        .await;
    assert_eq!(a.status_of_visit(), "completed", "{:?}", a.body);
    let (ben, _, v) = app.waiting_patient("Ben Okoro").await;
    let note = Some(json!({"note": "Please book with your GP"}));
    let a = app.command(&rita, &ben, "decline", v, note).await;
    assert_eq!(a.status_of_visit(), "declined", "{:?}", a.body);
    let (cai, _, _) = app.waiting_patient("Cai Wong").await;

    // Another clinic finishes a visit of its own today.
    let other = app.other_clinic().await;
    let (olga, pat) = (other.token, other.visit);
    let v = app.visit(&olga, &pat).await["version"].as_u64().unwrap();
    let a = app
        .command(&olga, &pat, "decline", v, Some(json!({"note": "Closed"})))
        .await;
    assert_eq!(a.status_of_visit(), "declined", "{:?}", a.body);

    // Reception's day: Ana, then Ben, in the order they finished, whole with their history.
    let day = app.get("/v1/visits", &rita).await;
    assert_eq!(day.status, StatusCode::OK, "{:?}", day.body);
    assert_eq!(day.body["day"], "2026-12-03");
    assert_eq!(ids(&day.body), [ana.clone(), ben.clone()]);
    assert!(!ids(&day.body).contains(&cai), "still waiting");
    assert_eq!(day.body["visits"][0]["status"], "completed");
    assert_eq!(day.body["visits"][1]["status"], "declined");
    let history = day.body["visits"][0]["history"].as_array().unwrap();
    assert!(history.len() >= 3, "arrived, claimed, ended: {history:?}");
    assert!(day.body.get("next").is_none(), "one page");

    // The other clinic's day has its own visit only.
    let theirs = app.get("/v1/visits", &olga).await;
    assert_eq!(ids(&theirs.body), [pat]);

    // A page at a time: one visit a page, each once, in the same order.
    let mut paged = Vec::new();
    let mut path = "/v1/visits?limit=1".to_owned();
    loop {
        let page = app.get(&path, &rita).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        paged.extend(ids(&page.body));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/v1/visits?limit=1&after={next}"),
            None => break,
        }
    }
    assert_eq!(paged, [ana, ben]);

    // Another day has nothing; a day that is not a date, or a made-up page mark, is refused.
    let yesterday = app.get("/v1/visits?day=2026-12-02", &rita).await;
    assert_eq!(ids(&yesterday.body), Vec::<String>::new());
    let bad = app.get("/v1/visits?day=03/12/2026", &rita).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    let bad = app.get("/v1/visits?after=nonsense", &rita).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);

    // And it is documented.
    let doc = app.get("/v1/openapi.json", &rita).await;
    assert!(doc.body["paths"]["/v1/visits"]["get"].is_object());
}
