//! Fieldless enums that are stored and sent as stable snake_case codes.
//!
//! One list of (variant, code) pairs per enum, written with [`coded_enum!`], gives `as_str`,
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
