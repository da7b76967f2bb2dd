//! Replicas and the AOF get deterministic writes: the same key, value and absolute expiry.

mod common;

use common::*;
use redis::Connection;
use std::time::{Duration, Instant};

fn attach_replica(primary: &Server) -> Server {
    let replica = Server::start();
    let mut con = replica.connection();
    let _: () = query(
        &mut con,
        &["REPLICAOF", "127.0.0.1", &primary.port.to_string()],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = query(&mut con, &["INFO", "replication"]);
        if info.contains("master_link_status:up") {
            return replica;
        }
        assert!(Instant::now() < deadline, "replica did not sync:\n{info}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the replica has everything the primary wrote.
fn sync(primary: &mut Connection) {
    let acked: i64 = query(primary, &["WAIT", "1", "5000"]);
    assert_eq!(acked, 1, "the replica did not acknowledge");
}

/// Every key with its DUMP and PEXPIRETIME, sorted.
fn snapshot(con: &mut Connection) -> Vec<(Vec<u8>, Vec<u8>, i64)> {
    let mut keys = all_keys(con);
    keys.sort();
    keys.into_iter()
        .map(|key| {
            let dump: Vec<u8> = redis::cmd("DUMP").arg(&key).query(con).expect("DUMP");
            let at: i64 = redis::cmd("PEXPIRETIME")
                .arg(&key)
                .query(con)
                .expect("PEXPIRETIME");
            (key, dump, at)
        })
        .collect()
}

fn assert_same(primary: &mut Connection, replica: &mut Connection, step: &str) {
    sync(primary);
    let on_primary = snapshot(primary);
    assert_eq!(on_primary, snapshot(replica), "after {step}");
    for (_, _, at) in &on_primary {
        assert!(*at > 0, "every key has an absolute expiry after {step}");
    }
}

fn comparable_status(con: &mut Connection, identity: &str) -> Vec<(String, String)> {
    // ttl and resend_in count down in whole seconds; a boundary may fall between two reads.
    status(con, identity)
        .into_iter()
        .filter(|(name, _)| name != "ttl" && name != "resend_in")
        .collect()
}

#[test]
fn replica_holds_the_same_state() {
    let primary = Server::start_with(Setup::new().config("otp.cooldown", "0"));
    let replica = attach_replica(&primary);
    let mut p = primary.connection();
    let mut r = replica.connection();

    let code = generate(&mut p, "alice");
    assert_same(&mut p, &mut r, "GENERATE");
    assert_eq!(all_keys(&mut p).len(), 1);
    assert_eq!(verify(&mut p, "alice", &wrong(&code)), "INVALID");
    assert_same(&mut p, &mut r, "VERIFY (wrong)");
    assert_eq!(
        comparable_status(&mut p, "alice"),
        comparable_status(&mut r, "alice")
    );
    assert_eq!(status_field(&mut r, "alice", "attempts_left"), 2);
    assert_eq!(status_state(&mut r, "alice"), "pending");

    let cancelled: i64 = query(&mut p, &["OTP.CANCEL", "alice"]);
    assert_eq!(cancelled, 1);
    assert_same(&mut p, &mut r, "CANCEL");
    assert_eq!(status_state(&mut r, "alice"), "none");

    generate(&mut p, "bob");
    let reset: i64 = query(&mut p, &["OTP.RESET", "bob"]);
    assert_eq!(reset, 1);
    assert_same(&mut p, &mut r, "RESET");

    let code = generate(&mut p, "carol");
    assert_eq!(verify(&mut p, "carol", &code), "VALID");
    assert_same(&mut p, &mut r, "VERIFY (valid)");

    // STATUS is read-only: it runs on the replica.
    assert_eq!(status_field(&mut r, "alice", "failures"), 1);
    // Writes are refused there.
    let text = error_text(&mut r, &["OTP.GENERATE", "dave"]);
    assert!(text.starts_with("READONLY"), "{text}");
}

#[test]
fn promoted_replica_verifies_codes_and_keeps_failures() {
    let primary = Server::start();
    let replica = attach_replica(&primary);
    let mut p = primary.connection();
    let mut r = replica.connection();
    let code = generate(&mut p, "erin");
    assert_eq!(verify(&mut p, "erin", &wrong(&code)), "INVALID");
    sync(&mut p);
    drop(primary);

    let _: () = query(&mut r, &["REPLICAOF", "NO", "ONE"]);
    assert_eq!(status_field(&mut r, "erin", "failures"), 1);
    assert_eq!(status_field(&mut r, "erin", "attempts_left"), 2);
    assert_eq!(verify(&mut r, "erin", &code), "VALID");
    assert_eq!(verify(&mut r, "erin", &code), "EXPIRED");
}

#[test]
fn aof_holds_only_deterministic_writes() {
    let server = Server::start_with(Setup::new().config("appendonly", "yes"));
    let mut con = server.connection();
    let code = generate(&mut con, "+15550001111");
    verify(&mut con, "+15550001111", &wrong(&code));
    let _: () = query(&mut con, &["CONFIG", "SET", "appendfsync", "always"]);
    generate(&mut con, "flush-marker");
    let mut aof = Vec::new();
    for entry in std::fs::read_dir(server.dir.join("appendonlydir")).expect("aof dir") {
        let path = entry.expect("entry").path();
        aof.extend(std::fs::read(path).expect("read aof"));
    }
    let text = String::from_utf8_lossy(&aof);
    assert!(text.contains("PXAT"), "writes carry an absolute expiry");
    assert!(
        !text.to_lowercase().contains("otp.generate"),
        "the command itself is not logged"
    );
    assert!(
        !text.contains("+15550001111"),
        "the identity is not in the AOF"
    );
    assert!(!text.contains(&code), "the code is not in the AOF");
}
