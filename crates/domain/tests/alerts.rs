//! The alert rules as a table: which change alerts whom.

mod common;
use common::*;
use frontdesk_domain::alerts::{Reason, Recipient, alerts_for, coalesce};
use frontdesk_domain::*;

/// A visit as it stands, and the entries its last change added.
type Case = (Visit, Vec<HistoryEntry>);

/// A visit as it stands after `steps`, and the entries the last step added.
fn after(start: Visit, steps: &[(Actor, Command)]) -> Case {
    let mut visit = start;
    let mut entries = visit.history.clone();
    for (i, (actor, command)) in steps.iter().enumerate() {
        let out = apply(&visit, &ctx(*actor, i as i64 + 1), command).unwrap();
        visit = out.visit;
        entries = out.entries;
    }
    (visit, entries)
}

fn recipient(me: StaffId, rooms: &'static [RoomId]) -> Recipient<'static> {
    Recipient {
        me,
        is_provider: me == DR_LEE || me == DR_OKAFOR,
        availability: Availability::Available,
        subscribed_rooms: rooms,
        first_in_queue_only: false,
    }
}

fn reasons(r: &Recipient<'_>, case: &Case) -> Vec<Reason> {
    alerts_for(r, &case.0, &case.1, 0)
        .into_iter()
        .map(|a| a.reason)
        .collect()
}

const AT_RECEPTION: &[RoomId] = &[RECEPTION];
const NOWHERE: &[RoomId] = &[];
const LEES_ROOM: &[RoomId] = &[DR_LEE_ROOM];

#[test]
fn the_alert_table() {
    let arrival = after(arrive(1, 0, false), &[]);
    let intake_arrival = after(arrive(1, 0, true), &[]);
    let to_lee_request = (
        request(1, Availability::Available).visit,
        request(1, Availability::Available).entries,
    );
    let auto_declined = (
        request(1, Availability::Unavailable).visit,
        request(1, Availability::Unavailable).entries,
    );
    let assigned = after(
        arrive(1, 0, false),
        &[(
            reception(),
            Command::Assign {
                provider: DR_LEE,
                note: None,
            },
        )],
    );
    let to_lee = after(
        arrive(1, 0, false),
        &[(
            reception(),
            Command::Transfer {
                to: TransferTarget::Provider {
                    provider: DR_LEE,
                    room: DR_LEE_ROOM,
                },
                note: None,
            },
        )],
    );
    let on_hold_for_lee = after(
        arrive(1, 0, false),
        &[
            (
                reception(),
                Command::Assign {
                    provider: DR_LEE,
                    note: None,
                },
            ),
            (reception(), Command::Claim),
            (reception(), Command::LeaveCall),
        ],
    );
    let on_hold_unassigned = after(
        arrive(1, 0, false),
        &[
            (reception(), Command::Claim),
            (reception(), Command::LeaveCall),
        ],
    );
    let claimed = after(arrive(1, 0, false), &[(reception(), Command::Claim)]);
    let guest_joined = after(
        schedule(1),
        &[(Actor::Patient, Command::GuestArrive { guest: 0 })],
    );
    let message = after(
        arrive(1, 0, false),
        &[(
            reception(),
            Command::Message {
                text: MessageText::parse("hi").unwrap(),
            },
        )],
    );

    use Reason::*;
    let table: Vec<(&str, Recipient<'static>, &Case, Vec<Reason>)> = vec![
        (
            "arrival, subscribed",
            recipient(RECEPTIONIST, AT_RECEPTION),
            &arrival,
            vec![Arrived],
        ),
        (
            "arrival in intake, subscribed",
            recipient(RECEPTIONIST, AT_RECEPTION),
            &intake_arrival,
            vec![Arrived],
        ),
        (
            "arrival, not subscribed",
            recipient(RECEPTIONIST, NOWHERE),
            &arrival,
            vec![],
        ),
        (
            "arrival elsewhere",
            recipient(DR_LEE, LEES_ROOM),
            &arrival,
            vec![],
        ),
        (
            "request to me",
            recipient(DR_LEE, NOWHERE),
            &to_lee_request,
            vec![RequestToMe],
        ),
        (
            "request to someone else",
            recipient(DR_OKAFOR, NOWHERE),
            &to_lee_request,
            vec![],
        ),
        (
            "request declined at once",
            recipient(DR_LEE, NOWHERE),
            &auto_declined,
            vec![],
        ),
        (
            "assigned to me",
            recipient(DR_LEE, NOWHERE),
            &assigned,
            vec![AssignedToMe],
        ),
        (
            "assigned to someone else",
            recipient(DR_OKAFOR, NOWHERE),
            &assigned,
            vec![],
        ),
        (
            "transferred to me",
            recipient(DR_LEE, NOWHERE),
            &to_lee,
            vec![AssignedToMe],
        ),
        (
            "transferred into my subscribed room",
            recipient(ADMIN, LEES_ROOM),
            &to_lee,
            vec![Arrived],
        ),
        (
            "on hold, my patient",
            recipient(DR_LEE, NOWHERE),
            &on_hold_for_lee,
            vec![ReadyForProvider],
        ),
        (
            "on hold, someone else's",
            recipient(DR_OKAFOR, AT_RECEPTION),
            &on_hold_for_lee,
            vec![],
        ),
        (
            "on hold, unassigned, provider of the room",
            recipient(DR_OKAFOR, AT_RECEPTION),
            &on_hold_unassigned,
            vec![ReadyForProvider],
        ),
        (
            "on hold, receptionist",
            recipient(RECEPTIONIST, AT_RECEPTION),
            &on_hold_unassigned,
            vec![],
        ),
        (
            "a claim is not news",
            recipient(DR_LEE, AT_RECEPTION),
            &claimed,
            vec![],
        ),
        (
            "guest joins my session",
            recipient(DR_LEE, NOWHERE),
            &guest_joined,
            vec![AssignedToMe],
        ),
        (
            "guest joins, room subscriber",
            recipient(RECEPTIONIST, LEES_ROOM),
            &guest_joined,
            vec![Arrived],
        ),
        (
            "a staff message is not news",
            recipient(DR_LEE, AT_RECEPTION),
            &message,
            vec![],
        ),
    ];
    for (name, r, case, expected) in table {
        assert_eq!(reasons(&r, case), expected, "{name}");
    }
}

#[test]
fn unavailable_means_no_alerts() {
    let arrival = after(arrive(1, 0, false), &[]);
    let mut r = recipient(RECEPTIONIST, AT_RECEPTION);
    for availability in [
        Availability::Available,
        Availability::OnCall,
        Availability::Busy,
        Availability::Away,
    ] {
        r.availability = availability;
        assert_eq!(reasons(&r, &arrival).len(), 1, "{availability:?}");
    }
    r.availability = Availability::Unavailable;
    assert!(reasons(&r, &arrival).is_empty());
}

#[test]
fn nobody_is_alerted_for_what_they_did_themselves() {
    let to_lee = after(
        arrive(1, 0, false),
        &[(
            dr_lee(),
            Command::Assign {
                provider: DR_LEE,
                note: None,
            },
        )],
    );
    assert!(reasons(&recipient(DR_LEE, NOWHERE), &to_lee).is_empty());
}

#[test]
fn catching_up_does_not_announce_what_is_already_over() {
    // The arrival is seen only after the patient has left: the whole history is new.
    let (gone, _) = after(arrive(1, 0, false), &[(Actor::Patient, Command::Leave)]);
    let all = gone.history.clone();
    assert!(alerts_for(&recipient(RECEPTIONIST, AT_RECEPTION), &gone, &all, 0).is_empty());
    // Seen after being claimed: no "is waiting" either.
    let (claimed, _) = after(arrive(1, 0, false), &[(reception(), Command::Claim)]);
    let all = claimed.history.clone();
    assert!(alerts_for(&recipient(DR_LEE, AT_RECEPTION), &claimed, &all, 0).is_empty());
    // Still waiting: one alert, keyed to the arrival, the same key every time it is seen.
    let (waiting, _) = after(
        arrive(1, 0, false),
        &[(
            reception(),
            Command::Message {
                text: MessageText::parse("hi").unwrap(),
            },
        )],
    );
    let all = waiting.history.clone();
    let first = alerts_for(&recipient(DR_LEE, AT_RECEPTION), &waiting, &all, 0);
    let again = alerts_for(&recipient(DR_LEE, AT_RECEPTION), &waiting, &all, 0);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].key(), again[0].key());
    assert_eq!(
        first[0].version, 1,
        "keyed to the arrival, not to the latest change"
    );
}

#[test]
fn first_in_queue_only_alerts_for_the_first_arrival() {
    let arrival = after(arrive(1, 0, false), &[]);
    let mut r = recipient(RECEPTIONIST, AT_RECEPTION);
    r.first_in_queue_only = true;
    assert_eq!(
        alerts_for(&r, &arrival.0, &arrival.1, 0).len(),
        1,
        "nobody ahead"
    );
    assert!(
        alerts_for(&r, &arrival.0, &arrival.1, 2).is_empty(),
        "two ahead: only shown"
    );
    // Other reasons are not affected.
    let assigned = after(
        arrive(1, 0, false),
        &[(
            reception(),
            Command::Assign {
                provider: DR_LEE,
                note: None,
            },
        )],
    );
    let mut lee = recipient(DR_LEE, NOWHERE);
    lee.first_in_queue_only = true;
    assert_eq!(alerts_for(&lee, &assigned.0, &assigned.1, 3).len(), 1);
}

#[test]
fn bursts_of_arrivals_are_folded_into_one_notice_per_room() {
    let r = recipient(ADMIN, &[RECEPTION, DR_LEE_ROOM]);
    let mut alerts = Vec::new();
    for (i, name) in ["Ana", "Ben", "Cai", "Dee"].iter().enumerate() {
        let v = open(
            VisitId::from_u128(i as u128 + 1),
            CLINIC,
            &ctx(Actor::Patient, 0),
            Opening::Arrive {
                room: RECEPTION,
                patient: patient(name),
                has_intake: false,
                after_hours: false,
            },
        )
        .unwrap();
        alerts.extend(alerts_for(&r, &v.visit, &v.entries, 0));
    }
    let urgent = ok(
        &arrive(9, 0, false),
        reception(),
        1,
        Command::Transfer {
            to: TransferTarget::Room { room: DR_LEE_ROOM },
            note: None,
        },
    );
    let urgent = ok(
        &urgent,
        reception(),
        2,
        Command::SetPriority {
            priority: Priority::Urgent,
            note: None,
        },
    );
    alerts.extend(alerts_for(&r, &urgent, &urgent.history[1..2], 0));
    let names = |room: RoomId| {
        if room == RECEPTION {
            "Reception".into()
        } else {
            "Dr Lee".to_string()
        }
    };
    let notices = coalesce(alerts, names);
    let shown: Vec<(&str, &str)> = notices
        .iter()
        .map(|n| (n.summary.as_str(), n.body.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("4 patients arrived in Reception", "Ana, Ben, Cai, Dee"),
            ("Urgent: Ana P. is waiting", "Arrived in Dr Lee"),
        ]
    );
    assert_eq!(
        notices[0].alerts.len(),
        4,
        "each arrival is still accounted for"
    );
}
