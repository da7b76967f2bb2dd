//! Property tests: the parser and the state machine against arbitrary input and sequences.

use super::args::{parse_generate, parse_identity_only, parse_verify, ArgError};
use super::machine::{self, Change, CodeSpec, Policy, StatusState, Verdict};
use super::record::{CodeMac, Record};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        prop::sample::select(vec!["PURPOSE", "TTL", "DIGITS", "ATTEMPTS", "ttl", "x"])
            .prop_map(|s| s.as_bytes().to_vec()),
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        (0i64..200).prop_map(|n| n.to_string().into_bytes()),
    ]
}

fn check_error(result: Result<impl std::fmt::Debug, ArgError>) {
    if let Err(ArgError::Invalid(text)) = result {
        assert!(text.starts_with("ERR "), "{text}");
        assert!(!text.contains('\r') && !text.contains('\n'), "{text}");
    }
}

proptest! {
    #[test]
    fn parsers_never_panic(args in prop::collection::vec(arg(), 0..9)) {
        let slices: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        check_error(parse_generate(&slices));
        check_error(parse_verify(&slices));
        check_error(parse_identity_only(&slices));
    }

    #[test]
    fn generate_options_round_trip(ttl in 1u64..=86_400, digits in 4u32..=10, attempts in 1u8..=100) {
        let (t, d, a) = (ttl.to_string(), digits.to_string(), attempts.to_string());
        let args: [&[u8]; 8] = [b"G", b"id", b"TTL", t.as_bytes(), b"DIGITS", d.as_bytes(), b"ATTEMPTS", a.as_bytes()];
        let parsed = parse_generate(&args).unwrap();
        prop_assert_eq!(parsed.ttl_secs, Some(ttl));
        prop_assert_eq!(parsed.digits, Some(digits));
        prop_assert_eq!(parsed.attempts, Some(attempts));
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(record) = Record::decode(&bytes) {
            prop_assert_eq!(Record::decode(&record.encode()), Ok(record));
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Generate,
    VerifyRight,
    VerifyWrong,
    Cancel,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Generate),
        2 => Just(Step::VerifyRight),
        4 => Just(Step::VerifyWrong),
        1 => Just(Step::Cancel),
        2 => (0u64..5_000).prop_map(Step::Wait),
    ]
}

fn mac(code: &[u8]) -> CodeMac {
    let mut out = [0u8; 12];
    for (slot, byte) in out.iter_mut().zip(code) {
        *slot = *byte;
    }
    out
}

const POLICY: Policy = Policy {
    digits: 4,
    ttl_secs: 3,
    attempts: 2,
    cooldown_secs: 1,
    max_sends: 4,
    send_window_secs: 10,
    max_failures: 5,
    lockout_secs: 4,
};

proptest! {
    /// Runs random sequences through the machine, storing and reloading the record each step
    /// as Redis would, and checks what must always hold.
    #[test]
    fn machine_keeps_its_promises(steps in prop::collection::vec(step(), 1..80), seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut now: u64 = 1_700_000_000_000;
        let mut stored: Option<[u8; 43]> = None;
        let mut code: Option<String> = None;
        let mut wrong_on_code = 0u8;
        let load = |stored: &Option<[u8; 43]>, now: u64| -> Record {
            match stored {
                // The key's expiry removes it; Redis never hands out an expired key.
                Some(bytes) => {
                    let record = Record::decode(bytes).unwrap();
                    if record.expires_at() > now { record } else { Record::default() }
                }
                None => Record::default(),
            }
        };
        let save = |stored: &mut Option<[u8; 43]>, change: Change| match change {
            Change::Unchanged => {}
            Change::Delete => *stored = None,
            Change::Store(record) => *stored = Some(record.encode()),
        };
        for step in steps {
            let record = load(&stored, now);
            match step {
                Step::Wait(ms) => now += ms,
                Step::Generate => {
                    let spec = CodeSpec { ttl_secs: POLICY.ttl_secs, digits: POLICY.digits, attempts: POLICY.attempts };
                    if let Ok((new_code, change)) = machine::generate(record, now, &POLICY, spec, &mut rng, mac) {
                        prop_assert_eq!(new_code.as_bytes().len(), 4);
                        code = Some(String::from_utf8(new_code.as_bytes().to_vec()).unwrap());
                        wrong_on_code = 0;
                        save(&mut stored, change);
                    }
                }
                Step::VerifyRight | Step::VerifyWrong => {
                    let guess = match (&step, &code) {
                        (Step::VerifyRight, Some(c)) => c.clone(),
                        _ => "wrong".to_string(),
                    };
                    let before = machine::status(record, now, &POLICY);
                    let (verdict, change) = machine::verify(record, now, &POLICY, || mac(guess.as_bytes()));
                    if verdict == Verdict::Valid {
                        prop_assert_eq!(Some(&guess), code.as_ref(), "only the current code verifies");
                        prop_assert_eq!(before.state, StatusState::Pending);
                        code = None;
                    }
                    if before.state == StatusState::Pending && verdict != Verdict::Valid {
                        wrong_on_code += 1;
                        prop_assert!(wrong_on_code <= POLICY.attempts, "more wrong attempts than allowed");
                    }
                    if before.state == StatusState::Locked {
                        prop_assert_eq!(verdict, Verdict::Blocked);
                    }
                    save(&mut stored, change);
                }
                Step::Cancel => {
                    let (_, change) = machine::cancel(record, now);
                    save(&mut stored, change);
                }
            }
            let record = load(&stored, now);
            prop_assert!(record.failures <= POLICY.max_failures);
            prop_assert!(record.sends_in_window <= POLICY.max_sends);
            prop_assert!(record.attempts_left <= POLICY.attempts);
            let status = machine::status(record, now, &POLICY);
            if status.state == StatusState::Locked {
                prop_assert_eq!(status.failures, u64::from(POLICY.max_failures));
            }
        }
    }
}
