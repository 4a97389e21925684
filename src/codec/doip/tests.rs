//! Byte-vector tests per payload type (deconstruct, construct, parse, emit) and one test per
//! length rule, optional fields present and absent. Header rules are tested in `header.rs`,
//! the deframer in `deframer.rs`, the builder in `malformed.rs`.

use super::*;
use std::borrow::Cow;

const V2: ProtocolVersion = ProtocolVersion::Iso2012;

/// The quartet: the view deconstructs the header, parse gives `message`, emit gives `bytes`,
/// and the header built from the value matches the bytes.
#[track_caller]
fn quartet(bytes: &[u8], message: Message<'_>) {
    let view = HeaderView::new(bytes).unwrap();
    assert_eq!(view.protocol_version(), message.protocol_version);
    assert_eq!(view.payload_type(), message.payload.payload_type());
    assert_eq!(view.payload_length() as usize, bytes.len() - HEADER_LEN);
    assert_eq!(view.payload(), &bytes[HEADER_LEN..]);
    let parsed = Message::parse(bytes).unwrap();
    assert_eq!(parsed, message);
    assert_eq!(message.to_bytes(), bytes);
    assert_eq!(message.len(), bytes.len());
    assert_eq!(message.header().to_bytes(), bytes[..HEADER_LEN]);
    assert!(!message.to_string().is_empty());
}

/// `bytes` with the payload length field set to its payload shortened or lengthened by one:
/// both must be invalid lengths for fixed-size types.
#[track_caller]
fn rejects_length(bytes: &[u8], payload_len: usize) {
    let mut b = bytes[..HEADER_LEN].to_vec();
    b[4..8].copy_from_slice(&(payload_len as u32).to_be_bytes());
    b.resize(HEADER_LEN + payload_len, 0);
    let e = Message::parse(&b).unwrap_err();
    assert!(matches!(e.rule, Rule::InvalidPayloadLength { .. }), "{e}");
    assert_eq!(e.nack_code(), Some(GenericNackCode::InvalidPayloadLength));
    assert_eq!((e.field, e.offset), (Field::PayloadLength, 4));
}

const VIN: &[u8; 17] = b"WAUZZZ8V0KA000001";

#[test]
fn generic_nack_vectors() {
    let bytes = [0x02, 0xFD, 0x00, 0x00, 0, 0, 0, 1, 0x04];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::GenericNack(GenericNack { nack_code: GenericNackCode::InvalidPayloadLength }),
        ),
    );
    assert_eq!(
        Message::parse(&bytes).unwrap().to_string(),
        "Generic header NACK: invalid payload length (0x04)"
    );
}

#[test]
fn generic_nack_length_is_exactly_1() {
    let bytes = [0x02, 0xFD, 0x00, 0x00, 0, 0, 0, 1, 0x04];
    rejects_length(&bytes, 0);
    rejects_length(&bytes, 2);
}

#[test]
fn generic_nack_reserved_code_round_trips() {
    let bytes = [0x02, 0xFD, 0x00, 0x00, 0, 0, 0, 1, 0x99];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::GenericNack(GenericNack { nack_code: GenericNackCode::Unknown(0x99) }),
        ),
    );
}

#[test]
fn vehicle_identification_request_vectors() {
    let bytes = [0xFF, 0x00, 0x00, 0x01, 0, 0, 0, 0];
    quartet(&bytes, Message::new(ProtocolVersion::Default, Payload::VehicleIdentificationRequest));
}

#[test]
fn vehicle_identification_request_length_is_exactly_0() {
    rejects_length(&[0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0], 1);
}

#[test]
fn vehicle_identification_request_with_eid_vectors() {
    let bytes = [0x02, 0xFD, 0x00, 0x02, 0, 0, 0, 6, 0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::VehicleIdentificationRequestWithEid(VehicleIdentificationRequestWithEid {
                eid: [0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E],
            }),
        ),
    );
}

#[test]
fn vehicle_identification_request_with_eid_length_is_exactly_6() {
    let bytes = [0x02, 0xFD, 0x00, 0x02, 0, 0, 0, 6];
    rejects_length(&bytes, 5);
    rejects_length(&bytes, 7);
}

#[test]
fn vehicle_identification_request_with_vin_vectors() {
    let mut bytes = vec![0xFF, 0x00, 0x00, 0x03, 0, 0, 0, 17];
    bytes.extend_from_slice(VIN);
    quartet(
        &bytes,
        Message::new(
            ProtocolVersion::Default,
            Payload::VehicleIdentificationRequestWithVin(VehicleIdentificationRequestWithVin {
                vin: *VIN,
            }),
        ),
    );
}

#[test]
fn vehicle_identification_request_with_vin_length_is_exactly_17() {
    let bytes = [0x02, 0xFD, 0x00, 0x03, 0, 0, 0, 17];
    rejects_length(&bytes, 16);
    rejects_length(&bytes, 18);
}

fn announcement_bytes(sync: Option<u8>) -> Vec<u8> {
    let mut b = vec![0x02, 0xFD, 0x00, 0x04, 0, 0, 0, if sync.is_some() { 33 } else { 32 }];
    b.extend_from_slice(VIN);
    b.extend_from_slice(&[0x10, 0x01]);
    b.extend_from_slice(&[0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E]);
    b.extend_from_slice(&[0xFF; 6]);
    b.push(0x10);
    b.extend(sync);
    b
}

fn announcement(sync_status: Option<SyncStatus>) -> Message<'static> {
    Message::new(
        V2,
        Payload::VehicleAnnouncement(VehicleAnnouncement {
            vin: *VIN,
            logical_address: 0x1001,
            eid: [0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E],
            gid: [0xFF; 6],
            further_action: FurtherAction::RoutingActivationRequired,
            sync_status,
        }),
    )
}

#[test]
fn vehicle_announcement_with_sync_status_vectors() {
    quartet(&announcement_bytes(Some(0x10)), announcement(Some(SyncStatus::Incomplete)));
}

#[test]
fn vehicle_announcement_without_sync_status_vectors() {
    quartet(&announcement_bytes(None), announcement(None));
    assert_eq!(
        announcement(None).to_string(),
        "Vehicle announcement, VIN WAUZZZ8V0KA000001, LA 0x1001, EID 00:1A:2B:3C:4D:5E, \
         GID FF:FF:FF:FF:FF:FF, routing activation required for central security"
    );
}

#[test]
fn vehicle_announcement_length_is_32_or_33() {
    let bytes = announcement_bytes(None);
    rejects_length(&bytes, 31);
    rejects_length(&bytes, 34);
}

#[test]
fn vehicle_announcement_with_a_non_ascii_vin_shows_hex() {
    let mut m = announcement(None);
    if let Payload::VehicleAnnouncement(a) = &mut m.payload {
        a.vin = [0; 17];
    }
    assert!(m.to_string().contains("VIN 0000000000000000000000000000000000,"), "{m}");
}

#[test]
fn routing_activation_request_without_oem_vectors() {
    let bytes = [0x02, 0xFD, 0x00, 0x05, 0, 0, 0, 7, 0x0E, 0x00, 0x00, 0, 0, 0, 0];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::RoutingActivationRequest(RoutingActivationRequest::new(
                0x0E00,
                ActivationType::Default,
            )),
        ),
    );
}

#[test]
fn routing_activation_request_with_oem_vectors() {
    let bytes =
        [0x02, 0xFD, 0x00, 0x05, 0, 0, 0, 11, 0x0E, 0x80, 0xE0, 0, 0, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::RoutingActivationRequest(RoutingActivationRequest {
                source_address: 0x0E80,
                activation_type: ActivationType::CentralSecurity,
                reserved_iso: 1,
                oem_specific: Some(0xDEAD_BEEF),
            }),
        ),
    );
}

#[test]
fn routing_activation_request_length_is_7_or_11() {
    let bytes = [0x02, 0xFD, 0x00, 0x05, 0, 0, 0, 7];
    for bad in [6, 8, 10, 12] {
        rejects_length(&bytes, bad);
    }
}

#[test]
fn routing_activation_response_without_oem_vectors() {
    let bytes = [0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9, 0x0E, 0x00, 0x10, 0x01, 0x10, 0, 0, 0, 0];
    let m = Message::new(
        V2,
        Payload::RoutingActivationResponse(RoutingActivationResponse {
            tester_logical_address: 0x0E00,
            entity_logical_address: 0x1001,
            response_code: RoutingActivationResponseCode::SuccessfullyActivated,
            reserved_iso: 0,
            oem_specific: None,
        }),
    );
    assert_eq!(
        m.to_string(),
        "Routing activation response, tester 0x0E00, entity 0x1001: routing successfully activated (0x10)"
    );
    quartet(&bytes, m);
}

#[test]
fn routing_activation_response_with_oem_vectors() {
    let bytes =
        [0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 13, 0x0E, 0x00, 0x10, 0x01, 0x06, 0, 0, 0, 0, 1, 2, 3, 4];
    quartet(
        &bytes,
        Message::new(
            V2,
            Payload::RoutingActivationResponse(RoutingActivationResponse {
                tester_logical_address: 0x0E00,
                entity_logical_address: 0x1001,
                response_code: RoutingActivationResponseCode::UnsupportedActivationType,
                reserved_iso: 0,
                oem_specific: Some(0x0102_0304),
            }),
        ),
    );
}

#[test]
fn routing_activation_response_length_is_9_or_13() {
    let bytes = [0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9];
    for bad in [8, 10, 12, 14] {
        rejects_length(&bytes, bad);
    }
}

#[test]
fn alive_check_request_vectors() {
    quartet(&[0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0], Message::new(V2, Payload::AliveCheckRequest));
}

#[test]
fn alive_check_request_length_is_exactly_0() {
    rejects_length(&[0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0], 2);
}

#[test]
fn alive_check_response_vectors() {
    quartet(
        &[0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 2, 0x0E, 0x00],
        Message::new(
            V2,
            Payload::AliveCheckResponse(AliveCheckResponse { source_address: 0x0E00 }),
        ),
    );
}

#[test]
fn alive_check_response_length_is_exactly_2() {
    let bytes = [0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 2];
    rejects_length(&bytes, 1);
    rejects_length(&bytes, 3);
}

#[test]
fn entity_status_request_vectors() {
    quartet(&[0x02, 0xFD, 0x40, 0x01, 0, 0, 0, 0], Message::new(V2, Payload::EntityStatusRequest));
}

#[test]
fn entity_status_request_length_is_exactly_0() {
    rejects_length(&[0x02, 0xFD, 0x40, 0x01, 0, 0, 0, 0], 1);
}

#[test]
fn entity_status_response_without_mds_vectors() {
    quartet(
        &[0x02, 0xFD, 0x40, 0x02, 0, 0, 0, 3, 0x00, 0x10, 0x01],
        Message::new(
            V2,
            Payload::EntityStatusResponse(EntityStatusResponse {
                node_type: NodeType::Gateway,
                max_concurrent_sockets: 16,
                currently_open_sockets: 1,
                max_data_size: None,
            }),
        ),
    );
}

#[test]
fn entity_status_response_with_mds_vectors() {
    quartet(
        &[0x02, 0xFD, 0x40, 0x02, 0, 0, 0, 7, 0x01, 0x04, 0x00, 0x00, 0x00, 0x10, 0x00],
        Message::new(
            V2,
            Payload::EntityStatusResponse(EntityStatusResponse {
                node_type: NodeType::Node,
                max_concurrent_sockets: 4,
                currently_open_sockets: 0,
                max_data_size: Some(4096),
            }),
        ),
    );
}

#[test]
fn entity_status_response_length_is_3_or_7() {
    let bytes = [0x02, 0xFD, 0x40, 0x02, 0, 0, 0, 3];
    for bad in [2, 4, 6, 8] {
        rejects_length(&bytes, bad);
    }
}

#[test]
fn power_mode_information_request_vectors() {
    quartet(
        &[0x02, 0xFD, 0x40, 0x03, 0, 0, 0, 0],
        Message::new(V2, Payload::PowerModeInformationRequest),
    );
}

#[test]
fn power_mode_information_request_length_is_exactly_0() {
    rejects_length(&[0x02, 0xFD, 0x40, 0x03, 0, 0, 0, 0], 1);
}

#[test]
fn power_mode_information_response_vectors() {
    quartet(
        &[0x02, 0xFD, 0x40, 0x04, 0, 0, 0, 1, 0x01],
        Message::new(
            V2,
            Payload::PowerModeInformationResponse(PowerModeInformationResponse {
                power_mode: PowerMode::Ready,
            }),
        ),
    );
}

#[test]
fn power_mode_information_response_length_is_exactly_1() {
    let bytes = [0x02, 0xFD, 0x40, 0x04, 0, 0, 0, 1];
    rejects_length(&bytes, 0);
    rejects_length(&bytes, 2);
}

const DIAG: [u8; 15] =
    [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];

#[test]
fn diagnostic_message_vectors() {
    quartet(
        &DIAG,
        Message::new(
            V2,
            Payload::DiagnosticMessage(DiagnosticMessage::new(
                0x0E00,
                0x1000,
                vec![0x22, 0xF1, 0x90],
            )),
        ),
    );
}

#[test]
fn diagnostic_message_parse_borrows_the_user_data() {
    let m = Message::parse(&DIAG).unwrap();
    let Payload::DiagnosticMessage(d) = &m.payload else { panic!() };
    assert!(matches!(d.user_data, Cow::Borrowed(_)));
    assert_eq!(d.user_data.as_ptr(), DIAG[12..].as_ptr());
    let owned: Message<'static> = m.clone().into_owned();
    assert_eq!(owned, m);
}

#[test]
fn diagnostic_message_needs_at_least_one_byte_of_user_data() {
    let e =
        Message::parse(&[0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 4, 0x0E, 0x00, 0x10, 0x00]).unwrap_err();
    assert_eq!(
        e.rule,
        Rule::InvalidPayloadLength {
            payload_type: PayloadType::DiagnosticMessage,
            length: 4,
            expected: LengthRule::AtLeast(5),
        }
    );
}

#[test]
fn diagnostic_message_ack_without_previous_message_vectors() {
    quartet(
        &[0x02, 0xFD, 0x80, 0x02, 0, 0, 0, 5, 0x10, 0x00, 0x0E, 0x00, 0x00],
        Message::new(
            V2,
            Payload::DiagnosticMessageAck(DiagnosticMessageAck {
                source_address: 0x1000,
                target_address: 0x0E00,
                ack_code: DiagnosticAckCode::Acknowledged,
                previous_diagnostic_message: Cow::Borrowed(&[]),
            }),
        ),
    );
}

#[test]
fn diagnostic_message_ack_with_previous_message_vectors() {
    quartet(
        &[0x02, 0xFD, 0x80, 0x02, 0, 0, 0, 8, 0x10, 0x00, 0x0E, 0x00, 0x00, 0x22, 0xF1, 0x90],
        Message::new(
            V2,
            Payload::DiagnosticMessageAck(DiagnosticMessageAck {
                source_address: 0x1000,
                target_address: 0x0E00,
                ack_code: DiagnosticAckCode::Acknowledged,
                previous_diagnostic_message: Cow::Owned(vec![0x22, 0xF1, 0x90]),
            }),
        ),
    );
}

#[test]
fn diagnostic_message_ack_needs_at_least_5_bytes() {
    rejects_length(&[0x02, 0xFD, 0x80, 0x02, 0, 0, 0, 5], 4);
}

#[test]
fn diagnostic_message_nack_without_previous_message_vectors() {
    quartet(
        &[0x02, 0xFD, 0x80, 0x03, 0, 0, 0, 5, 0x10, 0x00, 0x0E, 0x00, 0x03],
        Message::new(
            V2,
            Payload::DiagnosticMessageNack(DiagnosticMessageNack {
                source_address: 0x1000,
                target_address: 0x0E00,
                nack_code: DiagnosticNackCode::UnknownTargetAddress,
                previous_diagnostic_message: Cow::Borrowed(&[]),
            }),
        ),
    );
}

#[test]
fn diagnostic_message_nack_with_previous_message_vectors() {
    quartet(
        &[0x02, 0xFD, 0x80, 0x03, 0, 0, 0, 6, 0x10, 0x00, 0x0E, 0x00, 0x06, 0x3E],
        Message::new(
            V2,
            Payload::DiagnosticMessageNack(DiagnosticMessageNack {
                source_address: 0x1000,
                target_address: 0x0E00,
                nack_code: DiagnosticNackCode::TargetUnreachable,
                previous_diagnostic_message: Cow::Owned(vec![0x3E]),
            }),
        ),
    );
}

#[test]
fn diagnostic_message_nack_needs_at_least_5_bytes() {
    rejects_length(&[0x02, 0xFD, 0x80, 0x03, 0, 0, 0, 5], 4);
}

#[test]
fn unknown_payload_type_vectors() {
    let bytes = [0x03, 0xFC, 0x12, 0x34, 0, 0, 0, 2, 0xAB, 0xCD];
    quartet(
        &bytes,
        Message::new(
            ProtocolVersion::Iso2019,
            Payload::Unknown(0x1234, Cow::Borrowed(&[0xAB, 0xCD])),
        ),
    );
    assert_eq!(
        Message::parse(&bytes).unwrap().to_string(),
        "Unknown payload type 0x1234, 2 bytes: AB CD"
    );
}

#[test]
fn a_payload_shorter_than_declared_is_incomplete() {
    let e = Message::parse(&DIAG[..13]).unwrap_err();
    assert_eq!(e.rule, Rule::IncompletePayload { length: 7, available: 5 });
    assert_eq!((e.field, e.offset), (Field::Payload, 8));
}

#[test]
fn bytes_after_the_payload_are_trailing_bytes() {
    let mut b = DIAG.to_vec();
    b.push(0);
    let e = Message::parse(&b).unwrap_err();
    assert_eq!(e.rule, Rule::TrailingBytes { extra: 1 });
    assert_eq!(e.offset, 15);
    assert_eq!(e.nack_code(), Some(GenericNackCode::InvalidPayloadLength));
}

#[test]
fn every_version_0x01_to_0x04_is_accepted() {
    for v in 1..=4u8 {
        let mut b = DIAG;
        b[0] = v;
        b[1] = !v;
        assert_eq!(Message::parse(&b).unwrap().protocol_version.raw(), v);
    }
}

#[test]
fn an_empty_input_is_an_incomplete_header() {
    let e = Message::parse(&[]).unwrap_err();
    assert_eq!(e.rule, Rule::IncompleteHeader { available: 0 });
    assert_eq!(e.nack_code(), None);
}

#[test]
fn a_typed_parse_checks_the_length_of_its_payload() {
    let e = AliveCheckResponse::parse(&[1]).unwrap_err();
    assert_eq!(e.offset, 4);
    assert!(DiagnosticMessage::parse(&[0, 0, 0, 0]).is_err());
}
