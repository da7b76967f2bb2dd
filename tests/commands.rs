//! Every command, reply and refusal, through a real server and a real client.

mod common;

use common::*;
use redis::Value;
use std::time::Duration;

fn fast_setup() -> Setup {
    // No cooldown and a roomy send cap unless a test is about them.
    Setup::new()
        .config("otp.cooldown", "0")
        .config("otp.max-sends", "1000")
}

#[test]
fn generate_then_verify_is_valid_once() {
    let server = Server::start();
    let mut con = server.connection();
    let code = generate(&mut con, "+15551234567");
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert_eq!(verify(&mut con, "+15551234567", &code), "VALID");
    assert_eq!(verify(&mut con, "+15551234567", &code), "EXPIRED");
}

#[test]
fn digits_option_and_leading_zeros() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let mut leading_zero = false;
    for i in 0..200 {
        let id = format!("user{i}");
        let code: String = query(&mut con, &["OTP.GENERATE", &id, "DIGITS", "4"]);
        assert_eq!(code.len(), 4, "{code}");
        leading_zero |= code.starts_with('0');
        assert_eq!(verify(&mut con, &id, &code), "VALID");
    }
    assert!(
        leading_zero,
        "200 four-digit codes and none starting with 0"
    );
    let code: String = query(&mut con, &["OTP.GENERATE", "ten", "DIGITS", "10"]);
    assert_eq!(code.len(), 10);
}

#[test]
fn wrong_codes_use_up_attempts_then_block() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "bob", "ATTEMPTS", "2"]);
    assert_eq!(verify(&mut con, "bob", &wrong(&code)), "INVALID");
    assert_eq!(status_field(&mut con, "bob", "attempts_left"), 1);
    assert_eq!(verify(&mut con, "bob", &wrong(&code)), "BLOCKED");
    assert_eq!(verify(&mut con, "bob", &code), "BLOCKED");
    assert_eq!(status_state(&mut con, "bob"), "blocked");
    // A new code lifts the block; failures are kept.
    let fresh = generate(&mut con, "bob");
    assert_eq!(status_field(&mut con, "bob", "failures"), 2);
    assert_eq!(verify(&mut con, "bob", &fresh), "VALID");
    assert_eq!(status_field(&mut con, "bob", "failures"), 0);
}

#[test]
fn any_wrong_shape_of_code_is_invalid() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "carol", "ATTEMPTS", "10"]);
    for guess in ["", "12", "1234567", "abcdef", "12345\u{0}"] {
        assert_eq!(verify(&mut con, "carol", guess), "INVALID", "{guess:?}");
    }
    assert_eq!(verify(&mut con, "carol", &code), "VALID");
}

#[test]
fn purpose_binds_the_code() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "dave", "PURPOSE", "login"]);
    let other: String = query(&mut con, &["OTP.VERIFY", "dave", &code, "PURPOSE", "reset"]);
    assert_eq!(other, "INVALID");
    assert_eq!(
        verify(&mut con, "dave", &code),
        "INVALID",
        "no purpose is another purpose"
    );
    let right: String = query(&mut con, &["OTP.VERIFY", "dave", &code, "purpose", "login"]);
    assert_eq!(right, "VALID");
}

#[test]
fn new_code_replaces_the_pending_one() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let first = generate(&mut con, "erin");
    let mut second = generate(&mut con, "erin");
    while second == first {
        second = generate(&mut con, "erin");
    }
    assert_eq!(verify(&mut con, "erin", &first), "INVALID");
    assert_eq!(verify(&mut con, "erin", &second), "VALID");
}

#[test]
fn code_expires_after_ttl() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "frank", "TTL", "1"]);
    assert_eq!(status_field(&mut con, "frank", "ttl"), 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(verify(&mut con, "frank", &code), "EXPIRED");
    assert_eq!(status_state(&mut con, "frank"), "none");
    assert_eq!(status_field(&mut con, "frank", "failures"), 0);
}

#[test]
fn key_disappears_when_nothing_is_left() {
    let server = Server::start_with(
        Setup::new()
            .config("otp.cooldown", "1")
            .config("otp.send-window", "1")
            .config("otp.ttl", "1"),
    );
    let mut con = server.connection();
    generate(&mut con, "gina");
    assert_eq!(all_keys(&mut con).len(), 1);
    let pttl: i64 = {
        let key = all_keys(&mut con).remove(0);
        redis::cmd("PTTL").arg(key).query(&mut con).expect("PTTL")
    };
    assert!((1..=1000).contains(&pttl), "expiry set: {pttl}");
    std::thread::sleep(Duration::from_millis(1200));
    let dbsize: i64 = query(&mut con, &["DBSIZE"]);
    assert_eq!(dbsize, 0);
}

#[test]
fn cooldown_refuses_with_retry_time() {
    let server = Server::start_with(Setup::new().config("otp.cooldown", "30"));
    let mut con = server.connection();
    generate(&mut con, "hank");
    let text = error_text(&mut con, &["OTP.GENERATE", "hank"]);
    assert!(text.starts_with("COOLDOWN "), "{text}");
    assert!(text.ends_with("retry in 30 s"), "{text}");
    assert_eq!(status_field(&mut con, "hank", "resend_in"), 30);
}

#[test]
fn send_cap_refuses_until_the_window_ends() {
    let server = Server::start_with(
        Setup::new()
            .config("otp.cooldown", "0")
            .config("otp.max-sends", "3")
            .config("otp.send-window", "50"),
    );
    let mut con = server.connection();
    for _ in 0..3 {
        generate(&mut con, "ivy");
    }
    assert_eq!(status_field(&mut con, "ivy", "sends_left"), 0);
    let text = error_text(&mut con, &["OTP.GENERATE", "ivy"]);
    assert!(text.starts_with("RATELIMIT "), "{text}");
    assert!(text.ends_with("retry in 50 s"), "{text}");
    assert_eq!(info_counter(&mut con, "ratelimit"), 1);
    // Another identity is not affected.
    generate(&mut con, "jack");
}

#[test]
fn consecutive_failures_lock_the_identity() {
    let server = Server::start_with(
        fast_setup()
            .config("otp.max-failures", "3")
            .config("otp.lockout", "40"),
    );
    let mut con = server.connection();
    let code = generate(&mut con, "kate");
    assert_eq!(verify(&mut con, "kate", &wrong(&code)), "INVALID");
    assert_eq!(verify(&mut con, "kate", &wrong(&code)), "INVALID");
    let code = generate(&mut con, "kate");
    assert_eq!(verify(&mut con, "kate", &wrong(&code)), "BLOCKED");
    assert_eq!(verify(&mut con, "kate", &code), "BLOCKED");
    assert_eq!(status_state(&mut con, "kate"), "locked");
    assert_eq!(status_field(&mut con, "kate", "failures"), 3);
    let text = error_text(&mut con, &["OTP.GENERATE", "kate"]);
    assert!(text.starts_with("LOCKED "), "{text}");
    assert!(text.ends_with("retry in 40 s"), "{text}");
    // RESET is the support desk's unlock.
    let reset: i64 = query(&mut con, &["OTP.RESET", "kate"]);
    assert_eq!(reset, 1);
    let code = generate(&mut con, "kate");
    assert_eq!(verify(&mut con, "kate", &code), "VALID");
}

#[test]
fn lock_ends_after_lockout() {
    let server = Server::start_with(
        fast_setup()
            .config("otp.max-failures", "1")
            .config("otp.lockout", "1"),
    );
    let mut con = server.connection();
    let code = generate(&mut con, "liam");
    assert_eq!(verify(&mut con, "liam", &wrong(&code)), "BLOCKED");
    std::thread::sleep(Duration::from_millis(1100));
    let code = generate(&mut con, "liam");
    assert_eq!(status_field(&mut con, "liam", "failures"), 0);
    assert_eq!(verify(&mut con, "liam", &code), "VALID");
}

#[test]
fn status_fields_in_order_in_resp2_and_resp3() {
    let server = Server::start();
    let mut con = server.connection();
    let code = generate(&mut con, "mia");
    verify(&mut con, "mia", &wrong(&code));
    let expected: Vec<(String, String)> = [
        ("state", "pending"),
        ("ttl", "120"),
        ("attempts_left", "2"),
        ("resend_in", "60"),
        ("sends_left", "4"),
        ("failures", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let resp2: Value = query(&mut con, &["OTP.STATUS", "mia"]);
    assert!(matches!(resp2, Value::Array(_)), "{resp2:?}");
    assert_eq!(status_pairs(resp2), expected);
    let mut con3 = server.connection_resp3();
    let resp3: Value = query(&mut con3, &["OTP.STATUS", "mia"]);
    assert!(matches!(resp3, Value::Map(_)), "{resp3:?}");
    assert_eq!(status_pairs(resp3), expected);
    let empty = status(&mut con, "nobody");
    assert_eq!(
        empty.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["none", "0", "0", "0", "5", "0"]
    );
}

#[test]
fn status_never_reveals_the_code() {
    let server = Server::start();
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", "noah", "DIGITS", "10"]);
    let reply = format!("{:?}", status(&mut con, "noah"));
    assert!(!reply.contains(&code), "{reply}");
}

#[test]
fn cancel_removes_the_code_and_keeps_limits() {
    let server = Server::start_with(Setup::new().config("otp.cooldown", "30"));
    let mut con = server.connection();
    let code = generate(&mut con, "olga");
    verify(&mut con, "olga", &wrong(&code));
    let removed: i64 = query(&mut con, &["OTP.CANCEL", "olga"]);
    assert_eq!(removed, 1);
    assert_eq!(verify(&mut con, "olga", &code), "EXPIRED");
    let again: i64 = query(&mut con, &["OTP.CANCEL", "olga"]);
    assert_eq!(again, 0);
    assert_eq!(status_field(&mut con, "olga", "failures"), 1);
    assert_eq!(status_field(&mut con, "olga", "sends_left"), 4);
    assert!(error_text(&mut con, &["OTP.GENERATE", "olga"]).starts_with("COOLDOWN"));
    let never: i64 = query(&mut con, &["OTP.CANCEL", "never-seen"]);
    assert_eq!(never, 0);
}

#[test]
fn reset_clears_everything() {
    let server = Server::start_with(Setup::new().config("otp.cooldown", "30"));
    let mut con = server.connection();
    generate(&mut con, "pat");
    let reset: i64 = query(&mut con, &["OTP.RESET", "pat"]);
    assert_eq!(reset, 1);
    assert_eq!(all_keys(&mut con).len(), 0);
    let again: i64 = query(&mut con, &["OTP.RESET", "pat"]);
    assert_eq!(again, 0);
    generate(&mut con, "pat");
}

#[test]
fn info_counts_every_outcome() {
    let server = Server::start_with(
        Setup::new()
            .config("otp.cooldown", "30")
            .config("otp.max-failures", "2")
            .config("otp.attempts", "2"),
    );
    let mut con = server.connection();
    let code = generate(&mut con, "quinn");
    assert_eq!(verify(&mut con, "quinn", &code), "VALID");
    assert_eq!(verify(&mut con, "quinn", &code), "EXPIRED");
    error_text(&mut con, &["OTP.GENERATE", "quinn"]);
    let code = generate(&mut con, "rita");
    assert_eq!(verify(&mut con, "rita", &wrong(&code)), "INVALID");
    assert_eq!(verify(&mut con, "rita", &wrong(&code)), "BLOCKED");
    assert_eq!(verify(&mut con, "rita", &code), "BLOCKED");
    let text = error_text(&mut con, &["OTP.GENERATE", "rita"]);
    assert!(text.starts_with("LOCKED"), "{text}");
    for (name, count) in [
        ("generated", 2),
        ("valid", 1),
        ("invalid", 1),
        ("blocked", 2),
        ("expired", 1),
        ("cooldown", 1),
        ("ratelimit", 0),
        ("locked", 1),
    ] {
        assert_eq!(info_counter(&mut con, name), count, "{name}");
    }
}

#[test]
fn commands_declare_the_identity_as_their_key() {
    let server = Server::start();
    let mut con = server.connection();
    for args in [
        &["COMMAND", "GETKEYS", "OTP.VERIFY", "id1", "123456"][..],
        &["COMMAND", "GETKEYS", "OTP.GENERATE", "id1", "TTL", "5"],
        &["COMMAND", "GETKEYS", "OTP.STATUS", "id1"],
        &["COMMAND", "GETKEYS", "OTP.CANCEL", "id1"],
        &["COMMAND", "GETKEYS", "OTP.RESET", "id1"],
    ] {
        let keys: Vec<String> = query(&mut con, args);
        assert_eq!(keys, ["id1"], "{args:?}");
    }
}

#[test]
fn wrong_type_key_is_left_alone() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    generate(&mut con, "sam");
    let key = all_keys(&mut con).remove(0);
    query::<i64>(&mut con, &["OTP.RESET", "sam"]);
    let _: i64 = redis::cmd("LPUSH")
        .arg(&key)
        .arg("x")
        .query(&mut con)
        .unwrap();
    for args in [
        &["OTP.GENERATE", "sam"][..],
        &["OTP.VERIFY", "sam", "123456"],
        &["OTP.STATUS", "sam"],
        &["OTP.CANCEL", "sam"],
        &["OTP.RESET", "sam"],
    ] {
        let text = error_text(&mut con, args);
        assert!(text.starts_with("WRONGTYPE"), "{args:?}: {text}");
    }
    let len: i64 = redis::cmd("LLEN").arg(&key).query(&mut con).unwrap();
    assert_eq!(len, 1);
    // A string that is not a record is not ours either.
    let _: () = redis::cmd("DEL").arg(&key).query(&mut con).unwrap();
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("hello")
        .query(&mut con)
        .unwrap();
    let text = error_text(&mut con, &["OTP.VERIFY", "sam", "123456"]);
    assert!(
        text.starts_with("WRONGTYPE") && text.contains("not an OTP record"),
        "{text}"
    );
    let value: String = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
    assert_eq!(value, "hello");
}

#[test]
fn bad_input_gets_a_named_error_and_changes_nothing() {
    let server = Server::start_with(fast_setup());
    let mut con = server.connection();
    let long = "x".repeat(1025);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["OTP.GENERATE"],
            "ERR wrong number of arguments for 'otp.generate' command",
        ),
        (
            vec!["OTP.VERIFY", "a"],
            "ERR wrong number of arguments for 'otp.verify' command",
        ),
        (
            vec!["OTP.STATUS"],
            "ERR wrong number of arguments for 'otp.status' command",
        ),
        (
            vec!["OTP.STATUS", "a", "b"],
            "ERR wrong number of arguments for 'otp.status' command",
        ),
        (
            vec!["OTP.CANCEL"],
            "ERR wrong number of arguments for 'otp.cancel' command",
        ),
        (
            vec!["OTP.RESET", "a", "b"],
            "ERR wrong number of arguments for 'otp.reset' command",
        ),
        (
            vec!["OTP.GENERATE", ""],
            "ERR identity must be 1 to 1024 bytes, got 0",
        ),
        (
            vec!["OTP.GENERATE", &long],
            "ERR identity must be 1 to 1024 bytes, got 1025",
        ),
        (
            vec!["OTP.VERIFY", "", "1"],
            "ERR identity must be 1 to 1024 bytes, got 0",
        ),
        (
            vec!["OTP.GENERATE", "a", "TTL", "0"],
            "ERR TTL must be an integer from 1 to 86400, got '0'",
        ),
        (
            vec!["OTP.GENERATE", "a", "TTL", "abc"],
            "ERR TTL must be an integer from 1 to 86400, got 'abc'",
        ),
        (
            vec!["OTP.GENERATE", "a", "DIGITS", "11"],
            "ERR DIGITS must be an integer from 4 to 10, got '11'",
        ),
        (
            vec!["OTP.GENERATE", "a", "ATTEMPTS", "-1"],
            "ERR ATTEMPTS must be an integer from 1 to 100, got '-1'",
        ),
        (
            vec!["OTP.GENERATE", "a", "COLOR", "red"],
            "ERR unknown option 'COLOR' for OTP.GENERATE (it takes PURPOSE, TTL, DIGITS, ATTEMPTS)",
        ),
        (
            vec!["OTP.GENERATE", "a", "TTL"],
            "ERR option TTL needs a value",
        ),
        (
            vec!["OTP.GENERATE", "a", "TTL", "5", "TTL", "6"],
            "ERR option TTL given more than once",
        ),
        (
            vec!["OTP.VERIFY", "a", "1", "PURPOSE"],
            "ERR option PURPOSE needs a value",
        ),
        (
            vec!["OTP.VERIFY", "a", "1", "TTL", "5"],
            "ERR unknown option 'TTL' for OTP.VERIFY (it takes PURPOSE)",
        ),
    ];
    let code = generate(&mut con, "a");
    for (args, expected) in &cases {
        assert_eq!(
            &error_text(&mut con, args),
            expected,
            "{:?}",
            &args[..args.len().min(3)]
        );
    }
    // Nothing changed: one key, the code still pending with all its attempts, no counters.
    assert_eq!(all_keys(&mut con).len(), 1);
    assert_eq!(status_field(&mut con, "a", "attempts_left"), 3);
    assert_eq!(info_counter(&mut con, "generated"), 1);
    assert_eq!(verify(&mut con, "a", &code), "VALID");
}
