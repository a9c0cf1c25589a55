//! The Admin workspace through the console: an admin's calls reach the clinic server with
//! their session and come back as the UI shows them (a room with its front-door link, the
//! server's refusal naming its field); a receptionist's are refused by the server.

use crate::rig::{json, rig};
use frontdesk_api::admin::{NewRoom, StaffChange};
use frontdesk_api::{IntakeQuestion, OfficeHours};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_room_and_a_refusal_names_its_field() {
    let rig = rig().await;
    rig.console
        .sign_in(&rig.address, "admin@demo.clinic", "demo-admin", false)
        .await
        .unwrap();
    rig.state_until("the clinic loaded", |s| s["clinic"]["slug"] == "demo")
        .await;

    // Hours tried out before saving: no hours, always open.
    let preview = rig.console.preview_hours(vec![]).await.unwrap();
    assert!(preview.open);
    assert_eq!(preview.time_zone, "UTC");

    let room = NewRoom {
        name: "Skin clinic".into(),
        office_hours: vec![OfficeHours {
            day: 2,
            opens: "09:00".into(),
            closes: "12:00".into(),
        }],
        intake_questions: vec![IntakeQuestion::text("What brings you in?")],
        ..NewRoom::default()
    };
    let saved = rig.console.save_room(None, room).await.unwrap();
    assert_eq!(saved.room.name, "Skin clinic");
    assert_eq!(
        saved.front_door,
        format!("{}/join/demo/{}", rig.url, saved.room.id)
    );
    assert!(saved.button_html.contains(&saved.front_door));
    let rooms = rig.console.admin_rooms().await.unwrap();
    assert!(rooms.iter().any(|r| r.room == saved.room));

    // The server's refusal, with the field it names, as the UI gets it.
    let refused = rig
        .console
        .save_room(Some(saved.room.id), NewRoom::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "validation");
    assert_eq!(refused.field.as_deref(), Some("name"));
    assert_eq!(json(&refused)["field"], "name");

    // Staff: a receptionist's rooms changed, then deactivated.
    let staff = rig.console.admin_staff().await.unwrap();
    let rita = staff
        .iter()
        .find(|s| s.email == "reception@demo.clinic")
        .unwrap();
    let change = StaffChange {
        rooms: Some(vec![saved.room.id]),
        all_rooms: Some(false),
        ..StaffChange::default()
    };
    let changed = rig.console.change_staff(rita.id, change).await.unwrap();
    assert_eq!(changed.rooms, vec![saved.room.id]);
    let refused = rig
        .console
        .set_staff_pin(rita.id, "12ab")
        .await
        .unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("pin"));
    rig.console.set_staff_pin(rita.id, "4321").await.unwrap();
    let off = rig.console.set_staff_active(rita.id, false).await.unwrap();
    assert!(off.deactivated);
    // No one deactivates themselves: the server says so.
    let me = staff
        .iter()
        .find(|s| s.email == "admin@demo.clinic")
        .unwrap();
    let refused = rig
        .console
        .set_staff_active(me.id, false)
        .await
        .unwrap_err();
    assert!(refused.message.contains("your own account"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receptionist_is_refused_the_admin_calls_by_the_server() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let refused = rig.console.admin_stations().await.unwrap_err();
    assert_eq!(refused.code, "forbidden");
    let refused = rig.console.deliveries(None).await.unwrap_err();
    assert_eq!(refused.code, "forbidden");
    let refused = rig
        .console
        .save_room(None, NewRoom::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forbidden");
}
