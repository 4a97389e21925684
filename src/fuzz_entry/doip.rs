//! Fuzz oracles for the DoIP codec, shared by `fuzz/fuzz_targets/doip_*.rs`, the corpus replay
//! test and the property tests. Every function panics (= a finding) when an oracle fails.
//!
//! May import: `crate::codec`.

use crate::codec::doip::fields::{header_fields, payload_fields};
use crate::codec::doip::{
    Deframed, Deframer, Error, HEADER_LEN, Header, HeaderView, Message, Overrides,
};
use crate::codec::uds;

/// `doip_message`: parse one message; if it parses, emit gives the input back, the owned copy
/// is equal, the deframer finds the same message, and summary and fields render. If it does
/// not parse, the error points inside (or just past) the input.
pub fn doip_message(data: &[u8]) {
    match Message::parse(data) {
        Ok(message) => {
            assert_eq!(message.to_bytes(), data, "emit(parse(x)) != x for {message:?}");
            assert_eq!(message.len(), data.len());
            assert_eq!(message.header(), Header::parse(data, u32::MAX).unwrap());
            let owned = message.clone().into_owned();
            assert_eq!(owned, message);
            assert!(!message.to_string().is_empty());
            let _ = payload_fields(&message.payload);
            let mut deframer = Deframer::new(u32::MAX);
            match deframer.next(data) {
                Deframed::Message { message: found, len } => {
                    assert_eq!(len, data.len());
                    assert_eq!(found, message);
                }
                other => panic!("Message::parse accepted what the deframer gives as {other:?}"),
            }
            // A no-op override emits the same bytes; a broken inverse is always rejected.
            assert_eq!(Overrides::default().to_bytes(&message), data);
            let broken = message.malformed().inverse_protocol_version(data[0]).to_bytes();
            assert!(Message::parse(&broken).is_err());
            if let crate::codec::doip::Payload::DiagnosticMessage(diag) = &message.payload
                && let Ok(response) = uds::Response::parse(&diag.user_data)
            {
                assert!(!response.to_string().is_empty());
            }
        }
        Err(error) => {
            assert!(error.offset <= data.len().max(HEADER_LEN), "{error} beyond {data:?}");
            assert!(!error.to_string().is_empty());
            if let Ok(view) = HeaderView::new(data) {
                let _ = header_fields(&view);
                assert!(view.payload().len() <= data.len() - HEADER_LEN);
            }
        }
    }
}

/// What a receiver saw in a stream, for comparing chunkings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A message and its exact bytes.
    Message(Vec<u8>),
    /// A header rejection; the stream was closed after it when the error closes the socket.
    Rejected(Error),
}

/// Feeds `stream` to a [`Deframer`] with `max_payload_length`, in chunks whose sizes cycle
/// through `chunk_sizes` (0 counts as 1), like a TCP receiver that appends each read to a
/// buffer and consumes what it can. Rejections that keep the socket are discarded and skipped;
/// those that close it end the stream. Checks on the way: every message re-emits to its bytes,
/// `NeedMore` only comes when the buffer really lacks bytes, and the unconsumed buffer never
/// exceeds one header plus the limit plus one chunk (a lying length cannot make it grow).
/// Returns the events and the number of bytes consumed.
pub fn deframe_chunked(
    stream: &[u8],
    chunk_sizes: &[usize],
    max_payload_length: u32,
) -> (Vec<StreamEvent>, usize) {
    let mut deframer = Deframer::new(max_payload_length);
    let mut events = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut consumed_total = 0usize;
    let mut fed = 0usize;
    let mut chunk_index = 0usize;
    let max_chunk = chunk_sizes.iter().copied().max().unwrap_or(1).max(1);
    let bound = HEADER_LEN + max_payload_length as usize + max_chunk;
    while fed < stream.len() {
        let size = chunk_sizes.get(chunk_index % chunk_sizes.len().max(1)).copied().unwrap_or(1);
        chunk_index += 1;
        let end = (fed + size.max(1)).min(stream.len());
        buffer.extend_from_slice(&stream[fed..end]);
        fed = end;
        assert!(buffer.len() <= bound, "buffer {} exceeds {bound}", buffer.len());
        let mut pos = 0;
        loop {
            match deframer.next(&buffer[pos..]) {
                Deframed::Message { message, len } => {
                    let bytes = &buffer[pos..pos + len];
                    assert_eq!(message.to_bytes(), bytes, "re-emit differs");
                    events.push(StreamEvent::Message(bytes.to_vec()));
                    pos += len;
                }
                Deframed::Skipped { len } => {
                    assert!(len > 0 && len <= buffer.len() - pos);
                    pos += len;
                }
                Deframed::NeedMore { needed } => {
                    assert!(needed > 0);
                    break;
                }
                Deframed::Rejected(error) => {
                    events.push(StreamEvent::Rejected(error));
                    if error.closes_tcp_socket() {
                        return (events, consumed_total + pos);
                    }
                    assert!(deframer.discard().is_some());
                }
            }
        }
        buffer.drain(..pos);
        consumed_total += pos;
    }
    (events, consumed_total)
}

/// `doip_stream`: the first 5 bytes choose four chunk sizes and the limit (byte 4 x 64), the
/// rest is the stream. The deframer must find the same events under that chunking as with the
/// whole stream at once and as with a 1-byte drip.
pub fn doip_stream(data: &[u8]) {
    let Some((plan, stream)) = data.split_first_chunk::<5>() else { return };
    let chunks: Vec<usize> = plan[..4].iter().map(|&b| usize::from(b).max(1)).collect();
    let limit = u32::from(plan[4]) * 64;
    let whole = deframe_chunked(stream, &[stream.len().max(1)], limit);
    let chunked = deframe_chunked(stream, &chunks, limit);
    assert_eq!(chunked, whole, "chunking {chunks:?} changed what the deframer found");
    // A drip costs one call per byte: keep it for short inputs so a fuzz run stays fast.
    if stream.len() <= 4096 {
        assert_eq!(deframe_chunked(stream, &[1], limit), whole, "1-byte drip differs");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIAG: [u8; 15] =
        [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];

    #[test]
    fn message_oracle_accepts_valid_and_invalid_inputs() {
        doip_message(&DIAG);
        doip_message(&DIAG[..9]);
        doip_message(&[]);
    }

    #[test]
    fn stream_oracle_sees_two_messages_in_any_chunking() {
        let stream: Vec<u8> = DIAG.iter().chain(DIAG.iter()).copied().collect();
        let (events, consumed) = deframe_chunked(&stream, &[3, 7], 4096);
        assert_eq!(
            events,
            [StreamEvent::Message(DIAG.to_vec()), StreamEvent::Message(DIAG.to_vec())]
        );
        assert_eq!(consumed, 30);
        let mut data = vec![1, 2, 3, 4, 64];
        data.extend_from_slice(&stream);
        doip_stream(&data);
    }

    #[test]
    fn a_closing_rejection_ends_the_stream() {
        let mut stream = vec![0x02, 0x00, 0x00, 0x07, 0, 0, 0, 0];
        stream.extend_from_slice(&DIAG);
        let (events, consumed) = deframe_chunked(&stream, &[1], 4096);
        assert!(matches!(events.as_slice(), [StreamEvent::Rejected(_)]));
        assert_eq!(consumed, 0);
    }
}
