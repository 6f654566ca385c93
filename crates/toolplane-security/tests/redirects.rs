//! Real HTTP redirects checked hop by hop against a host allowlist: a
//! redirect to the metadata address, in any spelling, is refused before any
//! connection is made.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use toolplane_security::policy::HostAllowlist;

async fn hop(State(hits): State<Arc<AtomicUsize>>, Path(to): Path<String>) -> impl IntoResponse {
    hits.fetch_add(1, Ordering::SeqCst);
    let target = match to.as_str() {
        "ok" => "/final".to_string(),
        "metadata" => "http://169.254.169.254/latest/meta-data/".to_string(),
        "decimal" => "http://2852039166/latest/".to_string(),
        "hex-dot" => "http://0xA9FEA9FE./latest/".to_string(),
        "mapped" => "http://[::ffff:a9fe:a9fe]/".to_string(),
        "userinfo" => "http://127.0.0.1@169.254.169.254/".to_string(),
        other => format!("/{other}"),
    };
    (StatusCode::FOUND, [(header::LOCATION, target)])
}

async fn serve() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/go/{to}", get(hop))
        .route("/final", get(|| async { "done" }))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

fn client(list: HostAllowlist) -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(move |attempt| match list.allows_url(attempt.url().as_str()) {
        Ok(_) if attempt.previous().len() < 5 => attempt.follow(),
        Ok(_) => attempt.error("too many redirects"),
        Err(why) => attempt.error(format!("redirect refused: {why}")),
    });
    reqwest::Client::builder().redirect(policy).build().unwrap()
}

#[tokio::test]
async fn redirects_to_the_metadata_address_are_refused_in_every_spelling() {
    let (base, hits) = serve().await;
    let list = HostAllowlist::new(["127.0.0.1"]).unwrap();
    let c = client(list);
    let ok = c.get(format!("{base}/go/ok")).send().await.unwrap();
    assert_eq!(ok.text().await.unwrap(), "done");
    for trick in ["metadata", "decimal", "hex-dot", "mapped", "userinfo"] {
        let before = hits.load(Ordering::SeqCst);
        let err = c.get(format!("{base}/go/{trick}")).send().await.unwrap_err();
        let text = format!("{err:?}");
        assert!(err.is_redirect(), "{trick}: {text}");
        assert!(
            text.contains("host 169.254.169.254 is not in the allowlist"),
            "{trick}: {text}"
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            before + 1,
            "{trick}: only the first hop was served"
        );
    }
}
