//! The calendar's pages and the booking form, on a clinic in Sydney (so the clinic's day is
//! not the UTC day) with sessions booked across a week.

use super::*;
use frontdesk_api::RoomInfo;
use frontdesk_api::StaffInfo;
use frontdesk_domain::{ClinicId, Context, Guest, Opening, PersonName};
use serde_json::json;

const CLINIC: ClinicId = ClinicId::from_u128(1);
const SAM: StaffId = StaffId::from_u128(10);
const PRIYA: StaffId = StaffId::from_u128(11);
const OMAR: StaffId = StaffId::from_u128(12);
const PRIYA_ROOM: RoomId = RoomId::from_u128(21);
const OMAR_ROOM: RoomId = RoomId::from_u128(22);
const TZ: &str = "Australia/Sydney";

/// A clinic-local time in Sydney ("2026-12-08T09:30").
fn sydney(local: &str) -> Timestamp {
    let z: jiff::Zoned = format!("{local}[{TZ}]").parse().unwrap();
    Timestamp::from_millis(z.timestamp().as_millisecond())
}

fn staff(id: StaffId, name: &str, roles: &[Role]) -> StaffInfo {
    serde_json::from_value(json!({
        "id": id, "clinic_id": CLINIC, "name": name, "email": format!("{id}@clinic.test"),
        "roles": roles, "availability": "available", "rooms": [],
    }))
    .unwrap()
}

fn room(id: RoomId, name: &str, provider: StaffId) -> RoomInfo {
    serde_json::from_value(json!({
        "id": id, "clinic_id": CLINIC, "name": name, "provider": provider,
    }))
    .unwrap()
}

fn guest(name: &str, email: &str) -> Guest {
    Guest {
        name: PersonName::parse(name).unwrap(),
        contact: Contact::parse(None, Some(email)).unwrap(),
        arrived: false,
    }
}

/// Sam (a scheduler) looks; sessions are booked a week ahead of `now`.
fn clinic(
    now: Timestamp,
    me: StaffId,
    sessions: &[(u128, StaffId, RoomId, &str, u32)],
) -> ClinicState {
    let mut state = ClinicState::default();
    state.clinic = Some(
        serde_json::from_value(json!({
            "id": CLINIC, "slug": "harbour", "name": "Harbour", "time_zone": TZ,
        }))
        .unwrap(),
    );
    let people = [
        staff(SAM, "Sam Scheduler", &[Role::Scheduler]),
        staff(PRIYA, "Dr. Priya Shah", &[Role::Provider]),
        staff(OMAR, "Dr. Omar Haddad", &[Role::Provider]),
    ];
    state.me = people.iter().find(|s| s.id == me).cloned();
    state.staff = people.into_iter().map(|s| (s.id, s)).collect();
    state.rooms = [
        room(PRIYA_ROOM, "Dr. Shah's room", PRIYA),
        room(OMAR_ROOM, "Dr. Haddad's room", OMAR),
    ]
    .into_iter()
    .map(|r| (r.id, r))
    .collect();
    let scheduler = Actor::staff(SAM, &[Role::Scheduler]);
    for (n, provider, room, local, duration_mins) in sessions {
        let booking = Booking {
            provider: *provider,
            starts_at: sydney(local),
            duration_mins: *duration_mins,
            guests: vec![guest("Ana Guest", "ana@example.org")],
            service_type: None,
            location: None,
            staff: vec![SAM],
        };
        let ctx = Context {
            actor: scheduler,
            at: now,
            expected_version: None,
        };
        let opening = Opening::Schedule {
            room: *room,
            booking,
        };
        let visit = frontdesk_domain::open(VisitId::from_u128(*n), CLINIC, &ctx, opening)
            .unwrap()
            .visit;
        state.visits.insert(visit.id, Box::new(visit));
    }
    state
}

fn week_of(start_day: &str) -> CalendarQuery {
    CalendarQuery {
        start_day: Some(start_day.into()),
        days: 7,
        provider: None,
        room: None,
        session: None,
    }
}

#[test]
fn a_week_starts_on_monday_and_places_each_session_in_the_clinics_time() {
    let now = sydney("2026-12-01T08:00");
    let state = clinic(
        now,
        SAM,
        &[
            // Tuesday 09:30 in Sydney is still Monday in UTC.
            (1, PRIYA, PRIYA_ROOM, "2026-12-08T09:30", 45),
            (2, OMAR, OMAR_ROOM, "2026-12-13T18:00", 120),
            // The week after: not on this page.
            (3, PRIYA, PRIYA_ROOM, "2026-12-15T09:30", 30),
        ],
    );
    // Asked for the week of a session: the week it is in.
    let of_session = CalendarQuery {
        start_day: None,
        session: Some(VisitId::from_u128(3)),
        ..week_of("")
    };
    assert_eq!(
        calendar(&state, &of_session, now).days[0].date,
        "2026-12-14"
    );
    // Asked for a Wednesday: the page is that week, Monday first.
    let page = calendar(&state, &week_of("2026-12-09"), now);
    let dates: Vec<&str> = page.days.iter().map(|d| d.date.as_str()).collect();
    assert_eq!(dates.first(), Some(&"2026-12-07"));
    assert_eq!(dates.last(), Some(&"2026-12-13"));
    assert_eq!(page.days[1].label, "Tue 8 Dec");
    assert_eq!(page.title, "7 – 13 December 2026");
    assert_eq!(
        (page.previous.as_str(), page.next.as_str()),
        ("2026-11-30", "2026-12-14")
    );
    let placed: Vec<(VisitId, usize, u32, u32, &str)> = page
        .sessions
        .iter()
        .map(|s| {
            (
                s.visit_id,
                s.day,
                s.start_minute,
                s.end_minute,
                s.time_label.as_str(),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [
            (
                VisitId::from_u128(1),
                1,
                9 * 60 + 30,
                10 * 60 + 15,
                "09:30–10:15"
            ),
            (VisitId::from_u128(2), 6, 18 * 60, 20 * 60, "18:00–20:00")
        ]
    );
    // The grid reaches the latest session's end.
    assert_eq!((page.first_hour, page.last_hour), (7, 20));
    let s = &page.sessions[0];
    assert_eq!(s.provider.name, "Dr. Priya Shah");
    assert_eq!(s.staff[0].name, "Sam Scheduler");
    assert_eq!(s.guests[0].reached_by, "ana@example.org");
    assert_eq!((s.date.as_str(), s.time.as_str()), ("2026-12-08", "09:30"));
    // The scheduler books and moves sessions; the week has no "now" in it.
    assert!(page.can_book);
    assert!(s.allowed.contains(&CommandKind::Reschedule));
    assert!(s.allowed.contains(&CommandKind::Cancel));
    assert_eq!(page.now_line, None);
}

#[test]
fn the_current_time_line_is_on_todays_column_and_filters_keep_to_a_provider_or_room() {
    let now = sydney("2026-12-08T11:15");
    let state = clinic(
        now,
        PRIYA,
        &[
            (1, PRIYA, PRIYA_ROOM, "2026-12-08T14:00", 30),
            (2, OMAR, OMAR_ROOM, "2026-12-08T15:00", 30),
        ],
    );
    let today = CalendarQuery {
        days: 1,
        ..CalendarQuery::default()
    };
    let page = calendar(&state, &today, now);
    assert_eq!(page.title, "Tuesday 8 December 2026");
    assert!(page.days[0].today);
    assert_eq!(
        page.now_line,
        Some(NowLine {
            day: 0,
            minute: 11 * 60 + 15
        })
    );
    // A provider sees both, books none, and may take Omar's session as hers.
    assert!(!page.can_book);
    assert_eq!(page.sessions.len(), 2);
    assert!(!page.sessions[0].takes_session, "hers already");
    assert!(page.sessions[1].takes_session);
    assert!(!page.sessions[1].allowed.contains(&CommandKind::Reschedule));
    let only = |query: CalendarQuery| -> Vec<VisitId> {
        calendar(&state, &query, now)
            .sessions
            .iter()
            .map(|s| s.visit_id)
            .collect()
    };
    let of_omar = CalendarQuery {
        provider: Some(OMAR),
        ..today.clone()
    };
    assert_eq!(only(of_omar), [VisitId::from_u128(2)]);
    let in_priyas_room = CalendarQuery {
        room: Some(PRIYA_ROOM),
        ..today
    };
    assert_eq!(only(in_priyas_room), [VisitId::from_u128(1)]);
}

fn form() -> BookingForm {
    BookingForm {
        provider: Some(PRIYA),
        include_me: true,
        guests: vec![
            GuestForm {
                first_name: "Ana".into(),
                last_name: "Guest".into(),
                contact_by: ContactBy::Email,
                contact: "ana@example.org".into(),
            },
            GuestForm {
                first_name: "Ben".into(),
                last_name: "Guest".into(),
                contact_by: ContactBy::Sms,
                contact: "+61 400 111 222".into(),
            },
        ],
        date: "2026-12-08".into(),
        time: "09:30".into(),
        duration_mins: 45,
        repeat_weeks: 3,
    }
}

fn errors_of(form: &BookingForm, now: Timestamp) -> Vec<(String, String)> {
    let tz = TimeZone::get(TZ).unwrap();
    match read_booking(form, &[PRIYA, OMAR], &tz, now) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

#[test]
fn a_good_form_reads_as_a_weekly_booking_in_the_clinics_time() {
    let now = sydney("2026-12-01T08:00");
    let tz = TimeZone::get(TZ).unwrap();
    let read = read_booking(&form(), &[PRIYA, OMAR], &tz, now).unwrap();
    assert_eq!(read.booking.starts_at, sydney("2026-12-08T09:30"));
    assert_eq!(read.booking.guests[0].name.as_str(), "Ana Guest");
    assert_eq!(
        read.booking.guests[1]
            .contact
            .phone
            .as_ref()
            .unwrap()
            .as_str(),
        "+61400111222"
    );
    assert_eq!(read.starts.len(), 3);
    assert_eq!(words(read.starts[2], &tz), "Tuesday 22 December, 09:30");
    assert!(read.include_me);
}

#[test]
fn each_field_the_domain_refuses_is_named_with_its_reason() {
    let now = sydney("2026-12-01T08:00");
    let mut f = form();
    f.provider = None;
    f.guests[0].first_name = " ".into();
    f.guests[1].contact = "call me".into();
    f.duration_mins = 2;
    let errors = errors_of(&f, now);
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "provider",
            "guests.0.first_name",
            "guests.1.contact",
            "duration_mins"
        ]
    );
    assert_eq!(errors[1].1, "must not be empty");

    let mut past = form();
    past.date = "2026-11-30".into();
    assert_eq!(
        errors_of(&past, now),
        [("starts_at".into(), "must be in the future".into())]
    );
    let mut too_many = form();
    too_many.repeat_weeks = 53;
    assert_eq!(errors_of(&too_many, now)[0].0, "repeat_weeks");
    let mut unreadable = form();
    unreadable.date = String::new();
    unreadable.time = "9.30am".into();
    let fields: Vec<String> = errors_of(&unreadable, now)
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(fields, ["date", "time"]);
    let mut no_one = form();
    no_one.guests.clear();
    assert_eq!(errors_of(&no_one, now)[0].0, "guests");
}

#[test]
fn a_clinic_refusal_is_shown_by_its_field() {
    let e = refusal_by_field("starts_at: must be within 2 years from now").unwrap();
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("starts_at", "must be within 2 years from now")
    );
    assert_eq!(refusal_by_field("something else went wrong"), None);
}

#[test]
fn the_next_appointment_is_for_the_patient_a_week_on_with_their_provider() {
    let now = sydney("2026-12-08T11:15");
    let mut state = clinic(now, SAM, &[(1, PRIYA, PRIYA_ROOM, "2026-12-08T14:00", 30)]);
    let mut visit = state.visits.remove(&VisitId::from_u128(1)).unwrap();
    visit.patient.name = PersonName::parse("Mia van Dyke").unwrap();
    let tz = TimeZone::get(TZ).unwrap();
    let f = next_appointment(&visit, &[PRIYA, OMAR], &tz, now);
    assert_eq!(f.guests[0].first_name, "Mia van");
    assert_eq!(f.guests[0].last_name, "Dyke");
    assert_eq!(f.guests[0].contact, "ana@example.org");
    assert_eq!(f.guests[0].contact_by, ContactBy::Email);
    assert_eq!(f.provider, Some(PRIYA), "the booking's provider");
    assert_eq!((f.date.as_str(), f.time.as_str()), ("2026-12-15", "11:00"));
    assert_eq!(f.duration_mins, 30);
}
