//! Validated text that comes in from people: patients' names and contacts, staff messages and
//! notes. Parsing trims, enforces a length, and refuses control characters, so the rest of the
//! system never handles junk. Each type deserializes through its parser, so a JSON body with a
//! bad value is refused at the edge with the same error.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a piece of input was refused: which field, and a sentence a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Trims, then checks the length in characters and that no control characters remain.
/// `allow_newlines` lets multi-line text (messages, notes) keep `\n`.
fn clean(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    allow_newlines: bool,
) -> Result<String, InputError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InputError::new(field, "must not be empty"));
    }
    let count = text.chars().count();
    if count > max_chars {
        return Err(InputError::new(
            field,
            format!("must be at most {max_chars} characters (got {count})"),
        ));
    }
    let bad = text
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')));
    if bad {
        return Err(InputError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.replace("\r\n", "\n"))
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $newlines:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, InputError> {
                clean($field, raw, $max, $newlines).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_type!(
    /// The name a patient or guest gives at the front door ("Ana P.").
    PersonName, "name", 80, false
);
text_type!(
    /// A message from staff shown on the patient's waiting screen.
    MessageText, "message", 1_000, true
);
text_type!(
    /// A note: on a transfer, an assignment, a decline (which the patient sees) or a triage.
    Note, "note", 1_000, true
);
text_type!(
    /// A name staff give a room, a service type, a location.
    Label, "label", 120, false
);
text_type!(
    /// One answer on an intake form.
    IntakeAnswer, "answer", 2_000, true
);

/// A phone number, kept as `+` and digits (E.164 shape: 7 to 15 digits). Spaces, dashes, dots
/// and brackets people type are dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let text = clean("phone", raw, 32, false)?;
        let mut out = String::with_capacity(text.len());
        for (i, c) in text.chars().enumerate() {
            match c {
                '+' if i == 0 => out.push('+'),
                '0'..='9' => out.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(InputError::new(
                        "phone",
                        "may hold only digits, spaces, dashes, brackets and a leading +",
                    ));
                }
            }
        }
        let digits = out.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err(InputError::new("phone", "must have 7 to 15 digits"));
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Phone::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces; at most 254
/// characters. Stored lower-cased in the domain part only, as mail systems do.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let text = clean("email", raw, 254, false)?;
        let invalid = || InputError::new("email", "must look like name@example.org");
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains(char::is_whitespace)
            && !local.contains(['<', '>', '"', ',', ';', '@']);
        if !domain_ok || !local_ok {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Email::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// How to reach a patient or guest: at least one of phone and email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl Contact {
    /// Parses optional raw fields; empty strings count as absent. At least one must be given.
    pub fn parse(phone: Option<&str>, email: Option<&str>) -> Result<Self, InputError> {
        fn present(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.trim().is_empty())
        }
        let phone = present(phone).map(Phone::parse).transpose()?;
        let email = present(email).map(Email::parse).transpose()?;
        if phone.is_none() && email.is_none() {
            return Err(InputError::new(
                "contact",
                "give a phone number or an email",
            ));
        }
        Ok(Self { phone, email })
    }
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited() {
        assert_eq!(PersonName::parse("  Ana P.  ").unwrap().as_str(), "Ana P.");
        assert_eq!(
            PersonName::parse("   ").unwrap_err().message,
            "must not be empty"
        );
        let long = "x".repeat(81);
        assert_eq!(
            PersonName::parse(&long).unwrap_err().message,
            "must be at most 80 characters (got 81)"
        );
        assert!(
            PersonName::parse(&"é".repeat(80)).is_ok(),
            "limit counts characters"
        );
    }

    #[test]
    fn control_characters_are_refused_but_messages_keep_lines() {
        assert!(PersonName::parse("Ana\u{7}").is_err());
        assert!(PersonName::parse("Ana\nBob").is_err());
        assert!(PersonName::parse("Ana\u{1b}[31m").is_err());
        let m = MessageText::parse("Running late.\r\nSorry!").unwrap();
        assert_eq!(m.as_str(), "Running late.\nSorry!");
        assert!(MessageText::parse("bell\u{7}").is_err());
    }

    #[test]
    fn markup_is_kept_as_text_not_refused() {
        // Escaping is the page's job; the domain keeps what was typed.
        let n = PersonName::parse("<script>alert(1)</script>").unwrap();
        assert_eq!(n.as_str(), "<script>alert(1)</script>");
    }

    #[test]
    fn phones_keep_digits_only() {
        assert_eq!(
            Phone::parse("+1 (555) 010-9999").unwrap().as_str(),
            "+15550109999"
        );
        assert_eq!(Phone::parse("0412 345 678").unwrap().as_str(), "0412345678");
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("555-CALL-NOW").is_err());
        assert!(Phone::parse("1+5550109999").is_err());
        assert!(Phone::parse("+1234567890123456").is_err());
    }

    #[test]
    fn emails_have_a_shape() {
        assert_eq!(
            Email::parse(" Ana@Example.ORG ").unwrap().as_str(),
            "Ana@example.org"
        );
        for bad in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "a na@example.org",
            "ana@ex..org",
            "ana@-x.org\u{0}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn contact_needs_one_way_to_reach_the_patient() {
        assert!(Contact::parse(None, Some("")).is_err());
        let c = Contact::parse(Some(""), Some("a@b.co")).unwrap();
        assert!(c.phone.is_none() && c.email.is_some());
        assert_eq!(Contact::parse(Some("12"), None).unwrap_err().field, "phone");
    }

    #[test]
    fn bad_values_are_refused_while_deserializing() {
        let err = serde_json::from_str::<PersonName>("\"\"").unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        let ok: Note = serde_json::from_str("\" see you soon \"").unwrap();
        assert_eq!(ok.as_str(), "see you soon");
    }
}
