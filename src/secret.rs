//! The secret file and the keyed hashes made from it. Nothing here is ever logged or shown.

use crate::core::record::{CodeMac, CODE_MAC_LEN};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

pub const MIN_SECRET_LEN: usize = 32;

/// Two keys derived from the secret, each kept as a ready-keyed HMAC state that is cloned per
/// call (keying HMAC afresh costs two extra SHA-256 blocks).
#[derive(Clone)]
pub struct Keys {
    identity: HmacSha256,
    code: HmacSha256,
}

/// A secret file that could be read, with what the operator should be warned about.
pub struct LoadedSecret {
    pub keys: Keys,
    pub warning: Option<String>,
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: new_from_slice cannot fail for it.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts every key length"), // infallible
    }
}

fn derive(secret: &[u8], label: &[u8]) -> HmacSha256 {
    let mut mac = keyed(secret);
    mac.update(label);
    keyed(&mac.finalize().into_bytes())
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Result<Keys, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the secret is {} bytes, it must be at least {MIN_SECRET_LEN}",
                secret.len()
            ));
        }
        Ok(Keys {
            identity: derive(secret, b"redis-otp v1 identity"),
            code: derive(secret, b"redis-otp v1 code"),
        })
    }

    /// Names the identity in the keyspace without revealing it.
    pub fn identity_mac(&self, identity: &[u8]) -> [u8; 32] {
        let mut mac = self.identity.clone();
        mac.update(identity);
        mac.finalize().into_bytes().into()
    }

    /// The stored form of a code, bound to its identity and purpose.
    pub fn code_mac(&self, identity_mac: &[u8; 32], purpose: &[u8], code: &[u8]) -> CodeMac {
        let mut mac = self.code.clone();
        mac.update(identity_mac);
        mac.update(&(purpose.len() as u32).to_le_bytes());
        mac.update(purpose);
        mac.update(code);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; CODE_MAC_LEN];
        out.copy_from_slice(&full[..CODE_MAC_LEN]);
        out
    }
}

/// The file's content without its trailing newline.
fn secret_bytes(mut content: Vec<u8>) -> Vec<u8> {
    if content.last() == Some(&b'\n') {
        content.pop();
        if content.last() == Some(&b'\r') {
            content.pop();
        }
    }
    content
}

/// Reads the secret file; errors name the path and what is wrong, never the content.
pub fn load(path: &str) -> Result<LoadedSecret, String> {
    if path.is_empty() {
        return Err("otp.secret-file is not set: give `secret-file <path>` to loadmodule".into());
    }
    let file = Path::new(path);
    let content =
        std::fs::read(file).map_err(|e| format!("cannot read otp.secret-file '{path}': {e}"))?;
    let keys = Keys::from_secret(&secret_bytes(content))
        .map_err(|e| format!("otp.secret-file '{path}' is too short: {e}"))?;
    let warning = std::fs::metadata(file)
        .ok()
        .map(|meta| meta.permissions().mode())
        .filter(|mode| mode & 0o077 != 0)
        .map(|mode| {
            format!(
                "otp.secret-file '{path}' has mode {:o}: it is readable by group or others, chmod 600 it",
                mode & 0o777
            )
        });
    Ok(LoadedSecret { keys, warning })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(name: &str, content: &[u8], mode: u32) -> String {
        let dir = std::env::temp_dir().join(format!("redis-otp-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn trailing_newline_is_not_part_of_the_secret() {
        let a = Keys::from_secret(&secret_bytes(
            b"0123456789abcdef0123456789abcdef\n".to_vec(),
        ));
        let b = Keys::from_secret(b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            a.unwrap().identity_mac(b"alice"),
            b.unwrap().identity_mac(b"alice")
        );
        assert_eq!(secret_bytes(b"abc\r\n".to_vec()), b"abc");
        assert_eq!(secret_bytes(b"abc\n\n".to_vec()), b"abc\n");
    }

    #[test]
    fn short_missing_and_open_files() {
        let short = temp_file("short", b"tooshort\n", 0o600);
        let err = load(&short).err().unwrap();
        assert!(
            err.contains("too short") && err.contains("8 bytes"),
            "{err}"
        );
        assert!(
            !err.contains("tooshort"),
            "the secret must not appear: {err}"
        );

        let err = load("/nonexistent/otp.secret").err().unwrap();
        assert!(
            err.starts_with("cannot read otp.secret-file '/nonexistent/otp.secret'"),
            "{err}"
        );
        assert!(load("").err().unwrap().contains("not set"));

        let open = temp_file("open", &[b'k'; 40], 0o644);
        let loaded = load(&open).unwrap();
        assert!(loaded.warning.unwrap().contains("mode 644"));
        let private = temp_file("private", &[b'k'; 40], 0o600);
        assert!(load(&private).unwrap().warning.is_none());
    }

    #[test]
    fn macs_depend_on_secret_identity_purpose_and_code() {
        let keys = Keys::from_secret(&[1u8; 32]).unwrap();
        let other = Keys::from_secret(&[2u8; 32]).unwrap();
        let id = keys.identity_mac(b"alice");
        assert_ne!(id, keys.identity_mac(b"bob"));
        assert_ne!(id, other.identity_mac(b"alice"));
        let base = keys.code_mac(&id, b"", b"123456");
        assert_eq!(base, keys.code_mac(&id, b"", b"123456"));
        assert_ne!(base, keys.code_mac(&id, b"login", b"123456"));
        assert_ne!(base, keys.code_mac(&id, b"", b"123457"));
        assert_ne!(
            base,
            keys.code_mac(&keys.identity_mac(b"bob"), b"", b"123456")
        );
        // The purpose length is framed: ("a", "1...") differs from ("a1", "...").
        assert_ne!(
            keys.code_mac(&id, b"a", b"1234"),
            keys.code_mac(&id, b"a1", b"234")
        );
    }
}
