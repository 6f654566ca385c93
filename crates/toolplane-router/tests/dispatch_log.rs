#![allow(clippy::unwrap_used, clippy::panic)]
//! The dispatch log records what the router actually did: the ranking it
//! used, every attempt with its outcome, and who answered.

use std::sync::Arc;
use std::time::Duration;

use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, Message, ProviderError, ProviderErrorKind, ScriptedProvider,
};
use toolplane_router::{Expert, Router, Strategy, TaskPolicy};

fn router(log: usize) -> Router {
    let busy = ScriptedProvider::new("busy").with_error(
        ProviderError::new(ProviderErrorKind::RateLimited, "busy", "slow down")
            .with_retry_after(Duration::from_secs(5)),
    );
    let spare = ScriptedProvider::new("spare")
        .with_text("one")
        .with_text("two")
        .with_text("three");
    Router::builder()
        .expert(Expert::new(Arc::new(busy), "big").with_priority(0))
        .expert(Expert::new(Arc::new(spare), "small").with_priority(1))
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }))
        .dispatch_log(log)
        .seed(3)
        .build()
        .unwrap()
}

#[allow(deprecated)] // the request's own id is deprecated but still honoured
fn ask(id: &str) -> ChatRequest {
    let mut request = ChatRequest::new("", vec![Message::user("hello")]).with_task_type("chat");
    request.metadata.request_id = Some(id.to_owned());
    request
}

#[tokio::test]
async fn a_fallback_is_recorded_attempt_by_attempt() {
    let router = router(8);
    let answer = router.chat(&ask("r1"), &CallContext::new("ctx-1")).await.unwrap();
    assert_eq!(answer.text(), "one");

    let log = router.recent_dispatches();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!(r.request_id, "r1");
    assert!(!r.streamed);
    assert_eq!(r.ranked[0].expert, "busy/big");
    assert_eq!(r.attempts.len(), 2);
    assert_eq!(
        (r.attempts[0].expert.as_str(), r.attempts[0].outcome.as_str()),
        ("busy/big", "rate_limited")
    );
    assert_eq!(
        (r.attempts[1].expert.as_str(), r.attempts[1].outcome.as_str()),
        ("spare/small", "ok")
    );
    assert_eq!(r.answered_by.as_deref(), Some("spare/small"));
    let text = r.to_string();
    assert!(text.contains("tried busy/big: rate_limited"), "{text}");

    // `busy` now cools down: the next dispatch removes it and says why.
    router.chat(&ask("r2"), &CallContext::new("ctx-2")).await.unwrap();
    let r = router.recent_dispatches().pop().unwrap();
    assert_eq!(r.attempts.len(), 1);
    assert!(
        r.excluded.iter().any(|(e, why)| e == "busy/big" && !why.is_empty()),
        "{r}"
    );
}

#[tokio::test]
async fn the_log_keeps_only_the_last_requests_and_is_off_by_default() {
    let router = router(2);
    for id in ["a", "b", "c"] {
        router.chat(&ask(id), &CallContext::new(id)).await.unwrap();
    }
    let ids: Vec<String> = router.recent_dispatches().into_iter().map(|r| r.request_id).collect();
    assert_eq!(ids, ["b", "c"]);

    let quiet = self::router(0);
    quiet.chat(&ask("x"), &CallContext::new("x")).await.unwrap();
    assert!(quiet.recent_dispatches().is_empty());
}

#[tokio::test]
async fn streamed_dispatches_are_recorded_too() {
    let router = router(4);
    let _stream = router.chat_stream(&ask("s1"), &CallContext::new("s1")).await.unwrap();
    let r = router.recent_dispatches().pop().unwrap();
    assert!(r.streamed);
    assert_eq!(r.answered_by.as_deref(), Some("spare/small"));
}
