//! Many clients at once: nothing lost, nothing doubled.

mod common;

use common::*;
use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

const CLIENTS: usize = 32;

/// Runs `rounds` rounds in which each of `CLIENTS` connections sends one command built by
/// `command(round, client)` at the same moment. Returns every reply text, round by round.
fn in_lockstep(
    server: &Server,
    rounds: usize,
    command: impl Fn(usize, usize) -> Vec<String> + Send + Sync + 'static,
) -> Vec<Vec<String>> {
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let replies = Arc::new(Mutex::new(vec![Vec::new(); rounds]));
    let command = Arc::new(command);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let mut con = server.connection();
            let (barrier, replies, command) = (barrier.clone(), replies.clone(), command.clone());
            thread::spawn(move || {
                for round in 0..rounds {
                    let args = command(round, client);
                    barrier.wait();
                    let mut cmd = redis::cmd(&args[0]);
                    for arg in &args[1..] {
                        cmd.arg(arg);
                    }
                    let reply = match cmd.query::<redis::Value>(&mut con) {
                        Ok(redis::Value::SimpleString(s)) => s,
                        Ok(redis::Value::BulkString(b)) => String::from_utf8_lossy(&b).into(),
                        Ok(other) => format!("{other:?}"),
                        Err(e) => e.code().unwrap_or("IOERROR").to_string(),
                    };
                    replies.lock().unwrap()[round].push(reply);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("client thread");
    }
    Arc::try_unwrap(replies).unwrap().into_inner().unwrap()
}

fn count<'a>(replies: impl IntoIterator<Item = &'a String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for reply in replies {
        let kind = if reply.chars().all(|c| c.is_ascii_digit()) {
            "CODE".to_string()
        } else {
            reply.clone()
        };
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_code_verifies_once_however_many_clients_race() {
    let server = Server::start();
    let mut con = server.connection();
    let rounds = 500;
    let codes: Vec<String> = (0..rounds)
        .map(|i| generate(&mut con, &format!("spend-{i}")))
        .collect();
    let codes = Arc::new(codes);
    let shared = codes.clone();
    let replies = in_lockstep(&server, rounds, move |round, _| {
        vec![
            "OTP.VERIFY".into(),
            format!("spend-{round}"),
            shared[round].clone(),
        ]
    });
    for (round, round_replies) in replies.iter().enumerate() {
        let counts = count(round_replies);
        assert_eq!(counts.get("VALID"), Some(&1), "code {round}: {counts:?}");
        assert_eq!(
            counts.get("EXPIRED"),
            Some(&(CLIENTS - 1)),
            "code {round}: {counts:?}"
        );
    }
    assert_eq!(info_counter(&mut con, "valid"), rounds as u64);
}

#[test]
fn one_code_is_sent_however_many_clients_race() {
    let server = Server::start();
    let rounds = 50;
    let replies = in_lockstep(&server, rounds, |round, _| {
        vec!["OTP.GENERATE".into(), format!("send-{round}")]
    });
    for (round, round_replies) in replies.iter().enumerate() {
        let counts = count(round_replies);
        assert_eq!(counts.get("CODE"), Some(&1), "identity {round}: {counts:?}");
        assert_eq!(
            counts.get("COOLDOWN"),
            Some(&(CLIENTS - 1)),
            "identity {round}: {counts:?}"
        );
    }
    let mut con = server.connection();
    assert_eq!(info_counter(&mut con, "generated"), rounds as u64);
    assert_eq!(
        info_counter(&mut con, "cooldown"),
        (rounds * (CLIENTS - 1)) as u64
    );
}

#[test]
fn parallel_guessing_never_gets_more_than_the_limits() {
    let attempts = 3;
    let max_failures = 10;
    let server = Server::start_with(
        Setup::new()
            .config("otp.cooldown", "0")
            .config("otp.max-sends", "1000")
            .config("otp.attempts", &attempts.to_string())
            .config("otp.max-failures", &max_failures.to_string()),
    );
    let mut con = server.connection();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut generated = 0;
    let mut failures_before = 0;
    loop {
        match redis::cmd("OTP.GENERATE")
            .arg("victim")
            .query::<String>(&mut con)
        {
            Ok(_) => generated += 1,
            Err(e) => {
                assert_eq!(e.code(), Some("LOCKED"), "{e}");
                *seen.entry("LOCKED".into()).or_insert(0) += 1;
                break;
            }
        }
        // Every guess is wrong: a code never has letters.
        let replies = in_lockstep(&server, 1, |_, client| {
            vec![
                "OTP.VERIFY".into(),
                "victim".into(),
                format!("guess{client}"),
            ]
        });
        let failures = status_field(&mut con, "victim", "failures");
        let accepted = failures - failures_before;
        assert!(
            accepted <= attempts,
            "{accepted} wrong attempts counted on one code with {attempts} attempts"
        );
        let counts = count(&replies[0]);
        assert!(counts.get("INVALID").copied().unwrap_or(0) < attempts as usize);
        for (kind, n) in counts {
            *seen.entry(kind).or_insert(0) += n;
        }
        failures_before = failures;
        assert!(generated < 100, "never locked");
    }
    assert_eq!(status_state(&mut con, "victim"), "locked");
    assert_eq!(
        status_field(&mut con, "victim", "failures"),
        max_failures,
        "locks after exactly max-failures"
    );
    let expected = [
        ("generated", generated),
        ("valid", seen.get("VALID").copied().unwrap_or(0)),
        ("invalid", seen.get("INVALID").copied().unwrap_or(0)),
        ("blocked", seen.get("BLOCKED").copied().unwrap_or(0)),
        ("expired", seen.get("EXPIRED").copied().unwrap_or(0)),
        ("locked", seen.get("LOCKED").copied().unwrap_or(0)),
    ];
    for (name, n) in expected {
        assert_eq!(info_counter(&mut con, name), n as u64, "INFO otp_{name}");
    }
    assert_eq!(seen.get("VALID"), None);
}
