//! The OTP state machine: a stored record, the clock and a random source in; a reply and
//! the record to store out. No Redis types and no secrets: the caller hands in a function
//! that turns a code into its MAC.

use super::record::{CodeMac, CodeState, Record};
use rand::{Rng, RngExt};
use std::fmt;
use subtle::ConstantTimeEq;

/// The limits in force for one call, read from the module's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub digits: u32,
    pub ttl_secs: u64,
    pub attempts: u8,
    pub cooldown_secs: u64,
    pub max_sends: u16,
    pub send_window_secs: u64,
    pub max_failures: u16,
    pub lockout_secs: u64,
}

/// The code a GENERATE asks for: the configured defaults, overridden by its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    pub ttl_secs: u64,
    pub digits: u32,
    pub attempts: u8,
}

/// Why GENERATE sent nothing, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Cooldown { until: u64 },
    RateLimit { until: u64 },
    Locked { until: u64 },
}

/// The reply of VERIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Blocked,
    Expired,
}

/// What the caller must do to the stored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    /// Store the record with the key expiring at `Record::expires_at`.
    Store(Record),
    /// Nothing is left to remember: remove the key.
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    None,
    Pending,
    Blocked,
    Locked,
}

/// The reply of STATUS, in its field order. Never holds the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: StatusState,
    pub ttl: u64,
    pub attempts_left: u64,
    pub resend_in: u64,
    pub sends_left: u64,
    pub failures: u64,
}

const MS_PER_SEC: u64 = 1000;

/// Whole seconds from `now` until `until`, rounded up; 0 when it has passed.
pub fn secs_until(until: u64, now: u64) -> u64 {
    until.saturating_sub(now).div_ceil(MS_PER_SEC)
}

impl Refusal {
    /// The stable error code that starts the error reply.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Cooldown { .. } => "COOLDOWN",
            Refusal::RateLimit { .. } => "RATELIMIT",
            Refusal::Locked { .. } => "LOCKED",
        }
    }

    /// Seconds to wait before GENERATE can succeed: rounded up, at least 1.
    pub fn retry_secs(&self, now: u64) -> u64 {
        let until = match *self {
            Refusal::Cooldown { until }
            | Refusal::RateLimit { until }
            | Refusal::Locked { until } => until,
        };
        secs_until(until, now).max(1)
    }

    pub fn message(&self, now: u64) -> String {
        let why = match self {
            Refusal::Cooldown { .. } => "a code was sent to this identity moments ago",
            Refusal::RateLimit { .. } => "too many codes were sent to this identity",
            Refusal::Locked { .. } => "too many wrong codes for this identity",
        };
        format!("{} {why}, retry in {} s", self.code(), self.retry_secs(now))
    }
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::Blocked => "BLOCKED",
            Verdict::Expired => "EXPIRED",
        }
    }
}

impl StatusState {
    pub fn as_str(&self) -> &'static str {
        match self {
            StatusState::None => "none",
            StatusState::Pending => "pending",
            StatusState::Blocked => "blocked",
            StatusState::Locked => "locked",
        }
    }
}

/// The change that stores `record`, or removes the key once nothing in it is left.
fn keep(record: Record, now: u64) -> Change {
    if record.expires_at() > now {
        Change::Store(record)
    } else {
        Change::Delete
    }
}

pub const MAX_DIGITS: usize = 10;

/// A code: up to ten ASCII digits, kept on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    digits: [u8; MAX_DIGITS],
    len: usize,
}

impl Code {
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(..)")
    }
}

/// A code of exactly `digits` digits, leading zeros kept, uniform over all of them.
pub fn draw_code<R: Rng + ?Sized>(digits: u32, rng: &mut R) -> Code {
    let len = (digits as usize).min(MAX_DIGITS);
    let mut value = rng.random_range(0..10u64.pow(len as u32));
    let mut code = Code {
        digits: [b'0'; MAX_DIGITS],
        len,
    };
    for slot in code.digits[..len].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    code
}

/// OTP.GENERATE: refuse, or issue a new code that replaces any pending one.
pub fn generate<R: Rng + ?Sized>(
    stored: Record,
    now: u64,
    policy: &Policy,
    spec: CodeSpec,
    rng: &mut R,
    mac_of: impl FnOnce(&[u8]) -> CodeMac,
) -> Result<(Code, Change), Refusal> {
    let mut record = stored.settle(now);
    if record.is_locked(now) {
        return Err(Refusal::Locked {
            until: record.locked_until,
        });
    }
    if record.resend_at > now {
        return Err(Refusal::Cooldown {
            until: record.resend_at,
        });
    }
    let window_open = record.window_ends_at > now;
    if window_open && record.sends_in_window >= policy.max_sends {
        return Err(Refusal::RateLimit {
            until: record.window_ends_at,
        });
    }

    let code = draw_code(spec.digits, rng);
    if window_open {
        record.sends_in_window = record.sends_in_window.saturating_add(1);
    } else {
        record.window_ends_at = now + policy.send_window_secs * MS_PER_SEC;
        record.sends_in_window = 1;
    }
    record.resend_at = now + policy.cooldown_secs * MS_PER_SEC;
    record.code = CodeState::Pending;
    record.attempts_left = spec.attempts;
    record.code_mac = mac_of(code.as_bytes());
    record.code_expires_at = now + spec.ttl_secs * MS_PER_SEC;
    Ok((code, keep(record, now)))
}

/// OTP.VERIFY: compare `guess` with the pending code in constant time.
/// `mac_of_guess` is only called when there is a pending code to compare with.
pub fn verify(
    stored: Record,
    now: u64,
    policy: &Policy,
    mac_of_guess: impl FnOnce() -> CodeMac,
) -> (Verdict, Change) {
    let mut record = stored.settle(now);
    if record.is_locked(now) || record.code == CodeState::Spent {
        return (Verdict::Blocked, Change::Unchanged);
    }
    if record.code == CodeState::None {
        return (Verdict::Expired, Change::Unchanged);
    }

    let matches: bool = mac_of_guess().ct_eq(&record.code_mac).into();
    if matches {
        record.clear_code();
        record.failures = 0;
        return (Verdict::Valid, keep(record, now));
    }

    record.failures = record.failures.saturating_add(1);
    record.attempts_left = record.attempts_left.saturating_sub(1);
    let verdict = if record.failures >= policy.max_failures {
        // The lock also ends the code: it was guessed at as often as the identity allows.
        record.locked_until = now + policy.lockout_secs * MS_PER_SEC;
        record.clear_code();
        Verdict::Blocked
    } else if record.attempts_left == 0 {
        record.code = CodeState::Spent;
        Verdict::Blocked
    } else {
        Verdict::Invalid
    };
    (verdict, keep(record, now))
}

/// OTP.STATUS: what an operator may see, never the code.
pub fn status(stored: Record, now: u64, policy: &Policy) -> Status {
    let record = stored.settle(now);
    let window_full = record.window_ends_at > now && record.sends_in_window >= policy.max_sends;
    let state = if record.is_locked(now) {
        StatusState::Locked
    } else {
        match record.code {
            CodeState::None => StatusState::None,
            CodeState::Pending => StatusState::Pending,
            CodeState::Spent => StatusState::Blocked,
        }
    };
    let code_live = matches!(state, StatusState::Pending | StatusState::Blocked);
    let mut send_allowed_at = record.resend_at.max(record.locked_until);
    if window_full {
        send_allowed_at = send_allowed_at.max(record.window_ends_at);
    }
    Status {
        state,
        ttl: if code_live {
            secs_until(record.code_expires_at, now)
        } else {
            0
        },
        attempts_left: if state == StatusState::Pending {
            u64::from(record.attempts_left)
        } else {
            0
        },
        resend_in: secs_until(send_allowed_at, now),
        sends_left: u64::from(policy.max_sends.saturating_sub(record.sends_in_window)),
        failures: u64::from(record.failures),
    }
}

/// OTP.CANCEL: drop the code (pending or spent); send limits and failures stay.
/// Returns whether there was a code to drop.
pub fn cancel(stored: Record, now: u64) -> (bool, Change) {
    let mut record = stored.settle(now);
    if record.code == CodeState::None {
        return (false, Change::Unchanged);
    }
    record.clear_code();
    (true, keep(record, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const T0: u64 = 1_700_000_000_000;

    fn policy() -> Policy {
        Policy {
            digits: 6,
            ttl_secs: 120,
            attempts: 3,
            cooldown_secs: 60,
            max_sends: 5,
            send_window_secs: 600,
            max_failures: 10,
            lockout_secs: 900,
        }
    }

    fn spec(p: &Policy) -> CodeSpec {
        CodeSpec {
            ttl_secs: p.ttl_secs,
            digits: p.digits,
            attempts: p.attempts,
        }
    }

    /// A stand-in MAC: the code itself, padded. Enough to tell codes apart in these tests.
    fn mac(code: &[u8]) -> CodeMac {
        let mut out = [0u8; 12];
        for (slot, byte) in out.iter_mut().zip(code) {
            *slot = *byte;
        }
        out
    }

    fn stored(change: Change) -> Record {
        match change {
            Change::Store(record) => record,
            Change::Delete => Record::default(),
            Change::Unchanged => panic!("expected a write"),
        }
    }

    fn issue(record: Record, now: u64, p: &Policy, rng: &mut StdRng) -> (String, Record) {
        let (code, change) = generate(record, now, p, spec(p), rng, mac).expect("generate");
        let text = String::from_utf8(code.as_bytes().to_vec()).expect("digits");
        (text, stored(change))
    }

    fn guess(record: Record, now: u64, p: &Policy, code: &str) -> (Verdict, Record) {
        let (verdict, change) = verify(record, now, p, || mac(code.as_bytes()));
        let next = match change {
            Change::Unchanged => record,
            other => stored(other),
        };
        (verdict, next)
    }

    fn wrong(code: &str) -> String {
        let first = if code.starts_with('0') { '1' } else { '0' };
        format!("{first}{}", &code[1..])
    }

    #[test]
    fn codes_have_exact_length_and_keep_leading_zeros() {
        let mut rng = StdRng::seed_from_u64(1);
        for digits in 4..=10 {
            for _ in 0..200 {
                let code = draw_code(digits, &mut rng);
                assert_eq!(code.as_bytes().len(), digits as usize);
                assert!(code.as_bytes().iter().all(u8::is_ascii_digit));
            }
        }
        let zero_led = (0..2000)
            .filter(|_| draw_code(4, &mut rng).as_bytes()[0] == b'0')
            .count();
        // One in ten codes starts with 0; 2000 draws give about 200.
        assert!((120..=280).contains(&zero_led), "{zero_led}");
    }

    #[test]
    fn codes_are_uniform_over_all_values() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut counts = [0u32; 10_000];
        for _ in 0..200_000 {
            let code: usize = std::str::from_utf8(draw_code(4, &mut rng).as_bytes())
                .expect("ascii")
                .parse()
                .expect("digits");
            counts[code] += 1;
        }
        // Expected 20 per value; chi-square with 9999 degrees of freedom stays near 10000.
        let chi: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - 20.0).powi(2) / 20.0)
            .sum();
        assert!((9_000.0..11_000.0).contains(&chi), "chi-square {chi}");
    }

    #[test]
    fn right_code_is_valid_once() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(3);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (verdict, record) = guess(record, T0 + 1000, &p, &code);
        assert_eq!(verdict, Verdict::Valid);
        let (verdict, _) = guess(record, T0 + 2000, &p, &code);
        assert_eq!(verdict, Verdict::Expired);
    }

    #[test]
    fn wrong_code_costs_an_attempt_then_blocks() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(4);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let bad = wrong(&code);
        let (v1, record) = guess(record, T0, &p, &bad);
        assert_eq!(v1, Verdict::Invalid);
        assert_eq!(record.attempts_left, 2);
        let (v2, record) = guess(record, T0, &p, &bad);
        assert_eq!(v2, Verdict::Invalid);
        let (v3, record) = guess(record, T0, &p, &bad);
        assert_eq!(v3, Verdict::Blocked, "the attempt that uses up the code");
        let (v4, record) = guess(record, T0, &p, &code);
        assert_eq!(v4, Verdict::Blocked, "even the right code once spent");
        assert_eq!(record.failures, 3);
        let (v5, _) = guess(record, T0 + 120_000, &p, &code);
        assert_eq!(
            v5,
            Verdict::Expired,
            "blocked only until the code would expire"
        );
    }

    #[test]
    fn wrong_lengths_and_non_digits_are_wrong() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(5);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (v, record) = guess(record, T0, &p, &code[1..]);
        assert_eq!(v, Verdict::Invalid);
        let (v, _) = guess(record, T0, &p, "abcdef");
        assert_eq!(v, Verdict::Invalid);
    }

    #[test]
    fn code_expires_after_its_ttl() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(6);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (v, _) = guess(record, T0 + 119_999, &p, &code);
        assert_eq!(v, Verdict::Valid);
        let (v, record) = guess(record, T0 + 120_000, &p, &code);
        assert_eq!(v, Verdict::Expired);
        assert_eq!(record.failures, 0, "an expired code is not a failure");
    }

    #[test]
    fn new_code_replaces_old_and_keeps_failures() {
        let mut p = policy();
        p.cooldown_secs = 0;
        let mut rng = StdRng::seed_from_u64(7);
        let (first, record) = issue(Record::default(), T0, &p, &mut rng);
        let (_, record) = guess(record, T0, &p, &wrong(&first));
        let (second, record) = issue(record, T0 + 10, &p, &mut rng);
        assert_eq!(record.failures, 1);
        assert_eq!(record.attempts_left, 3);
        if first != second {
            let (v, _) = guess(record, T0 + 20, &p, &first);
            assert_eq!(v, Verdict::Invalid, "the old code stops working");
        }
        let (v, record) = guess(record, T0 + 20, &p, &second);
        assert_eq!(v, Verdict::Valid);
        assert_eq!(record.failures, 0, "a valid code resets failures");
    }

    #[test]
    fn cooldown_refuses_with_rounded_up_wait() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(8);
        let (_, record) = issue(Record::default(), T0, &p, &mut rng);
        let refusal = generate(record, T0 + 500, &p, spec(&p), &mut rng, mac).unwrap_err();
        assert_eq!(refusal, Refusal::Cooldown { until: T0 + 60_000 });
        assert_eq!(refusal.retry_secs(T0 + 500), 60);
        assert_eq!(refusal.retry_secs(T0 + 59_999), 1);
        assert_eq!(
            refusal.message(T0 + 500),
            "COOLDOWN a code was sent to this identity moments ago, retry in 60 s"
        );
        assert!(generate(record, T0 + 60_000, &p, spec(&p), &mut rng, mac).is_ok());
    }

    #[test]
    fn send_cap_holds_for_a_fixed_window() {
        let mut p = policy();
        p.cooldown_secs = 0;
        let mut rng = StdRng::seed_from_u64(9);
        let mut record = Record::default();
        for i in 0..5 {
            record = issue(record, T0 + i * 1000, &p, &mut rng).1;
        }
        let refusal = generate(record, T0 + 10_000, &p, spec(&p), &mut rng, mac).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::RateLimit {
                until: T0 + 600_000
            }
        );
        assert_eq!(refusal.retry_secs(T0 + 10_000), 590);
        let (_, record) = issue(record, T0 + 600_000, &p, &mut rng);
        assert_eq!(
            record.sends_in_window, 1,
            "a new window starts at its first send"
        );
        assert_eq!(record.window_ends_at, T0 + 1_200_000);
    }

    #[test]
    fn failures_lock_the_identity() {
        let mut p = policy();
        p.cooldown_secs = 0;
        p.max_sends = 100;
        p.max_failures = 4;
        let mut rng = StdRng::seed_from_u64(10);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (_, record) = guess(record, T0, &p, &wrong(&code));
        let (_, record) = guess(record, T0, &p, &wrong(&code));
        let (_, record) = guess(record, T0, &p, &wrong(&code));
        let (code, record) = issue(record, T0 + 1, &p, &mut rng);
        let (v, record) = guess(record, T0 + 2, &p, &wrong(&code));
        assert_eq!(v, Verdict::Blocked, "the fourth failure locks");
        assert_eq!(record.locked_until, T0 + 2 + 900_000);
        let (v, record) = guess(record, T0 + 3, &p, &code);
        assert_eq!(
            v,
            Verdict::Blocked,
            "locked: even the right code is refused"
        );
        let refusal = generate(record, T0 + 3, &p, spec(&p), &mut rng, mac).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Locked {
                until: T0 + 2 + 900_000
            }
        );
        let st = status(record, T0 + 3, &p);
        assert_eq!(st.state, StatusState::Locked);
        assert_eq!(st.failures, 4);
        assert_eq!(st.resend_in, 900);
        // After the lockout the identity starts afresh.
        let (_, record) = issue(record, T0 + 2 + 900_000, &p, &mut rng);
        assert_eq!(record.failures, 0);
    }

    #[test]
    fn status_reports_fields() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(11);
        let empty = status(Record::default(), T0, &p);
        assert_eq!(
            empty,
            Status {
                state: StatusState::None,
                ttl: 0,
                attempts_left: 0,
                resend_in: 0,
                sends_left: 5,
                failures: 0
            }
        );
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (_, record) = guess(record, T0 + 1500, &p, &wrong(&code));
        assert_eq!(
            status(record, T0 + 1500, &p),
            Status {
                state: StatusState::Pending,
                ttl: 119,
                attempts_left: 2,
                resend_in: 59,
                sends_left: 4,
                failures: 1
            }
        );
        let (_, record) = guess(record, T0 + 1500, &p, &wrong(&code));
        let (_, record) = guess(record, T0 + 1500, &p, &wrong(&code));
        assert_eq!(status(record, T0 + 1500, &p).state, StatusState::Blocked);
    }

    #[test]
    fn status_counts_a_full_window_as_wait() {
        let mut p = policy();
        p.cooldown_secs = 0;
        p.max_sends = 1;
        let mut rng = StdRng::seed_from_u64(12);
        let (_, record) = issue(Record::default(), T0, &p, &mut rng);
        let st = status(record, T0 + 1000, &p);
        assert_eq!(st.sends_left, 0);
        assert_eq!(st.resend_in, 599);
    }

    #[test]
    fn cancel_drops_the_code_only() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(13);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        let (_, record) = guess(record, T0, &p, &wrong(&code));
        let (removed, change) = cancel(record, T0 + 1);
        assert!(removed);
        let record = stored(change);
        assert_eq!(record.failures, 1);
        assert_eq!(record.sends_in_window, 1);
        assert_eq!(guess(record, T0 + 2, &p, &code).0, Verdict::Expired);
        assert_eq!(cancel(record, T0 + 3), (false, Change::Unchanged));
    }

    #[test]
    fn records_with_nothing_left_are_deleted() {
        let mut p = policy();
        p.cooldown_secs = 0;
        p.send_window_secs = 1;
        let mut rng = StdRng::seed_from_u64(14);
        let (code, record) = issue(Record::default(), T0, &p, &mut rng);
        // Valid after the window closed: no code, window or lock remains.
        let (v, change) = verify(record, T0 + 5000, &p, || mac(code.as_bytes()));
        assert_eq!(v, Verdict::Valid);
        assert_eq!(change, Change::Delete);
    }

    #[test]
    fn expiry_covers_every_running_timer() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(15);
        let (_, record) = issue(Record::default(), T0, &p, &mut rng);
        assert_eq!(record.expires_at(), T0 + 600_000);
    }

    #[test]
    fn mac_is_not_computed_without_a_pending_code() {
        let p = policy();
        let (v, change) = verify(Record::default(), T0, &p, || panic!("no code to compare"));
        assert_eq!((v, change), (Verdict::Expired, Change::Unchanged));
    }
}
