//! Typed record ids: one newtype per kind of record, so a task's id cannot be passed where a
//! citizen's is wanted. Every id is a UUID in the one text form this system writes and stores
//! (36 characters, lowercase hexadecimal, hyphenated as `8-4-4-4-12`); [`parse`](CitizenId::parse)
//! accepts that form only, which is the form stored ids have and path ids are compared in.
//! New ids are drawn where randomness is (the persistence crate), through [`RecordId`].

use std::fmt;

/// A text that is not an id in the one stored form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {kind} id (a lowercase hyphenated UUID)")]
pub struct IdError {
    /// The kind of record the id was to name (e.g. `task`).
    pub kind: &'static str,
    /// The text that was read, cut to 40 characters.
    pub text: String,
}

/// Whether `s` is a UUID in canonical text form: lowercase hex, hyphens at 8, 13, 18 and 23.
pub fn is_canonical_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// The canonical text of a UUID's 16 bytes.
pub fn canonical_text(bytes: [u8; 16]) -> String {
    let mut text = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        text.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    text
}

/// What every typed id offers, so one adapter stores them all.
pub trait RecordId: Sized + Clone + fmt::Display + 'static {
    /// The kind of record, for error messages (e.g. `task`).
    const KIND: &'static str;

    /// Reads an id in the stored form.
    fn parse(text: &str) -> Result<Self, IdError>;

    /// The id of these 16 bytes of a UUID (drawn by the caller), in the stored form.
    fn from_uuid_bytes(bytes: [u8; 16]) -> Self;

    /// The id's text.
    fn as_str(&self) -> &str;
}

/// Declares typed ids: `id_types! { /// doc  TaskId => "task", ... }` gives each a private-field
/// newtype over the canonical text with `parse`, `as_str`, `Display`, `AsRef<str>`, serde as the
/// plain string (refusing any other form), and [`RecordId`].
#[macro_export]
macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident => $kind:literal),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Reads an id in the stored form (a lowercase hyphenated UUID).
            pub fn parse(text: &str) -> Result<$name, $crate::ids::IdError> {
                if $crate::ids::is_canonical_uuid(text) {
                    Ok($name(text.to_owned()))
                } else {
                    Err($crate::ids::IdError { kind: $kind, text: text.chars().take(40).collect() })
                }
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl $crate::ids::RecordId for $name {
            const KIND: &'static str = $kind;

            fn parse(text: &str) -> Result<$name, $crate::ids::IdError> {
                $name::parse(text)
            }

            fn as_str(&self) -> &str {
                &self.0
            }

            fn from_uuid_bytes(bytes: [u8; 16]) -> $name {
                $name($crate::ids::canonical_text(bytes))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ids::IdError;

            fn try_from(text: String) -> Result<$name, $crate::ids::IdError> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    )+};
}

id_types! {
    /// A citizen's id.
    CitizenId => "citizen",
    /// A company's id.
    CompanyId => "company",
    /// A task's id.
    TaskId => "task",
    /// A placement's id.
    PlacementId => "placement",
    /// An employment's id.
    EmploymentId => "employment",
    /// A payout's id.
    PayoutId => "payout",
    /// A frikort card's id.
    CardId => "card",
    /// A report of the hours worked on one shift.
    ShiftReportId => "hours report",
    /// An entry of frikort income earned outside this system.
    OutsideIncomeId => "outside income",
    /// A statement imported from the national register.
    RegisterStatementId => "register statement",
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn an_id_in_the_stored_form_reads_and_writes_back_unchanged() {
        let id = TaskId::parse(ID).unwrap();
        assert_eq!(id.as_str(), ID);
        assert_eq!(id.to_string(), ID);
        assert_eq!(format!("{id:?}"), format!("TaskId({ID})"));
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::Value::from(ID));
        assert_eq!(serde_json::from_value::<TaskId>(ID.into()).unwrap(), id);
    }

    #[test]
    fn any_other_form_of_a_uuid_is_refused_naming_the_kind() {
        for text in [
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "0f8fad5bd9cb469fa16570867728950e",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "0f8fad5b-d9cb-469f-a165-70867728950e ",
            "0f8fad5b+d9cb-469f-a165-70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950g",
            "",
        ] {
            let e = CitizenId::parse(text).unwrap_err();
            assert_eq!(e.kind, "citizen", "{text}");
        }
        assert_eq!(
            ShiftReportId::parse("x").unwrap_err().to_string(),
            "`x` is not a hours report id (a lowercase hyphenated UUID)"
        );
        assert!(serde_json::from_value::<CardId>("nope".into()).is_err());
    }

    #[test]
    fn a_refused_text_is_cut_in_the_error() {
        let long = "a".repeat(500);
        assert_eq!(PayoutId::parse(&long).unwrap_err().text.len(), 40);
    }

    proptest! {
        #[test]
        fn exactly_the_canonical_text_of_a_uuid_parses(bytes in proptest::array::uniform16(any::<u8>())) {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let text = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]);
            prop_assert_eq!(EmploymentId::parse(&text).map(|id| id.to_string()), Ok(text.clone()));
            prop_assert_eq!(<EmploymentId as RecordId>::from_uuid_bytes(bytes).to_string(), text.clone());
            prop_assert!(EmploymentId::parse(&text.to_uppercase()).is_err() || !text.contains(|c: char| c.is_ascii_alphabetic()));
            prop_assert!(EmploymentId::parse(&hex).is_err());
        }

        #[test]
        fn parsing_never_panics_and_accepts_only_36_characters(text in ".{0,60}") {
            if let Ok(id) = PlacementId::parse(&text) {
                prop_assert_eq!(id.as_str().len(), 36);
                prop_assert_eq!(id.as_str(), text.as_str());
            }
        }
    }
}
