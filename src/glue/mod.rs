//! The thin layer between Redis and the core: arguments in, key read and written,
//! effects replicated, replies out.

pub mod commands;
pub mod engine;
pub mod store;
