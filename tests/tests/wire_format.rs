//! The wire format the server and the console share. Both sides, and any clinic's integration,
//! depend on these shapes: if this test fails, a client somewhere breaks. Change it only
//! together with a versioned API change.

use frontdesk_domain::*;
use serde_json::json;

const CLINIC: ClinicId = ClinicId::from_u128(1);
const RECEPTION: RoomId = RoomId::from_u128(0x10);
const DR_LEE_ROOM: RoomId = RoomId::from_u128(0x11);
const DR_LEE: StaffId = StaffId::from_u128(0x102);
const DESK: StaffId = StaffId::from_u128(0x101);

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_millis(1_790_000_000_000) + Span::from_mins(minutes)
}

#[test]
fn commands_are_tagged_by_name() {
    let transfer = Command::Transfer {
        to: TransferTarget::Provider {
            provider: DR_LEE,
            room: DR_LEE_ROOM,
        },
        note: Some(Note::parse("Repeat prescription").unwrap()),
    };
    assert_eq!(
        serde_json::to_value(&transfer).unwrap(),
        json!({
            "command": "transfer",
            "to": {"kind": "provider", "provider": "00000000-0000-0000-0000-000000000102",
                   "room": "00000000-0000-0000-0000-000000000011"},
            "note": "Repeat prescription"
        })
    );
    let parsed: Command = serde_json::from_value(json!({"command": "claim"})).unwrap();
    assert_eq!(parsed, Command::Claim);
    let bad = serde_json::from_value::<Command>(json!({"command": "message", "text": "  "}));
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("message: must not be empty")
    );
}

#[test]
fn a_visit_and_its_history_serialize_as_documented() {
    let opened = open(
        VisitId::from_u128(0xABC),
        CLINIC,
        &Context {
            actor: Actor::Patient,
            at: at(0),
            expected_version: None,
        },
        Opening::Arrive {
            room: RECEPTION,
            patient: Patient {
                name: PersonName::parse("Ana P.").unwrap(),
                contact: Some(Contact::parse(None, Some("ana@example.org")).unwrap()),
            },
            has_intake: false,
            after_hours: false,
        },
    )
    .unwrap();
    let claimed = apply(
        &opened.visit,
        &Context {
            actor: Actor::staff(DESK, &[Role::Receptionist]),
            at: at(2),
            expected_version: Some(1),
        },
        &Command::Claim,
    )
    .unwrap();
    let value = serde_json::to_value(&claimed.visit).unwrap();
    assert_eq!(
        value,
        json!({
            "id": "00000000-0000-0000-0000-000000000abc",
            "clinic_id": "00000000-0000-0000-0000-000000000001",
            "room_id": "00000000-0000-0000-0000-000000000010",
            "status": "in_call",
            "priority": "routine",
            "patient": {"name": "Ana P.", "contact": {"email": "ana@example.org"}},
            "intake": {},
            "intake_finished": true,
            "created_at": 1_790_000_000_000_i64,
            "arrived_at": 1_790_000_000_000_i64,
            "in_call": ["00000000-0000-0000-0000-000000000101"],
            "seen_by": ["00000000-0000-0000-0000-000000000101"],
            "messages": [],
            "after_hours": false,
            "version": 2,
            "updated_at": 1_790_000_120_000_i64,
            "history": [
                {
                    "version": 1,
                    "at": 1_790_000_000_000_i64,
                    "actor": {"kind": "patient"},
                    "change": {
                        "type": "opened",
                        "clinic_id": "00000000-0000-0000-0000-000000000001",
                        "room_id": "00000000-0000-0000-0000-000000000010",
                        "patient": {"name": "Ana P.", "contact": {"email": "ana@example.org"}},
                        "status": "waiting",
                        "priority": "routine",
                        "after_hours": false
                    },
                    "status": "waiting"
                },
                {
                    "version": 2,
                    "at": 1_790_000_120_000_i64,
                    "actor": {"kind": "staff", "id": "00000000-0000-0000-0000-000000000101"},
                    "change": {"type": "claimed", "staff": "00000000-0000-0000-0000-000000000101"},
                    "status": "in_call"
                }
            ]
        })
    );
    // And it reads back to the same visit.
    let back: Visit = serde_json::from_value(value).unwrap();
    assert_eq!(back, claimed.visit);

    // The event of the claim carries the change, not the visit.
    let event = frontdesk_api::Event {
        seq: 12,
        clinic_id: CLINIC,
        at: at(2),
        body: frontdesk_api::EventBody::Visit {
            visit_id: claimed.visit.id,
            version: claimed.visit.version,
            entries: claimed.entries.clone(),
        },
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({
            "seq": 12,
            "clinic_id": "00000000-0000-0000-0000-000000000001",
            "at": 1_790_000_120_000_i64,
            "kind": "visit",
            "visit_id": "00000000-0000-0000-0000-000000000abc",
            "version": 2,
            "entries": [{
                "version": 2,
                "at": 1_790_000_120_000_i64,
                "actor": {"kind": "staff", "id": "00000000-0000-0000-0000-000000000101"},
                "change": {"type": "claimed", "staff": "00000000-0000-0000-0000-000000000101"},
                "status": "in_call"
            }]
        })
    );
}

#[test]
fn errors_have_stable_codes() {
    let cases = [
        (
            DomainError::InvalidTransition {
                command: "claim",
                status: Status::Completed,
            },
            "invalid_transition",
        ),
        (
            DomainError::AlreadyClaimed { by: vec![DESK] },
            "already_claimed",
        ),
        (
            DomainError::VersionConflict {
                expected: 1,
                actual: 2,
            },
            "version_conflict",
        ),
        (
            DomainError::Forbidden {
                command: "claim",
                role_hint: "a patient",
            },
            "forbidden",
        ),
        (
            DomainError::Invalid(InputError::new("note", "must not be empty")),
            "validation",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
    }
}

#[test]
fn a_station_hands_its_stream_over_with_reauth_frames() {
    use frontdesk_api::{ClientFrame, Frame};
    let reauth = ClientFrame::Reauth {
        token: "fd_staff_abc".into(),
    };
    assert_eq!(
        serde_json::to_value(&reauth).unwrap(),
        json!({"type": "reauth", "token": "fd_staff_abc"})
    );
    assert_eq!(
        format!("{reauth:?}"),
        "Reauth { .. }",
        "no token in the logs"
    );
    let taken: Frame = serde_json::from_value(json!({
        "type": "reauthed", "staff": "00000000-0000-0000-0000-000000000102", "seq": 41
    }))
    .unwrap();
    assert_eq!(
        taken,
        Frame::Reauthed {
            staff: DR_LEE,
            seq: 41
        }
    );
    let refused: Frame = serde_json::from_value(json!({
        "type": "error", "code": "forbidden", "message": "not this station's"
    }))
    .unwrap();
    assert_eq!(
        refused,
        Frame::Error {
            code: "forbidden".into(),
            message: "not this station's".into()
        }
    );
}
