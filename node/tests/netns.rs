//! `network_changed()` after the Node's address moved, in a network
//! namespace of the test's own (Linux, root: skipped otherwise). The
//! namespace holds a loopback and a veth pair; nothing leaves it.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::Duration;

use streamrelay::crypto::identity::create_shared_key;
use streamrelay::peer::Event;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Moves the calling thread (and what it spawns) into a new network
/// namespace with `lo` up and a veth pair, `v0` at 10.9.0.1/24.
fn private_network() -> Result<(), String> {
    // SAFETY: plain syscalls on the calling thread; no memory is shared.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!("unshare: {}", std::io::Error::last_os_error()));
    }
    let ok = ip(&["link", "set", "lo", "up"])
        && ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"])
        && ip(&["link", "set", "v0", "up"])
        && ip(&["link", "set", "v1", "up"])
        && ip(&["addr", "add", "10.9.0.1/24", "dev", "v0"]);
    if ok {
        Ok(())
    } else {
        Err("ip could not set up the namespace".into())
    }
}

#[test]
fn network_changed_after_the_address_moved() {
    std::thread::spawn(|| {
        if let Err(why) = private_network() {
            eprintln!("skipped: {why}");
            return;
        }
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let old = IpAddr::V4(Ipv4Addr::new(10, 9, 0, 1));
        let (i1, i2) = (introducer(lo), introducer(lo));
        let a = peer(old, lo, &[&i1, &i2]).start().unwrap();
        let b = peer(lo, lo, &[&i1, &i2]).start().unwrap();
        let room = create_shared_key("room").unwrap();
        a.join(&room).unwrap();
        b.join(&room).unwrap();
        let ready = wait_for(&a, WAIT, |e| matches!(e, Event::Ready { .. }));
        assert!(
            matches!(ready, Some(Event::Ready { address: Some(x), .. }) if x == old),
            "{ready:?}"
        );
        assert!(wait_for(&b, WAIT, |e| matches!(e, Event::Ready { .. })).is_some());
        let port = a.local_addr().port();

        // The address goes away (another network): a's sockets are bound
        // to it, so they are bound again, and a finds where it is now.
        assert!(ip(&["addr", "del", "10.9.0.1/24", "dev", "v0"]));
        assert!(ip(&["addr", "add", "10.9.0.2/24", "dev", "v0"]));
        a.network_changed();
        let ready = wait_for(&a, WAIT, |e| matches!(e, Event::Ready { .. }));
        assert!(
            matches!(ready, Some(Event::Ready { address: Some(x), .. }) if x == lo),
            "{ready:?}, {:?}",
            a.status().local
        );
        let local = a.local_addr();
        assert!(
            local.ip().is_unspecified() && local.port() == port,
            "{local}"
        );

        b.publish(&room, "after the move", b"found you").unwrap();
        let got = wait_for(&a, WAIT, |e| matches!(e, Event::Packet { .. }));
        assert!(
            matches!(&got, Some(Event::Packet { payload, .. }) if payload == b"found you"),
            "{got:?}"
        );
        for n in [a, b, i1, i2] {
            n.close().unwrap();
        }
    })
    .join()
    .unwrap();
}
