//! Garbage in: random arities, bytes, options and numbers against a live server. Every reply
//! must be a well-formed reply or an error, and the server must stay up.
//! Seeded: set OTP_HOSTILE_SEED to replay a failure.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use redis::Value;

const CALLS: usize = 20_000;
const BATCH: usize = 500;
const COMMANDS: [&str; 6] = [
    "OTP.GENERATE",
    "OTP.VERIFY",
    "OTP.STATUS",
    "OTP.CANCEL",
    "OTP.RESET",
    "otp.verify",
];
const OPTIONS: [&str; 9] = [
    "PURPOSE", "TTL", "DIGITS", "ATTEMPTS", "ttl", "Digits", "purpose", "COLOR", "",
];
const NUMBERS: [&str; 14] = [
    "0",
    "-1",
    "1",
    "4",
    "10",
    "11",
    "86400",
    "86401",
    "99999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "1e3",
    " 5",
    "abc",
];

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let len = rng.random_range(0..=max);
    (0..len).map(|_| rng.random::<u8>()).collect()
}

fn random_arg(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..100) {
        0..=14 => OPTIONS[rng.random_range(0..OPTIONS.len())]
            .as_bytes()
            .to_vec(),
        15..=34 => NUMBERS[rng.random_range(0..NUMBERS.len())]
            .as_bytes()
            .to_vec(),
        35..=49 => format!("user{}", rng.random_range(0..20)).into_bytes(),
        50..=59 => format!("{:06}", rng.random_range(0..1_000_000)).into_bytes(),
        60..=64 => Vec::new(),
        65..=69 => vec![0u8; rng.random_range(1..8)],
        70 => vec![b'x'; 1 << 20],
        71..=72 => vec![b'y'; 1025],
        _ => random_bytes(rng, 64),
    }
}

/// Checks the shape of a successful reply for the command that produced it.
fn well_formed(command: &str, reply: &Value) -> bool {
    match (command.to_ascii_uppercase().as_str(), reply) {
        ("OTP.GENERATE", Value::BulkString(code)) => {
            (4..=10).contains(&code.len()) && code.iter().all(u8::is_ascii_digit)
        }
        ("OTP.VERIFY", Value::SimpleString(s)) => {
            ["VALID", "INVALID", "BLOCKED", "EXPIRED"].contains(&s.as_str())
        }
        ("OTP.STATUS", Value::Array(items)) => items.len() == 12,
        ("OTP.CANCEL" | "OTP.RESET", Value::Int(n)) => *n == 0 || *n == 1,
        _ => false,
    }
}

#[test]
fn random_garbage_never_breaks_the_server() {
    let seed: u64 = std::env::var("OTP_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let mut rng = StdRng::seed_from_u64(seed);
    let server = Server::start_with(Setup::new().config("otp.cooldown", "0"));
    let mut con = server.connection();
    let (mut ok, mut errors) = (0, 0);
    for call in 0..CALLS {
        let command = COMMANDS[rng.random_range(0..COMMANDS.len())];
        let argc = rng.random_range(0..8);
        let args: Vec<Vec<u8>> = (0..argc).map(|_| random_arg(&mut rng)).collect();
        let mut cmd = redis::cmd(command);
        for arg in &args {
            cmd.arg(arg.as_slice());
        }
        match cmd.query::<Value>(&mut con) {
            Ok(reply) => {
                assert!(
                    well_formed(command, &reply),
                    "seed {seed}, call {call}: {command} gave {reply:?}"
                );
                ok += 1;
            }
            Err(e) => {
                assert!(
                    e.code().is_some(),
                    "seed {seed}, call {call}: {command} with {argc} args: not a server error: {e}"
                );
                errors += 1;
            }
        }
        if call % BATCH == BATCH - 1 {
            let pong: String = redis::cmd("PING")
                .query(&mut con)
                .unwrap_or_else(|e| panic!("seed {seed}: server down after call {call}: {e}"));
            assert_eq!(pong, "PONG");
        }
    }
    assert!(
        ok > 1000 && errors > 1000,
        "seed {seed}: {ok} replies, {errors} errors"
    );
    let code = generate(&mut con, "after-the-storm");
    assert_eq!(verify(&mut con, "after-the-storm", &code), "VALID");
    assert!(
        !server.log().contains("panicked"),
        "seed {seed}: a panic was caught:\n{}",
        server.log()
    );
}
