//! The Node's status as every face shows it: C as JSON text
//! (`sr_node_status_json`), Swift and Kotlin as records (`Node.status()`).
//!
//! One fact in one place: each record's fields are listed once, in the
//! `records!` table below; the macro makes the struct (a UniFFI record when
//! the bindings are built) and its JSON writer from that list, and
//! `NodeStatus::of` is the one conversion from the node crate's `Status`.

use std::fmt::Write as _;

use streamrelay::peer::RemotePeer;
use streamrelay_node::{LinkKind, LinkStatus, Node};

/// A value that writes itself as JSON.
pub(crate) trait Json {
    fn write_json(&self, out: &mut String);
}

impl Json for u64 {
    fn write_json(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Json for u32 {
    fn write_json(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Json for u8 {
    fn write_json(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Json for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Json for String {
    fn write_json(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

impl<T: Json> Json for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: Json> Json for Vec<T> {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.write_json(out);
        }
        out.push(']');
    }
}

/// Declares each record once: the struct and its JSON object writer (keys
/// are the field names).
macro_rules! records {
    ($(
        $(#[doc = $sdoc:literal])*
        struct $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $ty:ty, )*
        }
    )*) => {$(
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[cfg_attr(feature = "bindings", derive(uniffi::Record))]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
        }

        impl Json for $name {
            fn write_json(&self, out: &mut String) {
                out.push('{');
                let mut first = true;
                $(
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    String::from(stringify!($field)).write_json(out);
                    out.push(':');
                    self.$field.write_json(out);
                )*
                let _ = first;
                out.push('}');
            }
        }
    )*};
}

records! {
    /// A snapshot of a Node's state and counters (what a diagnostics
    /// screen or a log line shows).
    struct NodeStatus {
        /// Our peer id (hex).
        peer_id: String,
        /// Our NAT type (`NAT_*` / `SR_NAT_TYPE_*`), once known.
        nat: Option<u8>,
        /// Our public endpoint ("ip:port") as the introducers see it, once
        /// known.
        public_endpoint: Option<String>,
        /// Where the main socket is bound ("ip:port").
        local: String,
        /// Where the probe socket is bound ("ip:port").
        probe: String,
        /// Open hard-NAT pool sockets.
        pool_sockets: u64,
        /// The peer table.
        peers: Vec<NodePeer>,
        /// Datagrams received on all sockets.
        datagrams_in: u64,
        /// Bytes received on all sockets.
        bytes_in: u64,
        /// Datagrams handed to the OS.
        datagrams_out: u64,
        /// Bytes handed to the OS.
        bytes_out: u64,
        /// Wake-ups of the loop thread.
        wakeups: u64,
        /// What the Node dropped on its side of the Peer, by cause (every
        /// cause, zero or not).
        node_drops: Vec<NodeDropCount>,
        /// What the Peer dropped, by cause (non-zero counts only).
        peer_drops: Vec<NodeDropCount>,
        /// Events dropped because the application's queue was full.
        events_dropped: u64,
        /// Events waiting to be read.
        events_queued: u64,
        /// State-file writes that succeeded.
        state_saves: u64,
        /// Messages we published.
        published: u64,
        /// Messages delivered to us.
        delivered: u64,
        /// Packets we relayed for others.
        relayed: u64,
        /// Why the state file was not restored at start (the node then
        /// started fresh and will overwrite it).
        restore_error: Option<String>,
        /// The open links (Bluetooth channels and other byte streams).
        links: Vec<NodeLink>,
        /// Links closed so far.
        links_closed: u64,
    }

    /// One open link and its counters.
    struct NodeLink {
        /// Its number (`Remote::Link(id)`).
        id: u64,
        /// "fd" (the node polls a file descriptor) or "pushed" (the
        /// application pushes bytes and writes what the node gives it).
        kind: String,
        /// Bytes read from the stream (or pushed).
        bytes_in: u64,
        /// Good frames handed to the Peer.
        frames_in: u64,
        /// Bytes written to the stream.
        bytes_out: u64,
        /// Frames queued for the stream.
        frames_out: u64,
        /// Frames dropped because the outbound queue was full.
        frames_dropped: u64,
        /// Datagrams longer than the frame limit, not sent.
        frames_too_large: u64,
        /// Bytes waiting in the outbound queue.
        queued_bytes: u64,
        /// Bytes received that were not part of a good frame.
        skipped_bytes: u64,
        /// Sync markers with a bad header.
        bad_header: u64,
        /// Headers announcing more than the frame limit.
        too_large: u64,
        /// Frames whose checksum failed.
        bad_checksum: u64,
    }

    /// One entry of a Node's peer table.
    struct NodePeer {
        /// Its peer id (hex).
        peer_id: String,
        /// Where it was last seen ("ip:port", or a link).
        address: String,
        /// Its NAT type, if known.
        nat: Option<u8>,
        /// It counts as connected.
        connected: bool,
        /// It is an introducer.
        indexed: bool,
        /// The introducer that relays for it (hex), when there is no direct
        /// path.
        proxy: Option<String>,
        /// Smoothed round-trip time, once measured.
        rtt_ms: Option<u32>,
    }

    /// A drop counter: its cause and count.
    struct NodeDropCount {
        /// The cause (the Node's field name, or the Peer's `DropReason`).
        reason: String,
        /// How many.
        count: u64,
    }
}

impl NodePeer {
    fn of(p: &RemotePeer) -> Self {
        NodePeer {
            peer_id: p.peer_id.to_hex(),
            address: p.remote.to_string(),
            nat: p.nat.map(|n| n.0),
            connected: p.connected,
            indexed: p.indexed,
            proxy: p.proxy.as_ref().map(|x| x.to_hex()),
            rtt_ms: p.rtt_ms,
        }
    }
}

impl NodeLink {
    fn of(l: &LinkStatus) -> Self {
        let d = &l.decoder;
        NodeLink {
            id: l.id.0,
            kind: match l.kind {
                LinkKind::Fd => "fd",
                _ => "pushed",
            }
            .into(),
            bytes_in: l.bytes_in,
            frames_in: l.frames_in,
            bytes_out: l.bytes_out,
            frames_out: l.frames_out,
            frames_dropped: l.frames_dropped,
            frames_too_large: l.frames_too_large,
            queued_bytes: l.queued_bytes as u64,
            skipped_bytes: d.skipped_bytes,
            bad_header: d.bad_header,
            too_large: d.too_large,
            bad_checksum: d.bad_checksum,
        }
    }
}

fn count(reason: impl Into<String>, count: u64) -> NodeDropCount {
    NodeDropCount {
        reason: reason.into(),
        count,
    }
}

impl NodeStatus {
    /// The status of `node` now.
    pub(crate) fn of(node: &Node) -> Self {
        let s = node.status();
        let d = &s.node_drops;
        NodeStatus {
            peer_id: s.peer_id.to_hex(),
            nat: s.nat.map(|n| n.0),
            public_endpoint: s.public_endpoint.map(|a| a.to_string()),
            local: s.local.to_string(),
            probe: s.probe.to_string(),
            pool_sockets: s.pool_sockets as u64,
            peers: s.peers.iter().map(NodePeer::of).collect(),
            datagrams_in: s.datagrams_in,
            bytes_in: s.bytes_in,
            datagrams_out: s.datagrams_out,
            bytes_out: s.bytes_out,
            wakeups: s.wakeups,
            node_drops: vec![
                count("send_failed", d.send_failed),
                count("send_would_block", d.send_would_block),
                count("no_socket", d.no_socket),
                count("recv_failed", d.recv_failed),
            ],
            peer_drops: s
                .peer_drops()
                .into_iter()
                .map(|(r, n)| count(format!("{r:?}"), n))
                .collect(),
            events_dropped: s.events_dropped,
            events_queued: s.events_queued as u64,
            state_saves: s.state_saves,
            published: s.metrics.published,
            delivered: s.metrics.delivered,
            relayed: s.metrics.relayed,
            restore_error: node.restore_error().map(str::to_string),
            links: s.links.iter().map(NodeLink::of).collect(),
            links_closed: s.links_closed,
        }
    }

    /// The status as one JSON object.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::with_capacity(512 + 160 * self.peers.len());
        self.write_json(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_nests() {
        let s = NodeDropCount {
            reason: "a\"b\\c\n".into(),
            count: 3,
        };
        let mut out = String::new();
        vec![Some(s), None].write_json(&mut out);
        assert_eq!(out, r#"[{"reason":"a\"b\\c\u000a","count":3},null]"#);
    }
}
