//! Building a provider from a name, for CLIs and configuration files.

use std::sync::Arc;

use toolplane_core::ChatProvider;

use crate::config::{ConfigError, ProviderConfig, VendorEnv};

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
    "llama-cpp",
    #[cfg(feature = "openai")]
    "openrouter",
    #[cfg(feature = "openai")]
    "together",
    #[cfg(feature = "openai")]
    "deepseek",
    #[cfg(feature = "openai")]
    "openai-compatible",
    #[cfg(feature = "anthropic")]
    "anthropic",
    #[cfg(feature = "mistral")]
    "mistral",
    #[cfg(feature = "cohere")]
    "cohere",
    #[cfg(feature = "gemini")]
    "gemini",
];

/// Any other OpenAI-compatible server: no default base URL, so `base_url`
/// must be given; the key is optional.
#[cfg(feature = "openai")]
const OPENAI_COMPATIBLE_ENV: VendorEnv = VendorEnv {
    provider: "openai-compatible",
    key: "OPENAI_API_KEY",
    base_url: None,
    default_base_url: "",
    key_required: false,
};

/// A provider by name, configured from the environment, with `model` as the
/// default model (used when a request leaves `model` empty) and `base_url`
/// overriding the vendor's or the environment's.
///
/// | name | key | base URL (default) |
/// | --- | --- | --- |
/// | `openai` | `OPENAI_API_KEY` | `OPENAI_BASE_URL` (`https://api.openai.com/v1`) |
/// | `openai-responses` | `OPENAI_API_KEY` | same, Responses API |
/// | `azure` | `AZURE_OPENAI_API_KEY` | `AZURE_OPENAI_ENDPOINT` + deployment `model`, `OPENAI_API_VERSION` (`2024-10-21`) |
/// | `ollama` | none (`OLLAMA_API_KEY` for ollama.com) | `OLLAMA_HOST` + `/v1` (`http://localhost:11434/v1`) |
/// | `vllm` | `VLLM_API_KEY` (optional) | `VLLM_BASE_URL` (`http://localhost:8000/v1`) |
/// | `llama-cpp` | `LLAMA_API_KEY` (optional) | `LLAMA_CPP_BASE_URL` (`http://localhost:8080/v1`) |
/// | `groq` | `GROQ_API_KEY` | `https://api.groq.com/openai/v1` |
/// | `openrouter` | `OPENROUTER_API_KEY` | `https://openrouter.ai/api/v1` |
/// | `together` | `TOGETHER_API_KEY` | `https://api.together.xyz/v1` |
/// | `deepseek` | `DEEPSEEK_API_KEY` | `https://api.deepseek.com/v1` |
/// | `openai-compatible` | `OPENAI_API_KEY` (optional) | `base_url` (required) |
/// | `anthropic` | `ANTHROPIC_API_KEY` | `ANTHROPIC_BASE_URL` (`https://api.anthropic.com`) |
/// | `mistral` | `MISTRAL_API_KEY` | `MISTRAL_BASE_URL` (`https://api.mistral.ai/v1`) |
/// | `cohere` | `CO_API_KEY` | `CO_API_URL` (`https://api.cohere.com`) |
/// | `gemini` | `GOOGLE_API_KEY` or `GEMINI_API_KEY` | `GEMINI_BASE_URL` (`https://generativelanguage.googleapis.com/v1beta`) |
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
    provider_from_name_with(name, model, base_url, |cfg| cfg)
}

/// [`provider_from_name`], with `configure` applied to the configuration
/// read from the environment before the provider is built: time limits,
/// size limits, retries, strict tools.
///
/// ```
/// use std::time::Duration;
/// use toolplane_providers::{Timeouts, provider_from_name_with};
/// let p = provider_from_name_with("ollama", "llama3.2", None, |cfg| {
///     cfg.with_timeouts(Timeouts { total: Duration::from_secs(30), ..Timeouts::default() })
///         .with_strict_tools(true)
/// })?;
/// assert_eq!(p.name(), "ollama");
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
pub fn provider_from_name_with(
    name: &str,
    model: &str,
    base_url: Option<&str>,
    configure: impl Fn(ProviderConfig) -> ProviderConfig,
) -> Result<Arc<dyn ChatProvider>, ConfigError> {
    let finish = |mut cfg: ProviderConfig| {
        if let Some(url) = base_url {
            cfg = cfg.with_base_url(url);
        }
        if !model.is_empty() {
            cfg = cfg.with_default_model(model);
        }
        configure(cfg)
    };
    let env = |vendor: VendorEnv| vendor.config().map(finish);
    #[cfg(feature = "openai")]
    let compatible = |vendor: VendorEnv| -> Result<Arc<dyn ChatProvider>, ConfigError> {
        Ok(Arc::new(crate::OpenAiProvider::compatible(
            vendor.provider,
            env(vendor)?,
        )?))
    };
    let p: Arc<dyn ChatProvider> = match name {
        #[cfg(feature = "openai")]
        "openai" => Arc::new(crate::OpenAiProvider::new(env(crate::openai::OPENAI_ENV)?)?),
        #[cfg(feature = "openai")]
        "openai-responses" => Arc::new(crate::OpenAiResponsesProvider::new(env(crate::openai::OPENAI_ENV)?)?),
        #[cfg(feature = "openai")]
        "azure" => {
            let endpoint = base_url
                .map(str::to_owned)
                .or_else(|| std::env::var("AZURE_OPENAI_ENDPOINT").ok())
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_default();
            let key = crate::config::env_key("AZURE_OPENAI_API_KEY").ok_or_else(|| ConfigError::MissingKey {
                provider: "azure-openai".into(),
                env: "AZURE_OPENAI_API_KEY".into(),
            })?;
            let version = std::env::var("OPENAI_API_VERSION")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "2024-10-21".into());
            Arc::new(crate::OpenAiProvider::azure_with(
                &endpoint,
                model,
                &version,
                key.expose(),
                &configure,
            )?)
        }
        #[cfg(feature = "openai")]
        preset if crate::presets::by_name(preset).is_some() => {
            let preset = crate::presets::by_name(preset)
                .ok_or_else(|| ConfigError::UnknownProvider(preset.to_owned(), KNOWN_PROVIDERS.join(", ")))?;
            Arc::new(crate::OpenAiProvider::with_preset(
                preset,
                finish(preset.config_from_env()?),
            )?)
        }
        #[cfg(feature = "openai")]
        "openai-compatible" => compatible(OPENAI_COMPATIBLE_ENV)?,
        #[cfg(feature = "anthropic")]
        "anthropic" => Arc::new(crate::AnthropicProvider::new(env(crate::anthropic::ANTHROPIC_ENV)?)?),
        #[cfg(feature = "mistral")]
        "mistral" => Arc::new(crate::MistralProvider::new(env(crate::mistral::MISTRAL_ENV)?)?),
        #[cfg(feature = "cohere")]
        "cohere" => Arc::new(crate::CohereProvider::new(env(crate::cohere::COHERE_ENV)?)?),
        #[cfg(feature = "gemini")]
        "gemini" | "google" => Arc::new(crate::GeminiProvider::new(crate::gemini::with_second_key(env(
            crate::gemini::GEMINI_ENV,
        )?)?)?),
        other => {
            return Err(ConfigError::UnknownProvider(
                other.to_owned(),
                KNOWN_PROVIDERS.join(", "),
            ));
        }
    };
    Ok(p)
}
