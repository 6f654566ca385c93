//! Consuming a stream: print as it arrives, keep the whole answer.

use futures_util::StreamExt;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ProviderError, StreamAccumulator, StreamEvent,
};

/// Streams one answer, calling `on_event` for every event as it arrives, and
/// returns the assembled response (what `toolplane chat --stream` needs: print
/// text deltas live, then the normalized answer). A stream that ends without
/// its stop, or with an error, returns that error after the events that came.
///
/// ```
/// use toolplane_core::{CallContext, ChatRequest, Message, ScriptedProvider, StreamEvent};
/// use toolplane_providers::chat_streamed;
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let provider = ScriptedProvider::new("scripted").with_text("Hello!");
/// let req = ChatRequest::new("m", vec![Message::user("hi")]);
/// let mut shown = String::new();
/// let resp = chat_streamed(&provider, &req, &CallContext::new("r"), |e| {
///     if let StreamEvent::TextDelta { text } = e {
///         shown.push_str(text);
///     }
/// })
/// .await
/// .unwrap();
/// assert_eq!(shown, "Hello!");
/// assert_eq!(resp.text(), "Hello!");
/// # });
/// ```
pub async fn chat_streamed(
    provider: &dyn ChatProvider,
    request: &ChatRequest,
    ctx: &CallContext,
    mut on_event: impl FnMut(&StreamEvent),
) -> Result<ChatResponse, ProviderError> {
    let mut stream = provider.chat_stream(request, ctx).await?;
    let mut acc = StreamAccumulator::new(provider.name(), request.model.clone());
    while let Some(item) = stream.next().await {
        let event = item?;
        on_event(&event);
        acc.push(&event);
    }
    acc.finish()
}
