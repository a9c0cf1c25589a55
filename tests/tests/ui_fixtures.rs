//! The console's UI tests and its browser sample run on answers the real engine gave, not on a
//! copy of its rules. This test builds a small clinic, asks the domain and the engine's view
//! what each member of staff sees and what each action they are offered would do, and writes
//! it all to `ui/src/fixtures/engine.json`; it fails when the committed file is stale.
//! `FRONTDESK_WRITE_UI_FIXTURES=1 cargo test -p frontdesk-tests --test ui_fixtures` rewrites it.
//!
//! The file holds, with fixed ids and times:
//! - `now`, `staff` (person key → staff id), `rooms` (room key → room id);
//! - `visits`: visit key → the domain's `Visit` as it stands at `now`;
//! - `people`: person key → `{ view, answers }`, where `view` is the engine's `View` for that
//!   person and `answers[visit key]` lists, for every action the view offers on that visit
//!   (with a valid payload), `{ command, from_version, result }` (`from_version`: the version
//!   the person acted on), where `result` is either
//!   `{ accepted: { list, row, entries } }` (the list the visit now shows in for that person,
//!   `null` once it has left their lists; its row as the view builds it; the history entries
//!   the command added, as the event carries them) or `{ refused: { code, message, held_by } }`;
//! - `refusals`: a few attempts the domain refuses, named, in the same shape, with the person
//!   and the key of the visit they saw (someone else may have changed it since).

use frontdesk_api::{Clinic, RoomInfo, StaffInfo, StaffRef};
use frontdesk_client::state::ClinicState;
use frontdesk_client::view::{self, ConnectionState, ConnectionView, QueueRow, View};
use frontdesk_domain::{
    Actor, Availability, Booking, ClinicId, Command, CommandKind, Contact, Context, DomainError,
    Guest, IntakeAnswer, Label, MessageText, Note, Opening, Patient, PersonName, Priority, Role,
    Roles, RoomId, StaffId, Timestamp, TransferTarget, Visit, VisitId, apply, open,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

const MIN: i64 = 60_000;
/// 2026-11-21 09:30 UTC: the moment every view is built at.
const NOW: i64 = 1_795_253_400_000;
const CLINIC: ClinicId = ClinicId::from_u128(0xc1);

fn at(minutes_ago: i64) -> Timestamp {
    Timestamp(NOW - minutes_ago * MIN)
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("a valid note")
}

/// A member of staff, known in the file by a key that says what they do.
struct Person {
    key: &'static str,
    info: StaffInfo,
}

impl Person {
    fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.info.id,
            roles: self.info.roles,
        }
    }
}

struct SmallClinic {
    rooms: Vec<(&'static str, RoomInfo)>,
    people: Vec<Person>,
    /// Visit key → visit, in the order they were opened.
    visits: Vec<(&'static str, Visit)>,
}

impl SmallClinic {
    fn room(&self, key: &str) -> RoomId {
        self.rooms.iter().find(|(k, _)| *k == key).expect(key).1.id
    }

    fn person(&self, key: &str) -> &Person {
        self.people.iter().find(|p| p.key == key).expect(key)
    }

    fn visit(&self, key: &str) -> &Visit {
        &self.visits.iter().find(|(k, _)| *k == key).expect(key).1
    }

    /// The clinic as `person`'s console holds it.
    fn state_for(&self, person: &Person) -> ClinicState {
        let mut state = ClinicState::default();
        state.clinic = Some(Clinic {
            id: CLINIC,
            slug: "harbour".into(),
            name: "Harbour Street Clinic".into(),
            time_zone: "UTC".into(),
            video_link_template: None,
        });
        state.me = Some(person.info.clone());
        state.as_of = Some(Timestamp(NOW));
        state.rooms = self.rooms.iter().map(|(_, r)| (r.id, r.clone())).collect();
        state.staff = self
            .people
            .iter()
            .map(|p| (p.info.id, p.info.clone()))
            .collect();
        state.visits = self.visits.iter().map(|(_, v)| (v.id, v.clone())).collect();
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
fn clinic() -> SmallClinic {
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

fn view_of(state: &ClinicState) -> View {
    let connection = ConnectionView {
        state: ConnectionState::Online,
        since: None,
        as_of: None,
        pending: 0,
    };
    // Today, in the clinic's time zone (UTC): sessions are listed for it.
    let day_start = NOW - NOW.rem_euclid(24 * 60 * MIN);
    let day = (Timestamp(day_start), Timestamp(day_start + 24 * 60 * MIN));
    view::build(state, &[], Vec::new(), connection, Timestamp(NOW), day)
}

/// Where a visit shows in a view, and its row there.
fn shown(view: &View, visit: VisitId) -> (Value, Value) {
    let lists: [(&str, &Vec<QueueRow>); 3] = [
        ("queue", &view.queue),
        ("requests", &view.requests),
        ("sessions", &view.sessions),
    ];
    for (name, rows) in lists {
        if let Some(row) = rows.iter().find(|r| r.visit_id == visit) {
            return (json!(name), json!(row));
        }
    }
    (Value::Null, Value::Null)
}

/// A valid payload for each kind a console offers: a different room or provider, a note.
fn payload(c: &SmallClinic, visit: &Visit, kind: CommandKind) -> Option<Command> {
    let another_provider = || {
        ["provider", "second_provider"]
            .map(|k| c.person(k).info.id)
            .into_iter()
            .find(|p| visit.assigned_provider != Some(*p))
            .expect("two providers")
    };
    Some(match kind {
        CommandKind::Claim => Command::Claim,
        CommandKind::Join => Command::Join,
        CommandKind::LeaveCall => Command::LeaveCall,
        CommandKind::EndCall => Command::EndCall,
        CommandKind::Accept => Command::Accept,
        CommandKind::AcceptAndEnter => Command::AcceptAndEnter,
        CommandKind::MarkNoShow => Command::MarkNoShow,
        CommandKind::Message => Command::Message {
            text: MessageText::parse("We are running 5 minutes late").expect("text"),
        },
        CommandKind::SetPriority => Command::SetPriority {
            priority: if visit.priority == Priority::Urgent {
                Priority::Routine
            } else {
                Priority::Urgent
            },
            note: Some(note("Fever 39.5")),
        },
        CommandKind::Transfer => {
            let to = if visit.room_id == c.room("reception") {
                "lee_room"
            } else {
                "reception"
            };
            Command::Transfer {
                to: TransferTarget::Room { room: c.room(to) },
                note: Some(note("Seen at reception")),
            }
        }
        CommandKind::Assign => Command::Assign {
            provider: another_provider(),
            note: None,
        },
        CommandKind::Decline => Command::Decline {
            note: note("Please call 911 for chest pain."),
        },
        CommandKind::Cancel => Command::Cancel { note: None },
        // The patient's own actions are never offered to staff.
        CommandKind::UpdateIntake
        | CommandKind::FinishIntake
        | CommandKind::Leave
        | CommandKind::GuestArrive => return None,
    })
}

/// What the engine shows after `command` on `visit` by `person`: the new row, or the refusal.
fn answer(
    c: &SmallClinic,
    person: &Person,
    visit: &Visit,
    command: Command,
    version: u64,
) -> Value {
    let ctx = Context {
        actor: person.actor(),
        at: Timestamp(NOW),
        expected_version: command.needs_version().then_some(version),
    };
    let result = match apply(visit, &ctx, &command) {
        Ok(outcome) => {
            let mut state = c.state_for(person);
            state.lay_visit(&outcome.visit);
            let (list, row) = shown(&view_of(&state), visit.id);
            json!({ "accepted": { "list": list, "row": row, "entries": outcome.entries } })
        }
        Err(e) => json!({ "refused": refusal(c, visit, &e) }),
    };
    json!({ "command": command, "from_version": version, "result": result })
}

/// A refusal as the server answers it: its stable code, its message, and on a conflict the
/// staff who hold the patient.
fn refusal(c: &SmallClinic, visit: &Visit, e: &DomainError) -> Value {
    let holders: Vec<StaffId> = match e {
        DomainError::AlreadyClaimed { by } => by.clone(),
        DomainError::Forbidden { .. } | DomainError::Invalid(_) => Vec::new(),
        _ => visit.in_call.clone(),
    };
    let held_by: Vec<StaffRef> = holders
        .iter()
        .filter_map(|id| c.people.iter().find(|p| p.info.id == *id))
        .map(|p| p.info.as_ref())
        .collect();
    json!({
        "code": e.code(),
        "message": e.to_string(),
        "held_by": if held_by.is_empty() { Value::Null } else { json!(held_by) },
    })
}

/// Every action `person` is offered on every visit they see, with what it does.
fn answers_for(c: &SmallClinic, person: &Person, view: &View) -> Value {
    let me = person.info.id;
    let mut by_visit = serde_json::Map::new();
    for (key, visit) in &c.visits {
        let (_, row) = shown(view, visit.id);
        let Ok(row) = serde_json::from_value::<QueueRow>(row) else {
            continue;
        };
        let mut commands: Vec<Command> = row
            .allowed
            .iter()
            .filter_map(|kind| payload(c, visit, *kind))
            .collect();
        if row.takes_session {
            commands.push(Command::Assign {
                provider: me,
                note: None,
            });
        }
        commands.dedup();
        let answers: Vec<Value> = commands
            .into_iter()
            .map(|command| answer(c, person, visit, command, visit.version))
            .collect();
        by_visit.insert((*key).into(), Value::Array(answers));
    }
    Value::Object(by_visit)
}

/// Attempts the domain refuses, named for the UI tests that show them.
fn refusals(c: &SmallClinic) -> Value {
    let lee = c.person("provider");
    // `visit` is the recorded visit the person saw; `now` the visit as the server holds it.
    let attempt = |name: &str, who: &str, visit: &str, now: &Visit, command: Command| {
        let seen = c.visit(visit).version;
        let mut a = answer(c, c.person(who), now, command, seen);
        a["name"] = json!(name);
        a["person"] = json!(who);
        a["visit"] = json!(visit);
        a
    };
    // Dr Lee claimed Maria a moment before reception did.
    let maria = c.visit("waiting");
    let claimed = apply(
        maria,
        &Context {
            actor: lee.actor(),
            at: Timestamp(NOW - 1_000),
            expected_version: Some(maria.version),
        },
        &Command::Claim,
    )
    .expect("Dr Lee claims")
    .visit;
    // Someone messaged Tom after reception last looked, and reception transfers him.
    let tom = c.visit("on_hold");
    let messaged = apply(
        tom,
        &Context {
            actor: lee.actor(),
            at: Timestamp(NOW - 1_000),
            expected_version: None,
        },
        &Command::Message {
            text: MessageText::parse("Back in a moment").expect("text"),
        },
    )
    .expect("Dr Lee messages")
    .visit;
    json!([
        attempt(
            "lost_race",
            "receptionist",
            "waiting",
            &claimed,
            Command::Claim
        ),
        attempt(
            "scheduler_assigns_waiting",
            "scheduler",
            "waiting",
            maria,
            Command::Assign {
                provider: lee.info.id,
                note: None
            },
        ),
        attempt(
            "accept_for_a_colleague",
            "second_provider",
            "requested",
            c.visit("requested"),
            Command::Accept,
        ),
        attempt(
            "stale_transfer",
            "receptionist",
            "on_hold",
            &messaged,
            Command::Transfer {
                to: TransferTarget::Room {
                    room: c.room("lee_room")
                },
                note: None
            },
        ),
    ])
}

fn generated() -> String {
    let c = clinic();
    let mut people = serde_json::Map::new();
    for person in &c.people {
        let view = view_of(&c.state_for(person));
        let answers = answers_for(&c, person, &view);
        people.insert(
            person.key.into(),
            json!({ "view": view, "answers": answers }),
        );
    }
    let fixtures = json!({
        "generated_by": "tests/tests/ui_fixtures.rs: do not edit by hand. Regenerate: FRONTDESK_WRITE_UI_FIXTURES=1 cargo test -p frontdesk-tests --test ui_fixtures",
        "now": NOW,
        "staff": c.people.iter().map(|p| (p.key, json!(p.info.id))).collect::<BTreeMap<_, _>>(),
        "rooms": c.rooms.iter().map(|(k, r)| (*k, json!(r.id))).collect::<BTreeMap<_, _>>(),
        "visits": c.visits.iter().map(|(k, v)| (*k, json!(v))).collect::<BTreeMap<_, _>>(),
        "people": people,
        "refusals": refusals(&c),
    });
    let mut out = String::new();
    write_json(&mut out, &fixtures, 0);
    out.push('\n');
    out
}

/// Indents the file's outline and writes each row, answer and history entry on one line: a
/// reviewer can read a change in the rules as a few changed lines, and the file stays small.
fn write_json(out: &mut String, value: &Value, depth: usize) {
    const OUTLINE: usize = 5;
    let pad = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    match value {
        Value::Object(map) if depth < OUTLINE && !map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_json(out, item, depth + 1);
            }
            pad(out, depth);
            out.push('}');
        }
        Value::Array(items) if depth < OUTLINE && !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                write_json(out, item, depth + 1);
            }
            pad(out, depth);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[test]
fn the_ui_fixtures_are_the_engines_answers() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/fixtures/engine.json");
    let fresh = generated();
    if std::env::var_os("FRONTDESK_WRITE_UI_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create the folder");
        std::fs::write(&path, &fresh).expect("write the fixtures");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: the rules or the view changed. Regenerate it with \
         FRONTDESK_WRITE_UI_FIXTURES=1 cargo test -p frontdesk-tests --test ui_fixtures",
        path.display()
    );
}
