//! Scalar value types of the simulator configuration, each parsed from YAML with its own rule so
//! that a bad value is reported at its own line and column (serde-saphyr attaches the position
//! of the node whose `Deserialize` failed).

use crate::notation;
use core::fmt;
use core::time::Duration;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written with a unit: `500ms`, `2s`, `1.5s`, `5min`, `100us`, `0` (the grammar of
/// `crate::notation`, shared with suites, profiles and the command line).
///
/// A bare number is rejected: `2` could mean seconds or milliseconds, and a timer off by a
/// factor of 1000 is the kind of mistake a conformance tool must not make silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub const fn from_millis(ms: u64) -> Self {
        ConfigDuration(Duration::from_millis(ms))
    }

    pub const fn get(self) -> Duration {
        self.0
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        notation::parse_duration(text).map(ConfigDuration)
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&notation::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ConfigDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, e.g. `500ms`, `1.5s`, `5min`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigDuration, E> {
                ConfigDuration::parse(v).map_err(E::custom)
            }
            // A plain YAML number reads as its text: `0` is zero, others lack their unit.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigDuration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigDuration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ConfigDuration, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Bytes written as hex (the grammar of `crate::notation`): `"01 02 0A"`, `"01020a"`,
/// `"00:1A:2B"`, `"0x0102"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    pub fn parse(text: &str) -> Result<Self, String> {
        notation::parse_hex(text).map(HexBytes)
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HexBytes::parse(&text).map_err(de::Error::custom)
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(&self.0))
    }
}

/// A 6-byte entity or group identification (EID / GID, ISO 13400-2:2019 Table 5), written as
/// 12 hex digits, optionally separated: `"00:1A:2B:3C:4D:5E"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SixBytes(pub [u8; 6]);

impl<'de> Deserialize<'de> for SixBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let HexBytes(bytes) = HexBytes::deserialize(d)?;
        let array: [u8; 6] = bytes.as_slice().try_into().map_err(|_| {
            de::Error::custom(format!(
                "EID/GID must be exactly 6 bytes (12 hex digits), got {}",
                bytes.len()
            ))
        })?;
        Ok(SixBytes(array))
    }
}

impl Serialize for SixBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HexBytes(self.0.to_vec()).serialize(s)
    }
}

/// A vehicle identification number: exactly 17 ASCII characters (ISO 3779; ISO 13400-2:2019
/// Table 5 carries it as 17 ASCII bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigVin(pub [u8; 17]);

impl<'de> Deserialize<'de> for ConfigVin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if !text.is_ascii() {
            return Err(de::Error::custom("VIN must be ASCII"));
        }
        let array: [u8; 17] = text.as_bytes().try_into().map_err(|_| {
            de::Error::custom(format!("VIN must be exactly 17 characters, got {}", text.len()))
        })?;
        Ok(ConfigVin(array))
    }
}

impl Serialize for ConfigVin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A socket address (`127.0.0.1:13400`, `[::1]:13400`), kept as `core::net` data: the pure
/// core never opens sockets, it only carries addresses for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigSocketAddr(pub core::net::SocketAddr);

impl<'de> Deserialize<'de> for ConfigSocketAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(ConfigSocketAddr).map_err(|_| {
            de::Error::custom(format!(
                "`{text}` is not an IP socket address like `127.0.0.1:13400`"
            ))
        })
    }
}

impl Serialize for ConfigSocketAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An IP address (`127.0.0.1`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigIpAddr(pub core::net::IpAddr);

impl<'de> Deserialize<'de> for ConfigIpAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map(ConfigIpAddr)
            .map_err(|_| de::Error::custom(format!("`{text}` is not an IP address")))
    }
}

impl Serialize for ConfigIpAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(ConfigDuration::parse("500ms").unwrap().get(), Duration::from_millis(500));
        assert_eq!(ConfigDuration::parse("5min").unwrap().get(), Duration::from_secs(300));
        assert_eq!(ConfigDuration::parse("100us").unwrap().get(), Duration::from_micros(100));
        assert_eq!(ConfigDuration::parse("1.5s").unwrap().get(), Duration::from_millis(1500));
        assert_eq!(ConfigDuration::parse("2h").unwrap().get(), Duration::from_secs(7200));
        assert_eq!(ConfigDuration::parse("0").unwrap().get(), Duration::ZERO);
        assert!(ConfigDuration::parse("2").unwrap_err().contains("needs a unit"));
        assert!(ConfigDuration::parse("2d").unwrap_err().contains("unit `d`"));
        assert!(ConfigDuration::parse("ms").is_err());
        assert!(ConfigDuration::parse("99999999999999999999999s").is_err());
    }

    #[test]
    fn durations_display_as_they_read_back() {
        for (text, shown) in [("0", "0s"), ("100us", "100us"), ("500ms", "500ms"), ("5min", "300s")]
        {
            let d = ConfigDuration::parse(text).unwrap();
            assert_eq!(d.to_string(), shown);
            assert_eq!(ConfigDuration::parse(shown), Ok(d));
        }
    }

    #[test]
    fn hex_accepts_separators_and_rejects_odd_digits() {
        assert_eq!(HexBytes::parse("01 02 0a").unwrap().0, vec![1, 2, 10]);
        assert_eq!(HexBytes::parse("00:1A:2B").unwrap().0, vec![0, 0x1A, 0x2B]);
        assert_eq!(HexBytes::parse("0x01-02").unwrap().0, vec![1, 2]);
        assert!(HexBytes::parse("123").unwrap_err().contains("odd"));
        assert!(HexBytes::parse("zz").is_err());
    }
}
