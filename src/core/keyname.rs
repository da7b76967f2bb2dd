//! Where an identity's state lives: `<prefix>{<tag>}<hash>`.
//!
//! The hash is a keyed MAC of the identity (computed by `secret::Keys`), so the identity
//! appears nowhere in the keyspace. The tag is a short string chosen so that the key hashes
//! to the same Redis Cluster slot as the identity itself: cluster clients route the command
//! by the identity (its declared key), and resharding moves the stored key along with it.

/// Bytes of the identity MAC that name the key: 112 bits, 19 base64url characters.
pub const NAME_HASH_LEN: usize = 14;
pub const SLOTS: usize = 16_384;

const TAG_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MAX_TAG_LEN: usize = 4;

/// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
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

fn push_base64url(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
        let chars = chunk.len() + 1;
        for k in 0..chars {
            out.push(BASE64URL[((n >> (18 - 6 * k)) & 63) as usize]);
        }
    }
}

/// The stored key for an identity, given the identity's MAC.
pub fn key_name(prefix: &[u8], tags: &SlotTags, identity: &[u8], identity_mac: &[u8]) -> Vec<u8> {
    let tag = tags.tag(key_slot(identity));
    let mut name = Vec::with_capacity(prefix.len() + tag.len() + 2 + 19);
    name.extend_from_slice(prefix);
    name.push(b'{');
    name.extend_from_slice(tag);
    name.push(b'}');
    push_base64url(
        &mut name,
        &identity_mac[..NAME_HASH_LEN.min(identity_mac.len())],
    );
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
            assert_eq!(key_slot(&name), key_slot(identity));
            assert!(name.starts_with(b"otp:{"));
        }
    }

    #[test]
    fn key_name_is_compact_and_printable() {
        let name = key_name(b"otp:", tags(), b"alice", &[0xFFu8; 32]);
        let text = String::from_utf8(name).expect("ascii");
        assert!(text.len() <= 4 + 5 + 19, "{text}");
        assert!(text.ends_with("__________________8"), "{text}");
    }

    #[test]
    fn base64url_known_values() {
        let mut out = Vec::new();
        push_base64url(&mut out, b"foobar");
        assert_eq!(out, b"Zm9vYmFy");
        out.clear();
        push_base64url(&mut out, b"fo");
        assert_eq!(out, b"Zm8");
    }
}
