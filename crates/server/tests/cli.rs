//! The admin CLI sets up a clinic from nothing; `serve` then lets its staff in.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Where a command keeps its data: `--db FILE` or `--database-url URL`.
type Place = [String; 2];

fn sqlite_file(dir: &Path) -> Place {
    ["--db".into(), dir.join("clinic.db").display().to_string()]
}

fn postgres_database() -> Place {
    [
        "--database-url".into(),
        frontdesk_testkit::PgCluster::shared().fresh_database(),
    ]
}

/// The admin command that creates the North Clinic (slug `north`).
const CREATE_NORTH: &[&str] = &[
    "clinic",
    "create",
    "--slug",
    "north",
    "--name",
    "North Clinic",
];

fn run(db: &Place, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args(args)
        .args(db)
        .env("RUST_LOG", "warn")
        .env("FRONTDESK_PASSWORD", "a-long-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_admin_cli_sets_up_a_clinic_whose_staff_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    the_admin_cli_sets_up_a_clinic_on(sqlite_file(dir.path())).await;
}

#[tokio::test]
async fn the_admin_cli_sets_up_a_clinic_on_postgres_whose_staff_can_sign_in() {
    the_admin_cli_sets_up_a_clinic_on(postgres_database()).await;
}

/// An admin command on PostgreSQL tells the running replicas of its change before it exits
/// (the notice a commit's seq goes out in), so their consoles see the new room at once rather
/// than at a replica's next look at its clinics' seqs.
#[tokio::test]
async fn an_admin_command_on_postgres_announces_its_change_before_it_exits() {
    use futures_util::StreamExt;
    let db = postgres_database();
    let created = run(&db, CREATE_NORTH);
    let clinic = created
        .strip_prefix("clinic ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();

    // A listener on the channel the replicas listen on, as a replica's would be.
    let (listener, mut connection) = tokio_postgres::connect(&db[1], tokio_postgres::NoTls)
        .await
        .unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message
                && tx.send(n.payload().to_owned()).is_err()
            {
                break;
            }
        }
    });
    listener
        .batch_execute("LISTEN frontdesk_events")
        .await
        .unwrap();

    run(
        &db,
        &["room", "create", "--clinic", "north", "--name", "Reception"],
    );
    let seq: i64 = listener
        .query_one("SELECT seq FROM clinics WHERE slug = 'north'", &[])
        .await
        .unwrap()
        .get(0);
    let expected = format!(" {clinic}:{seq}");
    // A guard, not a measure: the command has exited, so a notice not sent by now never is.
    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let payload = heard.recv().await.expect("the listener stopped");
            if payload.contains(&expected) {
                return payload;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the room's seq {seq} was never announced"));
    assert!(notice.split(' ').count() >= 2, "{notice}");
}

async fn the_admin_cli_sets_up_a_clinic_on(db: Place) {
    assert!(
        run(
            &db,
            &[
                CREATE_NORTH,
                &[
                    "--time-zone",
                    "Europe/London",
                    "--video-link",
                    "https://video.example/{clinic}/{visit}"
                ]
            ]
            .concat()
        )
        .starts_with("clinic ")
    );
    run(
        &db,
        &[
            "room",
            "create",
            "--clinic",
            "north",
            "--name",
            "Reception",
            "--intake-question",
            "Reason for visit",
            "--intake-question",
            "First visit?=yes/no",
            "--intake-question",
            "Urgency=Low|Medium|High",
            "--open",
            "mon-fri 09:00-17:00",
            "--open",
            "sat 10:00-12:00",
            "--accept-after-hours",
            "--show-place-in-line",
            "--minutes-per-patient",
            "15",
        ],
    );
    run(
        &db,
        &[
            "staff",
            "create",
            "--clinic",
            "north",
            "--name",
            "Nora Desk",
            "--email",
            "nora@north.clinic",
            "--role",
            "receptionist",
            "--room",
            "Reception",
            "--phone",
            "+44 7700 900123",
        ],
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args([
            "staff",
            "create",
            "--clinic",
            "north",
            "--name",
            "X",
            "--email",
            "x@north.clinic",
            "--role",
            "janitor",
            "--password",
            "a-long-password",
        ])
        .args(&db)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "an unknown role is refused");

    // `serve` is given the same place as a URL, which wins over the file it would open.
    let db_url = match db[0].as_str() {
        "--db" => format!("sqlite://{}", db[1]),
        _ => db[1].clone(),
    };
    let (mut child, url) = frontdesk_testkit::serve_binary(
        env!("CARGO_BIN_EXE_frontdesk-server"),
        Path::new("unused.db"),
        &["--database-url", &db_url],
    );
    let http = reqwest::Client::new();
    let token =
        frontdesk_testkit::sign_in_to(&http, &url, "north", "nora@north.clinic", "a-long-password")
            .await;
    let me: Value = frontdesk_testkit::get_json(&http, &format!("{url}/v1/me"), &token).await;
    assert_eq!(me["roles"], json!(["receptionist"]));
    let rooms: Value = frontdesk_testkit::get_json(&http, &format!("{url}/v1/rooms"), &token).await;
    assert_eq!(
        rooms[0]["intake_questions"],
        json!([
            "Reason for visit",
            {"label": "First visit?", "kind": "yes_no"},
            {"label": "Urgency", "kind": "choice", "options": ["Low", "Medium", "High"]}
        ])
    );
    let hours = rooms[0]["office_hours"].as_array().unwrap();
    assert_eq!(hours.len(), 6);
    assert_eq!(
        hours[5],
        json!({"day": 5, "opens": "10:00", "closes": "12:00"})
    );
    assert_eq!(rooms[0]["after_hours"], "accept");
    assert_eq!(rooms[0]["show_place_in_line"], true);
    assert_eq!(rooms[0]["minutes_per_patient"], 15);
    assert_eq!(me["phone"], "+447700900123");
    let clinic: Value =
        frontdesk_testkit::get_json(&http, &format!("{url}/v1/clinic"), &token).await;
    assert_eq!(clinic["time_zone"], "Europe/London");
    assert_eq!(
        clinic["video_link_template"],
        "https://video.example/{clinic}/{visit}"
    );
    assert_eq!(me["rooms"], json!([rooms[0]["id"]]));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn the_demo_prints_accounts_and_front_doors_that_work() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--tick-ms",
            "200",
            "--db",
        ])
        .arg(dir.path().join("demo.db"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    // Everything up to the last room's front door (three rooms in the demo clinic).
    while printed
        .iter()
        .filter(|l: &&String| l.contains("/join/"))
        .count()
        < 3
    {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the demo stopped: {printed:?}"
        );
        printed.push(line.trim_end().to_owned());
    }
    let text = printed.join("\n");
    let url = printed[0].strip_prefix("listening on ").unwrap().to_owned();
    assert!(
        text.contains("reception@demo.clinic") && text.contains("demo-reception"),
        "{text}"
    );

    let http = reqwest::Client::new();
    let reception = frontdesk_testkit::sign_in_to(
        &http,
        &url,
        "demo",
        "reception@demo.clinic",
        "demo-reception",
    )
    .await;
    // Each printed front door opens the room's page, which a patient can use.
    for line in printed.iter().filter(|l| l.contains("/join/")) {
        let (room, link) = line.trim().rsplit_once(' ').unwrap();
        assert!(link.starts_with(&format!("{url}/join/demo/")), "{line}");
        let page = http.get(link).send().await.unwrap();
        assert_eq!(page.status(), 200, "{link}");
        let html = page.text().await.unwrap();
        let room = room.trim().replace('\'', "&#39;");
        assert!(html.contains(&room), "{link} is the page of {room}");
    }
    // The simulator has patients arrive on its own.
    frontdesk_testkit::eventually(30, "a simulated patient in the queue", || {
        let (http, url, reception) = (&http, &url, &reception);
        async move {
            let q = frontdesk_testkit::get_json(http, &format!("{url}/v1/queue"), reception).await;
            (!q.as_array().unwrap().is_empty()).then_some(())
        }
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Runs the server binary with `args` only (no `--db`): its status, stdout and stderr.
fn run_bare(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FRONTDESK_DB")
        .env_remove("FRONTDESK_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_database_is_named_by_url_and_migrate_brings_it_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("by-url.db");
    // An absolute path: sqlite:// followed by /tmp/…
    let url = format!("sqlite://{}", db.display());
    let (ok, out, err) = run_bare(&["migrate", "--database-url", &url]);
    assert!(ok, "{err}");
    let version: u32 = out
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a schema version in {out:?}"));
    assert!(version >= 5, "{out}");
    assert!(db.exists(), "the file was created");

    // The admin commands take the same URL (the short form too), and migrating again is a
    // no-op at the same version.
    let short = format!("sqlite:{}", db.display());
    let (ok, out, err) = run_bare(&[
        "clinic",
        "create",
        "--slug",
        "south",
        "--name",
        "South Clinic",
        "--database-url",
        &short,
    ]);
    assert!(ok && out.starts_with("clinic "), "{out}{err}");
    let (ok, again, _) = run_bare(&["migrate", "--database-url", &url]);
    assert!(ok);
    assert!(again.trim().ends_with(&format!(" {version}")), "{again}");

    // What this build cannot open is refused, saying what it takes, and nothing is created.
    for (url, says) in [
        ("mysql://db.example/clinic", "unknown kind of database"),
        ("sqlite:", "names a file"),
        ("clinic.db", "not a database URL"),
    ] {
        let (ok, _, err) = run_bare(&["migrate", "--database-url", url]);
        assert!(!ok, "{url} was accepted");
        assert!(err.contains(says), "{url}: {err}");
    }
    assert!(!std::path::Path::new("clinic.db").exists());
}

#[test]
fn migrate_brings_a_postgres_database_up_to_date_once() {
    let url = frontdesk_testkit::PgCluster::shared().fresh_database();
    let version = |out: &str| -> u32 {
        out.trim()
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("a schema version in {out:?}"))
    };
    let (ok, first, err) = run_bare(&["migrate", "--database-url", &url]);
    assert!(ok, "{err}");
    assert!(version(&first) >= 1, "{first}");
    assert!(
        !first.contains("postgres://"),
        "the URL is not printed: {first}"
    );
    let (ok, again, err) = run_bare(&["migrate", "--database-url", &url]);
    assert!(ok, "{err}");
    assert_eq!(version(&again), version(&first));
    // A URL naming a database that is not there is an error, not a new database.
    let missing = url.replace("/test_", "/missing_");
    let (ok, _, err) = run_bare(&["migrate", "--database-url", &missing]);
    assert!(!ok && err.contains("PostgreSQL"), "{err}");
}
