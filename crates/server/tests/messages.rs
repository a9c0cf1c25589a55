//! Email and SMS, end to end: a real SMTP server and a real SMS webhook on loopback receive
//! what the server sends, and the server's clock is moved (not slept) to the times reminders
//! fall due.

mod sinks;

use frontdesk_domain::Timestamp;
use frontdesk_testkit::{
    ADMIN, Backend, PRIYA, RECEPTION, SCHEDULER, TestServer, eventually, open_link,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sinks::{Rig, SmtpMode, declined_at_reception, rig};
use std::time::Duration;

const HOUR: i64 = 3_600_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Books a session in Dr. Shah's room.
async fn book(app: &TestServer, scheduler: &str, booking: Value) -> frontdesk_testkit::Answer {
    let room = app.room_id("Dr. Shah's room");
    let booked = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/scheduled"),
            Some(scheduler),
            Some(booking),
            &[],
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
    booked
}

/// The join link in a message body.
fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("a link in the message");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_booked_session_tells_provider_and_guests_and_reminds_guests_at_24h_and_1h() {
    let Rig {
        app,
        clock,
        smtp,
        sms,
    } = rig(Backend::Sqlite, SmtpMode::Accept, true).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = clock.now().as_millis() + 72 * HOUR;
    let booking = json!({
        "booking": {
            "provider": app.staff_id(PRIYA.0),
            "starts_at": starts,
            "guests": [
                {"name": "Ana Guest", "contact": {"email": "ana@example.org"}},
                {"name": "Ben Guest", "contact": {"phone": "+61 400 111 222"}}
            ],
            "service_type": "Follow-up",
            "location": "Video"
        },
        "repeat_weeks": 2,
        "include_me": true
    });
    let booked = book(&app, &scheduler, booking).await;
    let first = booked.body["visit"]["id"].as_str().unwrap().to_owned();
    let second = booked.body["repeats"][0]["visit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        booked.body["repeats"][0]["visit"]["booking"]["starts_at"],
        starts + 7 * 24 * HOUR
    );
    let scheduler_id = app.staff_id(SCHEDULER.0);
    assert_eq!(
        booked.body["visit"]["booking"]["staff"],
        json!([scheduler_id]),
        "include me"
    );
    let ben = "+61400111222";

    // Booked: everyone hears, once per session.
    eventually(10, "booking messages", || async {
        (smtp.to("ana@example.org", "is booked").len() == 2
            && sms.to(ben, "is booked").len() == 2
            && smtp.to("priya@demo.clinic", "Session booked").len() == 2
            && smtp.to("scheduler@demo.clinic", "Session booked").len() == 2)
            .then_some(())
    })
    .await;
    // The provider takes the guests; the scheduler who included herself is told whose queue.
    let to_priya = smtp.to("priya@demo.clinic", "Session booked")[0].body();
    assert!(to_priya.contains("waits in your queue"), "{to_priya}");
    let to_sam = smtp.to("scheduler@demo.clinic", "Session booked")[0].body();
    assert!(
        to_sam.contains("waits in Dr. Priya Shah's queue"),
        "{to_sam}"
    );
    let ana_booked = &smtp.to("ana@example.org", "is booked")[0];
    assert!(
        ana_booked.body().contains("Follow-up"),
        "{}",
        ana_booked.body()
    );
    assert!(
        ana_booked.body().contains("Dr. Priya Shah"),
        "{}",
        ana_booked.body()
    );
    assert!(
        !ana_booked.body().contains("/wait/"),
        "the link comes an hour before"
    );
    assert!(smtp.to("ana@example.org", "Reminder").is_empty());

    // A day before the first session.
    clock.set(at(starts - 24 * HOUR + 1_000));
    eventually(10, "24-hour reminders", || async {
        (smtp.to("ana@example.org", "Reminder").len() == 1 && sms.to(ben, "Reminder").len() == 1)
            .then_some(())
    })
    .await;
    assert!(smtp.to("ana@example.org", "starts soon").is_empty());

    // An hour before: the link.
    clock.set(at(starts - HOUR + 1_000));
    let mail = eventually(10, "1-hour reminders", || async {
        let mail = smtp.to("ana@example.org", "starts soon");
        (mail.len() == 1 && sms.to(ben, "starts soon").len() == 1).then(|| mail[0].clone())
    })
    .await;
    let ana_link = link_in(&mail.body());
    let ben_link = link_in(&sms.to(ben, "starts soon")[0].body);
    assert_ne!(ana_link, ben_link, "each guest has their own link");

    // Ana opens her link, confirms it is her and joins: she waits in Dr. Shah's queue.
    let ana = open_link(&ana_link).await;
    assert_eq!(ana.status, StatusCode::SEE_OTHER);
    assert!(ana.html.contains("Join your session"), "{}", ana.html);
    assert!(ana.html.contains("Ana Guest"));
    let joined = ana.press("arrive").await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    // Days later by the clock: sessions signed in earlier have expired.
    let priya = app.sign_in(PRIYA).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let visit = app.visit(&priya, &first).await;
    assert_eq!(visit["status"], "waiting");
    assert_eq!(visit["booking"]["guests"][0]["arrived"], true);
    assert_eq!(visit["booking"]["guests"][1]["arrived"], false);
    let html = ana.reload().await;
    assert!(html.contains("You are in the waiting room"), "{html}");

    // The second week is cancelled: its guests and provider hear, its reminders never go.
    let cancelled = app
        .command(
            &scheduler,
            &second,
            "cancel",
            1,
            Some(json!({"note": "Dr. Shah is away that week"})),
        )
        .await;
    assert_eq!(cancelled.status_of_visit(), "cancelled");
    eventually(10, "cancellation messages", || async {
        (smtp.to("ana@example.org", "cancelled").len() == 1
            && sms.to(ben, "cancelled").len() == 1
            && smtp.to("priya@demo.clinic", "cancelled").len() == 1)
            .then_some(())
    })
    .await;
    assert!(
        smtp.to("ana@example.org", "cancelled")[0]
            .body()
            .contains("Dr. Shah is away that week")
    );
    clock.set(at(starts + 7 * 24 * HOUR - HOUR + 1_000));
    let admin = app.sign_in(ADMIN).await;
    eventually(10, "the cancelled week's reminders skipped", || async {
        let skipped = app.get("/v1/deliveries?state=skipped", &admin).await.body;
        let of_second = skipped
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["visit_id"] == second.as_str())
            .count();
        (of_second == 4).then_some(())
    })
    .await;
    // Each message went exactly once.
    assert_eq!(smtp.to("ana@example.org", "Reminder").len(), 1);
    assert_eq!(smtp.to("ana@example.org", "starts soon").len(), 1);
    assert_eq!(sms.to(ben, "starts soon").len(), 1);
    let ids: std::collections::BTreeSet<String> = smtp
        .received()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), smtp.received().len(), "no email went twice");
}

#[tokio::test]
async fn staff_subscribed_by_email_and_sms_hear_of_arrivals_and_a_declined_patient_gets_the_note() {
    let Rig { app, smtp, sms, .. } = rig(Backend::Sqlite, SmtpMode::Accept, true).await;
    let nina = sinks::nina_hears_of_arrivals(&app).await;
    let reception_room = app.room_id("Reception");

    let arrived = app
        .send(
            Method::POST,
            &format!("/v1/join/demo/{reception_room}"),
            None,
            Some(json!({"name": "Pat Patient", "email": "pat@example.org"})),
            &[],
        )
        .await;
    assert_eq!(arrived.status, StatusCode::CREATED, "{:?}", arrived.body);
    let id = arrived.body["visit"]["id"].as_str().unwrap().to_owned();
    eventually(10, "arrival alerts", || async {
        (smtp
            .to("nina@demo.clinic", "Pat Patient is waiting in Reception")
            .len()
            == 1
            && sms
                .to("+61400999888", "Pat Patient is waiting in Reception")
                .len()
                == 1)
            .then_some(())
    })
    .await;
    let text = &sms.to("+61400999888", "waiting")[0];
    assert!(text.idempotency_key.starts_with("frontdesk-"), "{text:?}");

    let declined = app
        .command(
            &nina,
            &id,
            "decline",
            arrived.version(),
            Some(json!({"note": "Please see your GP today; we are full."})),
        )
        .await;
    assert_eq!(
        declined.status_of_visit(),
        "declined",
        "{:?}",
        declined.body
    );
    let note = eventually(10, "the decline note", || async {
        smtp.to("pat@example.org", "A note from").pop()
    })
    .await;
    assert!(
        note.body()
            .contains("Please see your GP today; we are full."),
        "{}",
        note.body()
    );
    // Nobody who did not ask is told anything.
    assert!(smtp.to("reception@demo.clinic", "").is_empty());
    assert!(smtp.to("priya@demo.clinic", "").is_empty());
    assert_eq!(smtp.to("nina@demo.clinic", "waiting").len(), 1);
}

#[tokio::test]
async fn a_relay_that_says_try_later_is_retried_with_backoff_and_failures_show_to_admins() {
    let Rig {
        app, clock, smtp, ..
    } = rig(Backend::Sqlite, SmtpMode::TryLater, false).await;
    let admin = app.sign_in(ADMIN).await;
    let reception = app.sign_in(RECEPTION).await;
    let contact = json!({"name": "Rae R.", "email": "rae@example.org", "phone": "+61 400 222 333"});
    declined_at_reception(&app, contact, "Closed for a staff meeting").await;

    let deliveries = |state: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            app.get(&format!("/v1/deliveries?state={state}"), admin)
                .await
                .body
                .as_array()
                .unwrap()
                .clone()
        }
    };
    // SMS is not set up here: that one fails at once, and says why.
    let failed: Vec<Value> = eventually(10, "the SMS failure", || async {
        Some(deliveries("failed").await).filter(|f| !f.is_empty())
    })
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["channel"], "sms");
    assert_eq!(failed[0]["last_error"], "SMS is not set up on this server");
    // The email was tried once, refused for now, and waits about 30 s for its next try.
    let pending = eventually(10, "the first try", || async {
        let p = deliveries("pending").await;
        p.into_iter().find(|d| d["attempts"] == 1)
    })
    .await;
    assert!(
        pending["last_error"].as_str().unwrap().contains("451"),
        "{pending}"
    );
    let wait = pending["next_at"].as_i64().unwrap() - clock.now().as_millis();
    assert!((20_000..=31_000).contains(&wait), "{wait}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        deliveries("pending").await[0]["attempts"],
        1,
        "not before its time"
    );

    clock.advance(frontdesk_domain::Span::from_secs(31));
    eventually(10, "the second try", || async {
        let pending = deliveries("pending").await;
        pending
            .first()
            .is_some_and(|d| d["attempts"] == 2)
            .then_some(())
    })
    .await;
    smtp.set_mode(SmtpMode::Accept);
    clock.advance(frontdesk_domain::Span::from_secs(61));
    eventually(10, "sent on the third try", || async {
        (smtp.to("rae@example.org", "A note from").len() == 1).then_some(())
    })
    .await;
    let sent = deliveries("sent").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["attempts"], 3);
    // Only admins see deliveries.
    let denied = app.get("/v1/deliveries", &reception).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_session_no_guest_joins_becomes_a_no_show_and_a_guest_link_shows_names_as_text() {
    let Rig { app, clock, .. } = rig(Backend::Sqlite, SmtpMode::Accept, true).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = clock.now().as_millis() + 2 * HOUR;
    let booking = json!({"booking": {
        "provider": app.staff_id(PRIYA.0),
        "starts_at": starts,
        "guests": [{"name": "<script>alert(1)</script> Zed", "contact": {"email": "zed@example.org"}}]
    }});
    let booked = book(&app, &scheduler, booking).await;
    let id = booked.body["visit"]["id"].as_str().unwrap().to_owned();
    // The guest link (made the same way the reminder makes it) shows the name as text.
    let store = app.server().store();
    let token = frontdesk_server::service::guest_token(&store.secret(), id.parse().unwrap(), 0);
    let page = open_link(&app.url(&format!("/wait/{token}"))).await.html;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Zed"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    // A guessed guest link (the real one with its last digit changed) opens nothing.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let guessed = format!("{}{last}", &token[..token.len() - 1]);
    assert_ne!(guessed, token);
    let guessed = reqwest::get(app.url(&format!("/wait/{guessed}")))
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::NOT_FOUND);

    // Twenty minutes after the start nobody came: still scheduled. Past half an hour: no-show.
    clock.set(at(starts + 20 * 60_000));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reception = app.sign_in(RECEPTION).await;
    assert_eq!(app.visit(&reception, &id).await["status"], "scheduled");
    clock.set(at(starts + 31 * 60_000));
    eventually(10, "the session marked no-show", || async {
        (app.visit(&reception, &id).await["status"] == "no_show").then_some(())
    })
    .await;
    let visit = app.visit(&reception, &id).await;
    let last = visit["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"]["kind"], "system", "{last}");
}

/// A scheduler books a session for Dr. Shah; her email tells her, and she finds it among what
/// the API lists for her (the snapshot's open visits, where the console's sessions list comes
/// from) already hers: booking assigns it to its provider, so "Assign this session to me"
/// (`assign` to herself) has nothing to do and changes nothing. A colleague covering for her
/// takes it the same way, and it then shows as his.
#[tokio::test]
async fn the_provider_is_emailed_a_booked_session_finds_it_as_hers_and_a_colleague_can_take_it() {
    let Rig {
        app, clock, smtp, ..
    } = rig(Backend::Sqlite, SmtpMode::Accept, false).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let priya_id = app.staff_id(PRIYA.0);
    let booked = book(
        &app,
        &scheduler,
        json!({"booking": {
            "provider": priya_id,
            "starts_at": clock.now().as_millis() + 30 * HOUR,
            "guests": [{"name": "Cam Guest", "contact": {"email": "cam@example.org"}}],
            "service_type": "Check-up"
        }}),
    )
    .await;
    let id = booked.body["visit"]["id"].as_str().unwrap().to_owned();

    let mail = eventually(10, "the provider's booking email", || async {
        smtp.to("priya@demo.clinic", "Session booked")
            .into_iter()
            .next()
    })
    .await;
    assert!(mail.body().contains("Cam Guest"), "{}", mail.body());
    assert!(
        mail.body().contains("waits in your queue"),
        "{}",
        mail.body()
    );

    // What the API lists for a member of staff: the scheduled session.
    let session_in = |snapshot: Value| -> Value {
        snapshot["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("the session is not listed: {snapshot}"))
    };
    let priya = app.sign_in(PRIYA).await;
    let listed = session_in(app.get("/v1/snapshot", &priya).await.body);
    assert_eq!(listed["status"], "scheduled");
    assert_eq!(listed["booking"]["provider"], priya_id.as_str());
    assert_eq!(listed["assigned_provider"], priya_id.as_str(), "hers");
    let version = listed["version"].as_u64().unwrap();
    let again = app
        .command(
            &priya,
            &id,
            "assign",
            version,
            Some(json!({"provider": priya_id})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        again.body
    );
    assert!(
        again.body["message"]
            .as_str()
            .unwrap()
            .contains("already assigned")
    );
    assert_eq!(
        app.visit(&priya, &id).await["version"],
        version,
        "nothing changed"
    );

    // Dr. Haddad covers: he finds it and takes it.
    let omar_id = app.staff_id(frontdesk_testkit::OMAR.0);
    let omar = app.sign_in(frontdesk_testkit::OMAR).await;
    let listed = session_in(app.get("/v1/snapshot", &omar).await.body);
    let taken = app
        .command(
            &omar,
            &id,
            "assign",
            listed["version"].as_u64().unwrap(),
            Some(json!({"provider": omar_id})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{:?}", taken.body);
    for who in [&omar, &priya] {
        let listed = session_in(app.get("/v1/snapshot", who).await.body);
        assert_eq!(listed["status"], "scheduled");
        assert_eq!(listed["assigned_provider"], omar_id.as_str(), "{listed}");
        let last = listed["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["actor"]["id"], omar_id.as_str(), "{last}");
    }
}
