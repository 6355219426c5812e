//! The two checksums of the link formats, table-driven, `const` tables.
//!
//! * [`crc32`]: CRC-32/ISO-HDLC, the CRC of zlib, PNG and Ethernet
//!   (reflected polynomial `0xEDB88320`, init and final XOR `0xFFFFFFFF`);
//!   check value of `"123456789"` is `0xCBF43926`.
//! * [`crc8`]: CRC-8/SMBUS (polynomial `0x07`, init `0`, no reflection, no
//!   final XOR); check value of `"123456789"` is `0xF4`.
//!
//! ```
//! use streamrelay::link::crc::{crc32, crc8};
//! assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
//! assert_eq!(crc8(b"123456789"), 0xF4);
//! ```

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

const CRC8_TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32/ISO-HDLC (zlib's `crc32`) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c = CRC32_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// CRC-8/SMBUS of `bytes`.
pub fn crc8(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c = CRC8_TABLE[(c ^ b) as usize];
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc8(b""), 0);
    }
}
