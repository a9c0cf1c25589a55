//! The providers board: what each provider is doing, and where reception's request stands.

mod common;
use common::*;
use frontdesk_domain::board::{ProviderNow, RequestAnswer, provider_now, request_by_staff};
use frontdesk_domain::*;

fn requested_by_reception(id: u128, availability: Availability) -> Visit {
    open(
        VisitId::from_u128(id),
        CLINIC,
        &ctx(reception(), 0),
        Opening::Request {
            room: DR_LEE_ROOM,
            patient: patient("Sam R."),
            provider: DR_LEE,
            provider_availability: availability,
        },
    )
    .unwrap()
    .visit
}

#[test]
fn a_call_shows_before_what_the_provider_set() {
    assert_eq!(
        provider_now(Availability::Available, true),
        ProviderNow::InCall
    );
    assert_eq!(
        provider_now(Availability::OnCall, false),
        ProviderNow::OnCall
    );
    assert_eq!(
        provider_now(Availability::Unavailable, false),
        ProviderNow::Unavailable
    );
}

#[test]
fn reception_follows_its_request_from_pending_to_accepted_or_declined_with_the_note() {
    let asked = requested_by_reception(1, Availability::Available);
    assert_eq!(
        request_by_staff(&asked),
        Some((RECEPTIONIST, DR_LEE, RequestAnswer::Pending))
    );
    let accepted = ok(&asked, dr_lee(), 2, Command::Accept);
    assert_eq!(
        request_by_staff(&accepted).map(|r| r.2),
        Some(RequestAnswer::Accepted)
    );
    let declined = ok(
        &asked,
        dr_lee(),
        2,
        Command::Decline {
            note: note("Fully booked today"),
        },
    );
    assert_eq!(
        request_by_staff(&declined).map(|r| r.2),
        Some(RequestAnswer::Declined {
            note: "Fully booked today".into()
        })
    );
    // To a provider who is unavailable: declined at once, with the clinic's note.
    let away = requested_by_reception(2, Availability::Unavailable);
    assert!(matches!(
        request_by_staff(&away).map(|r| r.2),
        Some(RequestAnswer::Declined { .. })
    ));
    // A patient's own request, or a walk-in, is not one staff follow here.
    assert_eq!(
        request_by_staff(&request(3, Availability::Available).visit),
        None
    );
    assert_eq!(request_by_staff(&arrive(4, 0, false)), None);
}
