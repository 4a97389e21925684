//! Property tests of the DoIP codec: emit-then-parse identity for every message kind, no panic
//! on arbitrary bytes, the same messages under any chunking of a stream, and a bounded buffer
//! whatever length a header claims. Case counts are modest so CI stays fast.

use doipcheck::codec::doip::*;
use doipcheck::fuzz_entry::doip::{StreamEvent, deframe_chunked, doip_message, doip_stream};
use proptest::collection::vec;
use proptest::prelude::*;
use std::borrow::Cow;

fn bytes(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), min..=max)
}

fn diag_data() -> impl Strategy<Value = Cow<'static, [u8]>> {
    bytes(1, 64).prop_map(Cow::Owned)
}

fn previous() -> impl Strategy<Value = Cow<'static, [u8]>> {
    bytes(0, 16).prop_map(Cow::Owned)
}

/// Every payload kind with every field, optional fields present and absent, codes named and
/// unnamed, and reserved payload types.
fn payload() -> impl Strategy<Value = Payload<'static>> {
    prop_oneof![
        any::<u8>().prop_map(|c| Payload::GenericNack(GenericNack { nack_code: c.into() })),
        Just(Payload::VehicleIdentificationRequest),
        any::<[u8; 6]>().prop_map(|eid| Payload::VehicleIdentificationRequestWithEid(
            VehicleIdentificationRequestWithEid { eid }
        )),
        any::<[u8; 17]>().prop_map(|vin| Payload::VehicleIdentificationRequestWithVin(
            VehicleIdentificationRequestWithVin { vin }
        )),
        (
            any::<[u8; 17]>(),
            any::<u16>(),
            any::<[u8; 6]>(),
            any::<[u8; 6]>(),
            any::<u8>(),
            any::<Option<u8>>()
        )
            .prop_map(|(vin, la, eid, gid, fa, sync)| Payload::VehicleAnnouncement(
                VehicleAnnouncement {
                    vin,
                    logical_address: la,
                    eid,
                    gid,
                    further_action: fa.into(),
                    sync_status: sync.map(Into::into),
                }
            )),
        (any::<u16>(), any::<u8>(), any::<u32>(), any::<Option<u32>>()).prop_map(
            |(sa, at, reserved, oem)| Payload::RoutingActivationRequest(RoutingActivationRequest {
                source_address: sa,
                activation_type: at.into(),
                reserved_iso: reserved,
                oem_specific: oem,
            })
        ),
        (any::<u16>(), any::<u16>(), any::<u8>(), any::<u32>(), any::<Option<u32>>()).prop_map(
            |(t, e, code, reserved, oem)| Payload::RoutingActivationResponse(
                RoutingActivationResponse {
                    tester_logical_address: t,
                    entity_logical_address: e,
                    response_code: code.into(),
                    reserved_iso: reserved,
                    oem_specific: oem,
                }
            )
        ),
        Just(Payload::AliveCheckRequest),
        any::<u16>()
            .prop_map(|sa| Payload::AliveCheckResponse(AliveCheckResponse { source_address: sa })),
        Just(Payload::EntityStatusRequest),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<Option<u32>>()).prop_map(
            |(nt, mcts, ncts, mds)| Payload::EntityStatusResponse(EntityStatusResponse {
                node_type: nt.into(),
                max_concurrent_sockets: mcts,
                currently_open_sockets: ncts,
                max_data_size: mds,
            })
        ),
        Just(Payload::PowerModeInformationRequest),
        any::<u8>().prop_map(|pm| Payload::PowerModeInformationResponse(
            PowerModeInformationResponse { power_mode: pm.into() }
        )),
        (any::<u16>(), any::<u16>(), diag_data()).prop_map(|(sa, ta, data)| {
            Payload::DiagnosticMessage(DiagnosticMessage::new(sa, ta, data))
        }),
        (any::<u16>(), any::<u16>(), any::<u8>(), previous()).prop_map(|(sa, ta, c, prev)| {
            Payload::DiagnosticMessageAck(DiagnosticMessageAck {
                source_address: sa,
                target_address: ta,
                ack_code: c.into(),
                previous_diagnostic_message: prev,
            })
        }),
        (any::<u16>(), any::<u16>(), any::<u8>(), previous()).prop_map(|(sa, ta, c, prev)| {
            Payload::DiagnosticMessageNack(DiagnosticMessageNack {
                source_address: sa,
                target_address: ta,
                nack_code: c.into(),
                previous_diagnostic_message: prev,
            })
        }),
        (
            any::<u16>()
                .prop_filter("reserved types only", |t| !PayloadType::from_raw(*t).is_named()),
            bytes(0, 32)
        )
            .prop_map(|(t, b)| Payload::Unknown(t, Cow::Owned(b))),
    ]
}

/// A message with a version valid for its type (0xFF only on 0x0001-0x0003).
fn message() -> impl Strategy<Value = Message<'static>> {
    (payload(), 1u8..=5).prop_map(|(payload, v)| {
        let version = if v == 5 && payload.payload_type().is_vehicle_identification_request() {
            ProtocolVersion::Default
        } else {
            ProtocolVersion::from_raw(v.min(4))
        };
        Message::new(version, payload)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn emit_then_parse_gives_the_same_message(m in message()) {
        let bytes = m.to_bytes();
        prop_assert_eq!(bytes.len(), m.len());
        let parsed = Message::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &m);
        doip_message(&bytes);
    }

    #[test]
    fn parse_of_arbitrary_bytes_never_panics(data in bytes(0, 64)) {
        doip_message(&data);
    }

    #[test]
    fn parse_of_arbitrary_bytes_behind_a_valid_header_never_panics(
        header in any::<[u8; 4]>(), tail in bytes(0, 48),
    ) {
        // Most random inputs fail the pattern check; this keeps a valid pattern and length so
        // the payload parsers see arbitrary bytes.
        let mut data = vec![0x02, 0xFD, header[0] & 0x80 | header[1] & 0x0F, header[2] & 0x0F];
        data.extend_from_slice(&(tail.len() as u32).to_be_bytes());
        data.extend_from_slice(&tail);
        doip_message(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_deframer_gives_the_same_messages_under_any_chunking(
        messages in vec(message(), 1..12),
        chunks in vec(1usize..64, 1..8),
    ) {
        let wire: Vec<Vec<u8>> = messages.iter().map(Message::to_bytes).collect();
        let stream = wire.concat();
        let expected: Vec<StreamEvent> = wire.iter().cloned().map(StreamEvent::Message).collect();
        for plan in [chunks.clone(), vec![1], vec![stream.len()]] {
            let (events, consumed) = deframe_chunked(&stream, &plan, 4096);
            prop_assert_eq!(&events, &expected, "chunks {:?}", plan);
            prop_assert_eq!(consumed, stream.len());
        }
    }

    #[test]
    fn a_lying_length_never_grows_the_buffer_beyond_the_limit(
        length in 257u32..=u32::MAX,
        payload_type in any::<u16>(),
        filler in bytes(0, 600),
        chunks in vec(1usize..128, 1..4),
        after in message(),
    ) {
        // A header claiming `length` (above the 256-byte limit), some of its bytes, then a
        // valid message. deframe_chunked asserts the buffer never exceeds header + limit +
        // one chunk; the rejection is reported as soon as the header is in.
        let mut stream = vec![0x02, 0xFD];
        stream.extend_from_slice(&payload_type.to_be_bytes());
        stream.extend_from_slice(&length.to_be_bytes());
        stream.extend_from_slice(&filler);
        stream.extend_from_slice(&after.to_bytes());
        let (events, _) = deframe_chunked(&stream, &chunks, 256);
        let Some(StreamEvent::Rejected(first)) = events.first() else {
            return Err(TestCaseError::fail(format!("{events:?}")));
        };
        prop_assert!(matches!(
            first.rule,
            Rule::MessageTooLarge { .. } | Rule::InvalidPayloadLength { .. }
        ), "{}", first);
    }

    #[test]
    fn the_stream_oracle_holds_on_arbitrary_bytes(data in bytes(5, 200)) {
        doip_stream(&data);
    }
}
