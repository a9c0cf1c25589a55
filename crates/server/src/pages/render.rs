//! The HTML of the patient pages, from the templates in `templates/` with the style and script
//! in `assets/`, all built into the binary. The templates escape every value by default
//! (through [`esc`]); only our own assets, the status words' JSON and the templates' own
//! pieces go in unescaped.

use super::JoinForm;
use crate::hours::{Openness, day_name};
use crate::model::{AfterHours, Clinic, OfficeHours, QuestionKind, RoomInfo};
use crate::service::PatientView;
use frontdesk_domain::{Status, intake_open};
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Escapes text for HTML content and quoted attribute values.
pub use frontdesk_domain::escape_html as esc;

const STYLE: &str = include_str!("assets/patient.css");

/// Keeps the waiting screen current (see the file's first lines).
const SCRIPT: &str = include_str!("assets/waiting.js");

/// The templates, parsed once. An `.html` template escapes what it prints; `button.js` prints
/// JSON string literals made for it.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // Our own escaping rather than the engine's: it leaves `/` alone, so links and text read
    // the same in the page's source as on screen.
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == AutoEscape::Html && !value.is_safe() {
            match value.as_str() {
                Some(s) => out.write_str(&esc(s))?,
                None => out.write_str(&esc(&value.to_string()))?,
            }
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    let templates = [
        ("page.html", include_str!("templates/page.html")),
        ("parts.html", include_str!("templates/parts.html")),
        ("message.html", include_str!("templates/message.html")),
        ("continue.html", include_str!("templates/continue.html")),
        ("front_door.html", include_str!("templates/front_door.html")),
        ("guest.html", include_str!("templates/guest.html")),
        ("intake.html", include_str!("templates/intake.html")),
        ("waiting.html", include_str!("templates/waiting.html")),
        ("button.js", include_str!("templates/button.js")),
    ];
    for (name, source) in templates {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a page template does not parse");
        }
    }
    env
});

/// Renders one template. The templates are ours and fixed at build time (and every one is
/// rendered by the tests), so a failure is a bug: it is logged and the patient gets a plain
/// apology rather than half a page.
fn render(name: &str, values: Value) -> String {
    match TEMPLATES.get_template(name).and_then(|t| t.render(values)) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(template = name, error = %e, "a page template failed");
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head>\
             <body><p>Something went wrong. Please try again in a moment.</p></body></html>\n"
                .to_owned()
        }
    }
}

/// Our own style and script, as the page template takes them.
fn assets(script: bool) -> (Value, Value) {
    (
        Value::from_safe_string(STYLE.to_owned()),
        if script {
            Value::from_safe_string(SCRIPT.to_owned())
        } else {
            Value::from(())
        },
    )
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Only our own inline style and script run; fetches go to this server only.
pub fn content_security_policy() -> String {
    static CSP: LazyLock<String> = LazyLock::new(|| {
        let hash = |s: &str| format!("'sha256-{}'", base64(&Sha256::digest(s.as_bytes())));
        format!(
            "default-src 'none'; style-src {}; script-src {}; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            hash(STYLE),
            hash(SCRIPT)
        )
    });
    CSP.clone()
}

/// A page that only says something: an invalid link, an error.
pub fn message_page(title: &str, text: &str) -> String {
    let (style, script) = assets(false);
    render("message.html", context! { title, text, style, script })
}

/// A page that moves on to the waiting screen by itself (see `continue.html`).
pub fn continue_page() -> String {
    let (style, script) = assets(false);
    let title = "Opening your waiting screen";
    render("continue.html", context! { title, style, script })
}

/// Text a person wrote for the page, unless there is nothing in it.
fn written(text: Option<&str>) -> Option<&str> {
    text.filter(|s| !s.trim().is_empty())
}

/// One line of the office hours.
#[derive(Serialize)]
struct HoursLine {
    day: &'static str,
    opens: String,
    closes: String,
}

fn hours_lines(hours: &[OfficeHours]) -> Vec<HoursLine> {
    hours
        .iter()
        .map(|h| HoursLine {
            day: day_name(h.day),
            opens: h.opens.clone(),
            closes: h.closes.clone(),
        })
        .collect()
}

/// What the front-door form shows: what was typed, echoed back at most a little more than
/// any field may hold.
#[derive(Serialize)]
struct FormValues {
    name: String,
    phone: String,
    email: String,
    nonce: String,
}

/// The front door: who the room is, what to expect, and the form.
pub fn front_door(
    clinic: &Clinic,
    room: &RoomInfo,
    open: &Openness,
    form: &JoinForm,
    error: Option<&str>,
) -> String {
    let keep = |s: &str| s.chars().take(300).collect::<String>();
    let closed = match open {
        Openness::Open => None,
        Openness::Closed { reopens } => {
            let when = reopens
                .as_deref()
                .map(|r| format!(" It opens again {r}."))
                .unwrap_or_default();
            let then = if room.after_hours == AfterHours::Accept {
                " You can still join the waiting room: the clinic will see you when it opens."
            } else {
                " Please come back during office hours. If it is urgent, see below."
            };
            Some(format!("We are outside office hours.{when}{then}"))
        }
    };
    let takes_patients = open.is_open() || room.after_hours != AfterHours::Refuse;
    let title = if takes_patients {
        format!("{} \u{2013} {}", room.name, clinic.name)
    } else {
        format!("Closed \u{2013} {} \u{2013} {}", room.name, clinic.name)
    };
    let form = takes_patients.then(|| FormValues {
        name: keep(&form.name),
        phone: keep(&form.phone),
        email: keep(&form.email),
        nonce: form.nonce.clone(),
    });
    let (style, script) = assets(false);
    render(
        "front_door.html",
        context! {
            title,
            style,
            script,
            clinic => &clinic.name,
            room => &room.name,
            slug => &clinic.slug,
            room_id => room.id.to_string(),
            closed,
            emergency => written(room.emergency_info.as_deref()),
            welcome => written(room.waiting_message.as_deref()),
            error,
            form,
            hours => hours_lines(&room.office_hours),
        },
    )
}

/// A JSON string literal that is also safe inside HTML and scripts.
fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned())
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The script behind the embeddable button.
pub fn button_js(clinic: &Clinic, room: &RoomInfo) -> String {
    let path = format!("/join/{}/{}", clinic.slug, room.id);
    let title = format!("{} \u{2013} {}", room.name, clinic.name);
    render(
        "button.js",
        context! { path => js_string(&path), title => js_string(&title) },
    )
}

/// What a status means to the patient: a title and a sentence.
pub fn status_words(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Scheduled => (
            "Your session is booked",
            "Come back to this page at the time of your session.",
        ),
        Status::Requested => (
            "Your request has been sent",
            "The provider will accept or decline it shortly. Please keep this page open.",
        ),
        Status::Intake => (
            "You are in the queue",
            "Please answer the questions below while you wait. The clinic can already see you.",
        ),
        Status::Waiting => (
            "You are in the waiting room",
            "Please keep this page open. Someone will be with you soon.",
        ),
        Status::InCall => ("You are being seen", "A member of staff is with you now."),
        Status::OnHold => (
            "You are on hold",
            "You'll be seen shortly. Please keep this page open.",
        ),
        Status::Completed => (
            "Your visit has ended",
            "Thank you. You can close this page.",
        ),
        Status::Declined => (
            "The clinic could not see you this time",
            "Please read the note from the clinic below.",
        ),
        Status::Left => (
            "You have left the waiting room",
            "You can close this page. To come back, open the clinic's link again.",
        ),
        Status::NoShow => (
            "Your session was missed",
            "Please contact the clinic to book again.",
        ),
        Status::Cancelled => (
            "Your session was cancelled",
            "Please contact the clinic if you have questions.",
        ),
    }
}

/// The words for every status, as JSON the script reads (safe inside a script element).
fn status_words_json() -> String {
    let map: serde_json::Map<String, serde_json::Value> = Status::ALL
        .iter()
        .map(|s| {
            let (title, detail) = status_words(*s);
            (
                s.as_str().to_owned(),
                serde_json::json!({
                    "title": title,
                    "detail": detail,
                    "intake": intake_open(*s),
                    "terminal": s.is_terminal(),
                }),
            )
        })
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// One intake question as the form shows it: a text box (no choices) or its choices, with
/// the answer to show.
#[derive(Serialize)]
struct IntakeField<'a> {
    label: &'a str,
    choices: Option<Vec<&'a str>>,
    answer: String,
}

/// The intake form, when the patient may still fill it in; `refused` is a refused submission's
/// reason and what was typed, shown again.
fn intake_form(view: &PatientView, refused: Option<(&str, &[(String, String)])>) -> Value {
    if view.intake_questions.is_empty()
        || view.intake_finished
        || view.status.is_terminal()
        || !intake_open(view.status)
    {
        return Value::from(());
    }
    let questions: Vec<IntakeField<'_>> = view
        .intake_questions
        .iter()
        .map(|question| {
            let label = question.label.as_str();
            let answer = match refused {
                Some((_, typed)) => typed
                    .iter()
                    .find(|(q, _)| q == label)
                    .map(|(_, a)| a.chars().take(2_000).collect::<String>()),
                None => view.intake.get(label).cloned(),
            }
            .unwrap_or_default();
            let choices = match question.kind {
                QuestionKind::Text => None,
                QuestionKind::YesNo => Some(vec!["Yes", "No"]),
                QuestionKind::Choice => Some(question.options.iter().map(String::as_str).collect()),
            };
            IntakeField {
                label,
                choices,
                answer,
            }
        })
        .collect();
    context! { questions, error => refused.map(|(e, _)| e) }
}

/// The waiting screen.
/// Place in line and estimated wait, in words.
pub fn place_words(position: Option<usize>, minutes: Option<u32>) -> String {
    let Some(p) = position else {
        return String::new();
    };
    let place = if p == 1 {
        "You are next in line.".to_owned()
    } else {
        format!("You are number {p} in line.")
    };
    match minutes {
        Some(0) | None => place,
        Some(m) => format!("{place} Estimated wait: about {m} minutes."),
    }
}

/// The waiting screen. `joining` is set for a scheduled session's guest who has not joined
/// yet: they confirm who they are first.
pub fn waiting(
    patient_name: &str,
    view: &PatientView,
    hours: &[OfficeHours],
    joining: bool,
    refused: Option<(&str, &[(String, String)])>,
) -> String {
    let (title, detail) = status_words(view.status);
    if joining {
        let (style, script) = assets(false);
        return render(
            "guest.html",
            context! {
                title => format!("Join your session \u{2013} {}", view.room),
                style,
                script,
                clinic => &view.clinic,
                room => &view.room,
                starts => &view.starts,
                name => patient_name,
                emergency => written(view.emergency_info.as_deref()),
            },
        );
    }
    let waiting = matches!(view.status, Status::Intake | Status::Waiting);
    let (style, script) = assets(true);
    render(
        "waiting.html",
        context! {
            title => format!("{title} \u{2013} {}", view.room),
            style,
            script,
            clinic => &view.clinic,
            room => &view.room,
            name => patient_name,
            status => view.status.as_str(),
            status_title => title,
            detail,
            starts => view.starts.as_deref().filter(|_| view.status == Status::Scheduled),
            place => place_words(view.position, view.estimated_wait_minutes),
            // Said while the patient waits; the script hides it once they are seen.
            after_hours => view.after_hours.then_some(waiting),
            link => view.video_link.as_deref().unwrap_or(""),
            note => view.decline_note.as_deref().unwrap_or(""),
            emergency => written(view.emergency_info.as_deref()),
            intake => intake_form(view, refused),
            welcome => written(view.waiting_message.as_deref()).filter(|_| !view.status.is_terminal()),
            messages => &view.messages,
            hours => hours_lines(hours),
            terminal => view.status.is_terminal(),
            words => Value::from_safe_string(status_words_json()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
    }

    #[test]
    fn every_template_parses_and_escapes_what_it_prints() {
        for name in TEMPLATES.templates().map(|(name, _)| name) {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
        assert_eq!(TEMPLATES.templates().count(), 9);
        let moving_on = continue_page();
        assert!(moving_on.contains("url=/wait\">"), "{moving_on}");
        let page = message_page("<b>Closed</b>", "Tom & 'Jerry' </script>");
        assert!(
            page.contains("<h1>&lt;b&gt;Closed&lt;/b&gt;</h1>"),
            "{page}"
        );
        assert!(
            page.contains("<p>Tom &amp; &#39;Jerry&#39; &lt;/script&gt;</p>"),
            "{page}"
        );
        assert!(
            page.contains(&format!("<style>{STYLE}</style>")),
            "the style as hashed"
        );
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn every_status_has_words_and_the_json_cannot_close_its_script() {
        for s in Status::ALL {
            assert!(!status_words(s).0.is_empty());
        }
        assert_eq!(js_string("</script>&"), "\"\\u003c/script\\u003e\\u0026\"");
        let json = status_words_json();
        assert!(!json.contains('<'));
        assert!(json.contains("You are in the waiting room"));
    }
}
