//! Minimum necessary: what each role may read. One table ([`TABLE`]) says, per role, which
//! visits a person sees and which of their details; [`Reader`] is that table applied to one
//! person (their roles, the rooms they work in, whether they were given every room), and is
//! the one filter the server runs over every read: a visit, a list, the queue, the snapshot,
//! a page of events and each live event of the stream.
//!
//! A person holding several roles sees a visit with the most any one of their roles allows
//! for that visit: a scheduler who is also a provider reads intake answers in the provider's
//! rooms, not on every booking.

use crate::ids::{RoomId, StaffId};
use crate::people::{Role, Roles};
use crate::visit::{Change, HistoryEntry, Visit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which visits a role sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitScope {
    /// Every visit of the clinic.
    All,
    /// Visits in the rooms the person works in (every room when they were given all rooms),
    /// and those they take part in (assigned, requested, in the call, booked with).
    Rooms,
}

/// What one role may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleAccess {
    pub role: Role,
    pub visits: VisitScope,
    /// Booked sessions not started yet, in any room: so a colleague can find one and cover it.
    pub sessions: bool,
    /// The patient's intake answers (case information).
    pub intake: bool,
    /// The patient's and guests' phone and email.
    pub contact: bool,
    /// The clinic's outbound emails and texts (`/v1/deliveries`).
    pub deliveries: bool,
    /// The audit trail and its export.
    pub audit: bool,
}

/// The table, once. The README's copy is checked against it (`readme_table`).
pub const TABLE: [RoleAccess; 4] = [
    RoleAccess {
        role: Role::Admin,
        visits: VisitScope::All,
        sessions: true,
        intake: true,
        contact: true,
        deliveries: true,
        audit: true,
    },
    RoleAccess {
        role: Role::Receptionist,
        visits: VisitScope::Rooms,
        sessions: true,
        intake: true,
        contact: true,
        deliveries: false,
        audit: false,
    },
    RoleAccess {
        role: Role::Provider,
        visits: VisitScope::Rooms,
        sessions: true,
        intake: true,
        contact: true,
        deliveries: false,
        audit: false,
    },
    // Schedulers book for any provider and reach any patient to (re)book them: every visit,
    // with contact details, but not what the patient told the clinic about their case.
    RoleAccess {
        role: Role::Scheduler,
        visits: VisitScope::All,
        sessions: true,
        intake: false,
        contact: true,
        deliveries: false,
        audit: false,
    },
];

impl RoleAccess {
    /// How much of a visit this role sees, when it sees the visit.
    pub fn detail(self) -> Detail {
        Detail {
            intake: self.intake,
            contact: self.contact,
        }
    }
}

pub fn role_access(role: Role) -> RoleAccess {
    TABLE
        .into_iter()
        .find(|a| a.role == role)
        .unwrap_or(TABLE[0])
}

/// The table as the README shows it (a Markdown table).
pub fn readme_table() -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut out = String::from(
        "| role | visits | booked sessions not started | intake answers | contact details | deliveries | audit |\n|---|---|---|---|---|---|---|\n",
    );
    for a in TABLE {
        let visits = match (a.role, a.visits) {
            (_, VisitScope::All) => "every room's",
            (Role::Receptionist, VisitScope::Rooms) => {
                "the rooms they work in (every room when given all rooms), and those they take part in"
            }
            (_, VisitScope::Rooms) => {
                "the rooms they work in and their own room, and those they take part in"
            }
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            a.role,
            visits,
            if a.sessions { "any room's" } else { "no" },
            yes(a.intake),
            yes(a.contact),
            yes(a.deliveries),
            yes(a.audit)
        ));
    }
    out
}

/// Who may read a visit, as of one change: the rooms it was in (before and after a transfer),
/// and the staff it names (assigned, requested, in the call, who left the call, booked with).
/// Kept with each event so a page of events is filtered as
/// the live stream was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub rooms: Vec<RoomId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<StaffId>,
    /// A booked session not started yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session: bool,
}

impl Audience {
    /// Who may read the visit as it stands.
    pub fn of(visit: &Visit) -> Self {
        let mut a = Audience {
            rooms: vec![visit.room_id],
            staff: Vec::new(),
            session: visit.status == crate::visit::Status::Scheduled,
        };
        let named = visit
            .assigned_provider
            .iter()
            .chain(&visit.requested_provider)
            .chain(&visit.in_call)
            .chain(
                visit
                    .booking
                    .iter()
                    .flat_map(|b| std::iter::once(&b.provider).chain(&b.staff)),
            );
        for s in named {
            a.add_staff(*s);
        }
        a
    }

    /// Who may read a change to the visit: those who may read it now, and those who could
    /// before it (the room a transfer left, whoever the entries name), so they see it go.
    pub fn of_change(visit: &Visit, entries: &[HistoryEntry]) -> Self {
        let mut a = Self::of(visit);
        for e in entries {
            match &e.change {
                Change::Transferred { from_room, .. } => a.add_room(*from_room),
                Change::Claimed { staff }
                | Change::Joined { staff }
                | Change::LeftCall { staff } => a.add_staff(*staff),
                Change::Assigned { provider, .. } | Change::RequestAccepted { provider, .. } => {
                    a.add_staff(*provider)
                }
                _ => {}
            }
        }
        a
    }

    fn add_room(&mut self, room: RoomId) {
        if !self.rooms.contains(&room) {
            self.rooms.push(room);
        }
    }

    fn add_staff(&mut self, staff: StaffId) {
        if !self.staff.contains(&staff) {
            self.staff.push(staff);
        }
    }
}

/// Every detail short of the whole visit that someone may see a visit with (one role's, or
/// several roles' together): the copies of a change the live stream makes once for all the
/// readers who get each.
pub fn partial_details() -> Vec<Detail> {
    let mut out: Vec<Detail> = Vec::new();
    for held in 1u32..(1 << TABLE.len()) {
        let d = TABLE
            .iter()
            .enumerate()
            .filter(|(i, _)| held & (1 << i) != 0)
            .map(|(_, a)| Detail {
                intake: a.intake,
                contact: a.contact,
            })
            .reduce(Detail::max);
        if let Some(d) = d.filter(|d| !d.is_whole() && !out.contains(d)) {
            out.push(d);
        }
    }
    out
}

/// How much of a visit a reader sees, when they see it at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detail {
    pub intake: bool,
    pub contact: bool,
}

impl Detail {
    /// Everything: intake answers and contact details.
    pub const WHOLE: Detail = Detail {
        intake: true,
        contact: true,
    };
    /// Neither: what became of the visit, and who was involved.
    pub const NONE: Detail = Detail {
        intake: false,
        contact: false,
    };

    fn max(self, other: Detail) -> Detail {
        Detail {
            intake: self.intake || other.intake,
            contact: self.contact || other.contact,
        }
    }

    pub fn is_whole(self) -> bool {
        self.intake && self.contact
    }
}

/// One person's access: the table applied to their roles and room grants. A value, so a
/// stream whose person changes (a station switched by PIN) swaps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    staff: StaffId,
    roles: Roles,
    rooms: BTreeSet<RoomId>,
    all_rooms: bool,
}

impl Reader {
    /// `rooms`: the rooms they work in, their own provider's room included; `all_rooms`: they
    /// were given every room of the clinic (reception).
    pub fn new(
        staff: StaffId,
        roles: Roles,
        rooms: impl IntoIterator<Item = RoomId>,
        all_rooms: bool,
    ) -> Self {
        Self {
            staff,
            roles,
            rooms: rooms.into_iter().collect(),
            all_rooms: all_rooms && roles.has(Role::Receptionist),
        }
    }

    fn granted(&self) -> impl Iterator<Item = RoleAccess> + '_ {
        self.roles.iter().map(role_access)
    }

    /// Whether they see every room's visits (the console's "All rooms" view).
    pub fn sees_all_rooms(&self) -> bool {
        self.roles.has(Role::Admin) || self.all_rooms
    }

    /// How much of a visit with this audience they see; None: not at all.
    pub fn detail(&self, audience: &Audience) -> Option<Detail> {
        let takes_part = audience.staff.contains(&self.staff);
        let in_rooms = self.all_rooms || audience.rooms.iter().any(|r| self.rooms.contains(r));
        self.granted()
            .filter(|a| match a.visits {
                VisitScope::All => true,
                VisitScope::Rooms => in_rooms || takes_part || (a.sessions && audience.session),
            })
            .map(RoleAccess::detail)
            .reduce(Detail::max)
    }

    /// The visit as they may read it; None: not theirs to read.
    pub fn visit(&self, mut visit: Visit) -> Option<Visit> {
        let detail = self.detail(&Audience::of(&visit))?;
        redact_visit(&mut visit, detail);
        Some(visit)
    }

    /// Whether they read every visit whole (an admin): nothing they are answered needs
    /// filtering.
    pub fn reads_everything(&self) -> bool {
        self.granted()
            .any(|a| a.visits == VisitScope::All && a.detail() == Detail::WHOLE)
    }

    /// The answer to a command they issued, as they may read it: the visit as it now stands
    /// and the entries the command added, with what they may see of the change (so a
    /// receptionist who transferred a patient out of their rooms still reads what they did,
    /// and a scheduler who cancelled a session reads no intake answers). They could read the
    /// visit when they acted; should the change have taken it out of their sight entirely, the
    /// answer still says what became of it, with no intake answers or contact details.
    pub fn answer(&self, visit: &mut Visit, entries: &mut [HistoryEntry]) {
        let detail = self
            .detail(&Audience::of_change(visit, entries))
            .unwrap_or(Detail::NONE);
        redact_visit(visit, detail);
        redact_entries(entries, detail);
    }

    pub fn deliveries(&self) -> bool {
        self.granted().any(|a| a.deliveries)
    }

    pub fn audit(&self) -> bool {
        self.granted().any(|a| a.audit)
    }
}

/// A guest's contact as a reader without contact details sees it.
const NO_CONTACT: crate::input::Contact = crate::input::Contact {
    phone: None,
    email: None,
};

/// Leaves out of a visit what `detail` does not show.
pub fn redact_visit(visit: &mut Visit, detail: Detail) {
    if !detail.intake {
        visit.intake.clear();
    }
    if !detail.contact {
        visit.patient.contact = None;
    }
    if let Some(b) = visit.booking.as_mut().filter(|_| !detail.contact) {
        for g in &mut b.guests {
            g.contact = NO_CONTACT;
        }
    }
    redact_entries(&mut visit.history, detail);
}

/// Leaves out of history entries (an event's, a visit's) what `detail` does not show.
pub fn redact_entries(entries: &mut [HistoryEntry], detail: Detail) {
    for e in entries {
        match &mut e.change {
            Change::IntakeUpdated { answers } if !detail.intake => answers.clear(),
            Change::Opened(o) if !detail.contact => {
                o.patient.contact = None;
                if let Some(b) = o.booking.as_mut() {
                    for g in &mut b.guests {
                        g.contact = NO_CONTACT;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether `detail` would change these entries (so one copy can be sent to everyone).
pub fn entries_need_redacting(entries: &[HistoryEntry], detail: Detail) -> bool {
    entries.iter().any(|e| match &e.change {
        Change::IntakeUpdated { answers } => !detail.intake && !answers.is_empty(),
        Change::Opened(_) => !detail.contact,
        _ => false,
    })
}
