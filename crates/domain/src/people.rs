//! Staff, their roles and availability, and rooms.

use crate::ids::{ClinicId, RoomId, StaffId};
use crate::input::Label;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a member of staff does in the clinic. One person may hold several roles (a provider who
/// is also the clinic's admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the clinic: may do everything staff can do, and manage rooms and staff.
    Admin,
    /// Front desk: triages, messages, calls, transfers and assigns patients.
    Receptionist,
    /// Sees patients; receives session requests and assignments.
    Provider,
    /// Books scheduled sessions; does not take patients into calls.
    Scheduler,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Receptionist,
        Role::Provider,
        Role::Scheduler,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Receptionist => "receptionist",
            Role::Provider => "provider",
            Role::Scheduler => "scheduler",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of roles one person holds.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(as = "Vec<Role>"))]
pub struct Roles(u8);

impl Roles {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn of(roles: &[Role]) -> Self {
        roles.iter().fold(Self::empty(), |acc, r| acc.with(*r))
    }

    pub const fn with(self, role: Role) -> Self {
        Self(self.0 | (1 << role as u8))
    }

    pub const fn has(self, role: Role) -> bool {
        self.0 & (1 << role as u8) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.has(*r))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Roles::of(&Vec::<Role>::deserialize(d)?))
    }
}

/// Whether a member of staff can take patients now. Providers set it from the console header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// At the desk and taking patients.
    Available,
    /// Away from the desk but taking urgent requests and alerts (providers).
    OnCall,
    /// With a patient; requests queue up and alerts still arrive.
    Busy,
    /// Stepped away briefly; requests queue up.
    Away,
    /// Not taking patients: requests are declined at once and no alerts are raised.
    #[default]
    Unavailable,
}

impl Availability {
    /// A session request to someone in this state is accepted into their queue; otherwise it is
    /// declined at once so the patient is not left waiting on nobody.
    pub fn takes_requests(self) -> bool {
        !matches!(self, Availability::Unavailable)
    }

    /// Whether desktop, email and SMS alerts are raised for this person.
    pub fn receives_alerts(self) -> bool {
        !matches!(self, Availability::Unavailable)
    }

    /// The states a person may set themselves to: providers say more about where they are
    /// (on call, busy, away); everyone else is at the desk or not.
    pub fn choices_for(roles: Roles) -> &'static [Availability] {
        if roles.has(Role::Provider) {
            &[
                Availability::Available,
                Availability::OnCall,
                Availability::Busy,
                Availability::Away,
                Availability::Unavailable,
            ]
        } else {
            &[Availability::Available, Availability::Unavailable]
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::OnCall => "on_call",
            Availability::Busy => "busy",
            Availability::Away => "away",
            Availability::Unavailable => "unavailable",
        }
    }
}

/// The console's workspaces: the queue, and the screens beyond it. Which of them a person has
/// is the domain's answer
/// ([`Workspace::for_roles`]); the console shows a workspace's button only when it is in that
/// answer, and the server refuses its API calls to anyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Workspace {
    /// Who waits, requests, today's sessions and the providers board: everyone's.
    Queue,
    /// The sessions calendar: booking, rescheduling and cancelling sessions (schedulers and
    /// admins), and a provider's own booked sessions to claim.
    Calendar,
    /// Wait times, outcomes and per-provider figures for a day, week or month (managers: the
    /// clinic's admins).
    Reports,
    /// Rooms, staff, stations, deliveries and alerts (admins).
    Admin,
}

impl Workspace {
    /// The workspaces a person with these roles has, in the order the console lists them.
    /// Front desk staff work from the queue alone.
    pub fn for_roles(roles: Roles) -> Vec<Workspace> {
        let mut out = vec![Workspace::Queue];
        if roles.has(Role::Admin) || roles.has(Role::Scheduler) || roles.has(Role::Provider) {
            out.push(Workspace::Calendar);
        }
        if roles.has(Role::Admin) {
            out.push(Workspace::Reports);
            out.push(Workspace::Admin);
        }
        out
    }

    /// Whether someone with these roles has this workspace.
    pub fn allowed(self, roles: Roles) -> bool {
        Self::for_roles(roles).contains(&self)
    }
}

/// A member of staff as the rest of the clinic sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Staff {
    pub id: StaffId,
    pub clinic_id: ClinicId,
    pub name: Label,
    pub roles: Roles,
    pub availability: Availability,
}

/// A room is a shared waiting area (Reception) or a provider's own room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RoomKind {
    Shared,
    Provider { provider: StaffId },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Room {
    pub id: RoomId,
    pub clinic_id: ClinicId,
    pub name: Label,
    #[serde(flatten)]
    pub kind: RoomKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_desk_works_from_the_queue_alone() {
        let workspaces = |roles: &[Role]| Workspace::for_roles(Roles::of(roles));
        assert_eq!(workspaces(&[Role::Receptionist]), vec![Workspace::Queue]);
        assert_eq!(
            workspaces(&[Role::Scheduler]),
            vec![Workspace::Queue, Workspace::Calendar]
        );
        assert_eq!(
            workspaces(&[Role::Provider]),
            vec![Workspace::Queue, Workspace::Calendar]
        );
        assert_eq!(
            workspaces(&[Role::Admin]),
            vec![
                Workspace::Queue,
                Workspace::Calendar,
                Workspace::Reports,
                Workspace::Admin
            ]
        );
        // A receptionist who also books has the calendar, and nothing of an admin's.
        let both = Roles::of(&[Role::Receptionist, Role::Scheduler]);
        assert!(Workspace::Calendar.allowed(both));
        assert!(!Workspace::Reports.allowed(both) && !Workspace::Admin.allowed(both));
    }

    #[test]
    fn roles_are_a_set() {
        let r = Roles::of(&[Role::Provider, Role::Admin, Role::Provider]);
        assert!(r.has(Role::Admin) && r.has(Role::Provider));
        assert!(!r.has(Role::Receptionist));
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            vec![Role::Admin, Role::Provider]
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"["admin","provider"]"#);
        assert_eq!(serde_json::from_str::<Roles>(&json).unwrap(), r);
    }

    #[test]
    fn only_unavailable_turns_requests_and_alerts_away() {
        use Availability::*;
        for a in [Available, OnCall, Busy, Away] {
            assert!(a.takes_requests() && a.receives_alerts(), "{a:?}");
        }
        assert!(!Unavailable.takes_requests() && !Unavailable.receives_alerts());
    }
}
