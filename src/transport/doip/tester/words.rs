//! What the entity did, in words a report can show: an I/O error on its socket, and bytes that
//! are text rather than DoIP.

use std::io::ErrorKind;

/// What an I/O error on the entity's socket means, in its words: a reset, a close, or the
/// OS's text.
pub fn entity_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionReset => "the entity reset the connection (RST)".into(),
        ErrorKind::BrokenPipe => "the entity had closed the connection".into(),
        ErrorKind::ConnectionAborted => "the connection was aborted".into(),
        _ => e.to_string(),
    }
}

/// Whether a failed TCP connect means the entity accepted the connection and ended it at once
/// (an RST after the handshake gives ECONNRESET; a refusal, ECONNREFUSED).
pub fn accepted_then_ended(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
    )
}

/// Bytes that read as text (a web server or a shell on the port): their first line, quoted
/// and cut at 80 characters; `None` for binary.
pub fn as_text(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    // Text: at least 8 bytes, nearly all printable, starting with a letter (`HTTP/1.1`, `SSH-`).
    if head.len() < 8 || printable * 10 < head.len() * 9 || !head[0].is_ascii_alphabetic() {
        return None;
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let line: String = String::from_utf8_lossy(line).trim_end().chars().take(80).collect();
    Some(format!("{line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_recognised_by_its_first_line() {
        let http = b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n";
        assert_eq!(as_text(http).as_deref(), Some(r#""HTTP/1.1 400 Bad Request""#));
        assert_eq!(
            as_text(b"SSH-2.0-OpenSSH_9.2\r\n").as_deref(),
            Some(r#""SSH-2.0-OpenSSH_9.2""#)
        );
    }

    #[test]
    fn binary_and_short_input_are_not_text() {
        // A DoIP header with a wrong inverse version: binary.
        assert_eq!(as_text(&[0x02, 0xFE, 0x00, 0x06, 0, 0, 0, 7, 0x0E, 0x80]), None);
        assert_eq!(as_text(b"HTTP"), None);
        assert_eq!(as_text(b"\x00\x01HTTP/1.1 400 Bad Request"), None);
    }

    #[test]
    fn long_text_is_cut_at_80_characters() {
        let long = [b'a'; 300];
        assert_eq!(as_text(&long).map(|t| t.len()), Some(82));
    }

    #[test]
    fn resets_and_closes_are_told_in_the_entitys_words() {
        use std::io::Error;
        let reset = Error::from(ErrorKind::ConnectionReset);
        assert_eq!(entity_io_error(&reset), "the entity reset the connection (RST)");
        let pipe = Error::from(ErrorKind::BrokenPipe);
        assert_eq!(entity_io_error(&pipe), "the entity had closed the connection");
    }

    #[test]
    fn only_an_ending_after_the_handshake_counts_as_accepted() {
        use std::io::Error;
        assert!(accepted_then_ended(&Error::from(ErrorKind::ConnectionReset)));
        assert!(!accepted_then_ended(&Error::from(ErrorKind::ConnectionRefused)));
        assert!(!accepted_then_ended(&Error::from(ErrorKind::HostUnreachable)));
        assert!(!accepted_then_ended(&Error::from(ErrorKind::NetworkUnreachable)));
    }
}
