//! A second clinic beside the demo one, for the tests that show no clinic sees another's
//! patients, rooms or figures.

use crate::server::TestServer;
use frontdesk_domain::Role;
use frontdesk_server::HashCost;
use frontdesk_server::admin::{self, NewRoom, NewStaff};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The other clinic (slug `other`): its front desk room, its admin Olga (also at the desk),
/// signed in, and Pat, who came through its front door.
#[derive(Debug, Clone)]
pub struct OtherClinic {
    pub room: String,
    pub staff: String,
    /// Olga's session token.
    pub token: String,
    /// Pat's visit and patient token.
    pub visit: String,
    pub patient: String,
}

impl TestServer {
    /// Creates the other clinic, its room and admin, and Pat's arrival there (now, by the
    /// server's clock).
    pub async fn other_clinic(&self) -> OtherClinic {
        let store = self.server().store();
        let now = self.server().state.now();
        let clinic = admin::create_clinic(store, "other", "Other Clinic")
            .await
            .expect("the other clinic is created");
        let room = NewRoom {
            name: "Front desk".into(),
            ..NewRoom::default()
        };
        let room = admin::create_room(store, clinic.id, room, now)
            .await
            .expect("its room is created");
        let olga = NewStaff {
            name: "Olga Other".into(),
            email: "olga@other.clinic".into(),
            roles: vec![Role::Admin, Role::Receptionist],
            password: "other-password".into(),
            pin: None,
            rooms: vec![room.id],
            all_rooms: false,
            availability: None,
            phone: None,
        };
        let olga = admin::create_staff(store, clinic.id, olga, HashCost::Fast, now)
            .await
            .expect("its admin is created");
        let path = format!("/v1/join/other/{}", room.id);
        let pat = json!({"name": "Pat Other", "phone": "0400 000 003"});
        let a = self.send(Method::POST, &path, None, Some(pat), &[]).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        OtherClinic {
            room: room.id.to_string(),
            staff: olga.id.to_string(),
            token: self
                .sign_in_at("other", "olga@other.clinic", "other-password")
                .await,
            visit: a.body["visit"]["id"].as_str().expect("a visit").into(),
            patient: a.body["patient_token"].as_str().expect("a token").into(),
        }
    }
}
