//! The queue laid out for triage: who is waiting to be picked up, in the order to pick them
//! up, and who staff already have.

mod common;
use common::*;
use frontdesk_domain::queue::{Section, triage, wait_figures};
use frontdesk_domain::*;

fn ids(visits: &[&Visit]) -> Vec<VisitId> {
    visits.iter().map(|v| v.id).collect()
}

#[test]
fn the_waiting_section_leads_with_the_longest_total_wait_and_staff_have_the_rest() {
    // Minute 0: Ana arrives. Minute 5: Ben. Minute 8: Cai. Minute 12: Dee.
    let ana = arrive(1, 0, false);
    let ben = arrive(2, 5, false);
    let cai = arrive(3, 8, false);
    let dee = arrive(4, 12, false);
    // Ana is seen from minute 2 to 20, then sent on to Dr Lee's waiting area: by minute 30
    // she has waited 2 + 10 = 12 minutes in all, though she arrived first.
    let ana = ok(&ana, reception(), 2, Command::Claim);
    let ana = ok(&ana, reception(), 20, Command::LeaveCall);
    let ana = ok(
        &ana,
        reception(),
        20,
        Command::Transfer {
            to: TransferTarget::Room { room: DR_LEE_ROOM },
            note: None,
        },
    );
    assert_eq!(ana.status, Status::Waiting);
    // Cai is taken into a call at minute 14; Dee is seen and put on hold.
    let cai = ok(&cai, reception(), 14, Command::Claim);
    let dee = ok(&dee, reception(), 13, Command::Claim);
    let dee = ok(&dee, reception(), 16, Command::LeaveCall);
    // Eve arrives at minute 25.
    let eve = arrive(5, 25, false);

    let all = [
        ana.clone(),
        ben.clone(),
        cai.clone(),
        dee.clone(),
        eve.clone(),
    ];
    let now = at(30);
    let order = triage(all.iter(), now);
    // Ben has waited 25 minutes, Ana 12, Eve 5: Ben leads although Ana arrived first.
    assert_eq!(
        ids(&order),
        [ben.id, ana.id, eve.id, dee.id, cai.id],
        "waiting by total wait, then with staff (on hold 1 min of wait + 14 on hold, in call 6)"
    );
    let sections: Vec<_> = order.iter().map(|v| Section::of(v.status)).collect();
    assert_eq!(
        sections,
        [
            Some(Section::Waiting),
            Some(Section::Waiting),
            Some(Section::Waiting),
            Some(Section::WithStaff),
            Some(Section::WithStaff)
        ]
    );

    // The big figure is the total wait, the second the current stretch.
    let f = wait_figures(&ana, now);
    assert_eq!(f.total_waiting, Span::from_mins(12));
    assert_eq!(f.waiting_now, Some(Span::from_mins(10)));
    assert_eq!(f.total_wait_from(now), Some(at(18)), "counts on from here");
    assert_eq!(f.in_call_since, None);
    let f = wait_figures(&cai, now);
    assert_eq!(
        f.in_call_since,
        Some(at(14)),
        "the call timer counts from the claim"
    );
    assert_eq!(f.total_wait_from(now), None, "not waiting now");
}

#[test]
fn a_higher_priority_band_comes_first_whatever_the_wait() {
    let early = arrive(1, 0, false);
    let urgent = ok(
        &arrive(2, 20, false),
        reception(),
        21,
        Command::SetPriority {
            priority: Priority::Urgent,
            note: Some(note("Chest pain")),
        },
    );
    let emergency = ok(
        &arrive(3, 25, false),
        reception(),
        26,
        Command::SetPriority {
            priority: Priority::Emergency,
            note: Some(note("Short of breath")),
        },
    );
    let all = [early.clone(), urgent.clone(), emergency.clone()];
    assert_eq!(
        ids(&triage(all.iter(), at(30))),
        [emergency.id, urgent.id, early.id]
    );
}

#[test]
fn the_order_holds_as_time_passes_and_ties_go_to_the_earlier_arrival() {
    let a = arrive(7, 3, false);
    let b = arrive(2, 3, true); // same minute, still in intake: waiting all the same
    let c = arrive(5, 4, false);
    let gone = ok(&arrive(9, 0, false), Actor::Patient, 1, Command::Leave);
    let all = [c.clone(), gone, a.clone(), b.clone()];
    for minute in [5, 60, 600] {
        assert_eq!(
            ids(&triage(all.iter(), at(minute))),
            [b.id, a.id, c.id],
            "at minute {minute}: a tie goes by id, the one who left is not listed"
        );
    }
}

#[test]
fn the_day_lists_who_finished_today_latest_first_with_their_wait_and_who_saw_them() {
    use frontdesk_domain::queue::{finished_at, finished_in, seen_by};
    // Ana arrives at minute 0, is seen by reception at 10, Dr Lee joins at 12, the call ends
    // at 30. Ben arrives at 5 and leaves at 20 without being seen. Cai is still waiting.
    let ana = arrive(1, 0, false);
    let ana = ok(&ana, reception(), 10, Command::Claim);
    let ana = ok(&ana, dr_lee(), 12, Command::Join);
    let ana = ok(&ana, reception(), 30, Command::EndCall);
    let ben = arrive(2, 5, false);
    let ben = ok(&ben, Actor::Patient, 20, Command::Leave);
    let cai = arrive(3, 8, false);
    assert_eq!(ana.status, Status::Completed);
    assert_eq!(ben.status, Status::Left);

    assert_eq!(finished_at(&ana), Some(at(30)));
    assert_eq!(finished_at(&cai), None, "still waiting");
    let all = [ana.clone(), ben.clone(), cai.clone()];
    let day = finished_in(all.iter(), (at(0), at(24 * 60)));
    assert_eq!(ids(&day), [ana.id, ben.id], "latest to finish first");
    assert!(finished_in(all.iter(), (at(25), at(24 * 60))).len() == 1);

    // Ana waited 10 minutes in all; Ben 15, then left.
    assert_eq!(
        wait_figures(&ana, at(60)).total_waiting,
        Span::from_mins(10)
    );
    assert_eq!(
        wait_figures(&ben, at(60)).total_waiting,
        Span::from_mins(15)
    );
    assert_eq!(seen_by(&ana), [RECEPTIONIST, DR_LEE]);
    assert!(seen_by(&ben).is_empty());
}
