//! The shape of suite files as data: every top-level, case and step key with its type and a
//! line of documentation. The reader ([`super::read`]) takes allowed keys and "did you mean"
//! candidates from here, and [`super::schema`] turns the same tables into the JSON Schema, so
//! the two cannot drift apart.

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

const fn k(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec { name, ty, required: false, doc }
}

const fn req(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
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

const CONNECTION: KeySpec = k(
    "connection",
    Ty::Str,
    "Connection name (default `main`); several let a case hold several sockets.",
);
const WITHIN: KeySpec = k(
    "within",
    Ty::Duration,
    "Fail when nothing matching arrives in this time (default `${profile.timing.a_doip_ctrl}`).",
);
const NOT_BEFORE: KeySpec =
    k("not_before", Ty::Duration, "Fail when the match arrives earlier than this.");
const OVERRIDE: KeySpec = k(
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

pub const STEPS: &[StepSpec] = &[
    StepSpec {
        name: "connect",
        doc: "Open a TCP (or TLS) connection to the target's data port.",
        scalar: None,
        keys: &[
            k("transport", Ty::Enum(&["tcp", "tls"]), "`tcp` (default) or `tls`."),
            CONNECTION,
            k("port", Ty::Value, "Port (default `${profile.ports.tcp}` / `${profile.ports.tls}`)."),
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "disconnect",
        doc: "Close a connection (FIN).",
        scalar: None,
        keys: &[CONNECTION],
        message: MessageKey::None,
    },
    StepSpec {
        name: "activate",
        doc: "Routing activation: send the request and expect the response code (a setup macro).",
        scalar: None,
        keys: &[
            CONNECTION,
            k("source_address", Ty::Value, "Tester address (default `${profile.tester_address}`)."),
            k("activation_type", Ty::Value, "Activation type (default `default`)."),
            k(
                "response_code",
                Ty::Value,
                "Expected response code (default `successfully_activated`).",
            ),
            WITHIN,
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "send",
        doc: "Send a typed DoIP message; omitted fields come from the profile; `override` breaks it.",
        scalar: None,
        keys: &[CONNECTION, OVERRIDE],
        message: MessageKey::Required { matchers: false },
    },
    StepSpec {
        name: "send_raw",
        doc: "Send bytes as written, optionally in chunks with delays (framing tests).",
        scalar: None,
        keys: &[
            req("hex", Ty::Hex, "The bytes."),
            k(
                "chunks",
                Ty::ValueList,
                "Sizes of the pieces written one by one (the rest goes last).",
            ),
            k("delay", Ty::Duration, "Pause between chunks."),
            CONNECTION,
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "expect",
        doc: "Wait for a typed DoIP message whose fields match; other messages fail the step.",
        scalar: None,
        keys: &[CONNECTION, WITHIN, NOT_BEFORE],
        message: MessageKey::Required { matchers: true },
    },
    StepSpec {
        name: "expect_raw",
        doc: "Wait for one DoIP message (or the bytes available) matching a hex pattern.",
        scalar: None,
        keys: &[
            req(
                "hex",
                Ty::Pattern,
                "Pattern: hex, `??` any byte, `?` any nibble, trailing `..` any rest.",
            ),
            k("mask", Ty::Hex, "Bits that must match, one mask byte per pattern byte."),
            CONNECTION,
            WITHIN,
            NOT_BEFORE,
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "expect_none",
        doc: "Nothing may arrive for a time (the connection may stay open or close).",
        scalar: None,
        keys: &[
            req("for", Ty::Duration, "How long to listen."),
            CONNECTION,
            k(
                "id",
                Ty::Value,
                "On `connection: can`: the CAN id that must stay silent (default the profile's isotp.rx_id).",
            ),
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "expect_closed",
        doc: "The target closes the connection (bytes before the close are recorded and allowed).",
        scalar: None,
        keys: &[CONNECTION, WITHIN, NOT_BEFORE],
        message: MessageKey::None,
    },
    StepSpec {
        name: "expect_open",
        doc: "The connection stays open for a time (bytes may arrive).",
        scalar: None,
        keys: &[req("for", Ty::Duration, "How long it must stay open."), CONNECTION],
        message: MessageKey::None,
    },
    StepSpec {
        name: "udp_send",
        doc: "Send a typed message or hex over UDP to the discovery port.",
        scalar: None,
        keys: &[
            k("hex", Ty::Hex, "Raw bytes instead of a typed message."),
            k(
                "to",
                Ty::Value,
                "`unicast` (default), `broadcast` (the profile's broadcast address) or `HOST:PORT`.",
            ),
            OVERRIDE,
        ],
        message: MessageKey::OrHex { matchers: false },
    },
    StepSpec {
        name: "udp_expect",
        doc: "Wait for a UDP datagram: a typed message with matchers, or a hex pattern.",
        scalar: None,
        keys: &[
            k("hex", Ty::Pattern, "A pattern instead of a typed message."),
            WITHIN,
            NOT_BEFORE,
            k(
                "count",
                Ty::Value,
                "Match this many datagrams in a row (default 1); within / not_before bound the first.",
            ),
            k(
                "interval",
                Ty::Duration,
                "With count: each further datagram comes this long after the previous (± tolerance).",
            ),
        ],
        message: MessageKey::OrHex { matchers: true },
    },
    StepSpec {
        name: "power_cycle",
        doc: "The target starts again (power cycle): the built-in simulator restarts its entity and announces to the case's UDP socket; a --target runs the profile's power_cycle_command.",
        scalar: None,
        keys: &[k(
            "within",
            Ty::Duration,
            "Bound of the restart (the power_cycle_command against --target; default 30s).",
        )],
        message: MessageKey::None,
    },
    StepSpec {
        name: "can_send",
        doc: "Send one raw CAN frame on the profile's bus (script an adversarial ISO-TP peer).",
        scalar: None,
        keys: &[
            req("id", Ty::Value, "CAN id."),
            req("data", Ty::Hex, "Frame data (up to 8 bytes, 64 with `fd`)."),
            k("extended", Ty::Bool, "29-bit id."),
            k("fd", Ty::Bool, "CAN FD frame."),
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "can_expect",
        doc: "Wait for a CAN frame with an id (and data pattern), optionally asserting the gap since the previous frame.",
        scalar: None,
        keys: &[
            req("id", Ty::Value, "CAN id."),
            k("data", Ty::Pattern, "Data pattern."),
            WITHIN,
            NOT_BEFORE,
            k(
                "gap_min",
                Ty::Duration,
                "Least time since the previous frame of the target (e.g. STmin).",
            ),
            k("gap_max", Ty::Duration, "Most time since the previous frame of the target."),
            k(
                "count",
                Ty::Value,
                "Match this many frames in a row (default 1), e.g. a train of FC WAITs; within bounds each from the previous match, not_before the first.",
            ),
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "isotp_send",
        doc: "Send a message through the conformant ISO-TP stack (profile `isotp.*`); a failed transfer fails the step with its N_Result.",
        scalar: None,
        keys: &[
            req("data", Ty::Hex, "The message."),
            k("functional", Ty::Bool, "Send it as a single frame on `isotp.functional_id`."),
            k("within", Ty::Duration, "Bound of the whole transmission (default: A_DoIP_Ctrl)."),
        ],
        message: MessageKey::None,
    },
    StepSpec {
        name: "isotp_expect",
        doc: "Receive a message through the ISO-TP stack and match it; a failed reception fails the step with its N_Result.",
        scalar: None,
        keys: &[req("data", Ty::Pattern, "Pattern for the message."), WITHIN],
        message: MessageKey::None,
    },
    StepSpec {
        name: "wait",
        doc: "Pause (handlers stay active).",
        scalar: Some(Ty::Duration),
        keys: &[],
        message: MessageKey::None,
    },
    StepSpec {
        name: "capture",
        doc: "Keep fields of the last matched message as `${name}`: `{ name: field }`.",
        scalar: None,
        keys: &[],
        message: MessageKey::None,
    },
    StepSpec {
        name: "measure",
        doc: "Record the time from the last frame sent to the last frame received as a metric.",
        scalar: None,
        keys: &[
            req("name", Ty::Str, "Metric name."),
            k("min", Ty::Duration, "Fail when shorter."),
            k("max", Ty::Duration, "Fail when longer."),
        ],
        message: MessageKey::None,
    },
];

pub fn step(name: &str) -> Option<&'static StepSpec> {
    STEPS.iter().find(|s| s.name == name)
}

pub fn names(keys: &[KeySpec]) -> impl Iterator<Item = &'static str> + '_ {
    keys.iter().map(|k| k.name)
}
