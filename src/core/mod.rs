//! The pure core: no Redis types, no secrets, unit-tested in plain Rust.

pub mod args;
pub mod keyname;
pub mod limits;
pub mod machine;
#[cfg(test)]
mod properties;
pub mod record;
