//! Reading a tester connection: whole frames out of any chunking, then the bytes of an
//! incomplete message, then the fate, then one bounded read (the order is the contract).

use super::record::{Change, Recording};
use super::words::{as_text, entity_io_error};
use super::{EntityFrame, Fate, READ_CHUNK, Read, Refused, Stream, TesterConnection};
use crate::codec::doip::{AliveCheckResponse, Deframed, Message, Payload};
use std::future::Future;
use std::task::Poll;
use tokio::io::AsyncReadExt;
use tokio::time::{Instant, timeout_at};

impl TesterConnection {
    /// The next frame, or what ended the wait, no later than `deadline`.
    pub async fn read<R: Recording>(
        &mut self,
        deadline: Instant,
        rec: &mut R,
    ) -> Result<Read, Refused> {
        self.next(Some(deadline), rec).await
    }

    /// The next frame among the bytes that have already arrived, without waiting.
    pub async fn read_ready<R: Recording>(&mut self, rec: &mut R) -> Result<Read, Refused> {
        self.next(None, rec).await
    }

    /// Whole frames already buffered first, then the bytes of an incomplete message the
    /// stream ended with, then the connection's fate, then one bounded read: the order is the
    /// contract, so it stays in one function. `None`: only what reads without waiting.
    async fn next<R: Recording>(
        &mut self,
        deadline: Option<Instant>,
        rec: &mut R,
    ) -> Result<Read, Refused> {
        loop {
            if let Some(r) = self.take_frame(rec).map_err(Refused::Recording)? {
                return Ok(Read::Frame(self.answered(r, rec).await?));
            }
            if let Some(r) = self.partial.take() {
                return Ok(Read::Frame(r));
            }
            match &self.fate {
                Fate::ClosedByEntity { at } => return Ok(Read::Closed { at: *at }),
                Fate::Reset { at, error } => {
                    return Ok(Read::Reset { at: *at, error: error.clone() });
                }
                Fate::ClosedByUs => return Err(Refused::ClosedByUs),
                Fate::Open => {}
            }
            // Into the buffer's spare room (at least a chunk): the deframer bounds what the
            // buffer holds (a header and at most MAX_RECEIVED_PAYLOAD), and nothing is zeroed or
            // copied on the way.
            let buf = &mut self.buf;
            buf.reserve(READ_CHUNK);
            let read = async {
                match &mut self.stream {
                    Stream::Tcp(s) => s.read_buf(buf).await,
                    Stream::Tls(s) => s.read_buf(buf).await,
                    #[cfg(test)]
                    Stream::Memory(s) => s.read_buf(buf).await,
                    Stream::Gone => Ok(0),
                }
            };
            let result = match deadline {
                // A peer that keeps the socket readable must not stretch the wait.
                Some(deadline) if Instant::now() >= deadline => return Ok(Read::Silent),
                Some(deadline) => timeout_at(deadline, read).await.ok(),
                // Polled once: what is readable now, or nothing. No timer: the timer wheel
                // rounds up to the next millisecond, a wait per call the fuzzer cannot pay.
                None => {
                    let mut read = std::pin::pin!(read);
                    std::future::poll_fn(|cx| match read.as_mut().poll(cx) {
                        Poll::Ready(r) => Poll::Ready(Some(r)),
                        Poll::Pending => Poll::Ready(None),
                    })
                    .await
                }
            };
            // The time the bytes were read: taken before anything else is done with them.
            let at = Instant::now();
            // TLS: the records under these bytes come before the frames they carry.
            self.hand_over_tls(rec);
            match result {
                None => return Ok(Read::Silent),
                Some(Ok(0)) => {
                    self.fate = Fate::ClosedByEntity { at };
                    self.flush_partial(at, rec).map_err(Refused::Recording)?;
                    rec.changed(&self.link, at, Change::ClosedByEntity);
                }
                Some(Ok(_)) => {
                    self.last_read_at = at;
                }
                Some(Err(e)) => {
                    self.fate = Fate::Reset { at, error: entity_io_error(&e) };
                    self.flush_partial(at, rec).map_err(Refused::Recording)?;
                    rec.changed(&self.link, at, Change::Reset);
                }
            }
        }
    }

    /// Answers `r` when it is an alive check request and the caller asked for it.
    async fn answered<R: Recording>(
        &mut self,
        mut r: EntityFrame,
        rec: &mut R,
    ) -> Result<EntityFrame, Refused> {
        let (Some(tester), Ok(request)) = (self.alive_check_answer, &r.message) else {
            return Ok(r);
        };
        if !matches!(request.payload, Payload::AliveCheckRequest) {
            return Ok(r);
        }
        let answer = Message::new(
            request.protocol_version,
            Payload::AliveCheckResponse(AliveCheckResponse { source_address: tester }),
        );
        let sent = R::describe(&answer);
        r.answer = Some(match self.write(&answer.to_bytes(), sent, rec).await {
            Ok(_) => Ok(()),
            Err(Refused::Recording(why)) => return Err(Refused::Recording(why)),
            Err(why) => Err(why.to_string()),
        });
        Ok(r)
    }

    /// A whole frame from the buffer, if one is there.
    fn take_frame<R: Recording>(&mut self, rec: &mut R) -> Result<Option<EntityFrame>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let at = self.last_read_at;
        if self.desynced {
            let bytes = std::mem::take(&mut self.buf);
            let error =
                "bytes after an undecodable header (the stream has no message boundary any more)"
                    .to_owned();
            return self.record(at, bytes, Err(error), rec).map(Some);
        }
        match self.deframer.next(&self.buf) {
            Deframed::Message { message, len } => {
                let message = message.into_owned();
                let bytes: Vec<u8> = self.buf.drain(..len).collect();
                self.record(at, bytes, Ok(message), rec).map(Some)
            }
            Deframed::NeedMore { .. } => Ok(None),
            Deframed::Skipped { len } => {
                self.buf.drain(..len);
                Ok(None)
            }
            Deframed::Rejected(rule) => {
                self.desynced = true;
                let bytes = std::mem::take(&mut self.buf);
                let why = match as_text(&bytes) {
                    Some(text) => format!("not DoIP: the target sent text {text}"),
                    None => rule.to_string(),
                };
                self.record(at, bytes, Err(why), rec).map(Some)
            }
        }
    }

    /// Bytes of an incomplete message when the stream ends.
    fn flush_partial<R: Recording>(&mut self, at: Instant, rec: &mut R) -> Result<(), String> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.buf);
        let error =
            format!("incomplete message: the stream ended after {} bytes of it", bytes.len());
        self.partial = Some(self.record(at, bytes, Err(error), rec)?);
        Ok(())
    }

    fn record<R: Recording>(
        &self,
        at: Instant,
        bytes: Vec<u8>,
        message: Result<Message<'static>, String>,
        rec: &mut R,
    ) -> Result<EntityFrame, String> {
        rec.received(&self.link, at, &bytes, &message)?;
        Ok(EntityFrame { at, bytes, message, answer: None })
    }
}
