//! The state file: the Node's identity and the Peer's snapshot, written
//! atomically.
//!
//! Format: `b"SRNODE"`, version 1, the peer id (32 bytes), a flag byte (1:
//! an Ed25519 signing-key seed of 32 bytes follows), then the bytes of
//! [`Peer::snapshot`](streamrelay::peer::Peer::snapshot) to the end. A file
//! that starts with the Peer's own magic (`SRPEER`, what `streamrelay peer
//! --state` wrote before the Node) is read as a bare snapshot.
//!
//! **It holds secret keys** (the signing key and the subclusters' shared
//! keys): it is created with mode 0600 on Unix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use streamrelay::peer::PeerId;

const MAGIC: &[u8; 6] = b"SRNODE";
const VERSION: u8 = 1;
const PEER_MAGIC: &[u8; 6] = b"SRPEER";
/// A state file larger than this is refused unread (the Peer's limits keep
/// real snapshots far below it).
pub(crate) const MAX_STATE_BYTES: u64 = 256 << 20;

/// What a state file holds.
pub(crate) struct Saved {
    /// `None` for a bare Peer snapshot (the config names the peer).
    pub(crate) peer_id: Option<PeerId>,
    pub(crate) signing_seed: Option<[u8; 32]>,
    pub(crate) snapshot: Vec<u8>,
}

/// Encodes a state file's bytes.
pub(crate) fn encode(peer_id: PeerId, signing_seed: Option<&[u8; 32]>, snapshot: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(80 + snapshot.len());
    v.extend_from_slice(MAGIC);
    v.push(VERSION);
    v.extend_from_slice(&peer_id.0);
    match signing_seed {
        Some(s) => {
            v.push(1);
            v.extend_from_slice(s);
        }
        None => v.push(0),
    }
    v.extend_from_slice(snapshot);
    v
}

/// Decodes a state file's bytes (`None`: not a state file).
pub(crate) fn decode(b: &[u8]) -> Option<Saved> {
    if b.starts_with(PEER_MAGIC) {
        return Some(Saved {
            peer_id: None,
            signing_seed: None,
            snapshot: b.to_vec(),
        });
    }
    let rest = b.strip_prefix(MAGIC)?;
    let (&version, rest) = rest.split_first()?;
    if version != VERSION || rest.len() < 33 {
        return None;
    }
    let (id, rest) = rest.split_at(32);
    let peer_id = PeerId(id.try_into().ok()?);
    let (&flag, rest) = rest.split_first()?;
    let (signing_seed, rest) = match flag {
        0 => (None, rest),
        1 if rest.len() >= 32 => {
            let (s, r) = rest.split_at(32);
            (Some(s.try_into().ok()?), r)
        }
        _ => return None,
    };
    Some(Saved {
        peer_id: Some(peer_id),
        signing_seed,
        snapshot: rest.to_vec(),
    })
}

/// Reads a state file: `Ok(None)` when there is none.
pub(crate) fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(m) if m.len() > MAX_STATE_BYTES => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "state file too large",
            ))
        }
        Ok(_) => {}
    }
    fs::read(path).map(Some)
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one, never a mix: a temporary file beside it, fsync, rename over, fsync
/// of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename itself durable; not possible everywhere.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

fn create_private(p: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bare_snapshots() {
        let b = encode(PeerId([3; 32]), Some(&[9; 32]), b"SRPEER-rest");
        let s = decode(&b).unwrap();
        assert_eq!(s.peer_id, Some(PeerId([3; 32])));
        assert_eq!(s.signing_seed, Some([9; 32]));
        assert_eq!(s.snapshot, b"SRPEER-rest");
        let bare = decode(b"SRPEER\x02...").unwrap();
        assert_eq!((bare.peer_id, bare.snapshot.len()), (None, 10));
        for cut in 0..40 {
            assert!(decode(&b[..cut]).is_none(), "cut at {cut}");
        }
        assert!(decode(b"garbage").is_none());
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = std::env::temp_dir().join(format!("srnode-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(read(&p).unwrap().unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
        assert!(read(&dir.join("none")).unwrap().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
