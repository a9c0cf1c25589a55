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
//!   and the key of the visit they saw (someone else may have changed it since);
//! - `push`: reception's whole view (`before`), the engine's changes after a claim, a call
//!   ended and a new priority (`changes`), and the whole view after them (`after`).

#[path = "ui_fixtures/clinic.rs"]
mod clinic;

use clinic::{MIN, NOW, Person, SmallClinic, note};
use frontdesk_api::StaffRef;
use frontdesk_client::rows::RowBook;
use frontdesk_client::state::ClinicState;
use frontdesk_client::view::{self, ConnectionState, ConnectionView, QueueRow, View};
use frontdesk_domain::{
    Command, CommandKind, Context, DomainError, MessageText, Priority, StaffId, Timestamp,
    TransferTarget, Visit, VisitId, apply,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn online() -> ConnectionView {
    ConnectionView {
        state: ConnectionState::Online,
        since: None,
        as_of: None,
        pending: 0,
    }
}

/// Today, in the clinic's time zone (UTC): sessions are listed for it.
fn today() -> (Timestamp, Timestamp) {
    let day_start = NOW - NOW.rem_euclid(24 * 60 * MIN);
    (Timestamp(day_start), Timestamp(day_start + 24 * 60 * MIN))
}

fn view_of(state: &ClinicState) -> View {
    view::build(state, &[], Vec::new(), online(), Timestamp(NOW), today())
}

/// Reception's view, the changes the engine pushes after three commands, and the view after.
fn push(c: &SmallClinic) -> Value {
    let rosa = c.person("receptionist");
    let mut state = c.state_for(rosa);
    let mut book = RowBook::default();
    let now = Timestamp(NOW);
    let none = BTreeSet::new();
    book.refresh(&state, &[], &none, now, today());
    let (before, mut sent) = book.view(online(), Vec::new(), now);
    // Rosa claims the waiting patient; an admin ends Fatima's call (only someone in the call or
    // an admin may); Rosa marks Chen an emergency.
    let priya = c.person("admin");
    let commands = [
        ("waiting", rosa, Command::Claim),
        ("in_call", priya, Command::EndCall),
        (
            "intake",
            rosa,
            Command::SetPriority {
                priority: Priority::Emergency,
                note: Some(note("Chest pain")),
            },
        ),
    ];
    for (key, who, command) in commands {
        let visit = c.visit(key);
        let ctx = Context {
            actor: who.actor(),
            at: now,
            expected_version: Some(visit.version),
        };
        let done = apply(visit, &ctx, &command).expect(key);
        assert!(state.lay_answer(visit.id, done.visit.version, &done.entries));
    }
    book.refresh(&state, &[], &none, now, today());
    let changes = book.changes(&mut sent, online(), Vec::new(), now);
    let (after, _) = book.view(online(), Vec::new(), now);
    json!({ "before": before, "changes": changes, "after": after })
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
        CommandKind::TakeOver => Command::TakeOver,
        CommandKind::Join => Command::Join,
        CommandKind::LeaveCall => Command::LeaveCall,
        CommandKind::EndCall => Command::EndCall,
        CommandKind::Accept => Command::Accept,
        CommandKind::AcceptAndEnter => Command::AcceptAndEnter,
        CommandKind::MarkNoShow => Command::MarkNoShow,
        // A day later than booked.
        CommandKind::Reschedule => Command::Reschedule {
            starts_at: visit.booking.as_ref()?.starts_at
                + frontdesk_domain::Span::from_mins(24 * 60),
            duration_mins: 45,
        },
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
            state.lay_answer(outcome.visit.id, outcome.visit.version, &outcome.entries);
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
        e if e.code() == "forbidden" || e.code() == "validation" => Vec::new(),
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
    let c = clinic::harbour_street();
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
        "push": push(&c),
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
