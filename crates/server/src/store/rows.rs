//! What both stores share about rows: decoding a room or a member of staff from its columns
//! (read as text), and the JSON a store keeps or answers with (a visit event, a command's
//! reply), made in one place so the SQLite and PostgreSQL stores answer byte for byte alike.

use crate::audit::{AuditRecord, ChainedRecord};
use crate::events::{Event, EventBody, Published};
use crate::model::{AfterHours, OfficeHours, RoomInfo, StaffInfo};
use crate::store::{DeliveryState, StaffSecrets, StoreError};
use frontdesk_domain::access::Audience;
use frontdesk_domain::{
    Availability, ClinicId, HistoryEntry, Roles, RoomId, Timestamp, Visit, VisitId,
};

/// The statuses of a patient in a waiting area (the domain's `Status::is_waiting`); each
/// store's `visits_in_line` index is over exactly these.
pub(crate) const WAITING_STATUSES: &str = "('intake','waiting','on_hold')";

pub(crate) const OPEN_STATUSES: &str =
    "('scheduled','requested','intake','waiting','in_call','on_hold')";

/// The history rows a report of `[$2, $3)` reads for clinic `$1`: every entry of the visits
/// that arrived in the window (`line_since` is when a visit arrived, or opened if it has not)
/// or finished in it, as `(visit_id, version, position, entry)`. Both halves are range reads of
/// an index (`visits_by_arrival`, `visits_finished`); the domain's `report::summarize` leaves
/// out what the window does not hold. Unordered: sorting a month of entries in the database
/// costs more than putting each visit's few in order here ([`histories_from_rows`]).
pub(crate) const REPORT_HISTORY_SQL: &str =
    "SELECT h.visit_id, h.version, h.position, h.entry FROM visit_history h
     WHERE h.clinic_id = $1 AND h.visit_id IN (
         SELECT id FROM visits WHERE clinic_id = $1 AND line_since >= $2 AND line_since < $3
         UNION ALL
         SELECT id FROM visits WHERE clinic_id = $1 AND finished_at >= $2 AND finished_at < $3)";

/// One history row a report reads: visit id, version, position, entry.
pub(crate) type HistoryRow<'a> = (&'a str, i64, i64, &'a str);

/// Gathers history rows, in any order, into one history per visit (by visit id), each in the
/// order it was recorded.
pub(crate) fn histories_from_rows<'a>(
    rows: impl IntoIterator<Item = HistoryRow<'a>>,
) -> Result<Vec<(VisitId, Vec<HistoryEntry>)>, StoreError> {
    let mut by_visit: std::collections::BTreeMap<&str, Vec<(i64, i64, &str)>> =
        std::collections::BTreeMap::new();
    for (visit, version, position, entry) in rows {
        by_visit
            .entry(visit)
            .or_default()
            .push((version, position, entry));
    }
    by_visit
        .into_iter()
        .map(|(visit, mut entries)| {
            entries.sort_unstable_by_key(|(version, position, _)| (*version, *position));
            let history = entries
                .into_iter()
                .map(|(_, _, entry)| from_json(entry))
                .collect::<Result<_, _>>()?;
            Ok((parse_id(visit)?, history))
        })
        .collect()
}

/// The columns a room is read from, in the order [`room_from_cols`] takes them.
pub(crate) const ROOM_COLUMNS: &str = "id, clinic_id, name, provider_id, office_hours, emergency_info, waiting_message, intake_questions, settings";

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt(format!("bad id {s:?}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(corrupt)
}

pub(crate) fn availability_str(a: Availability) -> &'static str {
    a.as_str()
}

pub(crate) fn parse_availability(s: &str) -> Result<Availability, StoreError> {
    from_json(&format!("\"{s}\""))
}

/// A room's front-door settings, kept together in one JSON column.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct RoomSettings {
    #[serde(default)]
    after_hours: AfterHours,
    #[serde(default)]
    show_place_in_line: bool,
    #[serde(default)]
    minutes_per_patient: Option<u32>,
}

pub(crate) fn room_settings_json(room: &RoomInfo) -> Result<String, StoreError> {
    to_json(&RoomSettings {
        after_hours: room.after_hours,
        show_place_in_line: room.show_place_in_line,
        minutes_per_patient: room.minutes_per_patient,
    })
}

pub(crate) fn room_from_cols(c: [Option<String>; 9]) -> Result<RoomInfo, StoreError> {
    let [
        id,
        clinic,
        name,
        provider,
        hours,
        emergency,
        waiting,
        questions,
        settings,
    ] = c;
    let settings: RoomSettings = from_json(settings.as_deref().unwrap_or("{}"))?;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing room column"));
    Ok(RoomInfo {
        id: parse_id(&need(id)?)?,
        clinic_id: parse_id(&need(clinic)?)?,
        name: need(name)?,
        provider: provider.as_deref().map(parse_id).transpose()?,
        office_hours: from_json::<Vec<OfficeHours>>(&need(hours)?)?,
        emergency_info: emergency,
        waiting_message: waiting,
        intake_questions: from_json(&need(questions)?)?,
        after_hours: settings.after_hours,
        show_place_in_line: settings.show_place_in_line,
        minutes_per_patient: settings.minutes_per_patient,
    })
}

pub(crate) fn staff_from_cols(
    c: [Option<String>; 13],
) -> Result<(StaffInfo, StaffSecrets), StoreError> {
    let [
        id,
        clinic,
        name,
        email,
        roles,
        availability,
        rooms,
        password,
        pin,
        phone,
        deactivated_at,
        pin_failures,
        all_rooms,
    ] = c;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing staff column"));
    let mut rooms: Vec<RoomId> = rooms
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .collect::<Result<_, _>>()?;
    rooms.sort();
    Ok((
        StaffInfo {
            id: parse_id(&need(id)?)?,
            clinic_id: parse_id(&need(clinic)?)?,
            name: need(name)?,
            email: need(email)?,
            phone,
            roles: from_json::<Roles>(&need(roles)?)?,
            availability: parse_availability(&need(availability)?)?,
            rooms,
            all_rooms: all_rooms.as_deref() == Some("1"),
            deactivated: deactivated_at.is_some(),
        },
        StaffSecrets {
            password_hash: need(password)?,
            pin_hash: pin,
            pin_failures: pin_failures
                .as_deref()
                .unwrap_or("0")
                .parse()
                .map_err(corrupt)?,
        },
    ))
}

/// A visit event's JSON, in the field order `Event` serializes to, around the entries' JSON
/// already made for the reply (make it once).
pub(crate) fn visit_event_json(
    seq: u64,
    clinic: ClinicId,
    at: Timestamp,
    visit_id: VisitId,
    version: u64,
    entries_json: &str,
) -> String {
    format!(
        r#"{{"seq":{seq}{}"#,
        visit_event_after_seq(clinic, at, visit_id, version, entries_json)
    )
}

/// A visit event's JSON after its seq (`,"clinic_id":…}`): what a store that learns the seq
/// only in the statement that writes the event puts after `{"seq":<seq>`.
pub(crate) fn visit_event_after_seq(
    clinic: ClinicId,
    at: Timestamp,
    visit_id: VisitId,
    version: u64,
    entries_json: &str,
) -> String {
    format!(
        r#","clinic_id":"{clinic}","at":{},"kind":"visit","visit_id":"{visit_id}","version":{version},"entries":{entries_json}}}"#,
        at.as_millis(),
    )
}

/// A command's reply, `{"seq":…,"visit":…,"entries":…}`, around the visit's and the entries'
/// JSON already made (the same bytes as `CommandReply` serializes to).
pub(crate) fn reply_json(seq: u64, visit_json: &str, entries_json: &str) -> String {
    format!(r#"{{"seq":{seq},"visit":{visit_json},"entries":{entries_json}}}"#)
}

pub(crate) fn state_str(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Sending => "sending",
        DeliveryState::Sent => "sent",
        DeliveryState::Skipped => "skipped",
        DeliveryState::Failed => "failed",
    }
}

/// Which visit, at which version, a visit event's payload is about.
pub(crate) fn event_visit(payload: &str) -> Result<(VisitId, u64), StoreError> {
    #[derive(serde::Deserialize)]
    struct Answered {
        visit_id: VisitId,
        version: u64,
    }
    let event: Answered = from_json(payload)?;
    Ok((event.visit_id, event.version))
}

/// Who may read a stored event, from its kind and its `audience` column: None for everyone
/// (staff, rooms); a visit event stored before events kept their audience is for those who
/// see every room.
pub(crate) fn event_audience(
    kind: &str,
    audience: Option<&str>,
) -> Result<Option<Audience>, StoreError> {
    Ok(match audience {
        Some(a) => Some(from_json::<Audience>(a)?),
        None if kind == "visit" => Some(Audience::default()),
        None => None,
    })
}

/// A stored event as live subscribers are handed it: a visit's change for the readers its
/// audience allows, anything else for everyone.
pub(crate) fn published_from_row(
    payload: &str,
    audience: Option<Audience>,
) -> Result<Published, StoreError> {
    let Some(audience) = audience else {
        return Ok(Published::new(from_json::<Event>(payload)?.seq, payload));
    };
    let event: Event = from_json(payload)?;
    match event.body {
        EventBody::Visit {
            visit_id,
            version,
            ref entries,
        } => {
            let entries = entries.clone();
            let head = Event {
                body: EventBody::Withheld,
                ..event
            };
            Ok(Published::for_audience(
                head, visit_id, version, &entries, payload, audience,
            ))
        }
        _ => Ok(Published::new(event.seq, payload)),
    }
}

/// An audit record read back, from its place and its text columns in the order the stores
/// select them (clinic, at, actor, client, action, visits, detail, prev_hash, hash).
pub(crate) fn audit_entry_from_cols(
    (n, cols): (i64, [String; 9]),
) -> Result<ChainedRecord, StoreError> {
    let [
        clinic,
        at,
        actor,
        client,
        action,
        visits,
        detail,
        prev_hash,
        hash,
    ] = cols;
    Ok(ChainedRecord {
        n: n as u64,
        record: AuditRecord {
            clinic_id: parse_id(&clinic)?,
            at: Timestamp::from_millis(at.parse().map_err(corrupt)?),
            actor,
            client,
            action,
            visits: visits
                .split(',')
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .collect::<Result<_, _>>()?,
            detail: from_json(&detail)?,
        },
        prev_hash,
        hash,
    })
}

/// The reply to a command as it was first answered (its event took `seq`): the visit at
/// `version`, rebuilt from its history up to that version, and that version's entries.
pub(crate) fn replayed_reply(
    seq: u64,
    visit_id: VisitId,
    version: u64,
    history: &[HistoryEntry],
) -> Result<String, StoreError> {
    let mut visit = Visit::replay(visit_id, history).map_err(corrupt)?;
    visit.history.clear();
    let entries: Vec<&HistoryEntry> = history.iter().filter(|e| e.version == version).collect();
    Ok(reply_json(seq, &to_json(&visit)?, &to_json(&entries)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventBody};

    #[test]
    fn report_rows_in_any_order_give_each_visit_its_history_in_order() {
        use frontdesk_domain::{ActorRef, Change, Status};
        let entry = |version: u64, change: Change| {
            let e = HistoryEntry {
                version,
                at: Timestamp::from_millis(version as i64),
                actor: ActorRef::System,
                change,
                status: Status::Waiting,
            };
            serde_json::to_string(&e).unwrap()
        };
        let (a, b) = (
            VisitId::from_u128(1).to_string(),
            VisitId::from_u128(2).to_string(),
        );
        let (one, two, three) = (
            entry(1, Change::IntakeFinished),
            entry(2, Change::PutOnHold),
            entry(2, Change::CallEnded),
        );
        let rows = [
            (b.as_str(), 2, 1, three.as_str()),
            (a.as_str(), 2, 0, two.as_str()),
            (b.as_str(), 2, 0, two.as_str()),
            (a.as_str(), 1, 0, one.as_str()),
        ];
        let got = histories_from_rows(rows).unwrap();
        let kinds = |h: &[HistoryEntry]| h.iter().map(|e| e.change.kind()).collect::<Vec<_>>();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.to_string(), a);
        assert_eq!(kinds(&got[0].1), ["intake_finished", "put_on_hold"]);
        assert_eq!(kinds(&got[1].1), ["put_on_hold", "call_ended"]);
    }

    #[test]
    fn a_hand_built_visit_event_is_exactly_what_event_serializes_to() {
        use frontdesk_domain::{Actor, Context, Opening, Patient, PersonName, RoomId, open};
        let clinic = ClinicId::from_u128(1);
        let ctx = Context {
            actor: Actor::Patient,
            at: Timestamp::from_millis(1_700_000_000_000),
            expected_version: None,
        };
        let opening = Opening::Arrive {
            room: RoomId::from_u128(2),
            patient: Patient {
                name: PersonName::parse("Ana \"Quote\" P.").unwrap(),
                contact: None,
            },
            has_intake: true,
            after_hours: false,
        };
        let outcome = open(VisitId::from_u128(3), clinic, &ctx, opening).unwrap();
        let typed = Event {
            seq: 7,
            clinic_id: clinic,
            at: ctx.at,
            body: EventBody::Visit {
                visit_id: outcome.visit.id,
                version: outcome.visit.version,
                entries: outcome.entries.clone(),
            },
        };
        let built = visit_event_json(
            7,
            clinic,
            ctx.at,
            outcome.visit.id,
            outcome.visit.version,
            &to_json(&outcome.entries).unwrap(),
        );
        assert_eq!(built, to_json(&typed).unwrap());
        assert_eq!(from_json::<Event>(&built).unwrap(), typed);
    }
}
