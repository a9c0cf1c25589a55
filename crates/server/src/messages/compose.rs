//! Which emails and text messages a change to a visit calls for, and what they say. Pure: it
//! reads one event and the clinic as it stands, and returns messages with stable keys, so
//! deciding twice queues nothing twice.
//!
//! - A patient enters a room (arrives, is transferred in, a session's guest joins): staff
//!   subscribed to the room by email or SMS are told.
//! - A session is booked: its provider (and staff it includes) are told; each guest gets the
//!   booking, a reminder 24 hours before and one 1 hour before that carries their join link.
//!   Reminders of a session that is over by then are skipped when they fall due.
//! - A session is moved: its guests (with new reminders) and its staff are told.
//! - A session is cancelled: its guests and provider are told.
//! - A patient is declined: they get the note, by email and text when they gave them.

use crate::hours::local_words;
use crate::model::{AlertSubscription, Clinic, RoomInfo, StaffInfo};
use crate::service::guest_token;
use crate::store::{Channel, NewMessage};
use frontdesk_api::{Event, EventBody};
use frontdesk_domain::{
    Booking, Change, Contact, HistoryEntry, RoomId, StaffId, Status, Timestamp, Visit, VisitId,
};

/// The clinic as the notifier sees it while reading a page of its events.
#[derive(Debug)]
pub struct Clinicwide<'a> {
    pub clinic: &'a Clinic,
    pub rooms: &'a [RoomInfo],
    pub staff: &'a [StaffInfo],
    pub subscriptions: &'a [(StaffId, AlertSubscription)],
    /// Where the clinic's pages are served, e.g. `https://clinic.example` (no trailing /).
    pub base_url: &'a str,
    pub secret: &'a [u8; 32],
}

const HOUR_MS: i64 = 3_600_000;

/// A booked session in a message's words (see [`Clinicwide::words`]).
struct Words<'a> {
    when: String,
    service: String,
    location: String,
    provider: &'a str,
}

/// One recipient's address on a channel.
struct To<'a> {
    channel: Channel,
    address: &'a str,
}

fn contact_addresses(contact: Option<&Contact>) -> Vec<To<'_>> {
    let Some(c) = contact else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(e) = &c.email {
        out.push(To {
            channel: Channel::Email,
            address: e.as_str(),
        });
    }
    if let Some(p) = &c.phone {
        out.push(To {
            channel: Channel::Sms,
            address: p.as_str(),
        });
    }
    out
}

fn staff_addresses(s: &StaffInfo) -> Vec<To<'_>> {
    let mut out = vec![To {
        channel: Channel::Email,
        address: s.email.as_str(),
    }];
    if let Some(p) = &s.phone {
        out.push(To {
            channel: Channel::Sms,
            address: p.as_str(),
        });
    }
    out
}

/// One message's content, before it is addressed.
struct Note {
    /// Unique per message and recipient (the address is added).
    key: String,
    visit: VisitId,
    kind: &'static str,
    subject: String,
    body: String,
    due_at: Timestamp,
    /// A reminder: skipped if the session is over when it falls due.
    only_while_open: bool,
}

impl Note {
    /// The note, addressed to each of `to`.
    fn to(&self, to: Vec<To<'_>>) -> Vec<NewMessage> {
        to.into_iter()
            .map(|to| NewMessage {
                key: format!("{}:{}:{}", self.key, to.channel.as_str(), to.address),
                visit: Some(self.visit),
                kind: self.kind.to_owned(),
                channel: to.channel,
                to: to.address.to_owned(),
                subject: self.subject.clone(),
                // An SMS has no subject: the subject leads the text.
                body: match to.channel {
                    Channel::Email => self.body.clone(),
                    Channel::Sms => format!("{}. {}", self.subject, self.body),
                },
                due_at: self.due_at,
                only_while_open: self.only_while_open,
            })
            .collect()
    }
}

impl Clinicwide<'_> {
    fn room_name(&self, room: RoomId) -> &str {
        self.rooms
            .iter()
            .find(|r| r.id == room)
            .map_or("the waiting room", |r| r.name.as_str())
    }

    fn staff(&self, id: StaffId) -> Option<&StaffInfo> {
        self.staff.iter().find(|s| s.id == id)
    }

    /// Every message one visit event calls for, given the visit as that event left it.
    pub fn messages_for(&self, event: &Event, visit: &Visit) -> Vec<NewMessage> {
        let EventBody::Visit { entries, .. } = &event.body else {
            return Vec::new();
        };
        entries
            .iter()
            .flat_map(|e| self.for_entry(visit, e))
            .collect()
    }

    fn for_entry(&self, visit: &Visit, entry: &HistoryEntry) -> Vec<NewMessage> {
        match &entry.change {
            Change::Opened(o) if o.booking.is_some() => self.booked(visit, entry),
            Change::Opened(o) if matches!(o.status, Status::Intake | Status::Waiting) => {
                self.entered(visit, entry, o.room_id)
            }
            Change::Transferred { to, .. } => self.entered(visit, entry, to.room()),
            Change::GuestArrived { .. } => self.entered(visit, entry, visit.room_id),
            Change::Cancelled { .. } if visit.booking.is_some() => self.cancelled(visit, entry),
            Change::Rescheduled { from, .. } => self.rescheduled(visit, entry, *from),
            Change::Declined { note, .. } => Note {
                key: format!("declined:{}", visit.id),
                visit: visit.id,
                kind: "declined",
                subject: format!("A note from {}", self.clinic.name),
                body: format!(
                    "Hello {}, the clinic could not see you this time. Their note: {note}",
                    visit.patient.name
                ),
                due_at: entry.at,
                only_while_open: false,
            }
            .to(contact_addresses(visit.patient.contact.as_ref())),
            _ => Vec::new(),
        }
    }

    /// Staff subscribed to `room` by email or SMS hear that a patient is waiting there.
    fn entered(&self, visit: &Visit, entry: &HistoryEntry, room: RoomId) -> Vec<NewMessage> {
        let room_name = self.room_name(room);
        let mut out = Vec::new();
        for (staff_id, sub) in self.subscriptions.iter().filter(|(_, s)| s.room_id == room) {
            let Some(staff) = self.staff(*staff_id) else {
                continue;
            };
            let wanted: Vec<To<'_>> = staff_addresses(staff)
                .into_iter()
                .filter(|to| match to.channel {
                    Channel::Email => sub.email,
                    Channel::Sms => sub.sms,
                })
                .collect();
            let note = Note {
                key: format!("entered:{}:{}:{}", visit.id, entry.version, staff.id),
                visit: visit.id,
                kind: "arrival",
                subject: format!("{} is waiting in {room_name}", visit.patient.name),
                body: format!(
                    "{} is waiting in {room_name} at {}. Open Frontdesk to see them.",
                    visit.patient.name, self.clinic.name
                ),
                due_at: entry.at,
                only_while_open: false,
            };
            out.extend(note.to(wanted));
        }
        out
    }

    fn join_link(&self, visit: VisitId, guest: usize) -> String {
        format!(
            "{}/wait/{}",
            self.base_url,
            guest_token(self.secret, visit, guest)
        )
    }

    /// How a message names a booked session: when (in the clinic's time zone), the service
    /// and place when given (ready to drop into a sentence), and the provider.
    fn words(&self, b: &Booking) -> Words<'_> {
        Words {
            when: local_words(&self.clinic.time_zone, b.starts_at),
            service: b
                .service_type
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            location: b
                .location
                .as_ref()
                .map(|l| format!(" Location: {l}."))
                .unwrap_or_default(),
            provider: self
                .staff(b.provider)
                .map_or("your provider", |p| p.name.as_str()),
        }
    }

    fn booked(&self, visit: &Visit, entry: &HistoryEntry) -> Vec<NewMessage> {
        let Some(b) = &visit.booking else {
            return Vec::new();
        };
        let Words {
            when,
            service,
            location,
            provider,
        } = self.words(b);
        let guests: Vec<&str> = b.guests.iter().map(|g| g.name.as_str()).collect();
        let note =
            |key: String, kind, subject: String, body: String, due_at, only_while_open| Note {
                key,
                visit: visit.id,
                kind,
                subject,
                body,
                due_at,
                only_while_open,
            };
        let mut out = Vec::new();
        // The provider and the staff included in the session.
        let mut team = vec![b.provider];
        team.extend(b.staff.iter().filter(|s| **s != b.provider));
        let provider_name = self.staff(b.provider).map(|p| p.name.clone());
        for s in team.into_iter().filter_map(|id| self.staff(id)) {
            let whose = if s.id == b.provider {
                "your queue, for you to claim".to_owned()
            } else {
                format!(
                    "{}'s queue",
                    provider_name.as_deref().unwrap_or("the provider")
                )
            };
            let n = note(
                format!("booked-staff:{}:{}", visit.id, s.id),
                "booked_staff",
                format!("Session booked: {when}"),
                format!(
                    "A session{service} with {} is booked for {when} at {}.{location} It shows under Today's sessions in Frontdesk on the day; each guest waits in {whose} once they join.",
                    guests.join(", "),
                    self.clinic.name
                ),
                entry.at,
                false,
            );
            out.extend(n.to(staff_addresses(s)));
        }
        for (i, g) in b.guests.iter().enumerate() {
            let booked = note(
                format!("booked:{}:{i}", visit.id),
                "booked",
                format!("Your session with {} is booked", self.clinic.name),
                format!(
                    "Hello {}, your session{service} with {provider} is booked for {when}.{location} We will send your link to join an hour before.",
                    g.name
                ),
                entry.at,
                false,
            );
            out.extend(booked.to(contact_addresses(Some(&g.contact))));
            out.extend(self.reminders(visit, entry, i));
        }
        out
    }

    /// A guest's reminders of the session as booked now: a day before (when that is still
    /// ahead) and an hour before, with their link. Each names the start it is for in its key,
    /// so one left over from before the session moved is skipped when it falls due.
    fn reminders(&self, visit: &Visit, entry: &HistoryEntry, guest: usize) -> Vec<NewMessage> {
        let (Some(b), Some(g)) = (
            &visit.booking,
            visit.booking.as_ref().and_then(|b| b.guests.get(guest)),
        ) else {
            return Vec::new();
        };
        let Words {
            when,
            service,
            location,
            provider,
        } = self.words(b);
        let start = b.starts_at.as_millis();
        let to = || contact_addresses(Some(&g.contact));
        let mut out = Vec::new();
        let day_before = start - 24 * HOUR_MS;
        if day_before > entry.at.as_millis() {
            let reminder = Note {
                key: format!("reminder-24h:{}:{guest}@{start}", visit.id),
                visit: visit.id,
                kind: "reminder_24h",
                subject: format!("Reminder: your session with {} tomorrow", self.clinic.name),
                body: format!(
                    "Hello {}, a reminder of your session{service} with {provider} on {when}.{location} We will send your link to join an hour before.",
                    g.name
                ),
                due_at: Timestamp::from_millis(day_before),
                only_while_open: true,
            };
            out.extend(reminder.to(to()));
        }
        // Booked (or moved) less than an hour ahead: the link goes at once.
        let hour_before = (start - HOUR_MS).max(entry.at.as_millis());
        let link = Note {
            key: format!("reminder-1h:{}:{guest}@{start}", visit.id),
            visit: visit.id,
            kind: "reminder_1h",
            subject: format!("Your session with {} starts soon", self.clinic.name),
            body: format!(
                "Hello {}, your session with {provider} starts at {when}. Join here: {}",
                g.name,
                self.join_link(visit.id, guest)
            ),
            due_at: Timestamp::from_millis(hour_before),
            only_while_open: true,
        };
        out.extend(link.to(to()));
        out
    }

    /// A session moved: each guest is told the new time (with new reminders), and so are its
    /// provider and the staff it includes.
    fn rescheduled(&self, visit: &Visit, entry: &HistoryEntry, from: Timestamp) -> Vec<NewMessage> {
        let Some(b) = &visit.booking else {
            return Vec::new();
        };
        let was = local_words(&self.clinic.time_zone, from);
        let Words { when, provider, .. } = self.words(b);
        let mut out = Vec::new();
        for (i, g) in b.guests.iter().enumerate() {
            let moved = Note {
                key: format!("rescheduled:{}:{}:{i}", visit.id, entry.version),
                visit: visit.id,
                kind: "rescheduled",
                subject: format!("Your session with {} has moved", self.clinic.name),
                body: format!(
                    "Hello {}, your session with {provider} on {was} has moved to {when} ({} minutes). We will send your link to join an hour before.",
                    g.name, b.duration_mins
                ),
                due_at: entry.at,
                only_while_open: false,
            };
            out.extend(moved.to(contact_addresses(Some(&g.contact))));
            out.extend(self.reminders(visit, entry, i));
        }
        let mut team = vec![b.provider];
        team.extend(b.staff.iter().filter(|s| **s != b.provider));
        for s in team.into_iter().filter_map(|id| self.staff(id)) {
            let n = Note {
                key: format!("rescheduled-staff:{}:{}:{}", visit.id, entry.version, s.id),
                visit: visit.id,
                kind: "rescheduled_staff",
                subject: format!("Session moved: {when}"),
                body: format!(
                    "The session on {was} with {} has moved to {when} ({} minutes).",
                    b.guests
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    b.duration_mins
                ),
                due_at: entry.at,
                only_while_open: false,
            };
            out.extend(n.to(staff_addresses(s)));
        }
        out
    }

    fn cancelled(&self, visit: &Visit, entry: &HistoryEntry) -> Vec<NewMessage> {
        let Some(b) = &visit.booking else {
            return Vec::new();
        };
        let when = local_words(&self.clinic.time_zone, b.starts_at);
        let note = match &entry.change {
            Change::Cancelled { note: Some(n) } => format!(" Note from the clinic: {n}"),
            _ => String::new(),
        };
        let mut out = Vec::new();
        for (i, g) in b.guests.iter().enumerate() {
            let n = Note {
                key: format!("cancelled:{}:{i}", visit.id),
                visit: visit.id,
                kind: "cancelled",
                subject: format!("Your session with {} is cancelled", self.clinic.name),
                body: format!(
                    "Hello {}, your session on {when} has been cancelled.{note}",
                    g.name
                ),
                due_at: entry.at,
                only_while_open: false,
            };
            out.extend(n.to(contact_addresses(Some(&g.contact))));
        }
        if let Some(p) = self.staff(b.provider) {
            let n = Note {
                key: format!("cancelled-staff:{}", visit.id),
                visit: visit.id,
                kind: "cancelled_staff",
                subject: format!("Session cancelled: {when}"),
                body: format!("The session on {when} has been cancelled.{note}"),
                due_at: entry.at,
                only_while_open: false,
            };
            out.extend(n.to(staff_addresses(p)));
        }
        out
    }
}
