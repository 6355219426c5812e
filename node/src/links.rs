//! Links: byte streams the application hands over (a Bluetooth L2CAP
//! channel, a Unix socketpair in tests). Datagrams to and from
//! [`Remote::Link`](streamrelay::peer::Remote::Link) travel on them as the
//! core's frames ([`streamrelay::link::framing`], `docs/link-framing.md`).
//!
//! Two shapes, because platforms hand out channels two ways:
//!
//! * **A file descriptor** ([`Node::add_link`](crate::Node::add_link)):
//!   the Node owns it, polls it with its own poller (non-blocking, read and
//!   write readiness), and closes it on [`remove_link`](crate::Node::remove_link),
//!   at end of stream or on an error.
//! * **Pushed bytes** ([`Node::add_link_writer`](crate::Node::add_link_writer)):
//!   for channels that are input/output streams (`CBL2CAPChannel` on Apple,
//!   `BluetoothSocket` on Android). The application reads the input stream
//!   and hands the bytes to [`Node::link_input`](crate::Node::link_input);
//!   the Node writes frames through the application's [`LinkWriter`].
//!
//! Outbound, each link has a bounded queue of framed bytes
//! ([`NodeBuilder::link_queue_bytes`](crate::NodeBuilder::link_queue_bytes));
//! a datagram that does not fit is dropped and counted
//! ([`LinkStatus::frames_dropped`]), as a full UDP socket buffer drops it.

use std::io::{ErrorKind, Read, Write};

use streamrelay::link::framing::{
    encode_frame_vec, DecoderCounters, FrameDecoder, FramingConfig, OVERHEAD,
};

/// A link's number: the `n` of `Remote::Link(n)` in the Peer's table and
/// events. Never reused by one Node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u64);

/// Where the Node writes a pushed link's frames (see
/// [`Node::add_link_writer`](crate::Node::add_link_writer)).
///
/// `write` runs on the Node's loop thread (or the thread of a Node call)
/// with the Node locked: it must not call the Node, and it should not
/// block for long. It returns how many bytes the stream took; the rest stay
/// queued and are offered again at the next turn of the loop, or at once
/// after [`Node::link_writable`](crate::Node::link_writable) (call it when
/// the platform says the stream has space again).
///
/// ```
/// use std::sync::mpsc;
/// use streamrelay_node::LinkWriter;
/// struct ToChannel(mpsc::Sender<Vec<u8>>);
/// impl LinkWriter for ToChannel {
///     fn write(&mut self, bytes: &[u8]) -> usize {
///         match self.0.send(bytes.to_vec()) {
///             Ok(()) => bytes.len(),
///             Err(_) => 0, // the other side is gone: keep them queued
///         }
///     }
/// }
/// ```
pub trait LinkWriter: Send {
    /// Write a prefix of `bytes`; return its length (0 to `bytes.len()`).
    fn write(&mut self, bytes: &[u8]) -> usize;
}

/// How a link reaches the Node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkKind {
    /// A file descriptor the Node polls.
    Fd,
    /// Bytes pushed by the application, written through a [`LinkWriter`].
    Pushed,
}

/// One link's counters, in [`Status::links`](crate::Status::links).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkStatus {
    /// Its number.
    pub id: LinkId,
    /// Fd or pushed.
    pub kind: LinkKind,
    /// Bytes read from the stream (or pushed) and taken by the decoder.
    pub bytes_in: u64,
    /// Good frames (datagrams) handed to the Peer.
    pub frames_in: u64,
    /// Bytes written to the stream.
    pub bytes_out: u64,
    /// Frames queued for the stream.
    pub frames_out: u64,
    /// Frames dropped because the outbound queue was full.
    pub frames_dropped: u64,
    /// Datagrams longer than the link's `max_frame`, not sent.
    pub frames_too_large: u64,
    /// Bytes waiting in the outbound queue.
    pub queued_bytes: usize,
    /// The decoder's counts: skipped (garbage) bytes, bad headers, frames
    /// too large, bad checksums.
    pub decoder: DecoderCounters,
}

pub(crate) enum Io {
    Fd(mio::net::UnixStream),
    Pushed(Box<dyn LinkWriter>),
}

/// What became of a link after reading or writing.
#[derive(Debug)]
pub(crate) enum Health {
    Open,
    Closed(String),
}

pub(crate) struct Link {
    pub(crate) io: Io,
    config: FramingConfig,
    pub(crate) decoder: FrameDecoder,
    out: Vec<u8>,
    head: usize,
    queue_cap: usize,
    bytes_out: u64,
    frames_out: u64,
    frames_dropped: u64,
    frames_too_large: u64,
}

impl Link {
    pub(crate) fn new(io: Io, config: FramingConfig, queue_cap: usize) -> Link {
        Link {
            io,
            config,
            decoder: FrameDecoder::new(config),
            out: Vec::new(),
            head: 0,
            queue_cap: queue_cap.max(config.max_frame + OVERHEAD),
            bytes_out: 0,
            frames_out: 0,
            frames_dropped: 0,
            frames_too_large: 0,
        }
    }

    pub(crate) fn status(&self, id: u64) -> LinkStatus {
        LinkStatus {
            id: LinkId(id),
            kind: match self.io {
                Io::Fd(_) => LinkKind::Fd,
                Io::Pushed(_) => LinkKind::Pushed,
            },
            bytes_in: self.decoder.counters().bytes_in,
            frames_in: self.decoder.counters().frames_in,
            bytes_out: self.bytes_out,
            frames_out: self.frames_out,
            frames_dropped: self.frames_dropped,
            frames_too_large: self.frames_too_large,
            queued_bytes: self.out.len() - self.head,
            decoder: self.decoder.counters(),
        }
    }

    /// Frame `datagram` into the outbound queue (or drop and count it).
    pub(crate) fn enqueue(&mut self, datagram: &[u8]) {
        if datagram.is_empty() || datagram.len() > self.config.max_frame {
            self.frames_too_large += 1;
            return;
        }
        if self.out.len() - self.head + datagram.len() + OVERHEAD > self.queue_cap {
            self.frames_dropped += 1;
            return;
        }
        if self.head > 0 && self.head * 2 >= self.out.len() {
            self.out.drain(..self.head);
            self.head = 0;
        }
        match encode_frame_vec(&self.config, datagram, &mut self.out) {
            Ok(_) => self.frames_out += 1,
            Err(_) => self.frames_too_large += 1,
        }
    }

    /// Write what the stream takes now.
    pub(crate) fn write_out(&mut self) -> Health {
        while self.head < self.out.len() {
            let pending = &self.out[self.head..];
            let n = match &mut self.io {
                Io::Pushed(w) => w.write(pending).min(pending.len()),
                Io::Fd(s) => match s.write(pending) {
                    Ok(0) => return Health::Closed("stream wrote 0 bytes".into()),
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Health::Closed(e.to_string()),
                },
            };
            if n == 0 {
                break;
            }
            self.head += n;
            self.bytes_out += n as u64;
        }
        if self.head == self.out.len() {
            self.out.clear();
            self.head = 0;
        }
        Health::Open
    }

    /// Read one chunk from an fd link into `buf`: `Ok(Some(n))` bytes,
    /// `Ok(None)` nothing more for now.
    pub(crate) fn read_chunk(&mut self, buf: &mut [u8]) -> Result<Option<usize>, String> {
        let Io::Fd(s) = &mut self.io else {
            return Ok(None);
        };
        loop {
            return match s.read(buf) {
                Ok(0) => Err("end of stream".into()),
                Ok(n) => Ok(Some(n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => Err(e.to_string()),
            };
        }
    }
}
