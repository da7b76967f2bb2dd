//! The identity and the code never show in the keyspace, MONITOR, SLOWLOG or the log.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const IDENTITY: &str = "+15559876543-identity";

#[test]
fn keyspace_holds_neither_identity_nor_code() {
    let server = Server::start();
    let mut con = server.connection();
    let code: String = query(&mut con, &["OTP.GENERATE", IDENTITY, "DIGITS", "10"]);
    let keys = all_keys(&mut con);
    assert_eq!(keys.len(), 1);
    let key = String::from_utf8(keys[0].clone()).unwrap();
    assert!(!key.contains("5559876543"), "{key}");
    let value: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query(&mut con).unwrap();
    let value_text = String::from_utf8_lossy(&value);
    assert!(!value_text.contains(&code));
    assert!(!value_text.contains("5559876543"));
}

#[test]
fn another_secret_gives_another_key() {
    let first = Server::start();
    let secret = first.dir.join("second.secret");
    std::fs::write(&secret, "a-second-secret-of-more-than-32-bytes\n").unwrap();
    set_mode(&secret, 0o600);
    let second = Server::start_with(Setup {
        secret_file: Some(secret.to_string_lossy().into_owned()),
        ..Setup::new()
    });
    let (mut a, mut b) = (first.connection(), second.connection());
    generate(&mut a, IDENTITY);
    generate(&mut b, IDENTITY);
    assert_ne!(all_keys(&mut a), all_keys(&mut b));
}

#[test]
fn monitor_and_slowlog_show_no_identity_or_code() {
    let server = Server::start_with(Setup::new().config("slowlog-log-slower-than", "0"));
    let mut monitor = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    monitor.write_all(b"MONITOR\r\n").unwrap();
    monitor
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Wait for +OK so the monitor is attached before the commands run.
    while !seen.windows(3).any(|w| w == b"+OK") {
        if let Ok(n) = monitor.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
    }
    let mut con = server.connection();
    let code = generate(&mut con, IDENTITY);
    verify(&mut con, IDENTITY, &code);
    status(&mut con, IDENTITY);
    let _: i64 = query(&mut con, &["OTP.CANCEL", IDENTITY]);
    let _: i64 = query(&mut con, &["OTP.RESET", IDENTITY]);
    let _: String = query(&mut con, &["PING"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&seen).contains("\"PING\"") && Instant::now() < deadline {
        if let Ok(n) = monitor.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
    }
    let monitored = String::from_utf8_lossy(&seen).to_string();
    assert!(
        monitored.to_lowercase().contains("otp.verify"),
        "{monitored}"
    );
    assert!(monitored.contains("(redacted)"), "{monitored}");
    assert!(!monitored.contains("5559876543"), "{monitored}");
    assert!(!monitored.contains(&code), "{monitored}");

    let slowlog: redis::Value = query(&mut con, &["SLOWLOG", "GET", "100"]);
    let slowlog = format!("{slowlog:?}");
    assert!(slowlog.to_lowercase().contains("otp.generate"), "{slowlog}");
    assert!(!slowlog.contains("5559876543"), "{slowlog}");
    assert!(!slowlog.contains(&code), "{slowlog}");
    assert!(!server.log().contains("5559876543"));
}
