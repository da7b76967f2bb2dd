//! The stored state of one identity, and the one place that knows its byte layout.
//!
//! The value is a plain Redis string (no module data type, so an RDB loads without the
//! module), 43 bytes, small enough for Redis to keep it as an embedded string:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | format version (1) |
//! | 1 | 1 | code state: 0 none, 1 pending, 2 spent (attempts used up) |
//! | 2 | 1 | attempts left on the code |
//! | 3 | 2 | consecutive failures (u16 LE) |
//! | 5 | 2 | codes sent in the current window (u16 LE) |
//! | 7 | 12 | MAC of the code (see `secret::Keys::code_mac`) |
//! | 19 | 6 | code expires at, unix ms (u48 LE) |
//! | 25 | 6 | next send allowed at, unix ms |
//! | 31 | 6 | send window ends at, unix ms |
//! | 37 | 6 | locked until, unix ms (0: not locked) |
//!
//! Every time is absolute, so a replica or a restarted server reads the same state.

use std::fmt;

pub const FORMAT_VERSION: u8 = 1;
pub const ENCODED_LEN: usize = 43;
pub const CODE_MAC_LEN: usize = 12;

pub type CodeMac = [u8; CODE_MAC_LEN];

// Redis keeps strings of up to 44 bytes inside the object itself (one allocation).
const _: () = assert!(ENCODED_LEN <= 44);

/// What is known of the identity's current code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeState {
    /// No code: never sent, used, cancelled or expired.
    #[default]
    None,
    /// A code waits to be verified.
    Pending,
    /// The code's attempts are used up; it blocks until it would have expired.
    Spent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub code: CodeState,
    pub attempts_left: u8,
    pub failures: u16,
    pub sends_in_window: u16,
    pub code_mac: CodeMac,
    pub code_expires_at: u64,
    pub resend_at: u64,
    pub window_ends_at: u64,
    pub locked_until: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Length(usize),
    Version(u8),
    State(u8),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Length(n) => {
                write!(f, "stored value has {n} bytes, expected {ENCODED_LEN}")
            }
            DecodeError::Version(v) => write!(
                f,
                "stored value has format version {v}, this module reads {FORMAT_VERSION}"
            ),
            DecodeError::State(s) => write!(f, "stored value has an unknown code state {s}"),
        }
    }
}

const U48_MAX: u64 = (1 << 48) - 1;

fn put_u48(out: &mut [u8], at: usize, value: u64) {
    let bytes = value.min(U48_MAX).to_le_bytes();
    out[at..at + 6].copy_from_slice(&bytes[..6]);
}

fn get_u48(bytes: &[u8; ENCODED_LEN], at: usize) -> u64 {
    let mut wide = [0u8; 8];
    wide[..6].copy_from_slice(&bytes[at..at + 6]);
    u64::from_le_bytes(wide)
}

impl Record {
    pub fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        out[0] = FORMAT_VERSION;
        out[1] = match self.code {
            CodeState::None => 0,
            CodeState::Pending => 1,
            CodeState::Spent => 2,
        };
        out[2] = self.attempts_left;
        out[3..5].copy_from_slice(&self.failures.to_le_bytes());
        out[5..7].copy_from_slice(&self.sends_in_window.to_le_bytes());
        out[7..19].copy_from_slice(&self.code_mac);
        put_u48(&mut out, 19, self.code_expires_at);
        put_u48(&mut out, 25, self.resend_at);
        put_u48(&mut out, 31, self.window_ends_at);
        put_u48(&mut out, 37, self.locked_until);
        out
    }

    pub fn decode(value: &[u8]) -> Result<Record, DecodeError> {
        let bytes: &[u8; ENCODED_LEN] = value
            .try_into()
            .map_err(|_| DecodeError::Length(value.len()))?;
        if bytes[0] != FORMAT_VERSION {
            return Err(DecodeError::Version(bytes[0]));
        }
        let code = match bytes[1] {
            0 => CodeState::None,
            1 => CodeState::Pending,
            2 => CodeState::Spent,
            other => return Err(DecodeError::State(other)),
        };
        let mut code_mac = [0u8; CODE_MAC_LEN];
        code_mac.copy_from_slice(&bytes[7..19]);
        Ok(Record {
            code,
            attempts_left: bytes[2],
            failures: u16::from_le_bytes([bytes[3], bytes[4]]),
            sends_in_window: u16::from_le_bytes([bytes[5], bytes[6]]),
            code_mac,
            code_expires_at: get_u48(bytes, 19),
            resend_at: get_u48(bytes, 25),
            window_ends_at: get_u48(bytes, 31),
            locked_until: get_u48(bytes, 37),
        })
    }

    /// Forgets whatever has run out by `now`; reading a record always starts here.
    pub fn settle(mut self, now: u64) -> Record {
        if self.code != CodeState::None && self.code_expires_at <= now {
            self.clear_code();
        }
        if self.locked_until != 0 && self.locked_until <= now {
            // A lock that ran out starts the count of failures afresh.
            self.locked_until = 0;
            self.failures = 0;
        }
        if self.window_ends_at <= now {
            self.window_ends_at = 0;
            self.sends_in_window = 0;
        }
        if self.resend_at <= now {
            self.resend_at = 0;
        }
        self
    }

    pub fn clear_code(&mut self) {
        self.code = CodeState::None;
        self.attempts_left = 0;
        self.code_mac = [0; CODE_MAC_LEN];
        self.code_expires_at = 0;
    }

    pub fn is_locked(&self, now: u64) -> bool {
        self.locked_until > now
    }

    /// The moment nothing in the record matters any more: the key's absolute expiry.
    /// Zero when nothing is left now (a settled record with no code, window or lock).
    pub fn expires_at(&self) -> u64 {
        let code = if self.code == CodeState::None {
            0
        } else {
            self.code_expires_at
        };
        code.max(self.resend_at)
            .max(self.window_ends_at)
            .max(self.locked_until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            code: CodeState::Pending,
            attempts_left: 3,
            failures: 513,
            sends_in_window: 1000,
            code_mac: [7; CODE_MAC_LEN],
            code_expires_at: 1_700_000_120_000,
            resend_at: 1_700_000_060_000,
            window_ends_at: 1_700_000_600_000,
            locked_until: 0,
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let record = sample();
        let bytes = record.encode();
        assert_eq!(bytes.len(), ENCODED_LEN);
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(Record::decode(&bytes), Ok(record));
    }

    #[test]
    fn decode_rejects_foreign_values() {
        assert_eq!(Record::decode(b"hello"), Err(DecodeError::Length(5)));
        let mut bytes = sample().encode();
        bytes[0] = 9;
        assert_eq!(Record::decode(&bytes), Err(DecodeError::Version(9)));
        let mut bytes = sample().encode();
        bytes[1] = 3;
        assert_eq!(Record::decode(&bytes), Err(DecodeError::State(3)));
    }

    #[test]
    fn settle_forgets_what_ran_out() {
        let mut record = sample();
        record.locked_until = 1_700_000_030_000;
        let settled = record.settle(1_700_000_130_000);
        assert_eq!(settled.code, CodeState::None);
        assert_eq!(settled.code_mac, [0; CODE_MAC_LEN]);
        assert_eq!(settled.locked_until, 0);
        assert_eq!(settled.failures, 0);
        assert_eq!(settled.resend_at, 0);
        assert_eq!(settled.sends_in_window, 1000);
        assert_eq!(settled.expires_at(), 1_700_000_600_000);
        assert_eq!(settled.settle(1_700_000_600_000).expires_at(), 0);
    }

    #[test]
    fn settle_keeps_what_is_still_running() {
        let record = sample();
        assert_eq!(record.settle(1_700_000_000_000), record);
    }
}
