//! The small clinic the UI fixtures are recorded in: Harbour Street Clinic with a shared
//! Reception and two providers' rooms, five members of staff, and a patient in every open
//! status, each brought there by the domain's own commands. Fixed ids and times throughout.

use frontdesk_api::{Clinic, RoomInfo, StaffInfo};
use frontdesk_client::state::ClinicState;
use frontdesk_domain::{
    Actor, Availability, Booking, ClinicId, Command, Contact, Context, Guest, IntakeAnswer, Label,
    MessageText, Note, Opening, Patient, PersonName, Priority, Role, Roles, RoomId, StaffId,
    Timestamp, Visit, VisitId, apply, open,
};
use std::collections::BTreeMap;

pub(crate) const MIN: i64 = 60_000;
/// 2026-11-21 09:30 UTC: the moment every view is built at.
pub(crate) const NOW: i64 = 1_795_253_400_000;
const CLINIC: ClinicId = ClinicId::from_u128(0xc1);

fn at(minutes_ago: i64) -> Timestamp {
    Timestamp(NOW - minutes_ago * MIN)
}

pub(crate) fn note(text: &str) -> Note {
    Note::parse(text).expect("a valid note")
}

/// A member of staff, known in the file by a key that says what they do.
pub(crate) struct Person {
    pub(crate) key: &'static str,
    pub(crate) info: StaffInfo,
}

impl Person {
    pub(crate) fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.info.id,
            roles: self.info.roles,
        }
    }
}

pub(crate) struct SmallClinic {
    pub(crate) rooms: Vec<(&'static str, RoomInfo)>,
    pub(crate) people: Vec<Person>,
    /// Visit key → visit, in the order they were opened.
    pub(crate) visits: Vec<(&'static str, Visit)>,
}

impl SmallClinic {
    pub(crate) fn room(&self, key: &str) -> RoomId {
        self.rooms.iter().find(|(k, _)| *k == key).expect(key).1.id
    }

    pub(crate) fn person(&self, key: &str) -> &Person {
        self.people.iter().find(|p| p.key == key).expect(key)
    }

    pub(crate) fn visit(&self, key: &str) -> &Visit {
        &self.visits.iter().find(|(k, _)| *k == key).expect(key).1
    }

    /// The clinic as `person`'s console holds it.
    pub(crate) fn state_for(&self, person: &Person) -> ClinicState {
        let mut state = ClinicState::default();
        state.clinic = Some(Clinic {
            id: CLINIC,
            slug: "harbour".into(),
            name: "Harbour Street Clinic".into(),
            time_zone: "UTC".into(),
            // Calls have join links: those in a call are offered "Open call".
            video_link_template: Some("https://video.harbour.test/{clinic}/{visit}".into()),
            nameless_alerts: false,
            open_link_hours: None,
        });
        state.me = Some(person.info.clone());
        state.as_of = Some(Timestamp(NOW));
        state.rooms = self.rooms.iter().map(|(_, r)| (r.id, r.clone())).collect();
        state.staff = self
            .people
            .iter()
            .map(|p| (p.info.id, p.info.clone()))
            .collect();
        state.visits = self
            .visits
            .iter()
            .map(|(_, v)| (v.id, Box::new(v.clone())))
            .collect();
        state
    }
}

fn room(n: u128, name: &str, provider: Option<StaffId>) -> RoomInfo {
    RoomInfo {
        id: RoomId::from_u128(n),
        clinic_id: CLINIC,
        name: name.into(),
        provider,
        office_hours: Vec::new(),
        emergency_info: None,
        waiting_message: None,
        intake_questions: Vec::new(),
        after_hours: Default::default(),
        show_place_in_line: false,
        minutes_per_patient: None,
    }
}

fn person(
    key: &'static str,
    n: u128,
    name: &str,
    email: &str,
    roles: &[Role],
    availability: Availability,
    rooms: Vec<RoomId>,
) -> Person {
    Person {
        key,
        info: StaffInfo {
            id: StaffId::from_u128(n),
            clinic_id: CLINIC,
            name: name.into(),
            email: email.into(),
            phone: None,
            roles: Roles::of(roles),
            availability,
            rooms,
            all_rooms: false,
            deactivated: false,
        },
    }
}

/// Runs one command that must be accepted: how the fixtures' visits reach their status.
fn act(visit: Visit, actor: Actor, minutes_ago: i64, command: Command) -> Visit {
    let ctx = Context {
        actor,
        at: at(minutes_ago),
        expected_version: Some(visit.version),
    };
    apply(&visit, &ctx, &command)
        .unwrap_or_else(|e| panic!("setting up the clinic: {command} refused: {e}"))
        .visit
}

fn opened(n: u128, actor: Actor, minutes_ago: i64, opening: Opening) -> Visit {
    let ctx = Context {
        actor,
        at: at(minutes_ago),
        expected_version: None,
    };
    open(VisitId::from_u128(n), CLINIC, &ctx, opening)
        .expect("the visit opens")
        .visit
}

fn patient(name: &str) -> Patient {
    Patient {
        name: PersonName::parse(name).expect("a name"),
        contact: None,
    }
}

fn arrival(room: RoomId, name: &str, has_intake: bool) -> Opening {
    Opening::Arrive {
        room,
        patient: patient(name),
        has_intake,
        after_hours: false,
    }
}

/// Harbour Street Clinic: a shared Reception and two providers' rooms; an admin, a receptionist,
/// two providers and a scheduler; a patient in every open status.
pub(crate) fn harbour_street() -> SmallClinic {
    let lee = StaffId::from_u128(0x5e3);
    let okafor = StaffId::from_u128(0x5e4);
    let rooms = vec![
        ("reception", room(0x7001, "Reception", None)),
        ("lee_room", room(0x7002, "Dr Lee's room", Some(lee))),
        (
            "okafor_room",
            room(0x7003, "Dr Okafor's room", Some(okafor)),
        ),
    ];
    let reception = rooms[0].1.id;
    let lee_room = rooms[1].1.id;
    let okafor_room = rooms[2].1.id;
    let people = vec![
        person(
            "admin",
            0x5e1,
            "Priya Shah",
            "priya@harbour.example",
            &[Role::Admin],
            Availability::Available,
            Vec::new(),
        ),
        person(
            "receptionist",
            0x5e2,
            "Rosa Martinez",
            "rosa@harbour.example",
            &[Role::Receptionist],
            Availability::Available,
            Vec::new(),
        ),
        person(
            "provider",
            0x5e3,
            "Dr Amir Lee",
            "lee@harbour.example",
            &[Role::Provider],
            Availability::Available,
            vec![reception, lee_room],
        ),
        person(
            "second_provider",
            0x5e4,
            "Dr Sara Okafor",
            "okafor@harbour.example",
            &[Role::Provider],
            Availability::Busy,
            vec![reception, okafor_room],
        ),
        person(
            "scheduler",
            0x5e5,
            "Jamie Fox",
            "jamie@harbour.example",
            &[Role::Scheduler],
            Availability::Available,
            Vec::new(),
        ),
    ];
    let staff = |key: &str| people.iter().find(|p| p.key == key).expect(key).actor();
    let (rosa, amir, sara, jamie) = (
        staff("receptionist"),
        staff("provider"),
        staff("second_provider"),
        staff("scheduler"),
    );
    // Patients act through their own links.
    let front_door = Actor::Patient;

    // Maria filled in the intake form; reception made her an emergency and messaged her.
    let mut waiting = opened(
        0xa1,
        front_door,
        6,
        arrival(reception, "Maria Gonzalez", true),
    );
    let answers = BTreeMap::from([
        (
            Label::parse("reason_for_visit").expect("label"),
            IntakeAnswer::parse("Chest pain since this morning").expect("answer"),
        ),
        (
            Label::parse("allergies").expect("label"),
            IntakeAnswer::parse("Penicillin").expect("answer"),
        ),
    ]);
    waiting = act(waiting, front_door, 5, Command::UpdateIntake { answers });
    waiting = act(waiting, front_door, 4, Command::FinishIntake);
    waiting = act(
        waiting,
        rosa,
        3,
        Command::SetPriority {
            priority: Priority::Emergency,
            note: Some(note("Chest pain, short of breath")),
        },
    );
    waiting = act(
        waiting,
        rosa,
        2,
        Command::Message {
            text: MessageText::parse("A provider will be with you shortly").expect("text"),
        },
    );

    // Liam waits in Reception, assigned to Dr Lee.
    let mut assigned = opened(
        0xa2,
        front_door,
        12,
        arrival(reception, "Liam O'Brien", false),
    );
    assigned = act(
        assigned,
        rosa,
        10,
        Command::Assign {
            provider: lee,
            note: None,
        },
    );

    // Chen is still on the intake form.
    let intake = opened(0xa3, front_door, 1, arrival(reception, "Chen Wei", true));

    // Fatima is in a call with Dr Okafor.
    let mut in_call = opened(
        0xa4,
        front_door,
        19,
        arrival(okafor_room, "Fatima Noor", false),
    );
    in_call = act(in_call, sara, 15, Command::Claim);

    // Tom was seen by Dr Lee, who stepped out: he waits on hold.
    let mut on_hold = opened(
        0xa5,
        front_door,
        31,
        arrival(reception, "Tom Becker", false),
    );
    on_hold = act(on_hold, amir, 20, Command::Claim);
    on_hold = act(on_hold, amir, 7, Command::LeaveCall);

    // Two requests, each to a named provider.
    let request = |n, name, room, provider, minutes_ago| {
        opened(
            n,
            front_door,
            minutes_ago,
            Opening::Request {
                room,
                patient: patient(name),
                provider,
                provider_availability: Availability::Available,
            },
        )
    };
    let requested = request(0xa6, "Grace Kim", lee_room, lee, 4);
    let requested_other = request(0xa7, "Hana Sato", okafor_room, okafor, 3);

    // Two sessions booked for later today, one with each provider.
    let booked = |n, guest: &str, email: &str, room, provider, starts_in: i64| {
        let booking = Booking {
            provider,
            starts_at: Timestamp(NOW + starts_in * MIN),
            duration_mins: 30,
            guests: vec![Guest {
                name: PersonName::parse(guest).expect("a name"),
                contact: Contact::parse(None, Some(email)).expect("a contact"),
                arrived: false,
            }],
            service_type: Some(Label::parse("Follow-up").expect("label")),
            location: None,
            staff: Vec::new(),
        };
        opened(n, jamie, 60, Opening::Schedule { room, booking })
    };
    let scheduled = booked(
        0xa8,
        "Peter Novak",
        "peter@example.org",
        okafor_room,
        okafor,
        25,
    );
    let scheduled_other = booked(
        0xa9,
        "Olivia Brown",
        "olivia@example.org",
        lee_room,
        lee,
        100,
    );

    SmallClinic {
        rooms,
        people,
        visits: vec![
            ("waiting", waiting),
            ("waiting_assigned", assigned),
            ("intake", intake),
            ("in_call", in_call),
            ("on_hold", on_hold),
            ("requested", requested),
            ("requested_other", requested_other),
            ("scheduled", scheduled),
            ("scheduled_other", scheduled_other),
        ],
    }
}
