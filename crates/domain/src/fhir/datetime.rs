//! FHIR's `instant` and `dateTime` in UTC, to and from our milliseconds, without a calendar
//! library: the proleptic Gregorian calendar's days from the epoch (H. Hinnant's algorithms).

use crate::time::Timestamp;

const DAY_MS: i64 = 86_400_000;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `2026-12-03T09:30:00Z`, with milliseconds only when there are some.
pub fn instant(at: Timestamp) -> String {
    let ms = at.as_millis();
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let (secs, milli) = (in_day / 1000, in_day % 1000);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
    }
}

fn number(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A FHIR `instant`: a date, a time to the second (a fraction allowed) and a zone (`Z` or
/// `±hh:mm`). None for anything less precise or malformed.
pub fn parse_instant(s: &str) -> Option<Timestamp> {
    let (date, rest) = s.split_once('T')?;
    let mut ymd = date.split('-');
    let (y, m, d) = (
        number(ymd.next()?, 4)?,
        number(ymd.next()?, 2)?,
        number(ymd.next()?, 2)?,
    );
    if ymd.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // The zone: Z, or the last + or - (the time itself holds neither).
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (t, zone) = rest.split_at(at);
        let (sign, hm) = zone.split_at(1);
        let (oh, om) = hm.split_once(':')?;
        let (oh, om) = (number(oh, 2)?, number(om, 2)?);
        if oh > 14 || om > 59 {
            return None;
        }
        let sign = if sign == "-" { -1 } else { 1 };
        (t, sign * (oh * 3600 + om * 60) * 1000)
    };
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.split(':');
    let (hh, mm, ss) = (
        number(parts.next()?, 2)?,
        number(parts.next()?, 2)?,
        number(parts.next()?, 2)?,
    );
    if parts.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let milli = if fraction.is_empty() {
        0
    } else {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{fraction:0<3}")[..3].parse::<i64>().ok()?
    };
    // A day past the month's end (the 31st of April) does not round-trip: refused.
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    let local = days * DAY_MS + ((hh * 3600 + mm * 60 + ss) * 1000) + milli;
    Some(Timestamp::from_millis(local - offset_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_and_zones_are_applied() {
        let t = parse_instant("2026-12-03T09:30:00Z").unwrap();
        assert_eq!(t.as_millis(), 1_796_290_200_000);
        assert_eq!(instant(t), "2026-12-03T09:30:00Z");
        assert_eq!(
            parse_instant("2026-12-03T10:30:00.250+01:00").unwrap(),
            Timestamp::from_millis(t.as_millis() + 250)
        );
        assert_eq!(
            instant(Timestamp::from_millis(250)),
            "1970-01-01T00:00:00.250Z"
        );
        assert_eq!(
            parse_instant("2024-02-29T23:00:00-05:00")
                .map(instant)
                .as_deref(),
            Some("2024-03-01T04:00:00Z")
        );
    }

    #[test]
    fn imprecise_or_impossible_instants_are_refused() {
        for bad in [
            "2026-12-03",
            "2026-12-03T09:30",
            "2026-12-03T09:30:00",
            "2026-04-31T09:30:00Z",
            "2026-13-01T09:30:00Z",
            "2026-12-03T24:00:00Z",
            "2026-12-03T09:30:00+1:00",
            "tomorrow",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }
}
