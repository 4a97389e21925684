//! The shape of suite files as data: every top-level and case key with its type and a line of
//! documentation, and the types step kinds declare their keys with (each step kind's table is
//! beside its struct, in [`super::steps`]). The reader ([`super::read`]) takes allowed keys and
//! "did you mean" candidates from here, and [`super::schema`] turns the same tables into the
//! JSON Schema, so the two cannot drift apart.

/// The type of a key's value, for validation messages and the JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    /// An integer, a code name or a `${...}` string.
    Value,
    Int,
    Bool,
    /// `500ms`, `2s`, or `${...}`.
    Duration,
    /// Hex bytes: `02 FD 00 01`.
    Hex,
    /// Hex with `??`, nibble `?` and a trailing `..`.
    Pattern,
    StrList,
    ValueList,
    Steps,
    Cases,
    Matrix,
    Retry,
    Handlers,
    Vars,
    Capture,
    Overrides,
    /// One of the given words.
    Enum(&'static [&'static str]),
    /// Field values of a typed message (send) or matchers (expect).
    MessageFields {
        matchers: bool,
    },
}

/// One key of a map in a suite file.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

pub(crate) const fn k(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec { name, ty, required: false, doc }
}

pub(crate) const fn req(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec { name, ty, required: true, doc }
}

/// Which messages a step accepts as a key (`send: { routing_activation_request: {...} }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKey {
    None,
    /// Exactly one message key is required.
    Required {
        matchers: bool,
    },
    /// A message key or `hex:` (UDP steps).
    OrHex {
        matchers: bool,
    },
}

/// One step kind.
#[derive(Debug, Clone, Copy)]
pub struct StepSpec {
    pub name: &'static str,
    pub doc: &'static str,
    /// The step is written as a scalar (`wait: 100ms`) of this type instead of a map.
    pub scalar: Option<Ty>,
    pub keys: &'static [KeySpec],
    pub message: MessageKey,
    /// The step may be written without a body (`- disconnect:`).
    pub bare: bool,
}

pub const SUITE_KEYS: &[KeySpec] = &[
    req("suite", Ty::Str, "Suite name (JUnit classname); unique across the run."),
    req("title", Ty::Str, "What the suite checks, for people."),
    k("spec", Ty::Str, "The standard the suite checks, e.g. `ISO 13400-2:2019`."),
    k("requires", Ty::StrList, "Capabilities the profile must list for any case to run."),
    k("tags", Ty::StrList, "Tags every case of the suite gets."),
    k("handlers", Ty::Handlers, "Handlers active in every case while a step waits."),
    k("vars", Ty::Vars, "Named constants, usable as `${name}`."),
    k("setup", Ty::Steps, "Steps run before each case; a failure makes the case inconclusive."),
    k("finally", Ty::Steps, "Steps run after each case, whatever happened."),
    req("cases", Ty::Cases, "The cases."),
];

pub const CASE_KEYS: &[KeySpec] = &[
    req("id", Ty::Str, "Case id, unique across the run: letters, digits, `-`, `_`, `.`."),
    req("title", Ty::Str, "What the case checks, for people."),
    k("clause", Ty::Str, "The clause checked, e.g. `ISO 13400-2:2019 Table 19`."),
    k("tags", Ty::StrList, "Tags for `--tags`."),
    k(
        "requires",
        Ty::StrList,
        "Capabilities the profile must list; otherwise the case is skipped.",
    ),
    k("detects", Ty::StrList, "Simulator faults this case must catch."),
    k(
        "provokes",
        Ty::StrList,
        "Rules of the judge (docs/rules.md) this case makes the target break on purpose: their findings are noted, not failed.",
    ),
    k("matrix", Ty::Matrix, "Parameter lists; the case runs once per combination, as `${name}`."),
    k(
        "retry",
        Ty::Retry,
        "Run a failing case again (`3` or `{ attempts: 3, delay: 1s }`); a later pass is flaky.",
    ),
    k("handlers", Ty::Handlers, "Handlers active in this case (added to the suite's)."),
    k("timeout", Ty::Duration, "Upper bound for the whole case (default 60s)."),
    k("setup", Ty::Steps, "Steps before `steps`; a failure makes the case inconclusive."),
    req("steps", Ty::Steps, "The steps that decide pass or fail."),
    k("finally", Ty::Steps, "Steps run after the case, whatever happened."),
];

pub const CONNECTION: KeySpec = k(
    "connection",
    Ty::Str,
    "Connection name (default `main`); several let a case hold several sockets.",
);
pub const WITHIN: KeySpec = k(
    "within",
    Ty::Duration,
    "Fail when nothing matching arrives in this time (default `${profile.timing.a_doip_ctrl}`).",
);
pub const NOT_BEFORE: KeySpec =
    k("not_before", Ty::Duration, "Fail when the match arrives earlier than this.");
pub const OVERRIDE: KeySpec = k(
    "override",
    Ty::Overrides,
    "Break the message on purpose: version, inverse_version, payload_type, payload_length, truncate, append.",
);

pub const OVERRIDE_KEYS: &[KeySpec] = &[
    k("version", Ty::Value, "Protocol version byte."),
    k("inverse_version", Ty::Value, "Inverse protocol version byte."),
    k("payload_type", Ty::Value, "Payload type (u16)."),
    k("payload_length", Ty::Value, "Declared payload length (u32), whatever the real length."),
    k("truncate", Ty::Value, "Cut the whole message (header included) to this many bytes."),
    k("append", Ty::Hex, "Bytes added after the payload (the declared length stays)."),
];

pub const RETRY_KEYS: &[KeySpec] = &[
    req("attempts", Ty::Int, "Attempts in all (1 = no retry)."),
    k("delay", Ty::Duration, "Pause between attempts."),
];

pub fn names(keys: &[KeySpec]) -> impl Iterator<Item = &'static str> + '_ {
    keys.iter().map(|k| k.name)
}
