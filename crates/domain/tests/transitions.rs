//! Every (status, command) pair and what it leads to: the visit state machine as a table.

mod common;
use common::*;
use frontdesk_domain::*;

/// The columns, in order, and who issues each one in the table.
fn columns() -> Vec<(Command, Actor)> {
    vec![
        (
            Command::UpdateIntake {
                answers: answers(&[("reason", "Sore throat")]),
            },
            Actor::Patient,
        ),
        (Command::FinishIntake, Actor::Patient),
        (Command::Leave, Actor::Patient),
        (Command::GuestArrive { guest: 0 }, Actor::Patient),
        (Command::Claim, admin()),
        (Command::Join, admin()),
        // The receptionist is the one in the call in `visit_in(InCall)`.
        (Command::LeaveCall, reception()),
        (Command::EndCall, admin()),
        (
            Command::Transfer {
                to: TransferTarget::Room {
                    room: DR_OKAFOR_ROOM,
                },
                note: Some(note("Needs a GP")),
            },
            admin(),
        ),
        (
            Command::Assign {
                provider: DR_OKAFOR,
                note: None,
            },
            admin(),
        ),
        (
            Command::Decline {
                note: note("Please see your GP"),
            },
            admin(),
        ),
        (
            Command::Message {
                text: MessageText::parse("Running 5 minutes late").unwrap(),
            },
            admin(),
        ),
        (
            Command::SetPriority {
                priority: Priority::Urgent,
                note: Some(note("Chest pain")),
            },
            admin(),
        ),
        (Command::Accept, admin()),
        (Command::AcceptAndEnter, admin()),
        (Command::Cancel { note: None }, admin()),
        (Command::MarkNoShow, admin()),
        (
            Command::Reschedule {
                starts_at: at(3 * 24 * 60),
                duration_mins: 45,
            },
            admin(),
        ),
    ]
}

// `x` = invalid_transition, `taken` = already_claimed, anything else = the status reached.
const TABLE: &str = "
status     upd    finish  leave guest   claim   join    lcall   end       xfer   assign    decline  msg       prio      accept  enter   cancel    noshow    resched
scheduled  x      x       x     waiting x       x       x       x         x      scheduled x        x         x         x       x       cancelled no_show    scheduled
requested  x      x       left  x       x       x       x       x         x      x         declined requested requested waiting in_call cancelled x    x
intake     intake waiting left  x       in_call x       x       x         intake intake    declined intake    intake    x       x       x         x    x
waiting    x      x       left  x       in_call x       x       x         waiting waiting  declined waiting   waiting   x       x       x         x    x
in_call    x      x       left  x       taken   in_call on_hold completed waiting in_call  x        in_call   in_call   x       x       x         x    x
on_hold    x      x       left  x       in_call x       x       completed waiting on_hold  declined on_hold   on_hold   x       x       x         x    x
completed  x      x       x     x       x       x       x       x         x      x         x        x         x         x       x       x         x    x
declined   x      x       x     x       x       x       x       x         x      x         x        x         x         x       x       x         x    x
left       x      x       x     x       x       x       x       x         x      x         x        x         x         x       x       x         x    x
no_show    x      x       x     x       x       x       x       x         x      x         x        x         x         x       x       x         x    x
cancelled  x      x       x     x       x       x       x       x         x      x         x        x         x         x       x       x         x    x
";

#[test]
fn every_status_and_command_has_the_expected_outcome() {
    let columns = columns();
    let mut rows = TABLE.lines().filter(|l| !l.trim().is_empty());
    let header = rows.next().unwrap();
    assert_eq!(header.split_whitespace().count(), columns.len() + 1);
    let mut checked = 0;
    let mut seen_statuses = Vec::new();
    for row in rows {
        let mut cells = row.split_whitespace();
        let status_name = cells.next().unwrap();
        let status = Status::ALL
            .into_iter()
            .find(|s| s.as_str() == status_name)
            .unwrap_or_else(|| panic!("unknown status {status_name}"));
        seen_statuses.push(status);
        let cells: Vec<&str> = cells.collect();
        assert_eq!(cells.len(), columns.len(), "row {status_name}");
        for ((command, actor), expected) in columns.iter().zip(cells) {
            let visit = visit_in(status);
            assert_eq!(visit.status, status);
            let result = apply(&visit, &ctx(*actor, 30), command);
            let got = match &result {
                Ok(o) => o.visit.status.as_str().to_string(),
                Err(DomainError::AlreadyClaimed { .. }) => "taken".into(),
                Err(e) if e.code() == "invalid_transition" => "x".into(),
                Err(e) => format!("error:{}:{e}", e.code()),
            };
            assert_eq!(got, expected, "{command} on a {status} visit");
            // The buttons a console offers are exactly the cells that lead somewhere.
            assert_eq!(
                allowed(&visit, actor).contains(&command.kind()),
                result.is_ok(),
                "allowed() and apply() disagree on {command} for a {status} visit"
            );
            match result {
                Ok(o) => {
                    assert_eq!(o.visit.version, visit.version + 1);
                    assert!(!o.entries.is_empty());
                    assert_eq!(o.entries.last().unwrap().status, o.visit.status);
                }
                Err(DomainError::InvalidTransition { status: named, .. }) => {
                    assert_eq!(named, status, "the error names the current status");
                }
                Err(_) => {}
            }
            checked += 1;
        }
    }
    assert_eq!(
        seen_statuses,
        Status::ALL.to_vec(),
        "one row per status, in order"
    );
    assert_eq!(checked, Status::ALL.len() * columns.len());
}

#[test]
fn invalid_transition_message_names_the_current_status() {
    let done = visit_in(Status::Completed);
    let err = apply(&done, &ctx(admin(), 40), &Command::Claim).unwrap_err();
    assert_eq!(err.to_string(), "cannot claim a visit that is completed");
}
