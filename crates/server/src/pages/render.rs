//! The HTML of the patient pages, built as strings. Whatever came from a person (names,
//! answers, staff messages, notes, room texts) goes through [`esc`]; everything else is ours.

use super::JoinForm;
use crate::hours::{Openness, day_name};
use crate::model::{AfterHours, Clinic, OfficeHours, QuestionKind, RoomInfo};
use crate::service::PatientView;
use frontdesk_domain::Status;
use frontdesk_domain::intake_open;
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::sync::LazyLock;

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{color-scheme:light;--ink:#1b1b1f;--muted:#4a4a55;--line:#c4c4cc;--bg:#f6f6f8;--card:#fff;--brand:#0b57d0;--brand-ink:#fff;--alert:#8c1d18;--alert-bg:#fdecea;--ok:#0d652d;--ok-bg:#e6f4ea}
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:36rem;margin:0 auto;padding:1rem}
header{margin:.25rem 0 1rem}
.clinic{margin:0;color:var(--muted);font-size:.95rem}
h1{margin:.1rem 0 0;font-size:1.5rem;line-height:1.25}
h2{font-size:1.15rem;margin:0 0 .5rem}
p{margin:.25rem 0 .75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1rem;margin:0 0 1rem}
.text{white-space:pre-line}
.emergency{background:var(--alert-bg);border:1px solid #e5b3ae;border-left:.35rem solid var(--alert);border-radius:.5rem;padding:.6rem .8rem;margin:0 0 1rem;color:var(--alert)}
.emergency h2{font-size:1rem;margin:0 0 .2rem;color:var(--alert)}
.emergency p{margin:0}
.status{border-left:.35rem solid var(--brand)}
.status h2{font-size:1.35rem;margin:0 0 .25rem}
.status[data-status=in_call]{border-left-color:var(--ok);background:var(--ok-bg)}
.status[data-status=declined],.status[data-status=left],.status[data-status=completed],.status[data-status=cancelled],.status[data-status=no_show]{border-left-color:var(--muted)}
.error{background:var(--alert-bg);color:var(--alert);border:1px solid var(--alert);border-radius:.5rem;padding:.6rem .8rem;margin:0 0 1rem;font-weight:600}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{color:var(--muted);font-size:.95rem}
input,textarea{display:block;width:100%;font:inherit;color:inherit;background:#fff;border:1px solid #6b6b76;border-radius:.5rem;padding:.6rem .7rem;min-height:2.75rem}
textarea{resize:vertical}
fieldset{border:0;padding:0;margin:1rem 0 0}
legend{font-weight:600;padding:0}
button{font:inherit;font-weight:600;min-height:2.75rem;padding:.6rem 1.1rem;border-radius:.5rem;border:2px solid var(--brand);background:var(--brand);color:var(--brand-ink);cursor:pointer}
button.secondary{background:#fff;color:var(--brand)}
button.quiet{background:#fff;color:var(--alert);border-color:var(--alert)}
.row{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
form>button{margin-top:1rem;width:100%}
:focus-visible{outline:3px solid #f29900;outline-offset:2px}
ol.messages{list-style:none;margin:0;padding:0}
ol.messages li{background:#eef3fd;border-radius:.5rem;padding:.5rem .75rem;margin:0 0 .5rem;white-space:pre-line;overflow-wrap:anywhere}
details summary{cursor:pointer;font-weight:600}
label.choice{display:flex;align-items:center;gap:.6rem;font-weight:400;margin:.4rem 0;min-height:2.75rem}
label.choice input{width:1.4rem;min-height:1.4rem;margin:0}
fieldset.choices legend{margin-top:.75rem}
.call{border-left:.35rem solid var(--ok)}
.call a{display:inline-block;margin-top:.25rem;padding:.7rem 1.2rem;border-radius:.5rem;background:var(--ok);color:#fff;font-weight:700;text-decoration:none}
.closed{border-left:.35rem solid var(--alert)}
.place{font-size:1.15rem;font-weight:600}
ul.hours{margin:.5rem 0 0;padding-left:1.2rem}
[hidden]{display:none!important}
@media (min-width:40rem){main{padding:2rem 1rem}h1{font-size:1.75rem}}
"#;

/// Keeps the waiting screen current: polls the patient's own visit every 2 s and writes the
/// status, the staff note and the messages as text nodes; saves each intake answer as the
/// patient leaves its field.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  var root = document.getElementById("wait");
  if (!root) { return; }
  var token = root.getAttribute("data-token");
  var words = JSON.parse(document.getElementById("status-words").textContent);
  var box = document.getElementById("status-box");
  var title = document.getElementById("status");
  var detail = document.getElementById("status-detail");
  var declineBox = document.getElementById("decline");
  var declineNote = document.getElementById("decline-note");
  var list = document.getElementById("messages");
  var none = document.getElementById("no-messages");
  var intake = document.getElementById("intake");
  var saved = document.getElementById("intake-saved");
  var leave = document.getElementById("leave");
  var place = document.getElementById("place");
  var call = document.getElementById("call");
  var callLink = document.getElementById("call-link");
  var ownForm = false;
  var shownMessages = list.children.length;
  var stopped = false;

  function setText(el, text) { if (el.textContent !== text) { el.textContent = text; } }

  function render(v) {
    var w = words[v.status] || { title: v.status, detail: "", intake: false, terminal: false };
    setText(title, w.title);
    setText(detail, w.detail);
    box.setAttribute("data-status", v.status);
    var note = v.decline_note || "";
    setText(declineNote, note);
    declineBox.hidden = note === "";
    var messages = v.messages || [];
    if (messages.length < shownMessages) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      shownMessages = 0;
    }
    for (var i = shownMessages; i < messages.length; i++) {
      var li = document.createElement("li");
      li.textContent = messages[i];
      list.appendChild(li);
    }
    shownMessages = messages.length;
    none.hidden = messages.length > 0;
    var placeText = "";
    if (v.position) {
      placeText = v.position === 1 ? "You are next in line." : "You are number " + v.position + " in line.";
      if (v.estimated_wait_minutes) { placeText += " Estimated wait: about " + v.estimated_wait_minutes + " minutes."; }
    }
    setText(place, placeText);
    place.hidden = placeText === "";
    var link = v.video_link || "";
    if (callLink.getAttribute("href") !== link) { callLink.setAttribute("href", link); }
    call.hidden = link === "";
    var afterHours = document.getElementById("after-hours");
    if (afterHours) { afterHours.hidden = !(v.status === "intake" || v.status === "waiting"); }
    if (intake && (!w.intake || v.intake_finished)) { intake.hidden = true; }
    if (w.terminal) {
      leave.hidden = true;
      stopped = true;
      var welcome = document.getElementById("welcome");
      if (welcome) { welcome.hidden = true; }
    }
  }

  function gone(expired) {
    stopped = true;
    setText(title, expired ? "This link has expired" : "This link is no longer valid");
    setText(detail, "If you still need to be seen, open the clinic's link again.");
    leave.hidden = true;
    if (intake) { intake.hidden = true; }
  }

  function poll() {
    if (stopped) { return; }
    fetch("/v1/patient/visit", { headers: { "X-Patient-Token": token }, cache: "no-store", credentials: "omit" })
      .then(function (r) {
        if (r.status === 401 || r.status === 404 || r.status === 410) { gone(r.status === 410); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (v) { if (v) { render(v); } })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (!stopped) { setTimeout(poll, 2000); } });
  }

  if (intake) {
    var fields = intake.querySelectorAll("[data-question]");
    Array.prototype.forEach.call(fields, function (field) {
      field.addEventListener("change", function () {
        var value = field.value.trim();
        if (value === "") { return; }
        var answers = {};
        answers[field.getAttribute("data-question")] = value;
        setText(saved, "Saving your answer\u2026");
        fetch("/v1/patient/visit/intake", {
          method: "PUT",
          headers: { "X-Patient-Token": token, "Content-Type": "application/json" },
          body: JSON.stringify({ answers: answers }),
          credentials: "omit"
        }).then(function (r) {
          setText(saved, r.ok ? "Answer saved." : "That answer could not be saved. Press Save answers to try again.");
        }).catch(function () {
          setText(saved, "You seem to be offline. Press Save answers when you are back.");
        });
      });
    });
  }

  // Closing the page (not moving between our own pages) tells the clinic; if the page comes
  // back (a reload), the next poll cancels it.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", function () { ownForm = true; });
  });
  window.addEventListener("pagehide", function () {
    if (ownForm || stopped || !navigator.sendBeacon) { return; }
    navigator.sendBeacon("/wait/" + encodeURIComponent(token) + "/closed");
  });

  if (!words[box.getAttribute("data-status")].terminal) { setTimeout(poll, 2000); }
})();
"#;

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
            hash(CSS),
            hash(SCRIPT)
        )
    });
    CSP.clone()
}

fn document(title: &str, body: &str, script: bool) -> String {
    let script = if script {
        format!("<script>{SCRIPT}</script>")
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{CSS}</style></head>\
         <body><main>{body}</main>{script}</body></html>\n",
        esc(title)
    )
}

/// A page that only says something: an invalid link, an error.
pub fn message_page(title: &str, text: &str) -> String {
    let body = format!(
        "<section class=\"card\"><h1>{}</h1><p>{}</p></section>",
        esc(title),
        esc(text)
    );
    document(title, &body, false)
}

fn header(clinic: &str, room: &str) -> String {
    format!(
        "<header><p class=\"clinic\">{}</p><h1>{}</h1></header>",
        esc(clinic),
        esc(room)
    )
}

fn emergency(info: Option<&str>) -> String {
    info.filter(|s| !s.trim().is_empty())
        .map(|s| {
            format!(
                "<section class=\"emergency\" aria-labelledby=\"emergency-h\">\
                 <h2 id=\"emergency-h\">In an emergency</h2><p class=\"text\">{}</p></section>",
                esc(s)
            )
        })
        .unwrap_or_default()
}

/// The office hours, folded away unless `open` (the front door of a closed room shows them).
fn office_hours(hours: &[OfficeHours], open: bool) -> String {
    if hours.is_empty() {
        return String::new();
    }
    let mut items = String::new();
    for h in hours {
        let day = day_name(h.day);
        let _ = write!(
            items,
            "<li>{day} {}\u{2013}{}</li>",
            esc(&h.opens),
            esc(&h.closes)
        );
    }
    let open = if open { " open" } else { "" };
    format!(
        "<section class=\"card\" id=\"office-hours\"><details{open}><summary>Office hours</summary>\
         <ul class=\"hours\">{items}</ul></details></section>"
    )
}

fn error_box(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<div class=\"error\" role=\"alert\" id=\"form-error\"><p>{}</p></div>",
                esc(e)
            )
        })
        .unwrap_or_default()
}

/// The front door: who the room is, what to expect, and the form.
pub fn front_door(
    clinic: &Clinic,
    room: &RoomInfo,
    open: &Openness,
    form: &JoinForm,
    error: Option<&str>,
) -> String {
    // Echo back at most a little more than any field may hold.
    let keep = |s: &str| esc(&s.chars().take(300).collect::<String>());
    let described = if error.is_some() {
        " aria-describedby=\"form-error\""
    } else {
        ""
    };
    let welcome = room
        .waiting_message
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|m| format!("<p class=\"text\">{}</p>", esc(m)))
        .unwrap_or_default();
    let closed = match open {
        Openness::Open => String::new(),
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
            format!(
                "<section class=\"card closed\" id=\"closed\" role=\"status\">\
                 <h2>The clinic is closed now</h2><p>{}</p></section>",
                esc(&format!("We are outside office hours.{when}{then}"))
            )
        }
    };
    if !open.is_open() && room.after_hours == AfterHours::Refuse {
        let body = format!(
            "{header}{closed}{emergency}{hours}",
            header = header(&clinic.name, &room.name),
            emergency = emergency(room.emergency_info.as_deref()),
            hours = office_hours(&room.office_hours, true),
        );
        let title = format!("Closed \u{2013} {} \u{2013} {}", room.name, clinic.name);
        return document(&title, &body, false);
    }
    let body = format!(
        "{header}{closed}{emergency}\
         <section class=\"card\" aria-labelledby=\"join-h\"><h2 id=\"join-h\">Join the waiting room</h2>{welcome}\
         {error}\
         <form method=\"post\" action=\"/join/{slug}/{room_id}\"{described}>\
         <input type=\"hidden\" name=\"nonce\" value=\"{nonce}\">\
         <label for=\"name\">Your name</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"name\" maxlength=\"80\" required value=\"{name}\">\
         <fieldset><legend>How can the clinic reach you?</legend>\
         <p class=\"hint\" id=\"contact-hint\">A phone number or an email: one is enough.</p>\
         <label for=\"phone\">Phone number</label>\
         <input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" maxlength=\"32\" aria-describedby=\"contact-hint\" value=\"{phone}\">\
         <label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" maxlength=\"254\" aria-describedby=\"contact-hint\" value=\"{email}\">\
         </fieldset>\
         <button type=\"submit\">Join the waiting room</button>\
         </form></section>{hours}",
        header = header(&clinic.name, &room.name),
        emergency = emergency(room.emergency_info.as_deref()),
        error = error_box(error),
        slug = esc(&clinic.slug),
        room_id = esc(&room.id.to_string()),
        name = keep(&form.name),
        phone = keep(&form.phone),
        email = keep(&form.email),
        nonce = esc(&form.nonce),
        hours = office_hours(&room.office_hours, false),
    );
    let title = format!("{} \u{2013} {}", room.name, clinic.name);
    document(&title, &body, false)
}

/// A JSON string literal that is also safe inside HTML and scripts.
fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned())
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The script behind the embeddable button: it adds a link to the front door right after
/// its own script element, resolving the link against the script's own address.
pub fn button_js(clinic: &Clinic, room: &RoomInfo) -> String {
    let path = format!("/join/{}/{}", clinic.slug, room.id);
    format!(
        r#"(function () {{
  "use strict";
  var me = document.currentScript;
  if (!me || !me.parentNode) {{ return; }}
  var a = document.createElement("a");
  a.href = new URL({path}, me.src).href;
  a.textContent = "Join the waiting room";
  a.title = {title};
  a.setAttribute("data-frontdesk-button", "");
  a.style.cssText = "display:inline-block;padding:.7em 1.2em;border-radius:.5em;background:#0b57d0;color:#fff;font:600 1rem/1.2 system-ui,sans-serif;text-decoration:none";
  me.parentNode.insertBefore(a, me.nextSibling);
}})();
"#,
        path = js_string(&path),
        title = js_string(&format!("{} \u{2013} {}", room.name, clinic.name)),
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

fn intake_section(
    token: &str,
    view: &PatientView,
    refused: Option<(&str, &[(String, String)])>,
) -> String {
    if view.intake_questions.is_empty()
        || view.intake_finished
        || view.status.is_terminal()
        || !intake_open(view.status)
    {
        return String::new();
    }
    let mut fields = String::new();
    for (i, question) in view.intake_questions.iter().enumerate() {
        let label = &question.label;
        let answer = match refused {
            Some((_, typed)) => typed
                .iter()
                .find(|(q, _)| q == label)
                .map(|(_, a)| a.chars().take(2_000).collect::<String>()),
            None => view.intake.get(label).cloned(),
        }
        .unwrap_or_default();
        let q = esc(label);
        let choices: Vec<&str> = match question.kind {
            QuestionKind::Text => {
                let _ = write!(
                    fields,
                    "<label for=\"q{i}\">{q}</label>\
                     <textarea id=\"q{i}\" name=\"q:{q}\" data-question=\"{q}\" rows=\"2\" maxlength=\"2000\">{a}</textarea>",
                    a = esc(&answer),
                );
                continue;
            }
            QuestionKind::YesNo => vec!["Yes", "No"],
            QuestionKind::Choice => question.options.iter().map(String::as_str).collect(),
        };
        let mut radios = String::new();
        for (j, choice) in choices.iter().enumerate() {
            let checked = if *choice == answer { " checked" } else { "" };
            let _ = write!(
                radios,
                "<label class=\"choice\" for=\"q{i}-{j}\"><input type=\"radio\" id=\"q{i}-{j}\" name=\"q:{q}\" \
                 data-question=\"{q}\" value=\"{c}\"{checked}> {c}</label>",
                c = esc(choice),
            );
        }
        let _ = write!(
            fields,
            "<fieldset class=\"choices\"><legend>{q}</legend>{radios}</fieldset>"
        );
    }
    format!(
        "<section class=\"card\" id=\"intake\" aria-labelledby=\"intake-h\">\
         <h2 id=\"intake-h\">A few questions</h2>\
         <p class=\"hint\">Your answers go to the clinic as you save them. Press Done when you have finished.</p>\
         {error}\
         <form method=\"post\" action=\"/wait/{token}/intake\">{fields}\
         <p id=\"intake-saved\" class=\"hint\" role=\"status\"></p>\
         <div class=\"row\"><button type=\"submit\" name=\"action\" value=\"save\" class=\"secondary\">Save answers</button>\
         <button type=\"submit\" name=\"action\" value=\"done\" id=\"intake-done\">Done</button></div>\
         </form></section>",
        error = error_box(refused.map(|(e, _)| e)),
        token = esc(token),
    )
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
    token: &str,
    patient_name: &str,
    view: &PatientView,
    hours: &[OfficeHours],
    joining: bool,
    refused: Option<(&str, &[(String, String)])>,
) -> String {
    let (title, detail) = status_words(view.status);
    let status = view.status.as_str();
    let note = view.decline_note.as_deref().unwrap_or("");
    let welcome = view
        .waiting_message
        .as_deref()
        .filter(|s| !s.trim().is_empty() && !view.status.is_terminal())
        .map(|m| {
            format!(
                "<section class=\"card\" id=\"welcome\"><p class=\"text\">{}</p></section>",
                esc(m)
            )
        })
        .unwrap_or_default();
    let mut messages = String::new();
    for m in &view.messages {
        let _ = write!(messages, "<li>{}</li>", esc(m));
    }
    let hidden = |b: bool| if b { " hidden" } else { "" };
    if joining {
        let body = format!(
            "{header}\
             <section class=\"card status\" id=\"guest\" aria-labelledby=\"guest-h\">\
             <h2 id=\"guest-h\">Join your session</h2>{starts}\
             <p>You are joining as <strong id=\"guest-name\">{name}</strong>. If that is not you, please do not continue: ask the clinic for your own link.</p>\
             <form method=\"post\" action=\"/wait/{token}/arrive\"><button type=\"submit\" id=\"guest-join\">Join the session</button></form>\
             </section>{emergency}",
            header = header(&view.clinic, &view.room),
            starts = view
                .starts
                .as_deref()
                .map(|s| format!("<p id=\"starts\">Booked for {}</p>", esc(s)))
                .unwrap_or_default(),
            name = esc(patient_name),
            token = esc(token),
            emergency = emergency(view.emergency_info.as_deref()),
        );
        return document(
            &format!("Join your session \u{2013} {}", view.room),
            &body,
            false,
        );
    }
    let place = place_words(view.position, view.estimated_wait_minutes);
    let starts = view
        .starts
        .as_deref()
        .filter(|_| view.status == Status::Scheduled)
        .map(|s| format!("<p id=\"starts\">Booked for {}</p>", esc(s)))
        .unwrap_or_default();
    // Said while the patient waits; the script hides it once they are seen.
    let after_hours = if view.after_hours {
        let waiting = matches!(view.status, Status::Intake | Status::Waiting);
        let shown = if waiting { "" } else { " hidden" };
        format!(
            "<p class=\"hint\" id=\"after-hours\"{shown}>You joined outside office hours: the clinic will see you when it opens.</p>"
        )
    } else {
        String::new()
    };
    let link = view.video_link.as_deref().unwrap_or("");
    let body = format!(
        "<div id=\"wait\" data-token=\"{token}\">{header}\
         <p class=\"hint\" id=\"patient-name\">Waiting as {name}</p>\
         <section class=\"card status\" id=\"status-box\" data-status=\"{status}\" aria-live=\"polite\" aria-atomic=\"true\">\
         <h2 id=\"status\">{title}</h2><p id=\"status-detail\">{detail}</p>{starts}\
         <p class=\"place\" id=\"place\"{place_hidden}>{place}</p>{after_hours}</section>\
         <section class=\"card call\" id=\"call\" aria-labelledby=\"call-h\"{call_hidden}>\
         <h2 id=\"call-h\">Your call is ready</h2>\
         <p><a id=\"call-link\" href=\"{link}\" target=\"_blank\" rel=\"noopener noreferrer\">Join the call</a></p></section>\
         <section class=\"card\" id=\"decline\" aria-labelledby=\"decline-h\"{decline_hidden}>\
         <h2 id=\"decline-h\">Note from the clinic</h2><p class=\"text\" id=\"decline-note\">{note}</p></section>\
         {emergency}{intake}{welcome}\
         <section class=\"card\" aria-labelledby=\"messages-h\"><h2 id=\"messages-h\">Messages from the clinic</h2>\
         <p class=\"hint\" id=\"no-messages\"{none_hidden}>No messages yet. New ones appear here.</p>\
         <ol class=\"messages\" id=\"messages\" aria-live=\"polite\">{messages}</ol></section>\
         {hours}\
         <form method=\"post\" action=\"/wait/{token}/leave\" id=\"leave\"{leave_hidden}>\
         <button type=\"submit\" class=\"quiet\">Leave the waiting room</button></form>\
         </div><script type=\"application/json\" id=\"status-words\">{words}</script>",
        token = esc(token),
        header = header(&view.clinic, &view.room),
        name = esc(patient_name),
        status = esc(status),
        title = esc(title),
        detail = esc(detail),
        place_hidden = hidden(place.is_empty()),
        place = esc(&place),
        call_hidden = hidden(link.is_empty()),
        link = esc(link),
        decline_hidden = hidden(note.is_empty()),
        note = esc(note),
        emergency = emergency(view.emergency_info.as_deref()),
        intake = intake_section(token, view, refused),
        none_hidden = hidden(!view.messages.is_empty()),
        hours = office_hours(hours, false),
        leave_hidden = hidden(view.status.is_terminal()),
        words = status_words_json(),
    );
    let title = format!("{title} \u{2013} {}", view.room);
    document(&title, &body, true)
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
