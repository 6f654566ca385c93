//! Chat providers for toolplane: OpenAI (Chat Completions and the Responses
//! API, plus any OpenAI-compatible server such as Azure OpenAI, vLLM, Ollama
//! or Groq), Anthropic, Mistral, Cohere and Google Gemini, each implementing the core
//! [`ChatProvider`](toolplane_core::ChatProvider) trait.
//!
//! # Who should depend on this crate
//!
//! Hosts that talk to a real model: the CLI, the router's concrete back ends,
//! applications. Code that only *takes* a provider should depend on
//! `toolplane-core` and accept `Arc<dyn ChatProvider>`. Each vendor is a
//! feature (`openai`, `anthropic`, `mistral`, `cohere`, `gemini`, all on by default);
//! the SSE reader, rate-limit parsing, error mapper, retry policy and stream
//! decoders are always built and need no HTTP stack.
//!
//! # Shared pieces
//!
//! | module | what |
//! | --- | --- |
//! | [`sse`] | the one SSE reader (bytes in any chunking to events) |
//! | [`decode`] | the [`StreamDecoder`](decode::StreamDecoder) trait and the vendor decoders' driver |
//! | [`errors`] | the one error mapper (statuses and vendor bodies to core error kinds) |
//! | [`redact`] | the one redaction: the configured key byte for byte, plus secret-shaped words |
//! | [`ratelimit`] | `retry-after`, `x-ratelimit-*`, `anthropic-ratelimit-*` into a `RateLimitSnapshot` |
//! | [`RetryPolicy`] | exponential backoff with jitter, capped, honouring `retry-after` |
//!
//! # Entry points for hosts
//!
//! - `provider_from_name(name, model, base_url)`: a provider configured from
//!   the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `MISTRAL_API_KEY`,
//!   `CO_API_KEY`, `GOOGLE_API_KEY` / `GEMINI_API_KEY`, ...), as `Arc<dyn ChatProvider>`.
//! - [`chat_streamed`]: stream an answer, see each event, get the whole response.
//! - [`NormalizedResponse`]: the serializable view (text, tool calls with parsed
//!   arguments, stop reason, usage).
//! - Per-request headers, query parameters and strict tools: put a
//!   `RequestOptions` in the call context's extensions.
//! - `provider_from_name_with(name, model, base_url, |cfg| ...)`: the same,
//!   with time limits, size limits, retries or strict tools changed.
//! - `presets`: OpenAI-compatible servers (Ollama, vLLM, llama.cpp, Groq,
//!   OpenRouter, Together, DeepSeek) with requests shaped to what each accepts.
//! - Prompt caching: set `ChatRequest::cache` (a `PromptCache`); each vendor
//!   maps it (Anthropic breakpoints, OpenAI `prompt_cache_key`, Gemini `cachedContent`).
//! - `structured` (feature `structured`): `chat_structured::<T>()` on any provider.
//!
//! # Tools on the wire
//!
//! Every provider shapes the request's tools with its vendor's
//! `toolplane-schema` profile (the same function the registry's export
//! uses), sends each under a name the vendor accepts (`github.issues_create`
//! as `github__issues_create`) and maps the model's calls back to the
//! request's names, whole and streamed, so a namespaced tool round-trips
//! through every vendor. Strict definitions are sent where asked for
//! (`ProviderConfig::with_strict_tools`, `RequestOptions::with_strict_tools`).
//!
//! # Hostile servers
//!
//! Redirects are followed only within the configured origin (a key in a
//! custom header never reaches another host); response bodies and
//! event-stream lines have size limits (`ResponseLimits`); silence after
//! the headers ends the call without retries (`Timeouts`); and every error
//! leaves through [`redact`], which removes the configured key byte for
//! byte wherever it appears.
//!
//! # Example
//!
//! ```no_run
//! use toolplane_core::{CallContext, ChatRequest, Message};
//! use toolplane_providers::{NormalizedResponse, provider_from_name};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Reads OPENAI_API_KEY (and OPENAI_BASE_URL when set).
//! let provider = provider_from_name("openai", "gpt-4o-mini", None)?;
//! let req = ChatRequest::new("gpt-4o-mini", vec![Message::user("Say hi")]);
//! let answer = provider.chat(&req, &CallContext::new("req-1")).await?;
//! println!("{}", serde_json::to_string(&NormalizedResponse::from(&answer))?);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
// Without any vendor feature the shared decoding helpers have no user.
#![cfg_attr(
    not(any(
        feature = "openai",
        feature = "anthropic",
        feature = "mistral",
        feature = "cohere",
        feature = "gemini"
    )),
    allow(dead_code)
)]

mod collect;
pub mod decode;
pub mod errors;
mod google_status;
pub mod ratelimit;
pub mod redact;
mod retry;
pub mod sse;
mod tools;
mod trace;
mod view;

#[cfg(any(
    feature = "openai",
    feature = "anthropic",
    feature = "mistral",
    feature = "cohere",
    feature = "gemini"
))]
mod config;
#[cfg(any(
    feature = "openai",
    feature = "anthropic",
    feature = "mistral",
    feature = "cohere",
    feature = "gemini"
))]
mod factory;
#[cfg(any(
    feature = "openai",
    feature = "anthropic",
    feature = "mistral",
    feature = "cohere",
    feature = "gemini"
))]
mod http;

#[cfg(feature = "anthropic")]
pub mod anthropic;
#[cfg(feature = "cohere")]
pub mod cohere;
#[cfg(feature = "gemini")]
pub mod gemini;
#[cfg(feature = "mistral")]
pub mod mistral;
#[cfg(feature = "openai")]
pub mod openai;
#[cfg(feature = "openai")]
pub mod presets;
#[cfg(feature = "structured")]
pub mod structured;

pub use collect::chat_streamed;
pub use retry::RetryPolicy;
#[cfg(feature = "structured")]
pub use structured::{ChatStructuredExt, Structured, StructuredError};
pub use tools::mistral_call_id;
pub use view::{NormalizedResponse, ToolCallView};

#[cfg(any(
    feature = "openai",
    feature = "anthropic",
    feature = "mistral",
    feature = "cohere",
    feature = "gemini"
))]
pub use config::{ApiKey, AuthStyle, ConfigError, ProviderConfig, RequestOptions, ResponseLimits, Timeouts};
#[cfg(any(
    feature = "openai",
    feature = "anthropic",
    feature = "mistral",
    feature = "cohere",
    feature = "gemini"
))]
pub use factory::{KNOWN_PROVIDERS, provider_from_name, provider_from_name_with};

#[cfg(feature = "anthropic")]
pub use anthropic::AnthropicProvider;
#[cfg(feature = "cohere")]
pub use cohere::CohereProvider;
#[cfg(feature = "gemini")]
pub use gemini::GeminiProvider;
#[cfg(feature = "mistral")]
pub use mistral::MistralProvider;
#[cfg(feature = "openai")]
pub use openai::{OpenAiProvider, OpenAiResponsesProvider};
