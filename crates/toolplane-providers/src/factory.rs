//! Building a provider from a name, for CLIs and configuration files.

use std::sync::Arc;

use toolplane_core::ChatProvider;

use crate::config::{ConfigError, ProviderConfig};

/// The names [`provider_from_name`] knows in this build.
pub const KNOWN_PROVIDERS: &[&str] = &[
    #[cfg(feature = "openai")]
    "openai",
    #[cfg(feature = "openai")]
    "openai-responses",
    #[cfg(feature = "openai")]
    "azure",
    #[cfg(feature = "openai")]
    "groq",
    #[cfg(feature = "openai")]
    "ollama",
    #[cfg(feature = "openai")]
    "vllm",
    #[cfg(feature = "openai")]
    "openai-compatible",
    #[cfg(feature = "anthropic")]
    "anthropic",
    #[cfg(feature = "mistral")]
    "mistral",
    #[cfg(feature = "cohere")]
    "cohere",
];

/// A provider by name, configured from the environment, with `model` as the
/// default model (used when a request leaves `model` empty) and `base_url`
/// overriding the vendor's or the environment's.
///
/// | name | key | base URL (default) |
/// | --- | --- | --- |
/// | `openai` | `OPENAI_API_KEY` | `OPENAI_BASE_URL` (`https://api.openai.com/v1`) |
/// | `openai-responses` | `OPENAI_API_KEY` | same, Responses API |
/// | `azure` | `AZURE_OPENAI_API_KEY` | `AZURE_OPENAI_ENDPOINT` + deployment `model`, `OPENAI_API_VERSION` (`2024-10-21`) |
/// | `groq` | `GROQ_API_KEY` | `https://api.groq.com/openai/v1` |
/// | `ollama` | none | `http://localhost:11434/v1` |
/// | `vllm` | `VLLM_API_KEY` (optional) | `http://localhost:8000/v1` |
/// | `openai-compatible` | `OPENAI_API_KEY` (optional) | `base_url` (required) |
/// | `anthropic` | `ANTHROPIC_API_KEY` | `ANTHROPIC_BASE_URL` (`https://api.anthropic.com`) |
/// | `mistral` | `MISTRAL_API_KEY` | `MISTRAL_BASE_URL` (`https://api.mistral.ai/v1`) |
/// | `cohere` | `CO_API_KEY` | `CO_API_URL` (`https://api.cohere.com`) |
///
/// ```
/// use toolplane_providers::{ConfigError, provider_from_name};
/// let local = provider_from_name("ollama", "llama3.2", None).unwrap();
/// assert_eq!(local.name(), "ollama");
/// assert!(matches!(provider_from_name("nope", "m", None), Err(ConfigError::UnknownProvider(..))));
/// ```
pub fn provider_from_name(
    name: &str,
    model: &str,
    base_url: Option<&str>,
) -> Result<Arc<dyn ChatProvider>, ConfigError> {
    let finish = |mut cfg: ProviderConfig| {
        if let Some(url) = base_url {
            cfg = cfg.with_base_url(url);
        }
        if !model.is_empty() {
            cfg = cfg.with_default_model(model);
        }
        cfg
    };
    let env = |provider: &str, key: &str, url_env: Option<&str>, default: &str, required: bool| {
        ProviderConfig::from_env(provider, key, url_env, default, required).map(finish)
    };
    let p: Arc<dyn ChatProvider> = match name {
        #[cfg(feature = "openai")]
        "openai" => {
            let cfg = env(
                "openai",
                "OPENAI_API_KEY",
                Some("OPENAI_BASE_URL"),
                crate::openai::OPENAI_BASE_URL,
                true,
            )?;
            Arc::new(crate::OpenAiProvider::new(cfg)?)
        }
        #[cfg(feature = "openai")]
        "openai-responses" => {
            let cfg = env(
                "openai",
                "OPENAI_API_KEY",
                Some("OPENAI_BASE_URL"),
                crate::openai::OPENAI_BASE_URL,
                true,
            )?;
            Arc::new(crate::OpenAiResponsesProvider::new(cfg)?)
        }
        #[cfg(feature = "openai")]
        "azure" => {
            let endpoint = base_url
                .map(str::to_owned)
                .or_else(|| std::env::var("AZURE_OPENAI_ENDPOINT").ok())
                .unwrap_or_default();
            let key = std::env::var("AZURE_OPENAI_API_KEY").map_err(|_| ConfigError::MissingKey {
                provider: "azure-openai".into(),
                env: "AZURE_OPENAI_API_KEY".into(),
            })?;
            let version = std::env::var("OPENAI_API_VERSION").unwrap_or_else(|_| "2024-10-21".into());
            Arc::new(crate::OpenAiProvider::azure(&endpoint, model, &version, &key)?)
        }
        #[cfg(feature = "openai")]
        "groq" => {
            let cfg = env("groq", "GROQ_API_KEY", None, "https://api.groq.com/openai/v1", true)?;
            Arc::new(crate::OpenAiProvider::compatible("groq", cfg)?)
        }
        #[cfg(feature = "openai")]
        "ollama" => {
            let cfg = env("ollama", "OLLAMA_API_KEY", None, "http://localhost:11434/v1", false)?;
            Arc::new(crate::OpenAiProvider::compatible("ollama", cfg)?)
        }
        #[cfg(feature = "openai")]
        "vllm" => {
            let cfg = env("vllm", "VLLM_API_KEY", None, "http://localhost:8000/v1", false)?;
            Arc::new(crate::OpenAiProvider::compatible("vllm", cfg)?)
        }
        #[cfg(feature = "openai")]
        "openai-compatible" => {
            let cfg = env("openai-compatible", "OPENAI_API_KEY", None, "", false)?;
            Arc::new(crate::OpenAiProvider::compatible("openai-compatible", cfg)?)
        }
        #[cfg(feature = "anthropic")]
        "anthropic" => {
            let cfg = env(
                "anthropic",
                "ANTHROPIC_API_KEY",
                Some("ANTHROPIC_BASE_URL"),
                crate::anthropic::ANTHROPIC_BASE_URL,
                true,
            )?;
            Arc::new(crate::AnthropicProvider::new(cfg)?)
        }
        #[cfg(feature = "mistral")]
        "mistral" => {
            let cfg = env(
                "mistral",
                "MISTRAL_API_KEY",
                Some("MISTRAL_BASE_URL"),
                crate::mistral::MISTRAL_BASE_URL,
                true,
            )?;
            Arc::new(crate::MistralProvider::new(cfg)?)
        }
        #[cfg(feature = "cohere")]
        "cohere" => {
            let cfg = env(
                "cohere",
                "CO_API_KEY",
                Some("CO_API_URL"),
                crate::cohere::COHERE_BASE_URL,
                true,
            )?;
            Arc::new(crate::CohereProvider::new(cfg)?)
        }
        other => {
            return Err(ConfigError::UnknownProvider(
                other.to_owned(),
                KNOWN_PROVIDERS.join(", "),
            ));
        }
    };
    Ok(p)
}
