//! Free text that the domain stores verbatim, bounded so that one field cannot bloat a stream.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {len}")]
    TooLong { max: usize, len: usize },
    #[error("must not contain control characters other than line breaks and tabs")]
    ControlCharacter,
}

/// Control characters (NUL above all, which PostgreSQL text cannot hold) have no place in
/// free text; line breaks and tabs do.
pub(crate) fn has_control_characters(value: &str) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn check(value: &str, max: usize) -> Result<(), TextError> {
    let len = value.chars().count();
    if value.trim().is_empty() {
        Err(TextError::Empty)
    } else if len > max {
        Err(TextError::TooLong { max, len })
    } else if has_control_characters(value) {
        Err(TextError::ControlCharacter)
    } else {
        Ok(())
    }
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(value: impl Into<String>) -> Result<Self, TextError> {
                let value = value.into();
                check(&value, Self::MAX_CHARS)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .min_length(Some(1))
                    .max_length(Some(Self::MAX_CHARS))
                    // Not blank; no control characters but line breaks and tabs.
                    .pattern(Some(concat!(
                        r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*",
                        r"[^\s\u0000-\u001F\u007F-\u009F]",
                        r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
                    )))
                    .description(Some(concat!(
                        "Free text: not blank, no control characters other than line breaks ",
                        "and tabs, at most ",
                        stringify!($max),
                        " characters."
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

bounded_text!(
    /// A note or free-text reason: not blank, at most 2,000 characters, stored verbatim.
    Note,
    2000
);

bounded_text!(
    /// A name or an identifier given by people (a robot's serial number or model, a hub's
    /// name): not blank, at most 200 characters, stored verbatim.
    Name,
    200
);

bounded_text!(
    /// A caller's own reference for an entity (an order number...): at most 200 characters.
    ExternalRef,
    200
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_keeps_its_text_verbatim() {
        let note = Note::parse("  robot stuck at the curb\n").unwrap();
        assert_eq!(note.as_str(), "  robot stuck at the curb\n");
    }

    #[test]
    fn a_blank_note_is_refused() {
        assert_eq!(Note::parse("   "), Err(TextError::Empty));
    }

    #[test]
    fn an_oversized_reference_is_refused_with_its_length() {
        let long = "x".repeat(201);
        assert_eq!(
            ExternalRef::parse(long),
            Err(TextError::TooLong { max: 200, len: 201 })
        );
    }

    #[test]
    fn a_nul_or_other_control_character_is_refused_but_line_breaks_are_kept() {
        assert_eq!(Note::parse("a\u{0}b"), Err(TextError::ControlCharacter));
        assert_eq!(Note::parse("bell\u{7}"), Err(TextError::ControlCharacter));
        assert!(Note::parse("line one\nline two\tend").is_ok());
    }

    #[test]
    fn a_note_is_checked_when_deserialized() {
        let parsed: Result<Note, _> = serde_json::from_str("\"\"");
        assert!(parsed.is_err());
    }
}
