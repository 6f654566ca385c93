//! Two gateways sharing one Redis share budgets and rate limits: what one
//! replica reserved or counted, the other sees.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use support::*;
use toolplane_server::keys::hash_key;

fn replica_config(base: &str, redis: &str, principal: &str, extra: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\n\n[[server.keys]]\nsha256 = \"{}\"\nprincipal = \"{principal}\"\nroles = [\"member\"]\n\n\
         [[experts]]\nid = \"up\"\nprovider = \"ollama\"\nmodel = \"m1\"\nbase_url = \"{base}\"\n\n\
         [security]\nredis_url = \"{redis}\"\n{extra}",
        hash_key(KEY)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_budget_and_one_rate_limit() {
    let Some(redis) = toolplane_testkit::redis_url() else {
        return;
    };
    // A principal of its own, so earlier runs' counts in Redis do not matter.
    let principal = format!("replica-test-{:x}", rand_id());
    let (base, log) = fake_upstream().await;
    // Each call reserves at least 1 + 3 tokens and costs 4: 10 calls fill 40.
    let budget = "[[security.budgets]]\nscope = \"principal\"\nperiod = \"day\"\ntokens = 40\n";
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cfg = replica_config(&base, &redis, &principal, &format!("\n{budget}"));
    let a = TestServer::start(&cfg, d1.path()).await;
    let b = TestServer::start(&cfg, d2.path()).await;
    let (mut ok, mut refused) = (0u64, 0u64);
    for i in 0..30 {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let r = client()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"model": "up", "max_tokens": 3, "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                refused += 1;
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
            }
            s => panic!("status {s}"),
        }
    }
    // Alone, each replica would have let 10 through (20 together).
    assert!(ok <= 10, "{ok} calls passed a 40-token budget shared by two replicas");
    assert_eq!(ok + refused, 30);
    assert_eq!(log.received.load(Ordering::SeqCst) as u64, ok);
    a.stop().await;
    b.stop().await;

    // A rate limit of 3 requests per minute, counted across both replicas.
    let principal = format!("replica-rate-{:x}", rand_id());
    let cfg = replica_config(&base, &redis, &principal, "requests_per_minute = 3\n");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start(&cfg, d1.path()).await;
    let b = TestServer::start(&cfg, d2.path()).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let r = client()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"model": "up", "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    a.stop().await;
    b.stop().await;
}

fn rand_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ u64::from(std::process::id())
}
