//! The front desk's day and its connection, end to end: the app binary driven over WebDriver
//! in WebKit under Xvfb, against a real clinic server on loopback that the test stops and
//! starts again. Run it through `tests/e2e/env.sh` (the test suite does).
//!
//! A patient is seen and the call ends: "Today" lists her with her wait and who saw her, and
//! her history opens from the row. Then the server goes away: the receptionist changes her
//! availability (marked as not sent), presses "Reconnect now" once the server is back, and the
//! change goes through; when the server goes away and comes back again, the console is live
//! again by itself.

use frontdesk_domain::Command;
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use frontdesk_tests::e2e::{RITA, WAIT, app_binary, click, shot, sign_in_rita_at, staff_does};
use frontdesk_tests::{CuttingProxy, TestClinic};

/// The text of an element, once it is there.
async fn text(wd: &WebDriver, css: &str) -> String {
    wd.wait_for(css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// The receptionist's availability as the server has it.
async fn availability_on_server(clinic: &TestClinic, token: &str) -> String {
    let snapshot = clinic.snapshot(token).await;
    serde_json::to_value(snapshot.me.availability)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_lists_who_was_seen_and_the_console_comes_back_after_the_server_does() {
    let mut clinic = TestClinic::start().await;
    // The console reaches the server through a proxy that drops its connections when the
    // server goes away, as a real network does (a stopped server in this process may not).
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("app").to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");

    let address = format!("{}/{}", proxy.url(), clinic.demo().clinic.slug);
    sign_in_rita_at(&wd, &address).await;

    // Ana arrives; Dr Shah sees her and ends the call. Ben arrives and is still waiting.
    let reception = clinic.room("Reception");
    let ana = clinic.arrive(&reception, "Ana Pereira").await;
    let ben = clinic.arrive(&reception, "Ben Okoro").await;
    let priya = clinic.sign_in("priya@demo.clinic").await;
    staff_does(&clinic, &priya, &ana, Command::Claim).await;
    staff_does(&clinic, &priya, &ana, Command::EndCall).await;

    // Today: Ana, completed, with her wait, her times and who saw her; Ben is not listed.
    click(&wd, &testid("tab-today")).await;
    let ana_row = format!("[data-testid=\"day-row\"][data-visit-id=\"{ana}\"]");
    wd.wait_for(&format!("{ana_row}[data-status=\"completed\"]"), WAIT)
        .await
        .expect("Ana in the day's list, completed");
    assert_eq!(
        text(&wd, &format!("{ana_row} {}", testid("day-name"))).await,
        "Ana Pereira"
    );
    let waited = text(&wd, &format!("{ana_row} {}", testid("day-wait"))).await;
    assert!(waited.starts_with("Waited "), "{waited}");
    let seen_by = text(&wd, &format!("{ana_row} {}", testid("day-seen-by"))).await;
    assert!(seen_by.contains("Priya Shah"), "{seen_by}");
    assert!(
        text(&wd, &format!("{ana_row} {}", testid("day-finished")))
            .await
            .contains("finished"),
    );
    let ben_row = format!("[data-testid=\"day-row\"][data-visit-id=\"{ben}\"]");
    assert!(wd.find(&ben_row).await.is_err(), "Ben is still waiting");
    // Her history opens from the row.
    click(&wd, &ana_row).await;
    wd.wait_for_text(&testid("details-name"), "Ana Pereira", WAIT)
        .await
        .expect("Ana's details");
    shot("today");

    // The providers board: Rita asks Dr Shah for a session with Sam; it waits for her, then
    // she accepts.
    click(&wd, &testid("tab-providers")).await;
    let shah_id = clinic
        .demo()
        .staff_by_email("priya@demo.clinic")
        .expect("Dr Shah")
        .id;
    let shah = format!("[data-testid=\"provider\"][data-provider-id=\"{shah_id}\"]");
    let now = text(&wd, &format!("{shah} {}", testid("provider-now"))).await;
    assert_eq!(now, "Available");
    click(&wd, &format!("{shah} {}", testid("request-session"))).await;
    wd.wait_for(&testid("request-patient"), WAIT)
        .await
        .unwrap()
        .send_keys("Sam Rivera")
        .await
        .unwrap();
    click(&wd, &testid("request-send")).await;
    let pending = wd
        .wait_for(
            "[data-testid=\"my-request\"][data-answer=\"pending\"]",
            WAIT,
        )
        .await
        .expect("the request waiting for Dr Shah");
    let sam = pending.attribute("data-visit-id").await.unwrap().unwrap();
    staff_does(&clinic, &priya, &sam, Command::Accept).await;
    wd.wait_for(
        "[data-testid=\"my-request\"][data-answer=\"accepted\"]",
        WAIT,
    )
    .await
    .expect("accepted");
    shot("providers");

    // The server goes away: the banner says so and offers to reconnect.
    proxy.set_down(true);
    clinic.stop().await;
    wd.wait_for(
        "[data-testid=\"connection-banner\"][data-state=\"offline\"]",
        WAIT,
    )
    .await
    .expect("offline banner");
    wd.wait_for(&testid("reconnect-now"), WAIT)
        .await
        .expect("Reconnect now in the offline banner");

    // Rita changes her availability while offline: marked as not sent yet.
    let before = availability_shown(&wd).await;
    let choice = wd
        .execute(
            "const s = arguments[0]; return [...s.options].map((o) => o.value).find((v) => v !== s.value);",
            vec![wd.find(&testid("availability")).await.unwrap().as_arg()],
        )
        .await
        .unwrap()
        .as_str()
        .expect("another availability to pick")
        .to_owned();
    assert_ne!(choice, before);
    wd.find(&testid("availability"))
        .await
        .unwrap()
        .select_value(&choice)
        .await
        .unwrap();
    wd.wait_for(&testid("availability-pending"), WAIT)
        .await
        .expect("the availability marked as not sent");
    let banner = text(&wd, &testid("connection-banner")).await;
    assert!(banner.contains("1 action waiting to send"), "{banner}");

    // The server is back; "Reconnect now" (if the console has not beaten us to it): the
    // change goes through and the mark goes.
    clinic.restart().await;
    proxy.set_down(false);
    if let Ok(button) = wd.find(&testid("reconnect-now")).await {
        let _ = button.click().await;
    }
    wd.wait_gone(&testid("connection-banner"), WAIT)
        .await
        .expect("online, nothing left to send");
    wd.wait_gone(&testid("availability-pending"), WAIT)
        .await
        .expect("the availability confirmed");
    let rita = clinic.sign_in(RITA).await;
    assert_eq!(availability_on_server(&clinic, &rita).await, choice);

    // Away and back again, with no one touching the console: it is live again by itself.
    proxy.set_down(true);
    clinic.stop().await;
    wd.wait_for(
        "[data-testid=\"connection-banner\"][data-state=\"offline\"]",
        WAIT,
    )
    .await
    .expect("offline again");
    clinic.restart().await;
    proxy.set_down(false);
    wd.wait_gone(&testid("connection-banner"), WAIT)
        .await
        .expect("online again without a click");
    let cleo = clinic.arrive(&reception, "Cleo Park").await;
    click(&wd, &testid("tab-queue")).await;
    wd.wait_for(
        &format!("[data-testid=\"queue-row\"][data-visit-id=\"{cleo}\"]"),
        WAIT,
    )
    .await
    .expect("a new arrival shows: the console is live");
    poll_until(WAIT, "Ana still in today's list", || async {
        Ok(wd
            .execute(
                "return document.querySelector('[data-testid=\"tab-today\"] .count').textContent.trim();",
                vec![],
            )
            .await?
            .as_str()
            .filter(|n| *n == "1")
            .map(|_| ()))
    })
    .await
    .unwrap();
    wd.delete_session().await.unwrap();
}

/// The availability the header shows now.
async fn availability_shown(wd: &WebDriver) -> String {
    wd.find(&testid("availability"))
        .await
        .unwrap()
        .property("value")
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
