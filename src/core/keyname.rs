//! Where an identity's state lives: `<prefix>{<tag>}<hash>`.
//!
//! The hash is a keyed MAC of the identity (computed by `secret::Keys`), so the identity
//! appears nowhere in the keyspace. The tag is a short string chosen so that the key hashes
//! to the same Redis Cluster slot as the identity itself: cluster clients route the command
//! by the identity (its declared key), and resharding moves the stored key along with it.

use super::limits;

/// Bytes of the identity MAC that name the key: 112 bits, 19 base64url characters.
pub const NAME_HASH_LEN: usize = 14;
pub const SLOTS: usize = 16_384;

const TAG_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MAX_TAG_LEN: usize = 4;

/// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with; table-driven, since
/// every command hashes its identity.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &byte| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ byte)]
    })
}

const CRC16_TABLE: [u16; 256] = crc16_table();

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The cluster slot of a key, honouring a `{hash tag}` the way Redis does.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let after = &key[open + 1..];
            after
                .iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &after[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % SLOTS as u16
}

/// For every slot, the shortest alphanumeric tag that hashes to it.
pub struct SlotTags {
    tags: Vec<([u8; MAX_TAG_LEN], u8)>,
}

impl SlotTags {
    /// Fills the table by trying tags of growing length; about 240,000 CRCs.
    pub fn build() -> SlotTags {
        let mut tags = vec![([0u8; MAX_TAG_LEN], 0u8); SLOTS];
        let mut missing = SLOTS;
        let mut candidate = [0u8; MAX_TAG_LEN];
        for len in 1..=MAX_TAG_LEN {
            let mut digits = vec![0usize; len];
            'this_length: loop {
                for (slot_byte, &d) in candidate.iter_mut().zip(&digits) {
                    *slot_byte = TAG_ALPHABET[d];
                }
                let slot = usize::from(crc16(&candidate[..len])) % SLOTS;
                if tags[slot].1 == 0 {
                    tags[slot] = (candidate, len as u8);
                    missing -= 1;
                    if missing == 0 {
                        return SlotTags { tags };
                    }
                }
                // Next candidate of this length, like an odometer.
                let mut i = len;
                loop {
                    if i == 0 {
                        break 'this_length;
                    }
                    i -= 1;
                    digits[i] += 1;
                    if digits[i] < TAG_ALPHABET.len() {
                        break;
                    }
                    digits[i] = 0;
                }
            }
        }
        SlotTags { tags }
    }

    pub fn tag(&self, slot: u16) -> &[u8] {
        let (bytes, len) = &self.tags[usize::from(slot) % SLOTS];
        &bytes[..usize::from(*len)]
    }

    /// Whether every slot got a tag (checked once at load).
    pub fn is_complete(&self) -> bool {
        self.tags.iter().all(|(_, len)| *len > 0)
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Longest name: the longest prefix, braces, the longest tag and the hash.
const MAX_NAME_LEN: usize = limits::MAX_KEY_PREFIX_LEN + 2 + MAX_TAG_LEN + 19;

/// A key name built on the stack: every command makes one, so no allocation.
pub struct KeyName {
    bytes: [u8; MAX_NAME_LEN],
    len: usize,
}

impl KeyName {
    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_NAME_LEN - self.len;
        let take = bytes.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
    }

    fn push_base64url(&mut self, bytes: &[u8]) {
        let mut out = [0u8; 4 * NAME_HASH_LEN.div_ceil(3)];
        let mut len = 0;
        for chunk in bytes.chunks(3) {
            let mut group = [0u8; 3];
            group[..chunk.len()].copy_from_slice(chunk);
            let n = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
            for k in 0..=chunk.len() {
                if let Some(slot) = out.get_mut(len) {
                    *slot = BASE64URL[((n >> (18 - 6 * k)) & 63) as usize];
                    len += 1;
                }
            }
        }
        self.push(&out[..len]);
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The stored key for an identity, given the identity's MAC. The prefix is at most
/// `MAX_KEY_PREFIX_LEN` bytes (checked at load).
pub fn key_name(prefix: &[u8], tags: &SlotTags, identity: &[u8], identity_mac: &[u8]) -> KeyName {
    let mut name = KeyName {
        bytes: [0; MAX_NAME_LEN],
        len: 0,
    };
    name.push(&prefix[..prefix.len().min(limits::MAX_KEY_PREFIX_LEN)]);
    name.push(b"{");
    name.push(tags.tag(key_slot(identity)));
    name.push(b"}");
    name.push_base64url(&identity_mac[..NAME_HASH_LEN.min(identity_mac.len())]);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn tags() -> &'static SlotTags {
        static TAGS: OnceLock<SlotTags> = OnceLock::new();
        TAGS.get_or_init(SlotTags::build)
    }

    #[test]
    fn crc16_matches_redis() {
        // Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"somekey"), 11058);
    }

    #[test]
    fn hash_tags_follow_redis_rules() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(
            key_slot(b"no close {here"),
            crc16(b"no close {here") % 16384
        );
    }

    #[test]
    fn every_slot_has_a_short_tag() {
        let tags = tags();
        assert!(tags.is_complete());
        for slot in 0..SLOTS as u16 {
            let tag = tags.tag(slot);
            assert!(!tag.is_empty() && tag.len() <= 3, "slot {slot}");
            assert_eq!(crc16(tag) % 16384, slot);
        }
    }

    #[test]
    fn key_lands_in_the_identity_slot() {
        let tags = tags();
        let mac = [0xABu8; 32];
        for identity in [
            &b"+15551234567"[..],
            b"alice@example.com",
            b"{tagged}identity",
            b"\x00\xff binary",
            b"x",
        ] {
            let name = key_name(b"otp:", tags, identity, &mac);
            assert_eq!(key_slot(name.as_bytes()), key_slot(identity));
            assert!(name.as_bytes().starts_with(b"otp:{"));
        }
    }

    #[test]
    fn key_name_is_compact_and_printable() {
        let name = key_name(b"otp:", tags(), b"alice", &[0xFFu8; 32]);
        let text = String::from_utf8(name.as_bytes().to_vec()).expect("ascii");
        assert!(text.len() <= 4 + 5 + 19, "{text}");
        assert!(text.ends_with("__________________8"), "{text}");
    }

    #[test]
    fn base64url_known_values() {
        let empty = || KeyName {
            bytes: [0; MAX_NAME_LEN],
            len: 0,
        };
        let mut name = empty();
        name.push_base64url(b"foobar");
        assert_eq!(name.as_bytes(), b"Zm9vYmFy");
        let mut name = empty();
        name.push_base64url(b"fo");
        assert_eq!(name.as_bytes(), b"Zm8");
    }

    #[test]
    fn longest_prefix_fits() {
        let prefix = [b'p'; 64];
        let name = key_name(&prefix, tags(), b"alice", &[1u8; 32]);
        assert!(name.as_bytes().starts_with(&prefix));
        assert!(name.as_bytes().ends_with(b"}AQEBAQEBAQEBAQEBAQE"));
    }
}
