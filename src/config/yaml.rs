//! Small YAML reading helpers shared by the configuration types: Go's
//! `yaml.v2` habits (null is the zero value, scalars read as text) and
//! string maps that refuse duplicate keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

pub(crate) use crate::relabel::null_as_default;

/// Any YAML scalar (string, number, bool) read as its text, as Go reads a
/// scalar into a string field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScalarText(pub String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarText, E> {
                Ok(ScalarText(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a scalar (null gives `None`) and converts its text with `parse`
/// while the deserializer still sits on that node, so that a refusal is
/// reported at the scalar's own line and column.
pub(crate) fn scalar_with<'de, D, T, F>(d: D, parse: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(Option<&str>) -> Result<T, String>,
{
    struct V<F>(F);
    impl<'de, T, F: FnOnce(Option<&str>) -> Result<T, String>> Visitor<'de> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(Some(v)).map_err(E::custom)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            (self.0)(None).map_err(E::custom)
        }
        fn visit_none<E: de::Error>(self) -> Result<T, E> {
            self.visit_unit()
        }
    }
    d.deserialize_any(V(parse))
}

/// A YAML mapping of string keys to string values, in key order. Duplicate
/// keys are refused (Go's strict YAML decoding does the same).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of strings to strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<StringMap, E> {
                Ok(StringMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = map.next_key::<ScalarText>()? {
                    let v = map.next_value::<Option<ScalarText>>()?.map(|t| t.0).unwrap_or_default();
                    if out.insert(k.0.clone(), v).is_some() {
                        return Err(de::Error::custom(format_args!("duplicate key {:?}", k.0)));
                    }
                }
                Ok(StringMap(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Defines a `deserialize_with` function for a list whose entries must not be
/// null, failing with Prometheus's message for that list (at the list's position).
macro_rules! non_null_list {
    ($(#[$m:meta])* $name:ident, $message:literal) => {
        $(#[$m])*
        pub(crate) fn $name<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
        where
            D: serde::Deserializer<'de>,
            T: serde::Deserialize<'de>,
        {
            struct V<T>(std::marker::PhantomData<T>);
            impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
                type Value = Vec<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a list")
                }
                fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
                    Ok(Vec::new())
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                    let mut out = Vec::new();
                    while let Some(entry) = seq.next_element::<Option<T>>()? {
                        out.push(entry.ok_or_else(|| <A::Error as serde::de::Error>::custom($message))?);
                    }
                    Ok(out)
                }
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    };
}
pub(crate) use non_null_list;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_as_text() {
        let v: Vec<ScalarText> = yaml_serde::from_str("[a, 1, true, 1.5, 'x y']").unwrap();
        let v: Vec<String> = v.into_iter().map(|t| t.0).collect();
        assert_eq!(v, ["a", "1", "true", "1.5", "x y"]);
        assert!(yaml_serde::from_str::<ScalarText>("[a]").is_err());
    }

    #[test]
    fn string_maps_refuse_duplicates() {
        let m: StringMap = yaml_serde::from_str("{b: 2, a: x}").unwrap();
        assert_eq!(
            m.0.into_iter().collect::<Vec<_>>(),
            vec![("a".into(), "x".into()), ("b".into(), "2".into())]
        );
        let e = yaml_serde::from_str::<StringMap>("{a: 1, a: 2}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        let e = yaml_serde::from_str::<StringMap>("{a: [1]}").unwrap_err().to_string();
        assert!(e.contains("a string"), "{e}");
    }
}
