//! `toolplane chat`: one chat request to a provider (any OpenAI-compatible
//! base URL included), optionally offering the tools of an OpenAPI description.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use toolplane_core::{CallContext, ChatRequest, Message, StreamEvent};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_providers::{KNOWN_PROVIDERS, NormalizedResponse, Timeouts, chat_streamed, provider_from_name_with};

use crate::CliError;
use crate::terminal::{escape_json, escape_line, escape_text};

/// Arguments of `toolplane chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// openai, openai-responses, anthropic, mistral or cohere (keys from the usual environment variables).
    #[arg(long)]
    provider: String,
    /// The model.
    #[arg(long)]
    model: String,
    /// Another base URL (an OpenAI-compatible server, a proxy, a local mock).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Stream the answer as it arrives.
    #[arg(long)]
    stream: bool,
    /// Offer the operations of this OpenAPI description as tools (the calls are printed, not run).
    #[arg(long, value_name = "SPEC")]
    tool_spec: Option<PathBuf>,
    /// Print the normalized response as JSON: text, tool calls (id, name, parsed arguments), stop reason, usage.
    #[arg(long)]
    json: bool,
    /// The most output tokens.
    #[arg(long, default_value_t = 1024)]
    max_tokens: u32,
    /// Give up after this many seconds in all (retries and the whole stream
    /// included; decimals allowed). Default: the library's 300 s.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Option<Duration>,
    /// Ask for strict tool definitions (OpenAI's structured-outputs rules) where the vendor and the schema allow it.
    #[arg(long)]
    strict_tools: bool,
    /// The prompt.
    prompt: String,
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &ChatArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(chat(args, out))
}

/// A positive number of seconds, at most a day.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!(
            "`{text}`: the timeout must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The library's time limits, with `total` as the whole budget: no single
/// wait may be longer than it.
fn timeouts(total: Duration) -> Timeouts {
    let d = Timeouts::default();
    Timeouts {
        connect: d.connect.min(total),
        first_byte: d.first_byte.min(total),
        idle: d.idle.min(total),
        total,
    }
}

async fn chat(args: &ChatArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let provider = provider_from_name_with(&args.provider, &args.model, args.base_url.as_deref(), |cfg| {
        let cfg = cfg.with_strict_tools(args.strict_tools);
        match args.timeout {
            Some(total) => cfg.with_timeouts(timeouts(total)),
            None => cfg,
        }
    })
    .map_err(|e| CliError::Usage(format!("{e} (known providers: {})", KNOWN_PROVIDERS.join(", "))))?;
    let mut request = ChatRequest::new(args.model.as_str(), vec![Message::user(args.prompt.as_str())])
        .with_max_tokens(args.max_tokens);
    if let Some(path) = &args.tool_spec {
        let spec = OpenApiSpec::from_path(path).map_err(|e| CliError::Input(e.to_string()))?;
        let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
        if conversion.tools.len() > 128 {
            return Err(CliError::Usage(format!(
                "{} has {} operations; a request carries at most 128 tools (filter with `toolplane openapi convert`)",
                path.display(),
                conversion.tools.len()
            )));
        }
        request = request.with_tools(conversion.tools.into_iter().map(|t| t.spec).collect());
    }
    let ctx = CallContext::new("toolplane-cli");
    let response = if args.stream {
        // Text goes out as it arrives; the first write error is kept and reported after the stream.
        let mut write_error = None;
        let response = chat_streamed(provider.as_ref(), &request, &ctx, |event| {
            if let (StreamEvent::TextDelta { text }, false, None) = (event, args.json, &write_error) {
                if let Err(e) = write!(out, "{}", escape_text(text)).and_then(|()| out.flush()) {
                    write_error = Some(e);
                }
            }
        })
        .await
        .map_err(|e| CliError::Failed(escape_text(&e.to_string()).into_owned()))?;
        if let Some(e) = write_error {
            return Err(CliError::Io(e));
        }
        response
    } else {
        provider
            .chat(&request, &ctx)
            .await
            .map_err(|e| CliError::Failed(escape_text(&e.to_string()).into_owned()))?
    };
    let view = NormalizedResponse::from(&response);
    if args.json {
        let text = serde_json::to_string_pretty(&view).map_err(|e| CliError::Failed(e.to_string()))?;
        writeln!(out, "{}", escape_json(&text))?;
        return Ok(());
    }
    if !args.stream {
        write!(out, "{}", escape_text(&view.text))?;
    }
    writeln!(out)?;
    for call in &view.tool_calls {
        let (id, name, arguments) = (&call.id, &call.name, call.arguments.to_string());
        writeln!(
            out,
            "tool call {} {}({})",
            escape_line(id),
            escape_line(name),
            escape_line(&arguments)
        )?;
    }
    eprintln!(
        "[{} {} · stop: {:?} · {} in / {} out tokens]",
        escape_line(&view.provider),
        escape_line(&view.model),
        view.stop_reason,
        view.usage.input_tokens,
        view.usage.output_tokens
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_and_cap_every_wait() {
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-1", "x", "NaN", "inf", "86401"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
        let t = timeouts(Duration::from_secs(5));
        assert_eq!(
            (t.connect, t.first_byte, t.idle, t.total),
            (
                Duration::from_secs(5),
                Duration::from_secs(5),
                Duration::from_secs(5),
                Duration::from_secs(5)
            )
        );
    }
}
