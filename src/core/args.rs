//! Argument parsing for the OTP commands: client bytes in, typed requests or an error that
//! names what is wrong out. Nothing here touches Redis or the stored state.

use super::limits;
use std::ops::RangeInclusive;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// Too few or too many arguments: Redis's standard arity error.
    WrongArity,
    /// Anything else, as the full error text (code first).
    Invalid(String),
}

fn invalid(message: String) -> ArgError {
    ArgError::Invalid(format!("ERR {message}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateArgs<'a> {
    pub identity: &'a [u8],
    pub purpose: &'a [u8],
    pub ttl_secs: Option<u64>,
    pub digits: Option<u32>,
    pub attempts: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyArgs<'a> {
    pub identity: &'a [u8],
    pub code: &'a [u8],
    pub purpose: &'a [u8],
}

/// A client's bytes, made printable and short enough to quote in an error.
fn quote(bytes: &[u8]) -> String {
    const MAX: usize = 32;
    let clean: String = bytes[..bytes.len().min(MAX)]
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    if bytes.len() > MAX {
        format!("{clean}...")
    } else {
        clean
    }
}

fn identity(arg: &[u8]) -> Result<&[u8], ArgError> {
    if arg.is_empty() || arg.len() > limits::MAX_IDENTITY_LEN {
        return Err(invalid(format!(
            "identity must be 1 to {} bytes, got {}",
            limits::MAX_IDENTITY_LEN,
            arg.len()
        )));
    }
    Ok(arg)
}

fn purpose(arg: &[u8]) -> Result<&[u8], ArgError> {
    if arg.is_empty() || arg.len() > limits::MAX_PURPOSE_LEN {
        return Err(invalid(format!(
            "PURPOSE must be 1 to {} bytes, got {}",
            limits::MAX_PURPOSE_LEN,
            arg.len()
        )));
    }
    Ok(arg)
}

/// A whole number in `range`, or an error naming the option and the range.
pub fn number_in(name: &str, arg: &[u8], range: &RangeInclusive<i64>) -> Result<i64, String> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            format!(
                "{name} must be an integer from {} to {}, got '{}'",
                range.start(),
                range.end(),
                quote(arg)
            )
        })
}

fn option_number(name: &str, arg: &[u8], range: &RangeInclusive<i64>) -> Result<i64, ArgError> {
    number_in(name, arg, range).map_err(invalid)
}

/// Walks `NAME value` pairs, calling `apply` with the upper-cased name; rejects repeats.
fn options<'a>(
    command: &str,
    rest: &[&'a [u8]],
    known: &[&str],
    mut apply: impl FnMut(&str, &'a [u8]) -> Result<(), ArgError>,
) -> Result<(), ArgError> {
    let mut seen: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let raw = rest[i];
        let name = known
            .iter()
            .find(|k| k.as_bytes().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                invalid(format!(
                    "unknown option '{}' for {command} (it takes {})",
                    quote(raw),
                    known.join(", ")
                ))
            })?;
        if seen.contains(name) {
            return Err(invalid(format!("option {name} given more than once")));
        }
        seen.push(name);
        let value = rest
            .get(i + 1)
            .ok_or_else(|| invalid(format!("option {name} needs a value")))?;
        apply(name, value)?;
        i += 2;
    }
    Ok(())
}

/// `OTP.GENERATE identity [PURPOSE p] [TTL seconds] [DIGITS n] [ATTEMPTS n]`
pub fn parse_generate<'a>(args: &[&'a [u8]]) -> Result<GenerateArgs<'a>, ArgError> {
    let [_, id, rest @ ..] = args else {
        return Err(ArgError::WrongArity);
    };
    let mut parsed = GenerateArgs {
        identity: identity(id)?,
        purpose: b"",
        ttl_secs: None,
        digits: None,
        attempts: None,
    };
    let known = ["PURPOSE", "TTL", "DIGITS", "ATTEMPTS"];
    options("OTP.GENERATE", rest, &known, |name, value| {
        match name {
            "PURPOSE" => parsed.purpose = purpose(value)?,
            "TTL" => parsed.ttl_secs = Some(option_number(name, value, &limits::TTL_SECS)? as u64),
            "DIGITS" => parsed.digits = Some(option_number(name, value, &limits::DIGITS)? as u32),
            _ => parsed.attempts = Some(option_number(name, value, &limits::ATTEMPTS)? as u8),
        }
        Ok(())
    })?;
    Ok(parsed)
}

/// `OTP.VERIFY identity code [PURPOSE p]`
pub fn parse_verify<'a>(args: &[&'a [u8]]) -> Result<VerifyArgs<'a>, ArgError> {
    let [_, id, code, rest @ ..] = args else {
        return Err(ArgError::WrongArity);
    };
    let mut parsed = VerifyArgs {
        identity: identity(id)?,
        code,
        purpose: b"",
    };
    options("OTP.VERIFY", rest, &["PURPOSE"], |_, value| {
        parsed.purpose = purpose(value)?;
        Ok(())
    })?;
    Ok(parsed)
}

/// `OTP.STATUS identity`, `OTP.CANCEL identity`, `OTP.RESET identity`
pub fn parse_identity_only<'a>(args: &[&'a [u8]]) -> Result<&'a [u8], ArgError> {
    let [_, id] = args else {
        return Err(ArgError::WrongArity);
    };
    identity(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(result: Result<impl std::fmt::Debug, ArgError>) -> String {
        match result {
            Err(ArgError::Invalid(text)) => text,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn generate_with_no_options() {
        let parsed = parse_generate(&[b"OTP.GENERATE", b"alice"]).unwrap();
        assert_eq!(
            parsed,
            GenerateArgs {
                identity: b"alice",
                purpose: b"",
                ttl_secs: None,
                digits: None,
                attempts: None
            }
        );
    }

    #[test]
    fn generate_with_every_option_in_any_case() {
        let parsed = parse_generate(&[
            b"otp.generate",
            b"alice",
            b"ttl",
            b"30",
            b"Digits",
            b"8",
            b"ATTEMPTS",
            b"5",
            b"purpose",
            b"login",
        ])
        .unwrap();
        assert_eq!(parsed.ttl_secs, Some(30));
        assert_eq!(parsed.digits, Some(8));
        assert_eq!(parsed.attempts, Some(5));
        assert_eq!(parsed.purpose, b"login");
    }

    #[test]
    fn arity() {
        assert_eq!(
            parse_generate(&[b"OTP.GENERATE"]),
            Err(ArgError::WrongArity)
        );
        assert_eq!(
            parse_verify(&[b"OTP.VERIFY", b"a"]),
            Err(ArgError::WrongArity)
        );
        assert_eq!(
            parse_identity_only(&[b"OTP.STATUS"]),
            Err(ArgError::WrongArity)
        );
        assert_eq!(
            parse_identity_only(&[b"OTP.STATUS", b"a", b"b"]),
            Err(ArgError::WrongArity)
        );
    }

    #[test]
    fn out_of_range_and_malformed_numbers_are_named() {
        for (name, value, text) in [
            (
                &b"TTL"[..],
                &b"0"[..],
                "ERR TTL must be an integer from 1 to 86400, got '0'",
            ),
            (
                b"TTL",
                b"86401",
                "ERR TTL must be an integer from 1 to 86400, got '86401'",
            ),
            (
                b"DIGITS",
                b"3",
                "ERR DIGITS must be an integer from 4 to 10, got '3'",
            ),
            (
                b"DIGITS",
                b"11",
                "ERR DIGITS must be an integer from 4 to 10, got '11'",
            ),
            (
                b"ATTEMPTS",
                b"-1",
                "ERR ATTEMPTS must be an integer from 1 to 100, got '-1'",
            ),
            (
                b"ATTEMPTS",
                b"1.5",
                "ERR ATTEMPTS must be an integer from 1 to 100, got '1.5'",
            ),
            (
                b"TTL",
                b"99999999999999999999",
                "ERR TTL must be an integer from 1 to 86400, got '99999999999999999999'",
            ),
            (
                b"TTL",
                b"\xff\x00",
                "ERR TTL must be an integer from 1 to 86400, got '??'",
            ),
        ] {
            assert_eq!(err(parse_generate(&[b"G", b"id", name, value])), text);
        }
    }

    #[test]
    fn unknown_missing_and_repeated_options() {
        assert_eq!(
            err(parse_generate(&[b"G", b"id", b"FOO", b"1"])),
            "ERR unknown option 'FOO' for OTP.GENERATE (it takes PURPOSE, TTL, DIGITS, ATTEMPTS)"
        );
        assert_eq!(
            err(parse_generate(&[b"G", b"id", b"TTL"])),
            "ERR option TTL needs a value"
        );
        assert_eq!(
            err(parse_generate(&[b"G", b"id", b"TTL", b"5", b"ttl", b"6"])),
            "ERR option TTL given more than once"
        );
        assert_eq!(
            err(parse_verify(&[b"V", b"id", b"123", b"TTL", b"5"])),
            "ERR unknown option 'TTL' for OTP.VERIFY (it takes PURPOSE)"
        );
        assert_eq!(
            err(parse_verify(&[b"V", b"id", b"123", b"PURPOSE"])),
            "ERR option PURPOSE needs a value"
        );
    }

    #[test]
    fn identity_and_purpose_lengths() {
        assert_eq!(
            err(parse_generate(&[b"G", b""])),
            "ERR identity must be 1 to 1024 bytes, got 0"
        );
        let long = vec![b'x'; 1025];
        assert_eq!(
            err(parse_identity_only(&[b"S", &long])),
            "ERR identity must be 1 to 1024 bytes, got 1025"
        );
        assert!(parse_identity_only(&[b"S", &long[..1024]]).is_ok());
        assert_eq!(
            err(parse_verify(&[b"V", b"id", b"1", b"PURPOSE", b""])),
            "ERR PURPOSE must be 1 to 256 bytes, got 0"
        );
    }

    #[test]
    fn verify_takes_any_code_bytes() {
        let parsed = parse_verify(&[b"V", b"id", b"\x00abc", b"PURPOSE", b"reset"]).unwrap();
        assert_eq!(parsed.code, b"\x00abc");
        assert_eq!(parsed.purpose, b"reset");
    }

    #[test]
    fn quoted_input_is_short_and_printable() {
        let long = vec![b'A'; 100];
        let text = err(parse_generate(&[b"G", b"id", &long, b"1"]));
        assert!(text.contains(&format!("'{}...'", "A".repeat(32))), "{text}");
        let text = err(parse_generate(&[b"G", b"id", b"a\r\nb", b"1"]));
        assert!(text.contains("'a??b'"), "{text}");
    }
}
