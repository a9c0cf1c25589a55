//! Office hours in the clinic's own time zone: whether a room is open at an instant, when it
//! opens next, and clinic-local times in words for pages and messages.

use crate::model::OfficeHours;
use frontdesk_domain::Timestamp;
use frontdesk_domain::report::{Period, ReportWindow};
use jiff::tz::TimeZone;

/// Whether a room takes patients now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Openness {
    Open,
    /// Closed; `reopens` says when in words ("today at 09:00", "Monday at 09:00"), if ever.
    Closed {
        reopens: Option<String>,
    },
}

impl Openness {
    pub fn is_open(&self) -> bool {
        matches!(self, Openness::Open)
    }
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The name of weekday `day` (0 = Monday).
pub fn day_name(day: u8) -> &'static str {
    DAYS.get(usize::from(day)).copied().unwrap_or("?")
}

/// "HH:MM" as minutes after midnight.
pub fn minutes_of(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && hhmm.len() == 5).then_some(h * 60 + m)
}

/// The clinic's time zone, or why it is not one.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| format!("{name:?} is not a known time zone"))
}

fn zoned(tz_name: &str, at: Timestamp) -> Option<jiff::Zoned> {
    let tz = time_zone(tz_name).ok()?;
    Some(
        jiff::Timestamp::from_millisecond(at.as_millis())
            .ok()?
            .to_zoned(tz),
    )
}

/// Whether a room with `hours` is open at `at` in the clinic's zone. No hours: always open.
/// An unknown zone counts as UTC, so a typo never closes a clinic silently forever.
pub fn openness(tz_name: &str, hours: &[OfficeHours], at: Timestamp) -> Openness {
    if hours.is_empty() {
        return Openness::Open;
    }
    let Some(now) = zoned(tz_name, at).or_else(|| zoned("UTC", at)) else {
        return Openness::Open;
    };
    let today = now.weekday().to_monday_zero_offset() as u8;
    let minute = now.hour() as u16 * 60 + now.minute() as u16;
    let spans = |day: u8| {
        hours
            .iter()
            .filter(move |h| h.day == day)
            .filter_map(|h| Some((minutes_of(&h.opens)?, minutes_of(&h.closes)?)))
    };
    if spans(today).any(|(o, c)| o <= minute && minute < c) {
        return Openness::Open;
    }
    let reopens = (0..7u8).find_map(|ahead| {
        let day = (today + ahead) % 7;
        let first = spans(day)
            .map(|(o, _)| o)
            .filter(|&o| ahead > 0 || o > minute)
            .min()?;
        let when = match ahead {
            0 => "today".to_owned(),
            1 => "tomorrow".to_owned(),
            _ => day_name(day).to_owned(),
        };
        Some(format!("{when} at {:02}:{:02}", first / 60, first % 60))
    });
    Openness::Closed { reopens }
}

/// The clinic-local weekday (0 = Monday) and time "HH:MM" at `at`. An unknown zone counts as
/// UTC.
pub fn local_day_and_time(tz_name: &str, at: Timestamp) -> (u8, String) {
    match zoned(tz_name, at).or_else(|| zoned("UTC", at)) {
        Some(z) => (
            z.weekday().to_monday_zero_offset() as u8,
            format!("{:02}:{:02}", z.hour(), z.minute()),
        ),
        None => (0, "00:00".into()),
    }
}

/// A clinic-local day (`YYYY-MM-DD`, or the one containing `now`) and its span `[from, to)`.
/// None when `day` is not a date. An unknown zone counts as UTC.
pub fn day_span(
    tz_name: &str,
    day: Option<&str>,
    now: Timestamp,
) -> Option<(String, Timestamp, Timestamp)> {
    let tz = time_zone(tz_name).unwrap_or(TimeZone::UTC);
    let date: jiff::civil::Date = match day {
        Some(d) => d.parse().ok()?,
        None => jiff::Timestamp::from_millisecond(now.as_millis())
            .ok()?
            .to_zoned(tz.clone())
            .date(),
    };
    let start = |d: jiff::civil::Date| -> Option<Timestamp> {
        let z = d.to_zoned(tz.clone()).ok()?;
        Some(Timestamp::from_millis(z.timestamp().as_millisecond()))
    };
    Some((
        date.to_string(),
        start(date)?,
        start(date.tomorrow().ok()?)?,
    ))
}

/// The report window of `period` holding the clinic-local `day` (`YYYY-MM-DD`, or today): the
/// day itself, its week from Monday, or its calendar month. None when `day` is not a date.
/// An unknown zone counts as UTC.
pub fn period_window(
    tz_name: &str,
    period: Period,
    day: Option<&str>,
    now: Timestamp,
) -> Option<ReportWindow> {
    let (day, _, _) = day_span(tz_name, day, now)?;
    let date: jiff::civil::Date = day.parse().ok()?;
    let (first, last) = match period {
        Period::Day => (date, date),
        Period::Week => {
            let back = i64::from(date.weekday().to_monday_zero_offset());
            let monday = date.checked_sub(jiff::Span::new().days(back)).ok()?;
            (monday, monday.checked_add(jiff::Span::new().days(6)).ok()?)
        }
        Period::Month => (date.first_of_month(), date.last_of_month()),
    };
    let (first_day, from, _) = day_span(tz_name, Some(&first.to_string()), now)?;
    let (last_day, _, to) = day_span(tz_name, Some(&last.to_string()), now)?;
    Some(ReportWindow {
        period,
        first_day,
        last_day,
        from,
        to,
        time_zone: tz_name.to_owned(),
    })
}

/// The clinic-local hour of the day (0 to 23) of an instant. An unknown zone counts as UTC.
pub fn local_hour(tz_name: &str) -> impl Fn(Timestamp) -> u8 + use<> {
    let tz = time_zone(tz_name).unwrap_or(TimeZone::UTC);
    move |at| {
        jiff::Timestamp::from_millisecond(at.as_millis())
            .map_or(0, |t| t.to_zoned(tz.clone()).hour() as u8)
    }
}

/// A clinic-local date and time in words: "Tuesday 24 November, 09:30 (Australia/Sydney)".
pub fn local_words(tz_name: &str, at: Timestamp) -> String {
    match zoned(tz_name, at) {
        Some(z) => format!("{} ({tz_name})", z.strftime("%A %-d %B, %H:%M")),
        None => format!("{} UTC", at.as_millis() / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(day: u8, opens: &str, closes: &str) -> OfficeHours {
        OfficeHours {
            day,
            opens: opens.into(),
            closes: closes.into(),
        }
    }

    /// 2026-11-23 is a Monday.
    fn at(local: &str, tz: &str) -> Timestamp {
        let z: jiff::Zoned = format!("2026-11-23T{local}[{tz}]").parse().unwrap();
        Timestamp::from_millis(z.timestamp().as_millisecond())
    }

    #[test]
    fn a_clinic_day_runs_from_its_local_midnight_to_the_next() {
        // 2026-03-29: London moves to summer time, so the day is 23 hours long.
        let noon = Timestamp::from_millis(1_774_785_600_000); // 2026-03-29T12:00:00Z
        let (day, from, to) = day_span("Europe/London", None, noon).unwrap();
        assert_eq!(day, "2026-03-29");
        assert_eq!(from.as_millis(), 1_774_742_400_000); // 00:00 GMT
        assert_eq!(to.as_millis() - from.as_millis(), 23 * 3_600_000);
        let (_, from, _) = day_span("Australia/Sydney", Some("2026-03-29"), noon).unwrap();
        assert_eq!(from.as_millis(), 1_774_702_800_000); // 00:00 AEDT = 13:00Z the day before
        assert!(day_span("UTC", Some("29/03/2026"), noon).is_none());
    }

    #[test]
    fn open_inside_the_hours_of_the_clinic_zone_only() {
        let week: Vec<_> = (0..5).map(|d| hours(d, "09:00", "17:00")).collect();
        let tz = "Australia/Sydney";
        assert!(openness(tz, &week, at("09:00:00", tz)).is_open());
        assert!(openness(tz, &week, at("16:59:00", tz)).is_open());
        assert_eq!(
            openness(tz, &week, at("17:00:00", tz)),
            Openness::Closed {
                reopens: Some("tomorrow at 09:00".into())
            }
        );
        assert_eq!(
            openness(tz, &week, at("07:30:00", tz)),
            Openness::Closed {
                reopens: Some("today at 09:00".into())
            }
        );
        // 09:30 in Sydney is the evening before in UTC: closed there, open here.
        assert!(!openness("UTC", &week, at("09:30:00", tz)).is_open());
    }

    #[test]
    fn friday_evening_reopens_monday_and_no_hours_is_always_open() {
        let week: Vec<_> = (0..5).map(|d| hours(d, "09:00", "17:00")).collect();
        let friday_night =
            Timestamp::from_millis(at("20:00:00", "UTC").as_millis() + 4 * 86_400_000);
        assert_eq!(
            openness("UTC", &week, friday_night),
            Openness::Closed {
                reopens: Some("Monday at 09:00".into())
            }
        );
        assert!(openness("UTC", &[], friday_night).is_open());
    }

    #[test]
    fn local_words_name_the_day_and_zone() {
        let tz = "Europe/London";
        assert_eq!(
            local_words(tz, at("14:05:00", tz)),
            "Monday 23 November, 14:05 (Europe/London)"
        );
    }

    #[test]
    fn a_report_window_is_the_local_day_its_week_from_monday_or_its_month() {
        let now = Timestamp::from_millis(1_796_292_000_000); // 2026-12-03, a Thursday
        let tz = "Australia/Sydney";
        let w = period_window(tz, Period::Week, Some("2026-12-03"), now).unwrap();
        assert_eq!(
            (w.first_day.as_str(), w.last_day.as_str()),
            ("2026-11-30", "2026-12-06")
        );
        assert_eq!(
            w.from,
            at("00:00:00", tz) + frontdesk_domain::Span::from_mins(7 * 24 * 60)
        );
        assert_eq!(w.to.as_millis() - w.from.as_millis(), 7 * 86_400_000);
        let m = period_window("UTC", Period::Month, Some("2026-02-14"), now).unwrap();
        assert_eq!(
            (m.first_day.as_str(), m.last_day.as_str()),
            ("2026-02-01", "2026-02-28")
        );
        assert_eq!(m.to.as_millis() - m.from.as_millis(), 28 * 86_400_000);
        let d = period_window("UTC", Period::Day, None, now).unwrap();
        assert_eq!(
            (d.first_day.as_str(), d.last_day.as_str()),
            ("2026-12-03", "2026-12-03")
        );
        assert!(period_window("UTC", Period::Day, Some("2026-13-01"), now).is_none());
        // 09:30 in Sydney is 22:30 the day before in UTC.
        assert_eq!(local_hour(tz)(at("09:30:00", tz)), 9);
        assert_eq!(local_hour("UTC")(at("09:30:00", tz)), 22);
    }
}
