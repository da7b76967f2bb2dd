//! Reading and writing one identity's key, and sending the same write to replicas and the
//! AOF as a deterministic command with an absolute expiry.

use crate::core::machine::Change;
use crate::core::record::Record;
use redis_module::raw::{self, KeyMode};
use redis_module::{Context, RedisError, RedisString};
use std::cell::Cell;

/// The server's clock, in unix milliseconds.
pub fn now_ms() -> u64 {
    // SAFETY: the API table is filled at load; Milliseconds only reads the clock.
    match unsafe { raw::RedisModule_Milliseconds } {
        Some(milliseconds) => unsafe { milliseconds() }.max(0) as u64,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    }
}

/// What the identity's key holds, as far as this module cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Empty,
    String,
    Other,
}

/// An open key, closed when dropped.
pub struct StoredKey<'a> {
    ctx: &'a Context,
    name: RedisString,
    key: *mut raw::RedisModuleKey,
    /// The expiry of the record `read` found: every write sets the key's expiry to its
    /// record's `expires_at`, so this is the key's expiry too.
    read_expiry: Cell<Option<u64>>,
}

impl<'a> StoredKey<'a> {
    pub fn open(ctx: &'a Context, name: &[u8], writable: bool) -> StoredKey<'a> {
        let name = RedisString::create_from_slice(ctx.ctx, name);
        let mode = if writable {
            KeyMode::READ | KeyMode::WRITE
        } else {
            KeyMode::READ
        };
        let key = raw::open_key(ctx.ctx, name.inner, mode);
        StoredKey {
            ctx,
            name,
            key,
            read_expiry: Cell::new(None),
        }
    }

    fn key_type(&self) -> KeyType {
        if self.key.is_null() {
            return KeyType::Empty;
        }
        // SAFETY: `key` is an open key handle until drop.
        let code = unsafe { raw::RedisModule_KeyType.map_or(0, |f| f(self.key)) };
        if code == raw::REDISMODULE_KEYTYPE_EMPTY as i32 {
            KeyType::Empty
        } else if code == raw::REDISMODULE_KEYTYPE_STRING as i32 {
            KeyType::String
        } else {
            KeyType::Other
        }
    }

    /// The stored record; `None` when the key does not exist. A key of another type, or a
    /// string that is not a record, is an error and is left alone.
    pub fn read(&self) -> Result<Option<Record>, RedisError> {
        match self.key_type() {
            KeyType::Empty => Ok(None),
            KeyType::String => {
                let mut len: usize = 0;
                let ptr = raw::string_dma(self.key, &mut len, raw::KeyMode::READ);
                if ptr.is_null() {
                    return Err(RedisError::Str("ERR could not read the identity's key"));
                }
                // SAFETY: Redis hands out `len` readable bytes that live while the key is open
                // and unmodified; they are decoded (copied) at once.
                let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
                let record = Record::decode(bytes).map_err(|e| {
                    RedisError::String(format!(
                        "WRONGTYPE the key for this identity is not an OTP record: {e}"
                    ))
                })?;
                self.read_expiry.set(Some(record.expires_at()));
                Ok(Some(record))
            }
            KeyType::Other => Err(RedisError::WrongType),
        }
    }

    pub fn exists(&self) -> Result<bool, RedisError> {
        match self.key_type() {
            KeyType::Empty => Ok(false),
            KeyType::String => Ok(true),
            KeyType::Other => Err(RedisError::WrongType),
        }
    }

    /// Writes the change here and replicates it as `SET key value PXAT t` or `DEL key`.
    pub fn apply(&self, change: Change) -> Result<(), RedisError> {
        match change {
            Change::Unchanged => Ok(()),
            Change::Delete => self.delete(),
            Change::Store(record) => self.store(&record),
        }
    }

    pub fn delete(&self) -> Result<(), RedisError> {
        if self.key_type() == KeyType::Empty {
            return Ok(());
        }
        // SAFETY: open for writing; DeleteKey is in every Redis with modules.
        let status = unsafe { raw::RedisModule_DeleteKey.map_or(1, |f| f(self.key)) };
        if status != raw::REDISMODULE_OK as i32 {
            return Err(RedisError::Str("ERR could not delete the identity's key"));
        }
        self.ctx.replicate("DEL", &[&self.name]);
        Ok(())
    }

    fn store(&self, record: &Record) -> Result<(), RedisError> {
        let value = record.encode();
        let expires_at = record.expires_at();
        if self.overwrite_in_place(&value) {
            // Most writes (a wrong guess, a resend inside the window) keep the expiry.
            if self.read_expiry.get() != Some(expires_at) {
                self.expire_at(expires_at)?;
            }
        } else {
            let value_string = RedisString::create_from_slice(self.ctx.ctx, &value);
            if raw::string_set(self.key, value_string.inner) != raw::Status::Ok {
                return Err(RedisError::Str("ERR could not write the identity's key"));
            }
            self.expire_at(expires_at)?;
        }
        // SAFETY: "sbcl" takes a module string, a buffer and its length, a C string and a
        // long long, in that order; all live for the call.
        if let Some(replicate) = unsafe { raw::RedisModule_Replicate } {
            unsafe {
                replicate(
                    self.ctx.ctx,
                    c"SET".as_ptr(),
                    c"sbcl".as_ptr(),
                    self.name.inner,
                    value.as_ptr(),
                    value.len(),
                    c"PXAT".as_ptr(),
                    expires_at as std::os::raw::c_longlong,
                )
            };
        }
        Ok(())
    }

    /// Rewrites an existing record of the same size through direct memory access. StringSet
    /// would delete the key and add it again (several dictionary operations, and the expiry
    /// entry dropped and re-made); a new key still goes through StringSet, which stores the
    /// value as one compact embedded string.
    fn overwrite_in_place(&self, value: &[u8]) -> bool {
        if self.key_type() != KeyType::String {
            return false;
        }
        let mut len: usize = 0;
        let ptr = raw::string_dma(self.key, &mut len, raw::KeyMode::WRITE);
        if ptr.is_null() || len != value.len() {
            return false;
        }
        // SAFETY: Redis hands out `len` writable bytes of the key's own (unshared) value.
        unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), ptr.cast::<u8>(), len) };
        true
    }

    /// Sets the absolute expiry the replicas get, to the millisecond.
    fn expire_at(&self, at_ms: u64) -> Result<(), RedisError> {
        // SAFETY: SetAbsExpire takes the open key and unix ms.
        if let Some(set_abs_expire) = unsafe { raw::RedisModule_SetAbsExpire } {
            if unsafe { set_abs_expire(self.key, at_ms as i64) } == raw::REDISMODULE_OK as i32 {
                return Ok(());
            }
            return Err(RedisError::Str("ERR could not set the key's expiry"));
        }
        // A server without SetAbsExpire only has the relative SetExpire, which reads the clock
        // again and can land a millisecond off what was replicated; PEXPIREAT is exact.
        let at = at_ms.to_string();
        let name = self.name.as_slice();
        self.ctx
            .call("PEXPIREAT", &[name, at.as_bytes()])
            .map(|_| ())
    }
}

impl Drop for StoredKey<'_> {
    fn drop(&mut self) {
        if !self.key.is_null() {
            raw::close_key(self.key);
        }
    }
}

/// Hides client arguments from SLOWLOG, MONITOR and the logs (Redis 7.0+).
pub fn redact(ctx: &Context, positions: std::ops::Range<usize>, argc: usize) {
    // SAFETY: positions are checked against argc; the function only marks arguments.
    if let Some(redact) = unsafe { raw::RedisModule_RedactClientCommandArgument } {
        for pos in positions.take_while(|&p| p < argc) {
            unsafe { redact(ctx.ctx, pos as i32) };
        }
    }
}
