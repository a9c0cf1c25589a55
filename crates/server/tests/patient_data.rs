//! Patient data at rest and on the wire: the link's token is traded for a cookie and shows up
//! in no address, page or script after that; links stop working in time; answers carrying
//! patient data are never cached; the database's files are the server user's alone; links
//! can be derived from a secret kept outside the database; with a key, the database's files
//! hold no patient data in the clear.

use frontdesk_domain::Span;
use frontdesk_server::DbKey;
use frontdesk_server::links::LinkSecret;
use frontdesk_testkit::{RECEPTION, SCHEDULER, TestServer, open_link};
use reqwest::{Method, StatusCode, header};
use serde_json::json;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn set_cookie_of(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[tokio::test]
async fn the_waiting_screen_holds_its_token_in_a_strict_cookie_and_shows_it_nowhere() {
    let app = TestServer::with_demo().await;
    let http = no_redirects();
    let door = app.url(&format!("/join/demo/{}", app.room_id("Reception")));
    let joined = http
        .post(&door)
        .form(&[("name", "Tia Token"), ("phone", "0400 000 020")])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(joined.headers()[header::LOCATION], "/wait");
    let cookie = set_cookie_of(&joined, "fd_patient").expect("the patient's cookie");
    for flag in ["; Path=/", "; HttpOnly", "; SameSite=Strict"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    let token = cookie["fd_patient=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("fdp_"), "{token}");

    // The link in a text does the same, and the screen it leads to names no token.
    let link = app.url(&format!("/wait/{token}"));
    let opened = open_link(&link).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert!(opened.html.contains("Tia Token"), "{}", opened.html);
    assert!(!opened.html.contains(&token), "{}", opened.html);
    assert!(!opened.html.contains("fdp_"), "{}", opened.html);
    let first = http.get(&link).send().await.unwrap();
    assert_eq!(first.headers()[header::LOCATION], "/wait");

    // The screen's own polling uses the cookie, as the API's bearer still does.
    let polled = http
        .get(app.url("/v1/patient/visit"))
        .header(header::COOKIE, &opened.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(polled.status(), StatusCode::OK);
    let a = app
        .send(Method::GET, "/v1/patient/visit", Some(&token), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);

    // No cookie: nothing to show; unless the browser says another site sent it here, when
    // it held our cookie back and the page moves on by itself to get it sent.
    let bare = http.get(app.url("/wait")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::NOT_FOUND);
    let from_mail = http
        .get(app.url("/wait"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(from_mail.status(), StatusCode::OK);
    let html = from_mail.text().await.unwrap();
    assert!(html.contains("http-equiv=\"refresh\""), "{html}");
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.public_url = Some("https://clinic.example".into()))
        .start()
        .await;
    let (_, token, _) = app.arrive(&app.room_id("Reception"), "Sam Secure").await;
    let res = no_redirects()
        .get(app.url(&format!("/wait/{token}")))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie_of(&res, "fd_patient").unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

/// An open visit's link lasts the clinic's limit (12 hours by default) from when the visit
/// opened; a booked session's from its start.
#[tokio::test]
async fn a_waiting_patients_link_expires_twelve_hours_after_arrival() {
    let app = TestServer::with_demo().await;
    let clock = app.clock();
    let (_, token, _) = app.arrive(&app.room_id("Reception"), "Otto Open").await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = clock.now().as_millis() + 24 * 3_600_000;
    let booked = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{}/scheduled", app.room_id("Dr. Shah's room")),
            Some(&scheduler),
            Some(json!({"booking": {
                "provider": app.staff_id(frontdesk_testkit::PRIYA.0),
                "starts_at": starts,
                "guests": [{"name": "Bea Booked", "contact": {"email": "bea@example.org"}}]
            }})),
            &[],
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
    let guest = frontdesk_server::service::guest_token(
        &app.server().store().secret(),
        booked.body["visit"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        0,
    );
    let link = app.url(&format!("/wait/{token}"));
    let screen = open_link(&link).await;
    assert!(screen.html.contains("Otto Open"));

    clock.advance(Span::from_secs(11 * 3600));
    assert!(screen.reload().await.contains("Otto Open"));
    let a = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);

    clock.advance(Span::from_secs(3600 + 60));
    let again = open_link(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(
        again.html.contains("This link has expired"),
        "{}",
        again.html
    );
    assert!(!again.html.contains("Otto Open"));
    assert!(screen.reload().await.contains("This link has expired"));
    let a = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::GONE, "{:?}", a.body);
    assert_eq!(a.code(), "link_expired");
    // The session booked for tomorrow: its guest's link counts from the start.
    let a = app
        .patient(&guest, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

/// A clinic sets its own limit for open visits' links; the server's default no longer
/// applies to it, and a limit out of range is refused with nothing changed.
#[tokio::test]
async fn a_clinic_sets_how_long_its_open_visits_links_last() {
    let app = TestServer::with_demo().await;
    let clock = app.clock();
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    for bad in [
        json!({"open_link_hours": 0}),
        json!({"open_link_hours": 169}),
    ] {
        let a = app
            .send(Method::PUT, "/v1/clinic", Some(&admin), Some(bad), &[])
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.body);
        assert_eq!(a.code(), "validation");
    }
    let unchanged = app.get("/v1/clinic", &admin).await;
    assert!(
        unchanged.body.get("open_link_hours").is_none(),
        "{:?}",
        unchanged.body
    );
    let set = app
        .send(
            Method::PUT,
            "/v1/clinic",
            Some(&admin),
            Some(json!({"open_link_hours": 2})),
            &[],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["open_link_hours"], 2);

    let (_, token, _) = app.arrive(&app.room_id("Reception"), "Tess Twohours").await;
    clock.advance(Span::from_secs(2 * 3600 - 60));
    let a = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    clock.advance(Span::from_secs(120));
    let a = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::GONE, "{:?}", a.body);
    assert_eq!(a.code(), "link_expired");
    let screen = open_link(&app.url(&format!("/wait/{token}"))).await;
    assert!(
        screen.html.contains("This link has expired"),
        "{}",
        screen.html
    );
}

#[tokio::test]
async fn answers_with_patient_data_are_never_cached() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let (visit, token, _) = app.arrive(&app.room_id("Reception"), "Nia Nostore").await;
    let http = no_redirects();
    let get = |path: String, bearer: Option<String>| {
        let mut req = http.get(app.url(&path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send()
    };
    let cache_control = |res: &reqwest::Response| {
        res.headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for (path, bearer) in [
        ("/v1/me".to_owned(), Some(&staff)),
        ("/v1/queue".to_owned(), Some(&staff)),
        ("/v1/snapshot".to_owned(), Some(&staff)),
        (format!("/v1/visits/{visit}"), Some(&staff)),
        (format!("/v1/visits/{visit}/history"), Some(&staff)),
        ("/v1/patient/visit".to_owned(), Some(&token)),
        ("/v1/patient/visit".to_owned(), None),
        (format!("/wait/{token}"), None),
        (format!("/join/demo/{}", app.room_id("Reception")), None),
    ] {
        let res = get(path.clone(), bearer.cloned()).await.unwrap();
        assert_eq!(cache_control(&res).as_deref(), Some("no-store"), "{path}");
    }
    let arrived = http
        .post(app.url(&format!("/v1/join/demo/{}", app.room_id("Reception"))))
        .json(&json!({"name": "Ned New", "phone": "0400 000 021"}))
        .send()
        .await
        .unwrap();
    assert_eq!(arrived.status(), StatusCode::CREATED);
    assert_eq!(cache_control(&arrived).as_deref(), Some("no-store"));
    for path in ["/healthz", "/v1/openapi.json"] {
        let res = get(path.to_owned(), None).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cache_control(&res), None, "{path}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_journal_files_are_the_server_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    app.arrive(&app.room_id("Reception"), "Flo Files").await;
    assert_eq!(app.get("/v1/queue", &staff).await.status, StatusCode::OK);
    let db = app.db_path();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{path}: {:o}", mode & 0o777);
    }
}

#[tokio::test]
async fn links_come_from_the_secret_given_to_the_server_not_the_database() {
    let secret = LinkSecret::from_text(&"s".repeat(64)).unwrap();
    let given = *secret.bytes();
    let app = TestServer::builder()
        .demo_clinic()
        .settings(move |s| s.link_secret = Some(secret))
        .start()
        .await;
    assert_eq!(app.server().store().secret(), given);
    let other = TestServer::with_demo().await;
    assert_ne!(other.server().store().secret(), given);
}

/// Every file of the database (the file, its WAL and shared memory) as bytes.
fn database_files(app: &TestServer) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let db = &app.db_path();
    let mut files = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let path = std::path::PathBuf::from(path);
        if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
    }
    files
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// A patient's name and intake answer, written by a server with the given key (or none),
/// and the server stopped.
async fn patient_on_disk(key: Option<DbKey>) -> TestServer {
    let mut app = TestServer::builder()
        .demo_clinic()
        .settings(move |s| s.db_key = key)
        .start()
        .await;
    let (_, token, _) = app
        .arrive(&app.room_id("Reception"), "Philippa Quenby-Marsh")
        .await;
    let a = app
        .answer_intake(
            &token,
            json!({"Reason for visit": "Recurring migraines since March"}),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    app.stop().await;
    app
}

#[tokio::test]
async fn with_a_key_the_database_files_hold_no_patient_data_and_open_only_with_that_key() {
    assert!(frontdesk_server::store::sqlite::at_rest::encryption_available());
    // Without a key the name is there to be read: the search below finds what it looks for.
    let plain = patient_on_disk(None).await;
    assert!(
        database_files(&plain)
            .iter()
            .any(|(_, bytes)| holds(bytes, "Philippa Quenby-Marsh")),
        "an unencrypted database shows the name"
    );

    let key = DbKey::from_text(&"k".repeat(40)).unwrap();
    let mut app = patient_on_disk(Some(key.clone())).await;
    let files = database_files(&app);
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        for text in [
            "Philippa Quenby-Marsh",
            "Recurring migraines",
            "Reception",
            "SQLite format 3",
        ] {
            assert!(
                !holds(bytes, text),
                "{text:?} readable in {}",
                path.display()
            );
        }
    }

    // Opened without the key, or with another, it refuses with a clear reason.
    let db = app.db_path();
    let Err(err) = frontdesk_server::SqliteStore::open(&db, 16) else {
        panic!("opened without key");
    };
    assert!(err.to_string().contains("give the same key"), "{err}");
    let other = frontdesk_server::store::sqlite::OpenOptions {
        key: Some(DbKey::from_text(&"x".repeat(40)).unwrap()),
        ..Default::default()
    };
    let Err(err) = frontdesk_server::SqliteStore::open_with(&db, 16, other) else {
        panic!("opened with another key");
    };
    assert!(
        err.to_string().contains("cannot be read with this key"),
        "{err}"
    );
    // Too short a key is refused before anything is opened.
    assert!(DbKey::from_text("short").is_err());

    // With its key it serves the clinic as before.
    app.restart().await;
    let staff = app.sign_in(RECEPTION).await;
    let queue = app.get("/v1/queue", &staff).await;
    assert_eq!(queue.status, StatusCode::OK, "{:?}", queue.body);
    assert!(
        queue.body.to_string().contains("Philippa Quenby-Marsh"),
        "{:?}",
        queue.body
    );
}
