//! The live policy: layers loaded and reloaded, readers never blocked long.

use std::path::Path;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use toolplane_core::{Principal, ToolSpec};

use super::eval::Policy;
use super::load::{LayerRules, PolicyError, parse_layer};
use super::{Layer, PermissionDecision};

/// The active policy, swapped atomically on reload.
///
/// Each layer is loaded on its own; a layer that fails to load leaves the
/// previous policy (all layers) active and returns the error.
///
/// ```
/// use toolplane_security::policy::{Layer, PolicyStore};
/// let store = PolicyStore::new();
/// store.load_str(Layer::User, "user.toml", "[[rule]]\nid='a'\neffect='allow'\ntools=['x']").unwrap();
/// let err = store.load_str(Layer::User, "user.toml", "[[rule]\n").unwrap_err();
/// assert!(err.to_string().starts_with("user.toml:1:"));
/// assert_eq!(store.current().len(), 1); // the previous policy is still active
/// ```
#[derive(Debug, Default)]
pub struct PolicyStore {
    current: RwLock<Arc<Policy>>,
    layers: Mutex<[Option<LayerRules>; 3]>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::deny_all()
    }
}

impl PolicyStore {
    /// A store with no rules (everything denied).
    pub fn new() -> Self {
        Self::default()
    }

    /// The policy in force; cheap (an `Arc` clone).
    pub fn current(&self) -> Arc<Policy> {
        self.current.read().clone()
    }

    /// Loads or replaces one layer from TOML text.
    pub fn load_str(&self, layer: Layer, origin: &str, text: &str) -> Result<(), PolicyError> {
        let parsed = parse_layer(text, origin, layer)?;
        let mut layers = self.layers.lock();
        let mut next = layers.clone();
        next[layer as usize] = Some(parsed);
        let policy = Policy::compile(next.iter().flatten().cloned().collect())?;
        *layers = next;
        *self.current.write() = Arc::new(policy);
        Ok(())
    }

    /// Loads or replaces one layer from a TOML file.
    pub fn load_file(&self, layer: Layer, path: &Path) -> Result<(), PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        self.load_str(layer, &origin, &text)
    }

    /// Removes a layer.
    pub fn clear(&self, layer: Layer) {
        let mut layers = self.layers.lock();
        layers[layer as usize] = None;
        if let Ok(p) = Policy::compile(layers.iter().flatten().cloned().collect()) {
            *self.current.write() = Arc::new(p);
        }
    }

    /// Evaluates with the current policy.
    pub fn evaluate(&self, principal: Option<&Principal>, spec: &ToolSpec, args: &Value) -> PermissionDecision {
        self.current().evaluate(principal, spec, args)
    }
}
