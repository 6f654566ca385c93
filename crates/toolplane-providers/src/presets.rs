//! Named presets for OpenAI-compatible servers: where each one lives, which
//! key it reads, and which parts of the Chat Completions request it does not
//! accept, so requests are shaped to what the server takes instead of failing.
//!
//! | preset | base URL (default) | key | shaped away |
//! | --- | --- | --- | --- |
//! | [`OLLAMA`] | `OLLAMA_HOST` + `/v1` (`http://localhost:11434/v1`) | none (`OLLAMA_API_KEY` for ollama.com) | `parallel_tool_calls`, `strict`, `user`; a named tool choice becomes `required` over that tool |
//! | [`VLLM`] | `VLLM_BASE_URL` (`http://localhost:8000/v1`) | `VLLM_API_KEY` (optional) | `strict` (its guided decoding enforces the schema anyway) |
//! | [`LLAMA_CPP`] | `LLAMA_CPP_BASE_URL` (`http://localhost:8080/v1`) | `LLAMA_API_KEY` (optional) | `stream_options` (usage comes on the last chunk), `strict`, `user`; named tool choice (llama-server turns it into `auto`) |
//! | [`GROQ`] | `https://api.groq.com/openai/v1` | `GROQ_API_KEY` | `messages[].name`, `logprobs`, `top_logprobs`, `logit_bias` (each a 400), `n` other than 1 |
//! | [`OPENROUTER`] | `https://openrouter.ai/api/v1` | `OPENROUTER_API_KEY` | nothing (it passes `prompt_cache_key` on to OpenAI models); sends `HTTP-Referer` / `X-Title` from `OPENROUTER_SITE_URL` / `OPENROUTER_APP_NAME` |
//! | [`TOGETHER`] | `https://api.together.xyz/v1` | `TOGETHER_API_KEY` | `stream_options` (usage comes on the last chunk), `parallel_tool_calls`, `strict` |
//! | [`DEEPSEEK`] | `https://api.deepseek.com/v1` | `DEEPSEEK_API_KEY` | `parallel_tool_calls`, `strict` (beta endpoint only), `logprobs`/`top_logprobs` (an error on the reasoner), a `json_schema` response format becomes `json_object` |
//!
//! Every preset but OpenRouter also drops OpenAI's `prompt_cache_key`.
//!
//! Reasoning deltas (`reasoning_content`, `reasoning`) become
//! [`ThinkingDelta`](toolplane_core::StreamEvent::ThinkingDelta) events and
//! are never sent back (DeepSeek answers a request that carries
//! `reasoning_content` with a 400).
//!
//! ```
//! use toolplane_core::{ChatRequest, Message};
//! use toolplane_providers::presets;
//! use toolplane_providers::{OpenAiProvider, ProviderConfig};
//! let p = OpenAiProvider::with_preset(&presets::GROQ, ProviderConfig::new(presets::GROQ.base_url).with_api_key("gsk_..."))?;
//! let mut req = ChatRequest::new("llama-3.3-70b-versatile", vec![Message::user("hi")]);
//! req.extra.insert("logprobs".into(), true.into());
//! assert!(p.request_body(&req, true).get("logprobs").is_none(), "Groq answers logprobs with a 400");
//! # Ok::<(), toolplane_providers::ConfigError>(())
//! ```

use serde_json::{Value, json};

use crate::config::{ApiKey, ConfigError, ProviderConfig};

/// What an OpenAI-compatible server accepts of the Chat Completions request.
/// `false` means the field is removed (or rewritten, where said) before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompatRules {
    /// `parallel_tool_calls`.
    pub parallel_tool_calls: bool,
    /// `stream_options.include_usage` (servers without it are assumed to send
    /// usage on their last chunk anyway).
    pub stream_options: bool,
    /// `strict: true` on tools and on a `json_schema` response format.
    pub strict_schemas: bool,
    /// A `tool_choice` naming one function; without it the choice becomes
    /// `required` and only that tool is sent.
    pub named_tool_choice: bool,
    /// `response_format: json_schema`; without it `json_object` is sent.
    pub json_schema: bool,
    /// `user`.
    pub user: bool,
    /// `seed`.
    pub seed: bool,
    /// `name` on messages.
    pub message_name: bool,
    /// `prompt_cache_key` (OpenAI's; the presets' servers cache on their own).
    pub prompt_cache_key: bool,
    /// Top-level fields the server rejects, removed when present (from `extra`).
    pub rejected_fields: &'static [&'static str],
}

/// Everything OpenAI itself accepts.
const ALL: CompatRules = CompatRules {
    parallel_tool_calls: true,
    stream_options: true,
    strict_schemas: true,
    named_tool_choice: true,
    json_schema: true,
    user: true,
    seed: true,
    message_name: true,
    prompt_cache_key: true,
    rejected_fields: &[],
};

/// One OpenAI-compatible server: where it is, its key, what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompatPreset {
    /// The provider name (in metrics, errors and [`provider_from_name`](crate::provider_from_name)).
    pub name: &'static str,
    /// The API root when the environment sets none.
    pub base_url: &'static str,
    /// The variable that overrides the base URL (for Ollama, `OLLAMA_HOST`,
    /// a host and port to which `/v1` is added).
    pub base_url_env: Option<&'static str>,
    /// The variable holding the key.
    pub key_env: Option<&'static str>,
    /// Whether a missing key is an error.
    pub key_required: bool,
    /// Headers sent when their variable is set: `(header, variable)`.
    pub headers_from_env: &'static [(&'static str, &'static str)],
    /// What the server accepts.
    pub rules: CompatRules,
    /// Where the differences are documented.
    pub docs: &'static str,
}

/// A local Ollama server (`ollama serve`); ollama.com with `OLLAMA_API_KEY`.
pub const OLLAMA: CompatPreset = CompatPreset {
    name: "ollama",
    base_url: "http://localhost:11434/v1",
    base_url_env: Some("OLLAMA_HOST"),
    key_env: Some("OLLAMA_API_KEY"),
    key_required: false,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        parallel_tool_calls: false,
        strict_schemas: false,
        named_tool_choice: false,
        user: false,
        rejected_fields: &["logit_bias", "n"],
        ..ALL
    },
    docs: "https://docs.ollama.com/api/openai-compatibility",
};

/// A vLLM server (`vllm serve`).
pub const VLLM: CompatPreset = CompatPreset {
    name: "vllm",
    base_url: "http://localhost:8000/v1",
    base_url_env: Some("VLLM_BASE_URL"),
    key_env: Some("VLLM_API_KEY"),
    key_required: false,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        strict_schemas: false,
        ..ALL
    },
    docs: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
};

/// llama.cpp's `llama-server` (tools need `--jinja`).
pub const LLAMA_CPP: CompatPreset = CompatPreset {
    name: "llama-cpp",
    base_url: "http://localhost:8080/v1",
    base_url_env: Some("LLAMA_CPP_BASE_URL"),
    key_env: Some("LLAMA_API_KEY"),
    key_required: false,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        stream_options: false,
        strict_schemas: false,
        named_tool_choice: false,
        user: false,
        ..ALL
    },
    docs: "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
};

/// Groq.
pub const GROQ: CompatPreset = CompatPreset {
    name: "groq",
    base_url: "https://api.groq.com/openai/v1",
    base_url_env: None,
    key_env: Some("GROQ_API_KEY"),
    key_required: true,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        message_name: false,
        rejected_fields: &["logprobs", "top_logprobs", "logit_bias"],
        ..ALL
    },
    docs: "https://console.groq.com/docs/openai",
};

/// OpenRouter, with its optional app attribution headers.
pub const OPENROUTER: CompatPreset = CompatPreset {
    name: "openrouter",
    base_url: "https://openrouter.ai/api/v1",
    base_url_env: None,
    key_env: Some("OPENROUTER_API_KEY"),
    key_required: true,
    headers_from_env: &[
        ("HTTP-Referer", "OPENROUTER_SITE_URL"),
        ("X-Title", "OPENROUTER_APP_NAME"),
    ],
    rules: ALL,
    docs: "https://openrouter.ai/docs/api-reference/overview",
};

/// Together AI.
pub const TOGETHER: CompatPreset = CompatPreset {
    name: "together",
    base_url: "https://api.together.xyz/v1",
    base_url_env: None,
    key_env: Some("TOGETHER_API_KEY"),
    key_required: true,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        stream_options: false,
        parallel_tool_calls: false,
        strict_schemas: false,
        ..ALL
    },
    docs: "https://docs.together.ai/docs/openai-api-compatibility",
};

/// DeepSeek (`deepseek-chat`, `deepseek-reasoner`).
pub const DEEPSEEK: CompatPreset = CompatPreset {
    name: "deepseek",
    base_url: "https://api.deepseek.com/v1",
    base_url_env: None,
    key_env: Some("DEEPSEEK_API_KEY"),
    key_required: true,
    headers_from_env: &[],
    rules: CompatRules {
        prompt_cache_key: false,
        parallel_tool_calls: false,
        strict_schemas: false,
        json_schema: false,
        rejected_fields: &["logprobs", "top_logprobs"],
        ..ALL
    },
    docs: "https://api-docs.deepseek.com/guides/reasoning_model",
};

/// Every preset.
pub const ALL_PRESETS: [&CompatPreset; 7] = [&OLLAMA, &VLLM, &LLAMA_CPP, &GROQ, &OPENROUTER, &TOGETHER, &DEEPSEEK];

/// The preset named `name` (`llamacpp` and `llama.cpp` also find [`LLAMA_CPP`]).
pub fn by_name(name: &str) -> Option<&'static CompatPreset> {
    let name = match name {
        "llamacpp" | "llama.cpp" => "llama-cpp",
        other => other,
    };
    ALL_PRESETS.into_iter().find(|p| p.name == name)
}

/// `OLLAMA_HOST` (`host`, `host:port` or a URL) as an API root.
fn ollama_root(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let (scheme, rest) = match host.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", host),
    };
    let has_port = rest
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()));
    let port = if has_port { "" } else { ":11434" };
    format!("{scheme}://{rest}{port}/v1")
}

impl CompatPreset {
    /// The configuration the environment gives: base URL, key, headers.
    ///
    /// # Errors
    /// [`ConfigError::MissingKey`] when the preset needs a key and its
    /// variable is unset or blank.
    pub fn config_from_env(&self) -> Result<ProviderConfig, ConfigError> {
        let url = self
            .base_url_env
            .and_then(|v| std::env::var(v).ok())
            .filter(|v| !v.trim().is_empty())
            .map(|v| if self.name == "ollama" { ollama_root(&v) } else { v })
            .unwrap_or_else(|| self.base_url.to_owned());
        let mut cfg = ProviderConfig::new(url);
        let key = self
            .key_env
            .and_then(|v| std::env::var(v).ok())
            .filter(|k| !k.trim().is_empty());
        match (key, self.key_env) {
            (Some(k), _) => cfg.api_key = Some(ApiKey::new(k.trim())),
            (None, Some(env)) if self.key_required => {
                return Err(ConfigError::MissingKey {
                    provider: self.name.to_owned(),
                    env: env.to_owned(),
                });
            }
            (None, _) => {}
        }
        for (header, var) in self.headers_from_env {
            if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
                cfg = cfg.with_header(*header, v.trim());
            }
        }
        Ok(cfg)
    }

    /// Rewrites a Chat Completions body to what this server accepts (see the
    /// module table). Fields the caller put in `extra` are shaped too.
    pub fn shape(&self, body: &mut Value) {
        let r = &self.rules;
        let Some(obj) = body.as_object_mut() else { return };
        for f in r.rejected_fields {
            obj.remove(*f);
        }
        if obj.get("n").is_some_and(|n| n.as_u64() != Some(1)) && self.name == "groq" {
            obj.remove("n");
        }
        if !r.parallel_tool_calls {
            obj.remove("parallel_tool_calls");
        }
        if !r.stream_options {
            obj.remove("stream_options");
        }
        if !r.user {
            obj.remove("user");
        }
        if !r.seed {
            obj.remove("seed");
        }
        if !r.prompt_cache_key {
            obj.remove("prompt_cache_key");
        }
        if !r.strict_schemas {
            for t in obj.get_mut("tools").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(f) = t.get_mut("function").and_then(Value::as_object_mut) {
                    f.remove("strict");
                }
            }
            if let Some(js) = obj
                .get_mut("response_format")
                .and_then(|f| f.get_mut("json_schema"))
                .and_then(Value::as_object_mut)
            {
                js.remove("strict");
            }
        }
        if !r.json_schema && obj.get("response_format").and_then(|f| f.get("type")) == Some(&json!("json_schema")) {
            obj.insert("response_format".into(), json!({ "type": "json_object" }));
        }
        if !r.message_name {
            for m in obj
                .get_mut("messages")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(m) = m.as_object_mut() {
                    m.remove("name");
                }
            }
        }
        if !r.named_tool_choice {
            let named = obj
                .get("tool_choice")
                .and_then(|c| c.get("function"))
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(name) = named {
                obj.insert("tool_choice".into(), json!("required"));
                if let Some(tools) = obj.get_mut("tools").and_then(Value::as_array_mut) {
                    tools.retain(|t| t["function"]["name"] == name.as_str());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_forms() {
        assert_eq!(ollama_root("0.0.0.0"), "http://0.0.0.0:11434/v1");
        assert_eq!(ollama_root("gpu-box:9000"), "http://gpu-box:9000/v1");
        assert_eq!(
            ollama_root("https://ollama.example.com:443/"),
            "https://ollama.example.com:443/v1"
        );
        assert_eq!(ollama_root("http://[::1]:11434"), "http://[::1]:11434/v1");
    }

    #[test]
    fn names_resolve() {
        assert_eq!(by_name("llama.cpp").map(|p| p.name), Some("llama-cpp"));
        assert_eq!(by_name("deepseek"), Some(&DEEPSEEK));
        assert!(by_name("openai").is_none());
    }
}
