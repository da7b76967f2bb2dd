//! The module's settings: Redis module configs (`otp.*`, CONFIG GET/SET), the values given
//! to `loadmodule`, and their validation at load.

use crate::core::args::number_in;
use crate::core::limits;
use crate::core::machine::Policy;
use redis_module::configuration::{ConfigurationContext, ConfigurationValue};
use redis_module::RedisError;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;

/// Set once the module has loaded: from then on CONFIG SET checks ranges itself.
static LOADED: AtomicBool = AtomicBool::new(false);

/// A numeric setting with its range. Redis is told no range: while redis.conf is applied, an
/// out-of-range line would otherwise stop the lines after it from applying, silently. The
/// value is stored as given and `validate_all` refuses the load with the setting named.
pub struct Numeric {
    pub name: &'static str,
    pub default: i64,
    pub range: RangeInclusive<i64>,
    value: AtomicI64,
}

impl Numeric {
    const fn new(name: &'static str, default: i64, range: RangeInclusive<i64>) -> Numeric {
        Numeric {
            name,
            default,
            range,
            value: AtomicI64::new(default),
        }
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    fn check(&self, value: i64) -> Result<(), String> {
        if self.range.contains(&value) {
            Ok(())
        } else {
            Err(format!(
                "otp.{} must be between {} and {}, got {value}",
                self.name,
                self.range.start(),
                self.range.end()
            ))
        }
    }
}

impl ConfigurationValue<i64> for Numeric {
    fn get(&self, _ctx: &ConfigurationContext) -> i64 {
        Numeric::get(self)
    }

    fn set(&self, _ctx: &ConfigurationContext, value: i64) -> Result<(), RedisError> {
        if LOADED.load(Ordering::Relaxed) {
            self.check(value).map_err(RedisError::String)?;
        }
        self.value.store(value, Ordering::Relaxed);
        Ok(())
    }
}

pub static DIGITS: Numeric = Numeric::new("digits", 6, limits::DIGITS);
pub static TTL: Numeric = Numeric::new("ttl", 120, limits::TTL_SECS);
pub static ATTEMPTS: Numeric = Numeric::new("attempts", 3, limits::ATTEMPTS);
pub static COOLDOWN: Numeric = Numeric::new("cooldown", 60, limits::COOLDOWN_SECS);
pub static MAX_SENDS: Numeric = Numeric::new("max-sends", 5, limits::MAX_SENDS);
pub static SEND_WINDOW: Numeric = Numeric::new("send-window", 600, limits::SEND_WINDOW_SECS);
pub static MAX_FAILURES: Numeric = Numeric::new("max-failures", 10, limits::MAX_FAILURES);
pub static LOCKOUT: Numeric = Numeric::new("lockout", 900, limits::LOCKOUT_SECS);

pub static NUMERIC: [&Numeric; 8] = [
    &DIGITS,
    &TTL,
    &ATTEMPTS,
    &COOLDOWN,
    &MAX_SENDS,
    &SEND_WINDOW,
    &MAX_FAILURES,
    &LOCKOUT,
];

pub const KEY_PREFIX_NAME: &str = "key-prefix";
pub const SECRET_FILE_NAME: &str = "secret-file";
pub const DEFAULT_KEY_PREFIX: &str = "otp:";

pub static KEY_PREFIX: Mutex<String> = Mutex::new(String::new());
pub static SECRET_FILE: Mutex<String> = Mutex::new(String::new());

/// Reads a string setting; a poisoned lock still holds a usable value.
pub fn string_value(setting: &Mutex<String>) -> String {
    match setting.lock() {
        Ok(value) => value.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn set_string(setting: &Mutex<String>, value: String) {
    match setting.lock() {
        Ok(mut guard) => *guard = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

/// The limits in force now; read on every command, so only atomic loads.
pub fn policy() -> Policy {
    let small = |setting: &Numeric| setting.get().max(0) as u64;
    Policy {
        digits: small(&DIGITS) as u32,
        ttl_secs: small(&TTL),
        attempts: small(&ATTEMPTS).min(u64::from(u8::MAX)) as u8,
        cooldown_secs: small(&COOLDOWN),
        max_sends: small(&MAX_SENDS).min(u64::from(u16::MAX)) as u16,
        send_window_secs: small(&SEND_WINDOW),
        max_failures: small(&MAX_FAILURES).min(u64::from(u16::MAX)) as u16,
        lockout_secs: small(&LOCKOUT),
    }
}

/// Applies `loadmodule <path> name value ...`. Names may carry the `otp.` prefix. Load
/// arguments win over `otp.*` lines in redis.conf, which were applied before.
pub fn apply_load_args(args: &[&[u8]]) -> Result<(), String> {
    let known: Vec<&str> = NUMERIC
        .iter()
        .map(|n| n.name)
        .chain([KEY_PREFIX_NAME, SECRET_FILE_NAME])
        .collect();
    for pair in args.chunks(2) {
        let raw_name = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
        let name = raw_name.strip_prefix("otp.").unwrap_or(&raw_name);
        if !known.contains(&name) {
            return Err(format!(
                "unknown loadmodule argument '{raw_name}' (known: {})",
                known.join(", ")
            ));
        }
        let [_, value] = pair else {
            return Err(format!("loadmodule argument '{name}' has no value"));
        };
        if let Some(setting) = NUMERIC.iter().find(|n| n.name == name) {
            let number = number_in(&format!("otp.{name}"), value, &(i64::MIN..=i64::MAX))?;
            setting.value.store(number, Ordering::Relaxed);
        } else {
            let text = String::from_utf8(value.to_vec())
                .map_err(|_| format!("loadmodule argument '{name}' is not valid UTF-8"))?;
            let target = if name == KEY_PREFIX_NAME {
                &KEY_PREFIX
            } else {
                &SECRET_FILE
            };
            set_string(target, text);
        }
    }
    Ok(())
}

/// Checks every setting, however it was given; the first problem names its setting.
pub fn validate_all() -> Result<(), String> {
    for setting in NUMERIC {
        setting.check(setting.get())?;
    }
    let prefix = string_value(&KEY_PREFIX);
    if prefix.len() > limits::MAX_KEY_PREFIX_LEN || prefix.contains(['{', '}']) {
        return Err(format!(
            "otp.key-prefix must be at most {} bytes with no braces, got '{prefix}'",
            limits::MAX_KEY_PREFIX_LEN
        ));
    }
    Ok(())
}

/// From now on CONFIG SET is checked against the ranges.
pub fn mark_loaded(loaded: bool) {
    LOADED.store(loaded, Ordering::Relaxed);
}
