//! `toolplane chat`: one chat request to a provider (any OpenAI-compatible
//! base URL included), optionally offering the tools of an OpenAPI description.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use toolplane_core::{CallContext, ChatRequest, Message, StreamEvent};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_providers::{KNOWN_PROVIDERS, NormalizedResponse, chat_streamed, provider_from_name};

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

async fn chat(args: &ChatArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let provider = provider_from_name(&args.provider, &args.model, args.base_url.as_deref())
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
        .map_err(|e| CliError::Failed(e.to_string()))?;
        if let Some(e) = write_error {
            return Err(CliError::Io(e));
        }
        response
    } else {
        provider
            .chat(&request, &ctx)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?
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
