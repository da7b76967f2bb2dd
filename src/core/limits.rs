//! Allowed ranges, shared by the configuration and the command options.

use std::ops::RangeInclusive;

pub const DIGITS: RangeInclusive<i64> = 4..=10;
pub const TTL_SECS: RangeInclusive<i64> = 1..=86_400;
pub const ATTEMPTS: RangeInclusive<i64> = 1..=100;
pub const COOLDOWN_SECS: RangeInclusive<i64> = 0..=86_400;
pub const MAX_SENDS: RangeInclusive<i64> = 1..=1_000;
pub const SEND_WINDOW_SECS: RangeInclusive<i64> = 1..=86_400;
pub const MAX_FAILURES: RangeInclusive<i64> = 1..=1_000;
pub const LOCKOUT_SECS: RangeInclusive<i64> = 1..=86_400;

pub const MAX_IDENTITY_LEN: usize = 1024;
pub const MAX_PURPOSE_LEN: usize = 256;
pub const MAX_KEY_PREFIX_LEN: usize = 64;
