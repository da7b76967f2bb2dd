//! Memory: the module allocates through Redis, so `used_memory` sees all of it. After many
//! flows and FLUSHALL it must be back where it started.

mod common;

use common::*;

const FLOWS: usize = 200_000;
const BATCH: usize = 2_000;

#[test]
fn memory_returns_after_many_flows() {
    let server = Server::start_with(Setup::new().config("otp.cooldown", "0"));
    let mut con = server.connection();
    // Warm up: the first commands allocate Redis's own lazily built structures.
    let code = generate(&mut con, "warm-up");
    verify(&mut con, "warm-up", &code);
    let _: () = query(&mut con, &["FLUSHALL", "SYNC"]);
    let before = used_memory(&mut con);

    for start in (0..FLOWS).step_by(BATCH) {
        let mut generates = redis::pipe();
        for i in start..start + BATCH {
            generates.cmd("OTP.GENERATE").arg(format!("flow-{i}"));
        }
        let codes: Vec<String> = generates.query(&mut con).expect("generate batch");
        let mut checks = redis::pipe();
        for (i, code) in (start..start + BATCH).zip(&codes) {
            let id = format!("flow-{i}");
            if i % 2 == 0 {
                checks.cmd("OTP.VERIFY").arg(&id).arg(code).ignore();
            } else {
                checks.cmd("OTP.VERIFY").arg(&id).arg(wrong(code)).ignore();
            }
            checks.cmd("OTP.CANCEL").arg(&id).ignore();
        }
        let _: () = checks.query(&mut con).expect("verify batch");
    }
    assert_eq!(info_counter(&mut con, "generated"), FLOWS as u64 + 1);
    let _: () = query(&mut con, &["FLUSHALL", "SYNC"]);
    let after = used_memory(&mut con);
    assert!(
        (after - before).abs() < 1 << 20,
        "used_memory {before} before, {after} after {FLOWS} flows and FLUSHALL"
    );
}
