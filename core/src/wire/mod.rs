//! The v6 wire format: the packet frame ([`packet`]), the control-message
//! rules ([`message`]) and JavaScript-compatible JSON ([`json`]).

pub mod control;
pub mod json;
pub mod message;
pub mod packet;

pub use message::MessageError;
pub use packet::{
    compute_packet_id, DecodeError, EncodeError, Field, Packet, PacketId, PacketRef, PacketType,
};
