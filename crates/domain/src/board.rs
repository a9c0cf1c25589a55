//! The providers board: what each provider is doing now, and where a session request someone
//! made stands (waiting for the provider, accepted, or declined with the provider's note).

use crate::ids::StaffId;
use crate::people::Availability;
use crate::visit::{ActorRef, Change, Status, Visit};
use serde::{Deserialize, Serialize};

/// What a provider is doing now, as the board shows it: a call they are in comes before what
/// they set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProviderNow {
    InCall,
    Available,
    OnCall,
    Busy,
    Away,
    Unavailable,
}

/// `availability` as the provider set it; `in_call`: they are in a call with a patient now.
pub fn provider_now(availability: Availability, in_call: bool) -> ProviderNow {
    if in_call {
        return ProviderNow::InCall;
    }
    match availability {
        Availability::Available => ProviderNow::Available,
        Availability::OnCall => ProviderNow::OnCall,
        Availability::Busy => ProviderNow::Busy,
        Availability::Away => ProviderNow::Away,
        Availability::Unavailable => ProviderNow::Unavailable,
    }
}

/// Where a session request stands for the one who made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestAnswer {
    /// Waiting for the provider.
    Pending,
    Accepted,
    /// Declined, with the provider's note (or the clinic's, when the provider was unavailable).
    Declined {
        note: String,
    },
    /// Withdrawn, or ended some other way before an answer.
    Closed,
}

/// A session request as its requester follows it: who made it, to whom, and its answer. None
/// when the visit did not start as a request made by a member of staff.
pub fn request_by_staff(visit: &Visit) -> Option<(StaffId, StaffId, RequestAnswer)> {
    let first = visit.history.first()?;
    let (ActorRef::Staff { id: requester }, Change::Opened(opened)) = (&first.actor, &first.change)
    else {
        return None;
    };
    let provider = opened.requested_provider?;
    let answer = visit
        .history
        .iter()
        .find_map(|e| match &e.change {
            Change::RequestAccepted { .. } => Some(RequestAnswer::Accepted),
            Change::Declined { note, .. } => Some(RequestAnswer::Declined {
                note: note.to_string(),
            }),
            _ => None,
        })
        .unwrap_or(if visit.status == Status::Requested {
            RequestAnswer::Pending
        } else {
            RequestAnswer::Closed
        });
    Some((*requester, provider, answer))
}
