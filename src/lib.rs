//! redis-otp: atomic one-time codes as native Redis commands.
//!
//! `core` is the pure logic (state machine, stored format, arguments, key names), `secret`
//! the keyed hashes, `config` the settings, `glue` the Redis side, `module` the registration.

pub mod config;
pub mod core;
pub mod glue;
pub mod secret;
pub mod stats;

// The Redis allocator aborts outside Redis, so unit tests build without the registration.
#[cfg(not(test))]
mod module;
