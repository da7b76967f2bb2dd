//! The OTP.* commands: parse, read the key, run the core, write, replicate, count, reply.

use super::engine::{self, Engine};
use super::store::{now_ms, redact, StoredKey};
use crate::config;
use crate::core::args::{self, ArgError};
use crate::core::machine::{self, CodeSpec, Refusal, Verdict};
use crate::stats;
use redis_module::{raw, Context, RedisError, RedisResult, RedisString, RedisValue};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

type Handler = fn(&Context, &Engine, &[&[u8]]) -> RedisResult;

/// Arguments a command usually has at most; more go to the heap.
const INLINE_ARGS: usize = 8;

/// Runs a command with its secret arguments redacted, and turns a panic into an error reply:
/// a panic that escaped would abort the server.
fn run(ctx: &Context, args: &[RedisString], secret_args: usize, handler: Handler) -> RedisResult {
    redact(ctx, 1..1 + secret_args, args.len());
    let mut inline: [&[u8]; INLINE_ARGS] = [&[]; INLINE_ARGS];
    let heap: Vec<&[u8]>;
    let bytes: &[&[u8]] = if args.len() <= INLINE_ARGS {
        for (slot, arg) in inline.iter_mut().zip(args) {
            *slot = arg.as_slice();
        }
        &inline[..args.len()]
    } else {
        heap = args.iter().map(|a| a.as_slice()).collect();
        &heap
    };
    let Some(engine): Option<Arc<Engine>> = engine::current() else {
        return Err(RedisError::Str("ERR redis-otp is not initialised"));
    };
    catch_unwind(AssertUnwindSafe(|| handler(ctx, &engine, bytes))).unwrap_or_else(|_| {
        Err(RedisError::Str(
            "ERR redis-otp internal error, see the server log",
        ))
    })
}

fn arg_error(e: ArgError) -> RedisError {
    match e {
        ArgError::WrongArity => RedisError::WrongArity,
        ArgError::Invalid(text) => RedisError::String(text),
    }
}

fn generate(ctx: &Context, engine: &Engine, args: &[&[u8]]) -> RedisResult {
    let parsed = args::parse_generate(args).map_err(arg_error)?;
    let policy = config::policy();
    let spec = CodeSpec {
        ttl_secs: parsed.ttl_secs.unwrap_or(policy.ttl_secs),
        digits: parsed.digits.unwrap_or(policy.digits),
        attempts: parsed.attempts.unwrap_or(policy.attempts),
    };
    let (name, identity_mac) = engine.locate(parsed.identity);
    let key = StoredKey::open(ctx, name.as_bytes(), true);
    let stored = key.read()?.unwrap_or_default();
    let now = now_ms();
    let outcome = machine::generate(stored, now, &policy, spec, &mut rand::rng(), |code| {
        engine.keys.code_mac(&identity_mac, parsed.purpose, code)
    });
    match outcome {
        Ok((code, change)) => {
            key.apply(change)?;
            stats::GENERATED.bump();
            reply_bulk(ctx, code.as_bytes());
            Ok(RedisValue::NoReply)
        }
        Err(refusal) => {
            match refusal {
                Refusal::Cooldown { .. } => stats::COOLDOWN.bump(),
                Refusal::RateLimit { .. } => stats::RATELIMIT.bump(),
                Refusal::Locked { .. } => stats::LOCKED.bump(),
            }
            Err(RedisError::String(refusal.message(now)))
        }
    }
}

fn verify(ctx: &Context, engine: &Engine, args: &[&[u8]]) -> RedisResult {
    let parsed = args::parse_verify(args).map_err(arg_error)?;
    let (name, identity_mac) = engine.locate(parsed.identity);
    let key = StoredKey::open(ctx, name.as_bytes(), true);
    let Some(stored) = key.read()? else {
        stats::EXPIRED.bump();
        return Ok(RedisValue::SimpleStringStatic(Verdict::Expired.as_str()));
    };
    let (verdict, change) = machine::verify(stored, now_ms(), &config::policy(), || {
        engine
            .keys
            .code_mac(&identity_mac, parsed.purpose, parsed.code)
    });
    key.apply(change)?;
    match verdict {
        Verdict::Valid => stats::VALID.bump(),
        Verdict::Invalid => stats::INVALID.bump(),
        Verdict::Blocked => stats::BLOCKED.bump(),
        Verdict::Expired => stats::EXPIRED.bump(),
    }
    Ok(RedisValue::SimpleStringStatic(verdict.as_str()))
}

fn status(ctx: &Context, engine: &Engine, args: &[&[u8]]) -> RedisResult {
    let identity = args::parse_identity_only(args).map_err(arg_error)?;
    let (name, _) = engine.locate(identity);
    let stored = StoredKey::open(ctx, name.as_bytes(), false)
        .read()?
        .unwrap_or_default();
    let st = machine::status(stored, now_ms(), &config::policy());
    let fields: [(&str, u64); 5] = [
        ("ttl", st.ttl),
        ("attempts_left", st.attempts_left),
        ("resend_in", st.resend_in),
        ("sends_left", st.sends_left),
        ("failures", st.failures),
    ];
    // A map in RESP3, a flat field/value array in RESP2, always in this order.
    raw::reply_with_map(ctx.ctx, 1 + fields.len() as std::os::raw::c_long);
    reply_bulk(ctx, b"state");
    reply_bulk(ctx, st.state.as_str().as_bytes());
    for (field, value) in fields {
        reply_bulk(ctx, field.as_bytes());
        raw::reply_with_long_long(ctx.ctx, value.min(i64::MAX as u64) as i64);
    }
    Ok(RedisValue::NoReply)
}

fn reply_bulk(ctx: &Context, bytes: &[u8]) {
    raw::reply_with_string_buffer(ctx.ctx, bytes.as_ptr().cast(), bytes.len());
}

fn cancel(ctx: &Context, engine: &Engine, args: &[&[u8]]) -> RedisResult {
    let identity = args::parse_identity_only(args).map_err(arg_error)?;
    let (name, _) = engine.locate(identity);
    let key = StoredKey::open(ctx, name.as_bytes(), true);
    let Some(stored) = key.read()? else {
        return Ok(RedisValue::Integer(0));
    };
    let (removed, change) = machine::cancel(stored, now_ms());
    key.apply(change)?;
    Ok(RedisValue::Integer(i64::from(removed)))
}

fn reset(ctx: &Context, engine: &Engine, args: &[&[u8]]) -> RedisResult {
    let identity = args::parse_identity_only(args).map_err(arg_error)?;
    let (name, _) = engine.locate(identity);
    let key = StoredKey::open(ctx, name.as_bytes(), true);
    if !key.exists()? {
        return Ok(RedisValue::Integer(0));
    }
    key.delete()?;
    Ok(RedisValue::Integer(1))
}

pub fn otp_generate(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, &args, 1, generate)
}

pub fn otp_verify(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, &args, 2, verify)
}

pub fn otp_status(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, &args, 1, status)
}

pub fn otp_cancel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, &args, 1, cancel)
}

pub fn otp_reset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, &args, 1, reset)
}
