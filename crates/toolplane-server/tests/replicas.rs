//! Two gateways sharing one Redis share budgets and rate limits (what one
//! replica reserved or counted, the other sees) and the router's verdicts and
//! expert health (a loss recorded on one moves the other's choice; a breaker
//! opened on one is open on the other).

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

/// Two replicas' configuration: `experts` (TOML) with a router `policy`,
/// shared state polled every 20 ms.
fn router_replica_config(redis: &str, experts: &str, policy: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\nstats_refresh_ms = 20\n{keys}\n{experts}\n\
         [router]\nbreaker = {{ failure_threshold = 1, cooldown_ms = 60000 }}\n\n[router.default]\n{policy}\n\n\
         [security]\nredis_url = \"{redis}\"\n",
        keys = keys_toml()
    )
}

fn expert_toml(id: &str, model: &str, base: &str, priority: i32) -> String {
    format!(
        "[[experts]]\nid = \"{id}\"\nprovider = \"ollama\"\nmodel = \"{model}\"\nbase_url = \"{base}\"\npriority = {priority}\n\n"
    )
}

async fn auto_call(url: &str, request_id: &str) -> String {
    let r = client()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("x-request-id", request_id)
        // Routed under the `default` task, where the verdicts below go.
        .json(&json!({"model": "task:default", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()[toolplane_server::EXPERT_HEADER]
        .to_str()
        .unwrap()
        .to_owned()
}

fn chosen(s: &TestServer) -> Option<String> {
    let req = toolplane_core::ChatRequest::new("", vec![toolplane_core::Message::user("hello")]);
    s.gateway.router.explain_for("default", &req).chosen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loss_recorded_on_one_replica_moves_the_other_replicas_choice() {
    let Some(redis) = toolplane_testkit::redis_url() else {
        return;
    };
    // Models of their own, so verdicts earlier runs left in Redis do not count.
    let tag = format!("{:x}", rand_id());
    let (base, _log) = fake_upstream().await;
    let experts =
        expert_toml("one", &format!("one-{tag}"), &base, 0) + &expert_toml("two", &format!("two-{tag}"), &base, 0);
    let policy =
        "strategy = { kind = \"weighted\", weights = { latency = 0.0, success = 0.0, cost = 0.0, win_rate = 1.0 } }";
    let cfg = router_replica_config(&redis, &experts, policy);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start(&cfg, d1.path()).await;
    let b = TestServer::start(&cfg, d2.path()).await;

    // No verdicts yet: both replicas pick the same expert.
    let first = auto_call(&b.url, &format!("b-{tag}-0")).await;
    let rid = format!("a-{tag}-1");
    assert_eq!(auto_call(&a.url, &rid).await, first);
    let other = if first == "one" { "two" } else { "one" };

    // Two losses for that answer's expert, recorded on replica A only.
    for verdict in [json!("loss"), json!(0.0)] {
        let r = client()
            .post(format!("{}/v1/feedback", a.url))
            .bearer_auth(KEY)
            .json(&json!({"request_id": rid, "verdict": verdict}))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["recorded"], true, "{body}");
    }
    assert_eq!(chosen(&a).as_deref(), Some(other), "A applied its own verdicts at once");
    assert!(
        eventually(10, || chosen(&b).as_deref() == Some(other)).await,
        "replica B never learned replica A's verdicts: still {:?}",
        chosen(&b)
    );
    assert_eq!(auto_call(&b.url, &format!("b-{tag}-2")).await, other);

    // B does not know A's request id, but feedback naming the expert works anywhere.
    let r = client()
        .post(format!("{}/v1/feedback", b.url))
        .bearer_auth(KEY)
        .json(&json!({"request_id": rid, "verdict": "win"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_request", "{body}");
    for _ in 0..3 {
        let r = client()
            .post(format!("{}/v1/feedback", b.url))
            .bearer_auth(KEY)
            .json(&json!({"expert": other, "verdict": "loss"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        eventually(10, || chosen(&a).as_deref() == Some(first.as_str())).await,
        "replica A never learned replica B's verdicts"
    );
    // Each side applied each verdict once: the same figures on both.
    let req = toolplane_core::ChatRequest::new("", vec![toolplane_core::Message::user("hello")]);
    assert!(
        eventually(10, || {
            let (da, db) = (
                a.gateway.router.explain_for("default", &req),
                b.gateway.router.explain_for("default", &req),
            );
            let win = |c: &toolplane_router::Candidate| c.figures.iter().find(|(n, _)| n == "win_rate").cloned();
            da.candidates.len() == 2
                && da
                    .candidates
                    .iter()
                    .zip(&db.candidates)
                    .all(|(x, y)| x.expert == y.expert && win(x).is_some() && win(x) == win(y))
        })
        .await,
        "the replicas' win rates differ"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_opened_on_one_replica_keeps_the_other_away_from_that_expert() {
    let Some(redis) = toolplane_testkit::redis_url() else {
        return;
    };
    let tag = format!("{:x}", rand_id());
    let (base, log) = fake_upstream().await;
    // Nothing listens on a port taken and released: connection refused, an expert fault.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1", l.local_addr().unwrap())
    };
    let experts =
        expert_toml("dead", &format!("dead-{tag}"), &dead, 0) + &expert_toml("live", &format!("live-{tag}"), &base, 1);
    let cfg = router_replica_config(&redis, &experts, "strategy = { kind = \"static\", order = [] }");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start(&cfg, d1.path()).await;
    let b = TestServer::start(&cfg, d2.path()).await;
    assert_eq!(chosen(&b).as_deref(), Some("dead"), "priority 0 first while healthy");

    // Replica A tries `dead`, fails, falls back; its breaker opens (threshold 1).
    assert_eq!(auto_call(&a.url, &format!("a-{tag}")).await, "live");
    assert_eq!(chosen(&a).as_deref(), Some("live"));
    assert!(
        eventually(10, || chosen(&b).as_deref() == Some("live")).await,
        "replica B never saw the breaker replica A opened"
    );
    let req = toolplane_core::ChatRequest::new("", vec![toolplane_core::Message::user("hello")]);
    let d = b.gateway.router.explain_for("default", &req);
    let gone = d.excluded.iter().find(|e| e.expert == "dead").unwrap();
    assert_eq!(gone.constraint, "healthy", "{d}");

    // B's call goes straight to `live`: one attempt, `dead` never tried.
    let before = log.received.load(Ordering::SeqCst);
    assert_eq!(auto_call(&b.url, &format!("b-{tag}")).await, "live");
    assert_eq!(log.received.load(Ordering::SeqCst), before + 1);
    let last = b.gateway.router.recent_dispatches().pop().unwrap();
    assert_eq!(last.attempts.len(), 1, "{last:?}");
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
