//! Restarts: pending codes survive AOF and RDB, expired ones stay expired, and the data
//! loads without the module.

mod common;

use common::*;
use std::time::Duration;

fn pending_code_survives(setup: Setup, persist: impl Fn(&mut redis::Connection)) {
    let mut server = Server::start_with(setup);
    let mut con = server.connection();
    let code = generate(&mut con, "alice");
    assert_eq!(verify(&mut con, "alice", &wrong(&code)), "INVALID");
    persist(&mut con);
    drop(con);
    server.restart();
    let mut con = server.connection();
    assert_eq!(status_state(&mut con, "alice"), "pending");
    assert_eq!(status_field(&mut con, "alice", "attempts_left"), 2);
    assert_eq!(status_field(&mut con, "alice", "failures"), 1);
    assert_eq!(verify(&mut con, "alice", &code), "VALID");
}

#[test]
fn pending_code_survives_an_aof_restart() {
    pending_code_survives(Setup::new().config("appendonly", "yes"), |_| {});
}

#[test]
fn pending_code_survives_an_rdb_restart() {
    pending_code_survives(Setup::new(), |con| {
        let _: () = query(con, &["SAVE"]);
    });
}

#[test]
fn expired_code_stays_expired_across_a_restart() {
    let mut server = Server::start_with(
        Setup::new()
            .config("appendonly", "yes")
            .config("otp.cooldown", "0"),
    );
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "bob", "TTL", "1"]);
    std::thread::sleep(Duration::from_millis(1100));
    drop(con);
    server.restart();
    let mut con = server.connection();
    assert_eq!(verify(&mut con, "bob", &code), "EXPIRED");
}

#[test]
fn rdb_loads_without_the_module() {
    let mut server = Server::start();
    let mut con = server.connection();
    generate(&mut con, "carol");
    let _: () = query(&mut con, &["SAVE"]);
    drop(con);
    server.restart_with(Setup {
        no_module: true,
        ..Setup::new()
    });
    let mut con = server.connection();
    let keys = all_keys(&mut con);
    assert_eq!(keys.len(), 1);
    let kind: String = redis::cmd("TYPE").arg(&keys[0]).query(&mut con).unwrap();
    assert_eq!(kind, "string");
    let value: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query(&mut con).unwrap();
    assert_eq!(value.len(), 43);
    assert_eq!(value[0], 1, "format version");
}
