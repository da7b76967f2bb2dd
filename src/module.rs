//! Registration with Redis: commands, configs, load and unload.

use crate::config::{self, DEFAULT_KEY_PREFIX, KEY_PREFIX, SECRET_FILE};
use crate::core::keyname::SlotTags;
use crate::glue::commands::{otp_cancel, otp_generate, otp_reset, otp_status, otp_verify};
use crate::glue::engine::{self, Engine};
use crate::secret;
use redis_module::configuration::ConfigurationFlags;
use redis_module::{redis_module, Context, RedisString, Status};

/// Logs a panic before it turns into an error reply (or, outside a command, an abort).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        redis_module::logging::log_warning(format!("redis-otp panicked: {info}"));
    }));
}

fn build_engine(args: &[&[u8]]) -> Result<(Engine, Option<String>), String> {
    config::apply_load_args(args)?;
    config::validate_all()?;
    let loaded = secret::load(&config::string_value(&SECRET_FILE))?;
    let tags = SlotTags::build();
    if !tags.is_complete() {
        return Err("internal: some cluster slots have no key tag".into());
    }
    let engine = Engine {
        keys: loaded.keys,
        prefix: config::string_value(&KEY_PREFIX).into_bytes(),
        tags,
    };
    Ok((engine, loaded.warning))
}

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    install_panic_hook();
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    match build_engine(&bytes) {
        Ok((engine, warning)) => {
            if let Some(warning) = warning {
                ctx.log_warning(&format!("redis-otp: {warning}"));
            }
            engine::install(Some(engine));
            config::mark_loaded(true);
            ctx.log_notice("redis-otp: loaded");
            Status::Ok
        }
        Err(problem) => {
            ctx.log_warning(&format!("redis-otp: {problem}; the module is not loaded"));
            Status::Err
        }
    }
}

fn deinit(_ctx: &Context) -> Status {
    engine::install(None);
    config::mark_loaded(false);
    Status::Ok
}

redis_module! {
    name: "otp",
    version: 1,
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [],
    init: init,
    deinit: deinit,
    commands: [
        ["otp.generate", otp_generate, "write deny-oom fast", 1, 1, 1, ""],
        ["otp.verify", otp_verify, "write fast", 1, 1, 1, ""],
        ["otp.status", otp_status, "readonly fast", 1, 1, 1, ""],
        ["otp.cancel", otp_cancel, "write fast", 1, 1, 1, ""],
        ["otp.reset", otp_reset, "write fast", 1, 1, 1, ""],
    ],
    configurations: [
        i64: [
            ["digits", &config::DIGITS, config::DIGITS.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["ttl", &config::TTL, config::TTL.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["attempts", &config::ATTEMPTS, config::ATTEMPTS.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["cooldown", &config::COOLDOWN, config::COOLDOWN.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["max-sends", &config::MAX_SENDS, config::MAX_SENDS.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["send-window", &config::SEND_WINDOW, config::SEND_WINDOW.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["max-failures", &config::MAX_FAILURES, config::MAX_FAILURES.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
            ["lockout", &config::LOCKOUT, config::LOCKOUT.default, i64::MIN, i64::MAX, ConfigurationFlags::DEFAULT, None],
        ],
        string: [
            ["key-prefix", &KEY_PREFIX, DEFAULT_KEY_PREFIX, ConfigurationFlags::IMMUTABLE, None],
            ["secret-file", &SECRET_FILE, "", ConfigurationFlags::IMMUTABLE, None],
        ],
        bool: [],
        enum: [],
        // Load arguments are applied and range-checked in `init`, naming the setting.
        module_args_as_configuration: false,
    ]
}
