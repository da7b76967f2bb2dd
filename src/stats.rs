//! Counters since the module loaded, shown by `INFO otp`.

use redis_module::{InfoContext, RedisResult};
use redis_module_macros::info_command_handler;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub static GENERATED: Counter = Counter::new();
pub static VALID: Counter = Counter::new();
pub static INVALID: Counter = Counter::new();
pub static BLOCKED: Counter = Counter::new();
pub static EXPIRED: Counter = Counter::new();
pub static COOLDOWN: Counter = Counter::new();
pub static RATELIMIT: Counter = Counter::new();
pub static LOCKED: Counter = Counter::new();

#[info_command_handler]
fn otp_info(ctx: &InfoContext, _for_crash_report: bool) -> RedisResult<()> {
    let counts = [
        ("generated", &GENERATED),
        ("valid", &VALID),
        ("invalid", &INVALID),
        ("blocked", &BLOCKED),
        ("expired", &EXPIRED),
        ("cooldown", &COOLDOWN),
        ("ratelimit", &RATELIMIT),
        ("locked", &LOCKED),
    ];
    let mut section = ctx.builder().add_section("stats");
    for (name, counter) in counts {
        section = section.field(name, counter.get().to_string())?;
    }
    section.build_section()?.build_info()?;
    Ok(())
}
