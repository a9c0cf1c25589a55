//! The Reports workspace end to end: the app binary driven over WebDriver in WebKit under
//! Xvfb, against a real clinic server on loopback. Run it through `tests/e2e/env.sh`.
//!
//! Ten patients come in this morning and are seen after waits the test sets with the server's
//! clock (and one more is declined); the clinic's admin signs in, opens Reports, and the day's
//! median and 90th-percentile waits for staff are the ones the test works out itself from
//! those waits.

use frontdesk_domain::{Command, Note, Timestamp};
use frontdesk_testkit::percentile_ms;
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use frontdesk_tests::TestClinic;
use frontdesk_tests::e2e::{WAIT, app_binary, click, fill, shot, staff_does};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// The clock moves exactly; each request then takes a moment.
const SLACK_MS: i64 = 2_000;

/// A figure's milliseconds as the screen carries them (`attr` of element `id`), once it shows
/// one.
async fn shown_ms(wd: &WebDriver, id: &str, attr: &str) -> i64 {
    poll_until(WAIT, id, || async {
        let Ok(el) = wd.find(&testid(id)).await else {
            return Ok(None);
        };
        Ok(el
            .attribute(attr)
            .await?
            .and_then(|ms| ms.parse::<i64>().ok()))
    })
    .await
    .unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// A wait as the console writes one under an hour: "12m 00s".
fn minutes_text(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}m {:02}s", s / 60, s % 60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reads_the_days_median_wait_the_test_worked_out() {
    let clinic = TestClinic::start().await;
    let clock = clinic.server().state.settings.clock.clone();
    let now = clock.now().as_millis();
    // This (UTC) morning: the demo clinic keeps UTC, and so does the test desktop. (Before
    // 08:00 the visits are ahead of the clock; the report of the day holds them all the same.)
    let eight = now - now.rem_euclid(DAY) + 8 * 60 * MIN;
    let at = |minute: i64| Timestamp::from_millis(eight + minute * MIN);

    // Ten patients arrive through the morning; each is taken into a call after a known wait,
    // by the desk or a provider, and the call ends five minutes later.
    let arrivals = [5, 20, 40, 60, 75, 90, 130, 165, 200, 230];
    let waits = [3, 12, 7, 30, 20, 9, 15, 4, 25, 11];
    let reception = clinic.room("Reception");
    clock.set(at(0));
    let staff = [
        clinic.sign_in("reception@demo.clinic").await,
        clinic.sign_in("priya@demo.clinic").await,
        clinic.sign_in("omar@demo.clinic").await,
    ];
    let names = [
        "Ana Pereira",
        "Ben Okoro",
        "Cai Wong",
        "Dee Lane",
        "Eve Marsh",
        "Fay Dunn",
        "Gus Hale",
        "Hana Ito",
        "Ivo Kral",
        "Jun Park",
    ];
    let mut steps: Vec<(i64, usize, Option<Command>)> = Vec::new();
    for (i, wait) in waits.iter().enumerate() {
        let arrives = arrivals[i];
        steps.push((arrives, i, None));
        steps.push((arrives + wait, i, Some(Command::Claim)));
        steps.push((arrives + wait + 5, i, Some(Command::EndCall)));
    }
    steps.sort_by_key(|(minute, i, _)| (*minute, *i));
    let mut visits = vec![String::new(); names.len()];
    for (minute, i, command) in steps {
        clock.set(at(minute));
        match command {
            None => visits[i] = clinic.arrive(&reception, names[i]).await,
            Some(command) => staff_does(&clinic, &staff[i % 3], &visits[i], command).await,
        }
    }
    // Kai is declined at the desk: no contact, so no wait of his is in the figures.
    clock.set(at(150));
    let kai = clinic.arrive(&reception, "Kai Moss").await;
    clock.set(at(152));
    let note = Note::parse("Please see your GP").unwrap();
    staff_does(&clinic, &staff[0], &kai, Command::Decline { note }).await;

    // Back to the real time: the admin signs in now.
    clock.set(Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    ));

    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("app").to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");
    fill(&wd, "signin-email", "admin@demo.clinic").await;
    fill(&wd, "signin-password", "demo-admin").await;
    let address = format!("{}/{}", clinic.url(), clinic.demo().clinic.slug);
    fill(&wd, "signin-server", &address).await;
    click(&wd, &testid("signin-submit")).await;
    wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT)
        .await
        .expect("signed in");

    click(&wd, &testid("workspace-reports")).await;
    let median = shown_ms(&wd, "median-wait-staff", "data-ms").await;
    let expected = percentile_ms(&waits, 50.0); // 11.5 minutes
    assert!(
        (median - expected).abs() <= SLACK_MS,
        "the screen's median wait is {median} ms; the test worked out {expected} ms"
    );
    let text = wd
        .find(&testid("median-wait-staff"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let near: Vec<String> = [-1_000, 0, 1_000]
        .iter()
        .map(|d| minutes_text(expected + d))
        .collect();
    assert!(
        near.contains(&text.trim().to_owned()),
        "{text:?} is not one of {near:?}"
    );
    let p90 = shown_ms(&wd, "figure-wait-staff", "data-p90-ms").await;
    let expected = percentile_ms(&waits, 90.0); // 25.5 minutes
    assert!(
        (p90 - expected).abs() <= SLACK_MS,
        "the screen's 90th percentile is {p90} ms; the test worked out {expected} ms"
    );
    let count = async |id: &str| {
        let text = wd.find(&testid(id)).await.unwrap().text().await.unwrap();
        text.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(count("count-arrivals").await, "11");
    assert_eq!(count("count-completed").await, "10");
    assert_eq!(count("count-declined").await, "1");
    wd.wait_for(&testid("report-provider"), WAIT)
        .await
        .expect("the providers' lines");
    // The chart has drawn (a canvas in the chart's box).
    let chart = wd.find(&testid("report-chart")).await.unwrap();
    let problem = chart.attribute("data-error").await.unwrap();
    let width = chart.property("clientWidth").await.unwrap();
    wd.wait_for("[data-testid=\"report-chart\"] canvas", WAIT)
        .await
        .unwrap_or_else(|e| panic!("the chart ({width} wide, {problem:?}): {e}"));
    shot("reports");
}
