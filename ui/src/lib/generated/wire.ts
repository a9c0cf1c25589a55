// Generated from the Rust types by tests/tests/ui_types.rs: do not edit by hand.
// Regenerate: FRONTDESK_WRITE_UI_TYPES=1 cargo test -p frontdesk-tests --test ui_types

/**
 * Who did something, as the audit trail records it.
 */
export type ActorRef = { "kind": "staff", id: StaffId, } | { "kind": "patient" } | { "kind": "system" };

/**
 * What the front door does outside office hours.
 */
export type AfterHours = "refuse" | "accept";

/**
 * Which alerts one member of staff wants for one room.
 */
export type AlertSubscription = { room_id: RoomId, desktop: boolean, email: boolean, sms: boolean, };

/**
 * Everything the UI draws.
 */
export type AppState = { 
/**
 * The number of the last push made when this state was taken: the UI keeps a state only
 * over one with a lower or the same number, and lays on the changes whose `base` it is.
 */
push: number, screen: Screen, server_url?: string | null, email?: string | null, settings: Settings, 
/**
 * This computer is a registered clinic station (staff switch on with a PIN).
 */
station: boolean, 
/**
 * Why the sign-in screen shows when the server ended the session (signed out elsewhere,
 * the station ended by an admin, expired).
 */
session_ended?: string, me?: MeView | null, clinic?: Clinic | null, connection: ConnectionView, rooms: Array<RoomInfo>, staff: Array<StaffInfo>, queue: Array<QueueRow>, requests: Array<QueueRow>, sessions: Array<QueueRow>, 
/**
 * Today's finished visits in the rooms I see, the latest to finish first.
 */
today: Array<DayRow>, 
/**
 * The clinic's providers, by name, with the session requests I made to them.
 */
providers: Array<ProviderRow>, outcomes: Array<Outcome>, now: number, };

/**
 * Whether a member of staff can take patients now. Providers set it from the console header.
 */
export type Availability = "available" | "on_call" | "busy" | "away" | "unavailable";

/**
 * What was booked for a scheduled session.
 */
export type Booking = { provider: StaffId, starts_at: Timestamp, 
/**
 * How long the session is booked for, in minutes (see [`crate::booking::check_duration`]).
 */
duration_mins: number, guests: Array<Guest>, service_type?: Label | null, location?: Label | null, 
/**
 * Other staff taking part ("include me" adds the scheduler).
 */
staff: Array<StaffId>, };

/**
 * What the booking form would book, or what is wrong with it.
 */
export type BookingCheck = { errors: Array<FieldError>, 
/**
 * The sessions it books, in the clinic's words ("Monday 7 December, 09:30").
 */
sessions: Array<string>, };

/**
 * What a booking (or a move) came to: the sessions booked, or the fields the clinic refused.
 */
export type BookingDone = { errors: Array<FieldError>, booked: Array<VisitId>, };

/**
 * The booking form as typed. `date` is `YYYY-MM-DD` and `time` `HH:MM`, clinic-local.
 */
export type BookingForm = { provider?: StaffId | null, include_me: boolean, guests: Array<GuestForm>, date: string, time: string, duration_mins: number, 
/**
 * Sessions in all, a week apart (1: no repeats).
 */
repeat_weeks: number, };

/**
 * One day column.
 */
export type CalendarDay = { 
/**
 * `YYYY-MM-DD`, clinic-local.
 */
date: string, 
/**
 * "Mon 7 Dec".
 */
label: string, today: boolean, };

/**
 * A guest as the calendar shows them: name and how they are reached.
 */
export type CalendarGuest = { name: string, 
/**
 * "ana@example.org" or "SMS +61400111222".
 */
reached_by: string, arrived: boolean, };

/**
 * Which page of the calendar: `days` (1 or 7; a week starts on Monday) from `start_day`
 * (`YYYY-MM-DD`, clinic-local; today when absent), of one provider's or one room's sessions.
 */
export type CalendarQuery = { start_day?: string | null, days: number, provider?: StaffId | null, room?: RoomId | null, 
/**
 * Without `start_day`: the page with this booked session on it.
 */
session?: VisitId | null, };

/**
 * A room to look at the sessions of.
 */
export type CalendarRoom = { id: RoomId, name: string, };

/**
 * A booked session, placed on its day.
 */
export type CalendarSession = { visit_id: VisitId, version: number, status: Status, room_name: string, provider: StaffRef, 
/**
 * Other staff taking part ("include me").
 */
staff: Array<StaffRef>, guests: Array<CalendarGuest>, starts_at: number, duration_mins: number, 
/**
 * The column (index into `days`) and the minutes from its midnight it spans.
 */
day: number, start_minute: number, end_minute: number, 
/**
 * "09:30–10:00".
 */
time_label: string, 
/**
 * `YYYY-MM-DD` and `HH:MM`, clinic-local: the reschedule form starts from them.
 */
date: string, time: string, 
/**
 * What I may do to it now, as the domain answers it.
 */
allowed: Array<CommandKind>, 
/**
 * I may take it as mine (a provider claiming a booked session).
 */
takes_session: boolean, };

/**
 * One page of the calendar, ready to draw.
 */
export type CalendarView = { 
/**
 * "7 – 13 December 2026" or "Monday 7 December 2026".
 */
title: string, time_zone: string, days: Array<CalendarDay>, 
/**
 * The hours the grid shows: from `first_hour`:00 to `last_hour`:00 (every session fits).
 */
first_hour: number, last_hour: number, sessions: Array<CalendarSession>, now_line?: NowLine, 
/**
 * `start_day` of the page before and after.
 */
previous: string, next: string, 
/**
 * Who a session can be booked with, and the rooms to look at.
 */
providers: Array<StaffRef>, rooms: Array<CalendarRoom>, 
/**
 * I may book sessions (the domain's rule).
 */
can_book: boolean, };

/**
 * One recorded change to a visit. Together with who and when, this is a history entry and an
 * event on the clinic's stream.
 */
export type Change = { "type": "opened" } & Opened | { "type": "intake_updated", answers: { [key in Label]: IntakeAnswer }, } | { "type": "intake_finished" } | { "type": "guest_arrived", guest: number, } | { "type": "patient_left" } | { "type": "claimed", staff: StaffId, } | { "type": "taken_over", from: StaffId, } | { "type": "joined", staff: StaffId, } | { "type": "left_call", staff: StaffId, } | { "type": "put_on_hold" } | { "type": "call_ended" } | { "type": "transferred", from_room: RoomId, to: TransferTarget, note?: Note | null, } | { "type": "assigned", provider: StaffId, note?: Note | null, } | { "type": "declined", note: Note, 
/**
 * Declined by the clinic at once because the provider was unavailable.
 */
automatic: boolean, } | { "type": "messaged", text: MessageText, } | { "type": "priority_changed", priority: Priority, note?: Note | null, } | { "type": "request_accepted", provider: StaffId, 
/**
 * Accepted and went straight into the call.
 */
enter: boolean, } | { "type": "cancelled", note?: Note | null, } | { "type": "marked_no_show" } | { "type": "rescheduled", from: Timestamp, starts_at: Timestamp, duration_mins: number, };

/**
 * How a message goes out.
 */
export type Channel = "email" | "sms";

/**
 * One line of the check: what was looked at, whether it is fine, and what was found.
 */
export type Check = { name: string, ok: boolean, detail: string, };

export type Clinic = { id: ClinicId, 
/**
 * The short name in the clinic's front-door links and at sign-in.
 */
slug: string, name: string, 
/**
 * The clinic's IANA time zone ("Australia/Sydney"): office hours are read in it.
 */
time_zone: string, 
/**
 * How a call's join link is made, e.g. `https://video.example/{clinic}/{visit}`; the
 * placeholders `{clinic}`, `{room}` and `{visit}` are filled in. None: no link is shown.
 */
video_link_template?: string | null, 
/**
 * Desktop alerts never carry a patient's name on any of the clinic's consoles (a clinic
 * whose screens are in view of the waiting room), not only on a locked one.
 */
nameless_alerts?: boolean, 
/**
 * How many hours a patient's link keeps opening a visit that is still open (from when
 * the visit opened, or a booked session's start). None: the server's default (12).
 */
open_link_hours?: number, };

/**
 * A clinic: the tenant. Nothing crosses from one clinic to another.
 */
export type ClinicId = string;

/**
 * Everything that can be done to an existing visit.
 */
export type Command = { "command": "update_intake", answers: { [key in Label]: IntakeAnswer }, } | { "command": "finish_intake" } | { "command": "leave" } | { "command": "guest_arrive", guest: number, } | { "command": "claim" } | { "command": "take_over" } | { "command": "join" } | { "command": "leave_call" } | { "command": "end_call" } | { "command": "transfer", to: TransferTarget, note?: Note | null, } | { "command": "assign", provider: StaffId, note?: Note | null, } | { "command": "decline", note: Note, } | { "command": "message", text: MessageText, } | { "command": "set_priority", priority: Priority, note?: Note | null, } | { "command": "accept" } | { "command": "accept_and_enter" } | { "command": "cancel", note?: Note | null, } | { "command": "mark_no_show" } | { "command": "reschedule", starts_at: Timestamp, duration_mins: number, };

/**
 * The kinds of [`Command`], without their payloads: what a console offers as buttons.
 */
export type CommandKind = "claim" | "take_over" | "join" | "leave_call" | "accept" | "accept_and_enter" | "message" | "set_priority" | "transfer" | "assign" | "decline" | "end_call" | "cancel" | "mark_no_show" | "reschedule" | "update_intake" | "finish_intake" | "leave" | "guest_arrive";

export type ConnectionState = "online" | "connecting" | "offline" | "resyncing" | "signed_out";

export type ConnectionView = { state: ConnectionState, 
/**
 * Offline since (epoch ms).
 */
since?: number | null, 
/**
 * When the data shown was last confirmed by the server (epoch ms).
 */
as_of?: number | null, 
/**
 * Actions waiting to be sent.
 */
pending: number, };

/**
 * How to reach a patient or guest: at least one of phone and email.
 */
export type Contact = { phone?: Phone | null, email?: Email | null, };

/**
 * How a guest is to be reached.
 */
export type ContactBy = "email" | "sms";

/**
 * One line of the day view: a patient who finished today.
 */
export type DayRow = { 
/**
 * When the visit finished (completed, left, declined, no-show, cancelled), epoch ms.
 */
finished_at: number, 
/**
 * Who saw the patient (took them into a call or joined it), first first.
 */
seen_by: Array<StaffRef>, visit_id: VisitId, room_id: RoomId, room_name: string, status: Status, priority: Priority, patient_name: string, arrived_at?: number | null, 
/**
 * When the current stretch in the waiting area began: the UI counts from it.
 */
waiting_since?: number | null, 
/**
 * While waiting, the instant the total wait since arrival counts from (every stretch in
 * a waiting area added up): the total wait is now minus this.
 */
total_wait_from?: number | null, 
/**
 * All time spent waiting so far (ms), as of the visit's last change (a finished visit's is
 * final; while waiting, count from `total_wait_from`).
 */
total_waited: number, 
/**
 * When the call going on now began: the UI's call timer counts from it.
 */
call_started_at?: number | null, 
/**
 * The call's join link, for someone in this call, when the clinic makes links.
 */
call_link?: string | null, 
/**
 * In a room whose queue is mine (the domain's queue_rooms). Rows of other rooms are in
 * the queue only for those who may look over every room (the "All rooms" view).
 */
in_my_rooms: boolean, 
/**
 * The queue's section for triage (Waiting, With staff); none outside the queue.
 */
section?: Section | null, in_call: Array<StaffRef>, assigned_provider?: StaffRef | null, requested_provider?: StaffRef | null, triage_note?: string | null, version: number, 
/**
 * Where the row goes in its list: rows are in ascending order of these numbers, compared
 * one by one, then of visit id (the queue's is the domain's triage order).
 */
rank: Array<number>, starts_at?: number | null, pending: Array<PendingView>, intake_finished: boolean, after_hours: boolean, 
/**
 * What I may do to this visit now, as the domain answers it, in the order to offer them.
 */
allowed: Array<CommandKind>, 
/**
 * A booked session I may take as mine (assign to myself).
 */
takes_session: boolean, };

/**
 * A queued message with how its delivery went.
 */
export type Delivery = { id: number, clinic_id: ClinicId, visit_id: VisitId | null, kind: string, channel: Channel, to: string, subject: string, body: string, due_at: Timestamp, state: DeliveryState, attempts: number, last_error?: string, next_at: Timestamp, sent_at?: Timestamp, };

/**
 * Where a queued message stands.
 */
export type DeliveryState = "pending" | "sending" | "sent" | "skipped" | "failed";

/**
 * The clinic's directory: it changes seldom, and is sent only when it did.
 */
export type Directory = { clinic?: Clinic | null, rooms: Array<RoomInfo>, staff: Array<StaffInfo>, };

/**
 * An email address: one `@`, a non-empty local part, a dotted domain, no spaces; at most 254
 * characters. Stored lower-cased in the domain part only, as mail systems do.
 */
export type Email = string;

/**
 * A field of a form and what is wrong with it. `field` names the input: `provider`, `date`,
 * `time`, `starts_at` (the date and time together), `duration_mins`, `repeat_weeks`,
 * `guests`, or `guests.<i>.first_name` / `.last_name` / `.contact`.
 */
export type FieldError = { field: string, message: string, };

/**
 * A guest of a scheduled session: no account, reached by email or SMS.
 */
export type Guest = { name: PersonName, contact: Contact, arrived: boolean, };

/**
 * A guest as typed in the booking form.
 */
export type GuestForm = { first_name: string, last_name: string, contact_by: ContactBy, 
/**
 * The email address or the number for text messages.
 */
contact: string, };

/**
 * One line of a visit's audit trail: the version the visit reached, when, who, what, and the
 * status after it. One command may record several entries that share a version.
 */
export type HistoryEntry = { version: number, at: Timestamp, actor: ActorRef, change: Change, status: Status, };

/**
 * One clinic-local hour of the day (0 to 23) across the period.
 */
export type HourFigures = { hour: number, 
/**
 * Patients who arrived in this hour.
 */
arrivals: number, 
/**
 * Their wait to first staff contact.
 */
wait_for_staff: Spread, };

/**
 * Whether a room with those hours takes patients now, by the front door's own rule, in the
 * clinic's time zone and by the server's clock.
 */
export type HoursPreview = { open: boolean, 
/**
 * When closed: when it opens next, in words ("today at 09:00", "Tuesday at 09:00");
 * absent when it never does.
 */
reopens?: string, 
/**
 * The clinic's IANA time zone the hours are read in.
 */
time_zone: string, 
/**
 * The clinic-local time now, "HH:MM", and its weekday (0 = Monday).
 */
local_time: string, local_day: number, };

/**
 * One answer on an intake form.
 */
export type IntakeAnswer = string;

/**
 * One intake question. A plain text question is written as just its label, so
 * `["Reason for visit"]` is a valid list.
 */
export type IntakeQuestion = string | { label: string, kind: QuestionKind, options?: Array<string> };

/**
 * A name staff give a room, a service type, a location.
 */
export type Label = string;

/**
 * A visit's row and the list it is in.
 */
export type Listed = { "list": "queue", row: QueueRow, } | { "list": "requests", row: QueueRow, } | { "list": "sessions", row: QueueRow, } | { "list": "today", row: DayRow, };

export type MeView = { 
/**
 * The availability just asked for is not confirmed yet.
 */
availability_pending: boolean, 
/**
 * What this person may set their availability to, as the domain answers it.
 */
availability_choices: Array<Availability>, 
/**
 * The console's workspaces this person has, as the domain answers it (the queue first).
 */
workspaces: Array<Workspace>, id: StaffId, clinic_id: ClinicId, name: string, email: string, 
/**
 * For SMS alerts, when given.
 */
phone?: string | null, roles: Roles, availability: Availability, 
/**
 * Rooms this person works in: their queue "across my rooms".
 */
rooms: Array<RoomId>, 
/**
 * Reception given every room of the clinic (the front desk): they read every room's
 * visits, not only those of the rooms they work in.
 */
all_rooms: boolean, 
/**
 * An admin deactivated the account (someone who left): it cannot sign in and has no
 * sessions; it may hold no role.
 */
deactivated: boolean, };

/**
 * A message from staff shown on the patient's waiting screen.
 */
export type MessageText = string;

/**
 * A session request I made, as I follow it on the providers board.
 */
export type MyRequest = { visit_id: VisitId, patient_name: string, answer: RequestAnswer, 
/**
 * When I asked (epoch ms).
 */
asked_at: number, };

/**
 * A room as an admin creates it or replaces its settings.
 */
export type NewRoom = { name: string, 
/**
 * Makes it this provider's own room.
 */
provider?: StaffId, office_hours: Array<OfficeHours>, emergency_info?: string, waiting_message?: string, intake_questions: Array<IntakeQuestion>, after_hours: AfterHours, show_place_in_line: boolean, minutes_per_patient?: number, };

/**
 * A new member of staff, with the password (and PIN) they first sign in with.
 */
export type NewStaff = { name: string, email: string, roles: Array<Role>, password: string, 
/**
 * A short PIN for switching on a clinic station (4 to 8 digits).
 */
pin?: string, rooms: Array<RoomId>, 
/**
 * Reception only: read every room's visits (the front desk), not only those of `rooms`.
 */
all_rooms: boolean, availability?: Availability, 
/**
 * For SMS alerts.
 */
phone?: string, };

/**
 * A note: on a transfer, an assignment, a decline (which the patient sees) or a triage.
 */
export type Note = string;

/**
 * Where the current time line is: a column and minutes from its midnight.
 */
export type NowLine = { day: number, minute: number, };

/**
 * Opening hours for one weekday (0 = Monday), local clinic time as "HH:MM".
 */
export type OfficeHours = { day: number, opens: string, closes: string, };

/**
 * How a visit came to be: the first entry of every history.
 */
export type Opened = { clinic_id: ClinicId, room_id: RoomId, patient: Patient, status: Status, priority: Priority, requested_provider?: StaffId | null, booking?: Booking | null, 
/**
 * Came in outside the room's office hours (the room accepts after-hours patients).
 */
after_hours: boolean, };

/**
 * A rejected action, kept until the person who made it has seen it.
 */
export type Outcome = { action_id: string, visit_id?: VisitId | null, command: string, code: string, message: string, held_by?: Array<StaffRef> | null, };

/**
 * How the visits of the period ended (or that they have not yet).
 */
export type Outcomes = { completed: number, left: number, declined: number, no_show: number, cancelled: number, 
/**
 * Still open (waiting, in a call, on hold) when the report was made.
 */
open: number, };

/**
 * Who the visit is for: the patient, or for a scheduled session the first guest.
 */
export type Patient = { name: PersonName, contact?: Contact | null, };

export type PendingView = { action_id: string, command: string, since: number, };

/**
 * How long a report's window is: the clinic-local day, the week (Monday to Sunday) or the
 * calendar month holding the chosen date.
 */
export type Period = "day" | "week" | "month";

/**
 * The name a patient or guest gives at the front door ("Ana P.").
 */
export type PersonName = string;

/**
 * A phone number, kept as `+` and digits (E.164 shape: 7 to 15 digits). Spaces, dashes, dots
 * and brackets people type are dropped.
 */
export type Phone = string;

export type PrecallReport = { checks: Array<Check>, };

/**
 * Triage priority. Orders the queue before wait time does.
 */
export type Priority = "routine" | "urgent" | "emergency";

/**
 * The figures of the visits one provider saw (or was to see).
 */
export type ProviderFigures = { provider: StaffId, name: string, 
/**
 * Visits of the period that were this provider's.
 */
visits: number, 
/**
 * Patients this provider saw first among providers.
 */
seen: number, wait_for_provider: Spread, time_in_call: Spread, outcomes: Outcomes, };

/**
 * What a provider is doing now, as the board shows it: a call they are in comes before what
 * they set.
 */
export type ProviderNow = "in_call" | "available" | "on_call" | "busy" | "away" | "unavailable";

/**
 * A provider on the providers board: what they are doing now, their own room (where a
 * request to them goes), and the requests I made to them.
 */
export type ProviderRow = { id: StaffId, name: string, now: ProviderNow, room_id?: RoomId | null, requests: Array<MyRequest>, };

/**
 * What kind of answer an intake question takes.
 */
export type QuestionKind = "text" | "choice" | "yes_no";

/**
 * One line of a queue, request list or session list.
 */
export type QueueRow = { visit_id: VisitId, room_id: RoomId, room_name: string, status: Status, priority: Priority, patient_name: string, arrived_at?: number | null, 
/**
 * When the current stretch in the waiting area began: the UI counts from it.
 */
waiting_since?: number | null, 
/**
 * While waiting, the instant the total wait since arrival counts from (every stretch in
 * a waiting area added up): the total wait is now minus this.
 */
total_wait_from?: number | null, 
/**
 * All time spent waiting so far (ms), as of the visit's last change (a finished visit's is
 * final; while waiting, count from `total_wait_from`).
 */
total_waited: number, 
/**
 * When the call going on now began: the UI's call timer counts from it.
 */
call_started_at?: number | null, 
/**
 * The call's join link, for someone in this call, when the clinic makes links.
 */
call_link?: string | null, 
/**
 * In a room whose queue is mine (the domain's queue_rooms). Rows of other rooms are in
 * the queue only for those who may look over every room (the "All rooms" view).
 */
in_my_rooms: boolean, 
/**
 * The queue's section for triage (Waiting, With staff); none outside the queue.
 */
section?: Section | null, in_call: Array<StaffRef>, assigned_provider?: StaffRef | null, requested_provider?: StaffRef | null, triage_note?: string | null, version: number, 
/**
 * Where the row goes in its list: rows are in ascending order of these numbers, compared
 * one by one, then of visit id (the queue's is the domain's triage order).
 */
rank: Array<number>, starts_at?: number | null, pending: Array<PendingView>, intake_finished: boolean, after_hours: boolean, 
/**
 * What I may do to this visit now, as the domain answers it, in the order to offer them.
 */
allowed: Array<CommandKind>, 
/**
 * A booked session I may take as mine (assign to myself).
 */
takes_session: boolean, };

/**
 * A staff action in the outbox: the UI follows it by this id in the states that follow.
 */
export type Queued = { action_id: string, };

/**
 * A report for one window, and optionally one room.
 */
export type Report = { window: ReportWindow, 
/**
 * Only visits that were in this room at some point; None: the whole clinic.
 */
room: RoomId | null, 
/**
 * Visits in the period (see the module doc).
 */
visits: number, 
/**
 * Of them, patients who arrived.
 */
arrivals: number, 
/**
 * All 24 clinic-local hours, from 0.
 */
by_hour: Array<HourFigures>, wait_for_staff: Spread, wait_for_provider: Spread, time_in_call: Spread, outcomes: Outcomes, 
/**
 * One line per provider with a visit in the period, by name.
 */
providers: Array<ProviderFigures>, };

/**
 * Which report a manager asks for: the period holding `date` (clinic-local `YYYY-MM-DD`,
 * today if None), for one room or the whole clinic.
 */
export type ReportQuery = { period: Period, date: string | null, room: RoomId | null, };

/**
 * The stretch of time a report covers: clinic-local days `first_day` to `last_day`
 * (included), which are the instants `[from, to)`.
 */
export type ReportWindow = { period: Period, 
/**
 * `YYYY-MM-DD`
 */
first_day: string, 
/**
 * `YYYY-MM-DD`, included.
 */
last_day: string, from: Timestamp, to: Timestamp, 
/**
 * The clinic's time zone the days and hours are read in.
 */
time_zone: string, };

/**
 * Where a session request stands for the one who made it.
 */
export type RequestAnswer = { "state": "pending" } | { "state": "accepted" } | { "state": "declined", note: string, } | { "state": "closed" };

/**
 * What a member of staff does in the clinic. One person may hold several roles (a provider who
 * is also the clinic's admin).
 */
export type Role = "admin" | "receptionist" | "provider" | "scheduler";

/**
 * The set of roles one person holds.
 */
export type Roles = Array<"admin" | "receptionist" | "provider" | "scheduler">;

/**
 * A room with the links a clinic puts on its website for it.
 */
export type RoomEntry = { room: RoomInfo, 
/**
 * The room's front door: patients open it to wait.
 */
front_door: string, 
/**
 * A button for the clinic's web page that opens the front door.
 */
button_html: string, };

/**
 * A room: a shared waiting area such as Reception, or a provider's own room.
 */
export type RoomId = string;

export type RoomInfo = { id: RoomId, clinic_id: ClinicId, name: string, 
/**
 * Set for a provider's own room; absent for a shared room such as Reception.
 */
provider?: StaffId | null, office_hours: Array<OfficeHours>, emergency_info?: string | null, waiting_message?: string | null, 
/**
 * Questions the front door asks; with none, patients go straight to `waiting`.
 */
intake_questions: Array<IntakeQuestion>, 
/**
 * Outside office hours: refuse patients, or take them in marked after-hours.
 */
after_hours?: AfterHours, 
/**
 * Show waiting patients their place in line (and, with `minutes_per_patient`, an
 * estimated wait).
 */
show_place_in_line?: boolean, 
/**
 * Typical minutes a patient takes, for the estimated wait.
 */
minutes_per_patient?: number | null, };

/**
 * One visit's row as it is now; without `listed`, the visit left every list.
 */
export type RowChange = { visit_id: VisitId, version: number, listed?: Listed, };

export type Screen = "sign_in" | "queue" | "locked";

/**
 * The two parts of a queue laid out for triage.
 */
export type Section = "waiting" | "with_staff";

/**
 * What staff can change in the settings dialog.
 */
export type Settings = { sound: boolean, 
/**
 * Lock the console after this many idle minutes; 0 never locks.
 */
lock_after_minutes: number, quick_messages: Array<string>, 
/**
 * Only the first patient in a room's queue raises a desktop alert.
 */
first_in_queue_only: boolean, autostart: boolean, 
/**
 * Locking this console (by hand or when idle) sets me unavailable; unlocking sets back
 * what I had.
 */
unavailable_when_locked: boolean, };

/**
 * The middle and the long tail of a set of durations, in milliseconds. None when there were
 * none to measure.
 */
export type Spread = { 
/**
 * How many durations were measured.
 */
count: number, median_ms: number | null, p90_ms: number | null, };

/**
 * What an admin changes about a member of staff; what is left out stays as it is.
 */
export type StaffChange = { name?: string, 
/**
 * An empty string removes the phone number.
 */
phone?: string, roles?: Array<Role>, 
/**
 * The rooms whose waiting areas they work in (replaces the list).
 */
rooms?: Array<RoomId>, 
/**
 * Reception only: read every room's visits, not only those of the rooms they work in.
 */
all_rooms?: boolean, };

/**
 * A member of staff (receptionist, provider, scheduler, admin).
 */
export type StaffId = string;

export type StaffInfo = { id: StaffId, clinic_id: ClinicId, name: string, email: string, 
/**
 * For SMS alerts, when given.
 */
phone?: string | null, roles: Roles, availability: Availability, 
/**
 * Rooms this person works in: their queue "across my rooms".
 */
rooms: Array<RoomId>, 
/**
 * Reception given every room of the clinic (the front desk): they read every room's
 * visits, not only those of the rooms they work in.
 */
all_rooms: boolean, 
/**
 * An admin deactivated the account (someone who left): it cannot sign in and has no
 * sessions; it may hold no role.
 */
deactivated: boolean, };

/**
 * A message from staff, shown on the patient's waiting screen.
 */
export type StaffMessage = { at: Timestamp, from: StaffId, text: MessageText, };

export type StaffRef = { id: StaffId, name: string, };

/**
 * The changes of one push, to lay onto the state of push `base`.
 */
export type StateChanges = { push: number, base: number, rows: Array<RowChange>, me?: MeView, connection: ConnectionView, directory?: Directory, providers?: Array<ProviderRow>, outcomes: Array<Outcome>, now: number, };

/**
 * A dedicated clinic station.
 */
export type Station = { id: string, clinic_id: ClinicId, name: string, 
/**
 * When someone last signed in or switched on at it (epoch milliseconds); absent when no
 * one has yet.
 */
last_seen_at?: number, };

/**
 * Where a visit stands. See the architecture doc's table.
 */
export type Status = "scheduled" | "requested" | "intake" | "waiting" | "in_call" | "on_hold" | "completed" | "declined" | "left" | "no_show" | "cancelled";

/**
 * A point in time, in milliseconds since 1970-01-01T00:00:00Z.
 */
export type Timestamp = number;

/**
 * Where a transfer sends the patient.
 */
export type TransferTarget = { "kind": "room", room: RoomId, } | { "kind": "provider", provider: StaffId, room: RoomId, };

/**
 * An error as the UI shows it: a stable code it can switch on, and a sentence for the person.
 */
export type UiError = { code: string, message: string, 
/**
 * The field of the form the message is about, when the server named one (`name`,
 * `office_hours`, `password`, ...): the UI shows the message beside it.
 */
field?: string, };

export type View = { me?: MeView | null, clinic?: Clinic | null, connection: ConnectionView, rooms: Array<RoomInfo>, staff: Array<StaffInfo>, queue: Array<QueueRow>, requests: Array<QueueRow>, sessions: Array<QueueRow>, 
/**
 * Today's finished visits in the rooms I see, the latest to finish first.
 */
today: Array<DayRow>, 
/**
 * The clinic's providers, by name, with the session requests I made to them.
 */
providers: Array<ProviderRow>, outcomes: Array<Outcome>, now: number, };

/**
 * One patient encounter. Built only by replaying its history (see [`Visit::replay`]) or by
 * the commands in [`crate::command`].
 */
export type Visit = { id: VisitId, clinic_id: ClinicId, room_id: RoomId, status: Status, priority: Priority, triage_note?: Note | null, patient: Patient, 
/**
 * Intake answers (case info), by question key.
 */
intake: { [key in Label]: IntakeAnswer }, intake_finished: boolean, 
/**
 * How many intake updates the patient has sent (each is capped, and so is their number).
 */
intake_updates?: number, created_at: Timestamp, 
/**
 * When the patient first reached a waiting area (None until they arrive).
 */
arrived_at?: Timestamp | null, requested_provider?: StaffId | null, assigned_provider?: StaffId | null, 
/**
 * Staff in the call, in the order they joined. Non-empty exactly when `status` is `in_call`.
 */
in_call: Array<StaffId>, 
/**
 * Staff who took the patient into a call or joined one, first seen first, each once: who
 * may end a call left on hold. Kept on the visit, so a command is decided without its
 * history (visits stored before it was kept have it empty; see `queue::seen_by`).
 */
seen_by: Array<StaffId>, booking?: Booking | null, messages: Array<StaffMessage>, decline_note?: Note | null, after_hours: boolean, 
/**
 * Grows by one with every accepted command; used for optimistic concurrency.
 */
version: number, 
/**
 * When the last change was recorded (for a finished visit, when it ended).
 */
updated_at: Timestamp, 
/**
 * The audit trail. Whole in a snapshot and a visit read on its own; a working copy that
 * follows events (or a stored row) may hold only what it needs, since every figure the
 * screens show is kept on the visit itself.
 */
history: Array<HistoryEntry>, };

/**
 * One patient encounter.
 */
export type VisitId = string;

/**
 * The console's workspaces: the queue, and the screens beyond it. Which of them a person has
 * is the domain's answer
 * ([`Workspace::for_roles`]); the console shows a workspace's button only when it is in that
 * answer, and the server refuses its API calls to anyone else.
 */
export type Workspace = "queue" | "calendar" | "reports" | "admin";
