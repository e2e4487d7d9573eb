//! Fieldless enums that are stored and sent as stable snake_case codes.
//!
//! One list of (variant, code) pairs per enum, written with [`coded_enum!`](crate::coded_enum), gives `as_str`,
//! `parse`, `Display` and the [`Coded`] trait, so the persistence crate can read and write every
//! such enum through one mechanism and a stored code that is not known is an error, never a default.

/// An enum with a stable text code per variant.
pub trait Coded: Sized + Copy + 'static {
    /// A name for the kind of value, for error messages (e.g. `task status`).
    const KIND: &'static str;

    /// Every value, in declaration order.
    fn all() -> &'static [Self];

    /// The stable code.
    fn code(self) -> &'static str;

    /// The value with this code, if any.
    fn from_code(code: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.code() == code)
    }
}

/// A stored or received code that names no value of the enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{code}` is not a known {kind}")]
pub struct UnknownCode {
    /// The kind of value that was expected.
    pub kind: &'static str,
    /// The code that was read.
    pub code: String,
}

/// Parses a code into `T`, or says which code of which kind was not known.
pub fn parse_code<T: Coded>(code: &str) -> Result<T, UnknownCode> {
    T::from_code(code).ok_or_else(|| UnknownCode { kind: T::KIND, code: code.to_owned() })
}

/// Implements `ALL`, `as_str`, `parse`, `Display` and [`Coded`] for a fieldless enum from one
/// list of (variant, code) pairs, so the codes cannot drift apart.
#[macro_export]
macro_rules! coded_enum {
    ($ty:ident, $kind:literal { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($code),+].len()] = [$($ty::$variant),+];

            /// The stable snake_case code (as in JSON and in the database).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }

            /// The inverse of `as_str`.
            pub fn parse(s: &str) -> Option<$ty> {
                $ty::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl $crate::coded::Coded for $ty {
            const KIND: &'static str = $kind;

            fn all() -> &'static [$ty] {
                &$ty::ALL
            }

            fn code(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;
    use std::fmt::{Debug, Display};

    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{from_value, json, to_value};

    use super::*;
    use crate::{
        Actor, AdjustmentCause, CardEventKind, CardStatus, Coverage, PlacementAction, PlacementState, TaskAction,
        TaskStatus, TransportMode,
    };

    /// Checks one coded enum given its inherent `parse`, `as_str` and `ALL`: every code is
    /// snake_case, names exactly one value and parses back to it, and the trait, `Display` and
    /// the inherent methods agree.
    fn check<T: Coded + PartialEq + Debug + Display>(
        parse: fn(&str) -> Option<T>,
        as_str: fn(T) -> &'static str,
        all: &[T],
    ) {
        assert_eq!(T::all(), all, "{}", T::KIND);
        assert!(!all.is_empty(), "{}", T::KIND);
        let mut codes = BTreeSet::new();
        for &value in all {
            let code = as_str(value);
            assert_eq!(parse(code), Some(value), "{} `{code}`", T::KIND);
            assert_eq!(T::from_code(code), Some(value), "{} `{code}`", T::KIND);
            assert_eq!(value.code(), code);
            assert_eq!(value.to_string(), code);
            assert!(codes.insert(code), "{} code `{code}` names two values", T::KIND);
            let snake_case = code.split('_').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
            assert!(snake_case, "{} code `{code}` is not snake_case", T::KIND);
        }
        assert_eq!(parse(""), None);
        assert_eq!(parse(&as_str(all[0]).to_uppercase()), None, "{}: codes are case-sensitive", T::KIND);
    }

    /// The JSON form of each value is its code, both ways.
    fn check_json<T: Coded + PartialEq + Debug + Serialize + DeserializeOwned>() {
        for &value in T::all() {
            assert_eq!(to_value(value).unwrap(), json!(value.code()), "{}", T::KIND);
            assert_eq!(from_value::<T>(json!(value.code())).unwrap(), value, "{}", T::KIND);
        }
    }

    macro_rules! check_each {
        ($($ty:ty),+ $(,)?) => {{
            $(check::<$ty>(<$ty>::parse, <$ty>::as_str, &<$ty>::ALL);)+
            [$(<$ty as Coded>::KIND),+]
        }};
    }

    #[test]
    fn every_coded_enum_parses_each_of_its_codes_back_and_no_two_values_share_a_code() {
        let kinds = check_each!(
            TaskStatus,
            TaskAction,
            PlacementState,
            PlacementAction,
            Actor,
            Coverage,
            CardStatus,
            CardEventKind,
            TransportMode,
            AdjustmentCause,
        );
        let distinct: BTreeSet<&str> = kinds.into_iter().collect();
        assert_eq!(distinct.len(), kinds.len(), "each kind has its own name in error messages");
    }

    #[test]
    fn coded_enums_with_serde_use_their_codes_in_json() {
        check_json::<TaskStatus>();
        check_json::<TaskAction>();
        check_json::<PlacementState>();
        check_json::<PlacementAction>();
        check_json::<Actor>();
        check_json::<CardStatus>();
        check_json::<CardEventKind>();
        check_json::<TransportMode>();
    }

    #[test]
    fn an_unknown_code_is_an_error_that_names_the_kind_and_the_code() {
        assert_eq!(parse_code::<CardStatus>("active"), Ok(CardStatus::Active));
        let err = parse_code::<CardStatus>("suspended").unwrap_err();
        assert_eq!(err, UnknownCode { kind: "card status", code: "suspended".into() });
        assert_eq!(err.to_string(), "`suspended` is not a known card status");
    }
}
