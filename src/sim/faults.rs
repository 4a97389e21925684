//! The fault catalogue: named switches, each breaking exactly one rule of ISO 13400-2 or
//! ISO 15765-2 (the CAN ECUs) so that every shipped test case can be shown to catch at least
//! one fault (docs/architecture.md#simulator-and-faults).
//!
//! A [`FaultSet`] is a small bitset; the entity asks `faults.has(Fault::X)` at the one place
//! where the rule is applied. `doipcheck sim --list-faults` prints [`Fault::ALL`] with
//! [`Fault::rule`].

use core::fmt;

macro_rules! faults {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal : $rule:literal ,)*) => {
        /// One named fault. The doc line of each says what the faulty entity does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $( $(#[$doc])* $variant, )*
        }

        impl Fault {
            /// Every fault, in catalogue order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The command-line name (`--fault NAME`).
            pub const fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// The rule this fault breaks, with its clause.
            pub const fn rule(self) -> &'static str {
                match self { $(Fault::$variant => $rule,)* }
            }
        }
    };
}

faults! {
    // Generic header handling (ISO 13400-2:2019 §8.1.2 / Table 19, order of
    // docs/protocol.md#header-handling).
    /// Answers a bad version / inverse version with NACK 0x01 instead of 0x00.
    WrongNackOnBadPattern = "wrong_nack_on_bad_pattern":
        "incorrect pattern (version unsupported or inverse != version XOR 0xFF) is NACKed with code 0x00 (ISO 13400-2:2019 Table 19)",
    /// Closes the socket on a bad pattern without sending NACK 0x00 first.
    NoNackOnBadPattern = "no_nack_on_bad_pattern":
        "incorrect pattern is answered with generic NACK 0x00 before the socket is closed (ISO 13400-2:2019 Table 19)",
    /// Sends NACK 0x00 on a bad pattern but keeps the TCP socket open.
    NoCloseOnBadPattern = "no_close_on_bad_pattern":
        "after NACK 0x00 (incorrect pattern) the entity closes the TCP socket (ISO 13400-2:2019 §8.1.2)",
    /// Accepts the default version 0xFF in a message other than a vehicle identification request.
    AcceptsDefaultVersionOnTcp = "accepts_default_version_on_tcp":
        "protocol version 0xFF is valid only in vehicle identification requests 0x0001-0x0003 (ISO 13400-2:2019 Table 16)",
    /// Silently discards a message with an unknown payload type.
    NoNackOnUnknownPayloadType = "no_nack_on_unknown_payload_type":
        "an unknown or unsupported payload type is NACKed with code 0x01 (ISO 13400-2:2019 Table 19)",
    /// NACKs an unknown payload type with 0x01 and then closes the socket.
    CloseOnUnknownPayloadType = "close_on_unknown_payload_type":
        "after NACK 0x01 (unknown payload type) the TCP socket stays open (ISO 13400-2:2019 §8.1.2)",
    /// Processes a message longer than its MDS instead of NACKing it with 0x02.
    MdsNotEnforced = "mds_not_enforced":
        "a message longer than the entity's max data size is NACKed with code 0x02 and discarded (ISO 13400-2:2019 Table 19)",
    /// NACKs a message longer than MDS with 0x04 (invalid length) instead of 0x02.
    WrongNackOnTooLarge = "wrong_nack_on_too_large":
        "a message longer than the max data size gets NACK code 0x02, not 0x04 (ISO 13400-2:2019 Table 19)",
    /// NACKs a message it cannot buffer now with 0x03 and then closes the socket.
    CloseOnOutOfMemory = "close_on_out_of_memory":
        "a message the entity cannot buffer now is NACKed with code 0x03 and skipped; the TCP socket stays open (ISO 13400-2:2019 Table 19)",
    /// NACKs a payload length that is wrong for its type with 0x01 instead of 0x04.
    WrongNackOnInvalidLength = "wrong_nack_on_invalid_length":
        "a payload length wrong for the payload type is NACKed with code 0x04 (ISO 13400-2:2019 Table 19)",
    /// NACKs an invalid payload length with 0x04 but keeps the TCP socket open.
    NoCloseOnInvalidLength = "no_close_on_invalid_length":
        "after NACK 0x04 (invalid payload length) the entity closes the TCP socket (ISO 13400-2:2019 §8.1.2)",
    /// Writes protocol version + 1 in replies.
    ReplyWrongVersion = "reply_wrong_version":
        "replies carry the protocol version the entity implements (ISO 13400-2:2019 §8.1.1)",
    /// Writes an inverse version that is not version XOR 0xFF in replies.
    ReplyWrongInverse = "reply_wrong_inverse":
        "the inverse protocol version of every reply is version XOR 0xFF (ISO 13400-2:2019 Table 16)",
    // Stream framing.
    /// Processes only the first DoIP message of each TCP segment.
    DropsSecondMessageInSegment = "drops_second_message_in_segment":
        "several DoIP messages in one TCP segment are each processed (TCP is a byte stream, ISO 13400-2:2019 §7.1)",
    /// Discards a header that arrives split across TCP segments.
    CannotReassembleSplitHeader = "cannot_reassemble_split_header":
        "a DoIP header split across TCP segments is reassembled (TCP is a byte stream, ISO 13400-2:2019 §7.1)",
    // Routing activation (ISO 13400-2:2019 §9.3, Table 25, Figure 10).
    /// Activates routing for a source address that is not a known tester.
    ActivationAcceptsUnknownSa = "activation_accepts_unknown_sa":
        "routing activation from an unknown source address is denied with code 0x00 (ISO 13400-2:2019 Table 25)",
    /// Denies an unknown source address with 0x00 but keeps the socket open.
    ActivationNoCloseOnUnknownSa = "activation_no_close_on_unknown_sa":
        "after routing activation response 0x00 the entity closes the socket (ISO 13400-2:2019 Table 25)",
    /// Activates an activation type it does not support.
    ActivationAcceptsUnsupportedType = "activation_accepts_unsupported_type":
        "an unsupported activation type is denied with code 0x06 and the socket closed (ISO 13400-2:2019 Table 25)",
    /// Activates a different source address on an already activated socket.
    ActivationAcceptsChangedSa = "activation_accepts_changed_sa":
        "a second activation with a different source address on an activated socket is denied with code 0x02 (ISO 13400-2:2019 Table 25)",
    /// Denies with 0x01 when all sockets are registered, without alive-checking them first.
    ActivationNoAliveCheckWhenFull = "activation_no_alive_check_when_full":
        "when all sockets are registered, the entity alive-checks them and reuses one that does not answer before denying with 0x01 (ISO 13400-2:2019 Figure 10)",
    /// Denies an SA active on another socket with 0x03 without alive-checking that socket.
    ActivationNoAliveCheckSameSa = "activation_no_alive_check_same_sa":
        "when the source address is active on another socket, the entity alive-checks that socket and denies with 0x03 only if it answers (ISO 13400-2:2019 Figure 10)",
    /// Activates on plain TCP an activation type that requires TLS.
    ActivationIgnoresTlsRequirement = "activation_ignores_tls_requirement":
        "an activation type that requires TLS is denied with code 0x07 on a plain TCP socket (ISO 13400-2:2019 Table 25)",
    /// Denies missing authentication with 0x04 and then closes the socket.
    ActivationCloseOnMissingAuth = "activation_close_on_missing_auth":
        "after routing activation response 0x04 (missing authentication) the socket stays open (ISO 13400-2:2019 Table 25)",
    /// Activates at once (0x10) an activation type that needs confirmation, without 0x11 first.
    ActivationSkipsConfirmation = "activation_skips_confirmation":
        "an activation type that needs confirmation is answered with code 0x11 (confirmation required) and the socket kept open, not activated at once (ISO 13400-2:2019 Table 25)",
    /// Denies with 0x05 (rejected confirmation) but keeps the socket open.
    ActivationNoCloseOnRejectedConfirmation = "activation_no_close_on_rejected_confirmation":
        "after routing activation response 0x05 (rejected confirmation) the entity closes the socket (ISO 13400-2:2019 Table 25)",
    // Alive check (ISO 13400-2:2019 §9.4).
    /// Treats an alive check response as if none had arrived.
    AliveCheckResponseIgnored = "alive_check_response_ignored":
        "a socket that answers the entity's alive check request within T_TCP_Alive_Check stays open (ISO 13400-2:2019 §9.4)",
    /// Does not answer a tester's alive check request.
    NoAliveCheckAnswer = "no_alive_check_answer":
        "an alive check request is answered with an alive check response (ISO 13400-2:2019 Table 27)",
    // Entity status and identification (ISO 13400-2:2019 §9.2, §9.5).
    /// Reports NCTS one higher than the sockets really open.
    NctsWrong = "ncts_wrong":
        "NCTS in the entity status response equals the number of TCP_DATA sockets currently open (ISO 13400-2:2019 Table 11)",
    /// Reports MCTS one higher than the configured maximum.
    MctsWrong = "mcts_wrong":
        "MCTS in the entity status response equals the sockets the entity really accepts (ISO 13400-2:2019 Table 11)",
    /// Omits MDS from the entity status response although it has one.
    MdsOmitted = "mds_omitted":
        "an entity with a max data size reports it in the entity status response (ISO 13400-2:2019 Table 11)",
    /// Answers a vehicle identification request with an EID that is not its own.
    AnswersMismatchedEid = "answers_mismatched_eid":
        "a vehicle identification request with an EID that does not match gets no response (ISO 13400-2:2019 §9.2)",
    /// Answers a vehicle identification request with a VIN that is not its own.
    AnswersMismatchedVin = "answers_mismatched_vin":
        "a vehicle identification request with a VIN that does not match gets no response (ISO 13400-2:2019 §9.2)",
    /// Does not answer a UDP request within A_Processing_Time.
    UdpAnswerLate = "udp_answer_late":
        "UDP requests are answered within A_Processing_Time (ISO 13400-2:2019 Table 39)",
    // Announcements (ISO 13400-2:2019 §9.2, Table 39).
    /// Sends one announcement fewer than A_DoIP_Announce_Num.
    AnnounceCountWrong = "announce_count_wrong":
        "the entity sends A_DoIP_Announce_Num vehicle announcements (ISO 13400-2:2019 Table 39)",
    /// Sends announcements half of A_DoIP_Announce_Interval apart.
    AnnounceIntervalWrong = "announce_interval_wrong":
        "vehicle announcements are A_DoIP_Announce_Interval apart (ISO 13400-2:2019 Table 39)",
    /// Sends the first announcement before A_DoIP_Announce_Wait has passed.
    AnnounceNoWait = "announce_no_wait":
        "the first vehicle announcement waits the random A_DoIP_Announce_Wait (ISO 13400-2:2019 Table 39)",
    // Diagnostic messages (ISO 13400-2:2019 §9.6).
    /// Sends the diagnostic ACK after A_DoIP_Diagnostic_Message.
    DiagAckLate = "diag_ack_late":
        "the diagnostic message ACK comes within A_DoIP_Diagnostic_Message (ISO 13400-2:2019 Table 39)",
    /// Sends no diagnostic ACK, only the UDS response.
    DiagAckMissing = "diag_ack_missing":
        "every routed diagnostic message is acknowledged with payload type 0x8002 (ISO 13400-2:2019 §9.6)",
    /// Swaps source and target address in the diagnostic ACK.
    DiagAckSwappedAddresses = "diag_ack_swapped_addresses":
        "the diagnostic ACK's source is the request's target and its target the tester (ISO 13400-2:2019 Table 28)",
    /// NACKs an unknown target address with 0x06 instead of 0x03.
    DiagWrongNackUnknownTa = "diag_wrong_nack_unknown_ta":
        "a diagnostic message to an unknown target address is NACKed with code 0x03 (ISO 13400-2:2019 Table 30)",
    /// Routes a diagnostic message whose source address is not the one activated on the socket.
    DiagAcceptsWrongSa = "diag_accepts_wrong_sa":
        "a diagnostic message whose source address is not activated on the socket is NACKed with code 0x02 (ISO 13400-2:2019 Table 30)",
    /// Routes a request larger than the target accepts instead of NACKing it with 0x04.
    DiagNoNackTooLarge = "diag_no_nack_too_large":
        "a diagnostic message larger than the target can take is NACKed with code 0x04 (ISO 13400-2:2019 Table 30)",
    /// Acknowledges a diagnostic message it cannot hold (its answer is lost) instead of NACK 0x05.
    DiagNoNackOutOfMemory = "diag_no_nack_out_of_memory":
        "a diagnostic message the entity cannot hold now is NACKed with code 0x05 (ISO 13400-2:2019 Table 30)",
    // TCP timers (ISO 13400-2:2019 Table 39).
    /// Never closes a socket that does not activate routing.
    InitialInactivityNever = "initial_inactivity_never":
        "a socket without routing activation is closed after T_TCP_Initial_Inactivity (ISO 13400-2:2019 Table 39)",
    /// Closes a socket without routing activation at half of T_TCP_Initial_Inactivity.
    InitialInactivityEarly = "initial_inactivity_early":
        "a socket without routing activation stays open for T_TCP_Initial_Inactivity (ISO 13400-2:2019 Table 39)",
    /// Never closes an idle activated socket.
    GeneralInactivityNever = "general_inactivity_never":
        "an activated socket idle for T_TCP_General_Inactivity is closed (ISO 13400-2:2019 Table 39)",
    /// Closes an idle activated socket at half of T_TCP_General_Inactivity.
    GeneralInactivityEarly = "general_inactivity_early":
        "an activated socket stays open until idle for T_TCP_General_Inactivity (ISO 13400-2:2019 Table 39)",
    /// Keeps a socket whose alive check went unanswered.
    AliveCheckTimeoutNever = "alive_check_timeout_never":
        "a socket that does not answer an alive check within T_TCP_Alive_Check is closed (ISO 13400-2:2019 §9.4)",
    /// Gives up on an alive check at half of T_TCP_Alive_Check.
    AliveCheckTimeoutEarly = "alive_check_timeout_early":
        "an alive check response arriving within T_TCP_Alive_Check keeps the socket (ISO 13400-2:2019 Table 39)",
    // Robustness: faults that take the entity or one of its CAN ECUs down, for proving the
    // fuzzer (docs/architecture.md "Simulator and faults").
    /// Stops answering on every socket (TCP and UDP) after a diagnostic message with more
    /// user data than `robustness.oversized_diag_user_data` (64 by default), until a power
    /// cycle.
    HangAfterOversizedDiag = "hang_after_oversized_diag":
        "a diagnostic message the entity cannot or will not route is NACKed and the entity keeps serving every socket (ISO 13400-2:2019 §9.6, Table 30)",
    /// Closes every socket and refuses new connections after a routing activation request
    /// with a reserved activation type (0x02-0xDF), until a power cycle.
    CrashOnReservedActivationType = "crash_on_reserved_activation_type":
        "a routing activation request with a reserved activation type is denied with code 0x06 and only its own socket closed; the entity keeps serving (ISO 13400-2:2019 Table 25)",
    /// NACKs a UDP datagram with a bad generic header, then answers nothing more on UDP
    /// (TCP keeps serving) until a power cycle: a discovery service that dies on one
    /// malformed datagram.
    UdpDiesOnBadHeader = "udp_dies_on_bad_header":
        "a UDP datagram with a bad generic header is NACKed and the entity goes on answering on UDP (ISO 13400-2:2019 §8.1.2, Table 39 A_Processing_Time)",
    /// The UDP service stops answering (TCP keeps serving) after a vehicle identification
    /// request with EID or VIN whose payload length is wrong, until a power cycle.
    UdpDiesOnBadIdentificationLength = "udp_dies_on_bad_identification_length":
        "a vehicle identification request with EID or VIN of the wrong payload length is answered with generic NACK 0x04 and the UDP service keeps serving (ISO 13400-2:2019 §8.1.2 Table 19, §9.2)",
    /// Closes every TCP socket and refuses new TCP connections (UDP keeps serving) after a
    /// routing activation request whose payload length is wrong, until a power cycle: a TCP
    /// service that dies on one malformed message.
    TcpDiesOnBadActivationLength = "tcp_dies_on_bad_activation_length":
        "a routing activation request of the wrong payload length is answered with generic NACK 0x04 and its socket closed; the entity keeps accepting and activating TCP connections (ISO 13400-2:2019 §8.1.2 Table 19, §9.3)",
    /// Never releases a connection whose generic header arrived split across TCP segments:
    /// it keeps counting against MCTS after it closed.
    LeakSocketOnSplitHeader = "leak_socket_on_split_header":
        "a closed TCP_DATA socket is released and no longer counts against MCTS, however its bytes arrived (ISO 13400-2:2019 §7.1, §9.3 Figure 10)",
    /// A CAN ECU sends nothing more at all (no FC, no answer, no frame of a transfer in
    /// progress) after a physical first frame announcing FF_DL above
    /// `robustness.isotp_hang_ff_dl` (2048 by default), until a power cycle.
    IsotpHangOnLargeFfDl = "isotp_hang_on_large_ff_dl":
        "a first frame is answered with FC CTS, or with FC OVFLW when its FF_DL exceeds the receiver's buffer, and the receiver keeps serving whatever FF_DL was announced (ISO 15765-2:2016 §9.6.3, §9.6.5.1)",
    // ISO-TP side of the simulated CAN ECUs (ISO 15765-2:2016).
    /// The ECU's sender takes an FC WAIT for CTS and goes on sending.
    IsotpIgnoresWait = "isotp_ignores_wait":
        "after FC WAIT the sender sends no CF until the next FC CTS (ISO 15765-2:2016 §9.6.5.1)",
    /// The ECU numbers its consecutive frames from 2 instead of 1.
    IsotpWrongSn = "isotp_wrong_sn":
        "consecutive frames carry SN 1, 2, ... 15, 0, 1, ... after the first frame (ISO 15765-2:2016 §9.6.4.3)",
    /// The ECU's sender sends consecutive frames back to back whatever STmin says.
    IsotpIgnoresStMin = "isotp_ignores_st_min":
        "the sender leaves at least STmin between consecutive frames (ISO 15765-2:2016 §9.6.5.5)",
    /// The ECU's sender takes a reserved STmin as 0 instead of 127 ms.
    IsotpReservedStMinNot127ms = "isotp_reserved_st_min_not_127ms":
        "a reserved STmin (0x80-0xF0, 0xFA-0xFF) makes the sender use 127 ms (ISO 15765-2:2016 §9.6.5.5)",
    /// The ECU stays silent on a first frame larger than its buffer instead of sending FC OVFLW.
    IsotpNoFcOverflow = "isotp_no_fc_overflow":
        "a first frame with FF_DL above the receiver's buffer is answered with FC OVFLW (ISO 15765-2:2016 §9.6.5.1)",
    /// The ECU's sender sends every consecutive frame without waiting for the FC after a block.
    IsotpBlockSizeIgnored = "isotp_block_size_ignored":
        "the sender waits for the next FC after BS consecutive frames (ISO 15765-2:2016 §9.6.5.3)",
    /// The ECU's FC CTS announces an STmin one above the one it is configured with.
    IsotpFcWrongStMin = "isotp_fc_wrong_st_min":
        "the receiver's FC CTS carries the STmin it declares (ISO 15765-2:2016 §9.6.5.4)",
    /// The ECU takes one byte fewer than SF_DL from a single frame.
    IsotpSfDlShort = "isotp_sf_dl_short":
        "a single frame delivers exactly SF_DL bytes (ISO 15765-2:2016 §9.6.2.1)",
    /// The ECU takes a classic single frame with SF_DL 0, above 7 or escaped as 7 bytes.
    IsotpAcceptsInvalidSfDl = "isotp_accepts_invalid_sf_dl":
        "a classic single frame with SF_DL 0, SF_DL above 7 or the escape (00 LL) is ignored (ISO 15765-2:2016 §9.6.2.1, §9.8.1)",
    /// The ECU takes a first frame with FF_DL 1-7 as FF_DL 8.
    IsotpAcceptsShortFfDl = "isotp_accepts_short_ff_dl":
        "a first frame with FF_DL below 8 is ignored (ISO 15765-2:2016 §9.6.3.2)",
    /// The ECU takes an escaped first frame whose FF_DL fits 12 bits.
    IsotpAcceptsEscapedSmallFfDl = "isotp_accepts_escaped_small_ff_dl":
        "an escaped first frame (32-bit FF_DL) with FF_DL up to 4095 is ignored (ISO 15765-2:2016 §9.6.3.1)",
    /// The ECU ignores a first frame with FF_DL 8 (an off-by-one minimum).
    IsotpIgnoresSmallestFf = "isotp_ignores_smallest_ff":
        "a first frame with FF_DL 8, the smallest legal one, is received (ISO 15765-2:2016 §9.6.3.2)",
    /// The ECU's receiver takes any sequence number as the expected one.
    IsotpAcceptsWrongSn = "isotp_accepts_wrong_sn":
        "a consecutive frame with an unexpected SN aborts the reception (N_WRONG_SN, ISO 15765-2:2016 §9.6.4.3)",
    /// The ECU's receiver expects SN 1 after SN 0xF (skips 0).
    IsotpSnWrapsTo1 = "isotp_sn_wraps_to_1":
        "after SN 0xF the receiver takes SN 0 (ISO 15765-2:2016 §9.6.4.3)",
    /// The ECU's receiver waits for the next CF without end.
    IsotpNCrNever = "isotp_n_cr_never":
        "the receiver abandons a reception when no CF comes within N_Cr (N_TIMEOUT_Cr, ISO 15765-2:2016 §9.7)",
    /// The ECU's receiver gives up at half of N_Cr.
    IsotpNCrEarly = "isotp_n_cr_early":
        "the receiver waits N_Cr for the next consecutive frame (ISO 15765-2:2016 §9.7)",
    /// The ECU drops a single or first frame that arrives during a reception.
    IsotpIgnoresUnexpectedPdu = "isotp_ignores_unexpected_pdu":
        "an SF or FF during a reception ends it and is processed as a new message (N_UNEXP_PDU, ISO 15765-2:2016 §9.8.3)",
    /// After a CF or FC nobody waits for, the ECU drops the next message.
    IsotpUnexpectedFrameBlocks = "isotp_unexpected_frame_blocks":
        "a CF or FC nobody waits for is ignored and changes nothing (ISO 15765-2:2016 §9.8.3)",
    /// A frame with a reserved N_PCI type ends the ECU's reception in progress.
    IsotpReservedPciAborts = "isotp_reserved_pci_aborts":
        "a frame with a reserved N_PCI type is ignored and does not end a reception (ISO 15765-2:2016 §9.6.1)",
    /// The ECU pads its single frames and flow controls with another byte than configured.
    IsotpWrongPadding = "isotp_wrong_padding":
        "classic frames are padded with the configured padding byte (ISO 15765-2:2016 §10.4.2.1)",
    /// The ECU ignores frames on its functional request id.
    IsotpIgnoresFunctional = "isotp_ignores_functional":
        "a single frame on the functional request id is received (ISO 15765-2:2016 §10.3.1)",
    /// The ECU takes a first frame on its functional id as a physical one.
    IsotpAcceptsFunctionalFf = "isotp_accepts_functional_ff":
        "a first frame on the functional request id is ignored: functional addressing is single-frame only (ISO 15765-2:2016 §10.3.1)",
    /// The ECU's sender takes STmin 0xF1-0xF9 as reserved (127 ms).
    IsotpStMinMicrosAsReserved = "isotp_st_min_us_as_reserved":
        "STmin 0xF1-0xF9 means 100-900 us, not a reserved value (ISO 15765-2:2016 §9.6.5.4)",
    /// The ECU's sender takes FC OVFLW for CTS.
    IsotpIgnoresOverflow = "isotp_ignores_overflow":
        "FC OVFLW aborts the transmission (N_BUFFER_OVFLW, ISO 15765-2:2016 §9.6.5.2)",
    /// The ECU's sender takes an FC with a reserved flow status for CTS.
    IsotpReservedFsAsCts = "isotp_reserved_fs_as_cts":
        "an FC with a reserved flow status aborts the transmission (N_INVALID_FS, ISO 15765-2:2016 §9.6.5.2)",
    /// The ECU's sender waits for a flow control without end.
    IsotpNBsNever = "isotp_n_bs_never":
        "the sender gives up when no FC comes within N_Bs (N_TIMEOUT_Bs, ISO 15765-2:2016 §9.7)",
    /// The ECU's sender gives up at half of N_Bs.
    IsotpNBsEarly = "isotp_n_bs_early":
        "the sender waits N_Bs for a flow control (ISO 15765-2:2016 §9.7)",
    /// The ECU's sender ignores every FC CTS after the first of a message.
    IsotpNoResumeAfterBlock = "isotp_no_resume_after_block":
        "after a block of BS consecutive frames the next FC CTS resumes the transmission (ISO 15765-2:2016 §9.6.5.3)",
    /// The ECU's stack waits for its transmit confirmations without end (N_As / N_Ar never expire).
    IsotpNANever = "isotp_n_a_never":
        "a sender whose frame is not confirmed within N_As, and a receiver whose FC is not confirmed within N_Ar, end the transfer with N_TIMEOUT_A (ISO 15765-2:2016 §9.7)",
    /// A busy ECU's receiver gives up one FC WAIT before N_WFTmax (ends with N_WFT_OVRN early).
    IsotpNWftMaxOffByOne = "isotp_n_wft_max_off_by_one":
        "a receiver may send N_WFTmax FC WAITs in a row before its CTS (ISO 15765-2:2016 §9.6.5.1)",
    /// A busy ECU's receiver sends as many FC WAITs as it likes instead of stopping at N_WFTmax.
    IsotpExceedsNWftMax = "isotp_exceeds_n_wft_max":
        "a receiver that would need more than N_WFTmax FC WAITs ends the reception with N_WFT_OVRN and sends no further FC (ISO 15765-2:2016 §9.6.5.1)",
    // Addressing formats and CAN FD (ISO 15765-2:2016 §10.3, §9.6.2.1).
    /// The ECU takes frames on its id whose address byte names another node.
    IsotpIgnoresAddressByte = "isotp_ignores_address_byte":
        "a frame whose address byte (N_TA with extended, N_AE with mixed addressing) is not the receiver's is for another node and ignored (ISO 15765-2:2016 §10.3)",
    /// The ECU sends its frames without the address byte (laid out as with normal addressing).
    IsotpReplyWithoutAddressByte = "isotp_reply_without_address_byte":
        "with extended or mixed addressing every frame starts with the address byte, the N_PCI after it (ISO 15765-2:2016 §10.3)",
    /// With extended addressing the ECU's frames start with its own address, not the tester's.
    IsotpReplyToOwnAddress = "isotp_reply_to_own_address":
        "with extended addressing a frame starts with the N_TA of its receiver: the tester's address in the ECU's frames (ISO 15765-2:2016 §10.3)",
    /// With normal fixed addressing the ECU answers on the request's id, TA and SA not swapped.
    IsotpFixedReplyNotSwapped = "isotp_fixed_reply_not_swapped":
        "with normal fixed addressing the ECU's frames go on 0x18DA<TA><SA> with the tester as TA and itself as SA (ISO 15765-2:2016 §10.3)",
    /// A CAN FD ECU sends with TX_DL 8: FD frames of at most 8 bytes.
    IsotpFdTxDl8 = "isotp_fd_tx_dl_8":
        "a CAN FD sender with TX_DL 64 sends a message of up to 62 bytes as one escaped single frame and longer ones in FF / CFs of CAN_DL 64 (ISO 15765-2:2016 §9.6.2.1, Table 10)",
    /// A CAN FD ECU ignores escaped single frames (`00 SF_DL`).
    IsotpFdIgnoresSfEscape = "isotp_fd_ignores_sf_escape":
        "a CAN FD single frame with the SF_DL escape (00 SF_DL) carries up to 62 bytes and is valid (ISO 15765-2:2016 §9.6.2.1, Table 10)",
    // The gateway's CAN side (ISO 13400-2:2019 §9.6, Table 30).
    /// NACKs an undeliverable request (no FC from the ECU) with 0x08 instead of 0x06.
    DiagWrongNackUnreachable = "diag_wrong_nack_unreachable":
        "a request the gateway cannot deliver because the ECU does not answer (no flow control within N_Bs) is NACKed with code 0x06 (ISO 13400-2:2019 Table 30)",
    /// NACKs an ISO-TP failure towards the ECU with 0x06 instead of 0x08.
    DiagWrongNackTransportError = "diag_wrong_nack_transport_error":
        "a request whose ISO-TP transfer to the ECU fails (e.g. FC OVFLW) is NACKed with code 0x08 (ISO 13400-2:2019 Table 30)",
}

impl Fault {
    /// The fault called `name`, if any.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown fault name, with the list of known ones for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown simulator fault `{0}` (see `doipcheck sim --list-faults`)")]
pub struct UnknownFault(pub String);

/// A set of active faults (empty = the conformant entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultSet(u128);

impl FaultSet {
    pub const NONE: FaultSet = FaultSet(0);

    pub fn has(self, fault: Fault) -> bool {
        self.0 & (1u128 << fault as u32) != 0
    }

    pub fn insert(&mut self, fault: Fault) {
        self.0 |= 1u128 << fault as u32;
    }

    pub fn with(mut self, fault: Fault) -> Self {
        self.insert(fault);
        self
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.iter().copied().filter(move |f| self.has(*f))
    }

    /// Parses fault names (as given to `--fault` / `--sim-fault`).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<FaultSet, UnknownFault> {
        let mut set = FaultSet::NONE;
        for name in names {
            let name = name.as_ref();
            set.insert(Fault::from_name(name).ok_or_else(|| UnknownFault(name.to_string()))?);
        }
        Ok(set)
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        let mut set = FaultSet::NONE;
        for f in iter {
            set.insert(f);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_round_trip() {
        assert!(Fault::ALL.len() >= 25, "the catalogue promises at least 25 faults");
        assert!(Fault::ALL.len() <= 128, "FaultSet is a u128");
        let mut names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        for f in Fault::ALL {
            assert!(
                f.name().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{f}"
            );
            assert_eq!(Fault::from_name(f.name()), Some(*f));
            assert!(f.rule().contains("ISO"), "{f} must cite its clause");
        }
    }

    #[test]
    fn a_set_holds_exactly_what_was_inserted() {
        let set = FaultSet::from_names(&["ncts_wrong", "diag_ack_late"]).unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![Fault::NctsWrong, Fault::DiagAckLate]);
        assert!(!set.has(Fault::MctsWrong));
        assert_eq!(
            FaultSet::from_names(&["nope"]).unwrap_err().to_string(),
            "unknown simulator fault `nope` (see `doipcheck sim --list-faults`)"
        );
    }
}
