//! What the commands share once the module has loaded: the keys from the secret, the key
//! prefix and the slot tags. Built in `init`, dropped in `deinit`.

use crate::core::keyname::{key_name, KeyName, SlotTags};
use crate::secret::Keys;
use std::sync::{Arc, RwLock};

pub struct Engine {
    pub keys: Keys,
    pub prefix: Vec<u8>,
    pub tags: SlotTags,
}

impl Engine {
    /// The stored key for an identity, and the identity's MAC (the code MAC binds to it).
    pub fn locate(&self, identity: &[u8]) -> (KeyName, [u8; 32]) {
        let identity_mac = self.keys.identity_mac(identity);
        let name = key_name(&self.prefix, &self.tags, identity, &identity_mac);
        (name, identity_mac)
    }
}

static ENGINE: RwLock<Option<Arc<Engine>>> = RwLock::new(None);

pub fn install(engine: Option<Engine>) {
    let value = engine.map(Arc::new);
    match ENGINE.write() {
        Ok(mut slot) => *slot = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

pub fn current() -> Option<Arc<Engine>> {
    match ENGINE.read() {
        Ok(slot) => slot.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}
