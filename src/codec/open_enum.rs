//! `open_enum!`: wire codes as enums that still carry every value the wire can hold.
//!
//! Conformance testing sends reserved and VM-specific values on purpose and must display the
//! ones a target sends back, so every code enum has an `Unknown(raw)` variant and converts
//! both ways with `From`, the way smoltcp's `enum_with_unknown!` does. Each named value has a
//! stable snake_case id (used by suites and `--json`) and the name docs/protocol.md gives it.
//!
//! Build values with `From<raw>` / [`from_raw`](crate::codec::doip::GenericNackCode::from_raw):
//! they map a known value to its named variant, so `Unknown` only ever holds unnamed values.

/// Defines an open enum over an integer type. Syntax:
///
/// ```text
/// open_enum! {
///     /// doc
///     pub enum Name: u8 {
///         /// doc
///         Variant = 0x00, "snake_id", "Name as in the standard",
///     }
/// }
/// ```
///
/// Written `open_enum! { custom_display; ... }` it leaves `Display` to the caller (ISO-TP shows
/// reserved nibbles its own way).
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $value:literal, $id:literal, $text:literal,
            )*
        }
    ) => {
        $crate::codec::open_enum::open_enum! {
            custom_display;
            $(#[$meta])*
            $vis enum $name : $repr {
                $(
                    $(#[$vmeta])*
                    $variant = $value, $id, $text,
                )*
            }
        }

        /// The standard's name, or `unknown (0x..)` for an unnamed value.
        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.description() {
                    Some(text) => f.write_str(text),
                    None => write!(
                        f,
                        "unknown (0x{:0width$X})",
                        self.raw(),
                        width = core::mem::size_of::<$repr>() * 2
                    ),
                }
            }
        }
    };
    (
        custom_display;
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $value:literal, $id:literal, $text:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )*
            /// A value without a name here (reserved or VM-specific); sendable and displayable.
            Unknown($repr),
        }

        impl $name {
            /// Every named variant, in wire order.
            pub const NAMED: &'static [$name] = &[$($name::$variant),*];

            /// The variant for a wire value; unnamed values become `Unknown(raw)`.
            #[inline]
            pub const fn from_raw(raw: $repr) -> Self {
                match raw {
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }

            /// The wire value.
            #[inline]
            pub const fn raw(self) -> $repr {
                match self {
                    $($name::$variant => $value,)*
                    $name::Unknown(raw) => raw,
                }
            }

            /// Stable snake_case id (suites, JSON); `None` for an unnamed value.
            pub const fn id(self) -> Option<&'static str> {
                match $name::from_raw(self.raw()) {
                    $($name::$variant => Some($id),)*
                    $name::Unknown(_) => None,
                }
            }

            /// The name the standard gives the value; `None` for an unnamed value.
            pub const fn description(self) -> Option<&'static str> {
                match $name::from_raw(self.raw()) {
                    $($name::$variant => Some($text),)*
                    $name::Unknown(_) => None,
                }
            }

            /// The variant whose [`id`](Self::id) is `id`.
            pub fn from_id(id: &str) -> Option<Self> {
                match id {
                    $($id => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// True when the value has a name here.
            pub const fn is_named(self) -> bool {
                !matches!($name::from_raw(self.raw()), $name::Unknown(_))
            }
        }

        impl From<$repr> for $name {
            #[inline]
            fn from(raw: $repr) -> Self {
                $name::from_raw(raw)
            }
        }

        impl From<$name> for $repr {
            #[inline]
            fn from(value: $name) -> $repr {
                value.raw()
            }
        }
    };
}

pub(crate) use open_enum;
