//! Enums that are stored and sent as fixed strings (an audit action, a revocation's reason, a
//! broker's kind). Each variant names its text once, in the enum's declaration: the database
//! column, the JSON the browser receives and `as_str` all use it, and reading text no variant has
//! is an error, never a guess.

/// Text that names no variant of the enum it was read as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a known {what}")]
pub struct UnknownText {
    pub what: &'static str,
    pub text: String,
}

/// `text_enum!(/// docs  Name, "what it is" { /// docs  Variant = "text", … })`
macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $($(#[$variant_doc:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_doc])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text that stands for this variant in the database and on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The variant `text` stands for.
            pub fn parse(text: &str) -> Result<Self, $crate::model::UnknownText> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::model::UnknownText {
                        what: $what,
                        text: other.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use text_enum;

/// Asserts that every variant of a `text_enum!` reads back from its own text and from its JSON,
/// and that the texts are exactly `stored` (the strings rows already hold: changing one needs a
/// migration).
#[cfg(test)]
macro_rules! assert_round_trips {
    ($name:ident, $stored:expr) => {{
        let texts: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(texts, $stored, "the stored texts of {}", stringify!($name));
        for variant in $name::ALL {
            assert_eq!($name::parse(variant.as_str()), Ok(*variant));
            let json = serde_json::to_string(variant).unwrap();
            assert_eq!(json, format!("{:?}", variant.as_str()));
            assert_eq!(serde_json::from_str::<$name>(&json).unwrap(), *variant);
        }
        let unknown = $name::parse("no-such-text").unwrap_err();
        assert_eq!(unknown.text, "no-such-text");
        assert!(serde_json::from_str::<$name>("\"no-such-text\"").is_err());
    }};
}

#[cfg(test)]
pub(crate) use assert_round_trips;
