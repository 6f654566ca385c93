//! One price book in the gateway: an expert's `price` (USD per million
//! tokens, as in router.toml) is what the run charges, what `GET
//! /v1/metrics` counts and what the router's explanation shows; an expert
//! without one is unpriced, never free.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use toolplane_core::{ChatRequest, Message, PriceBook, Usage};

use support::{KEY, TestServer, client, error_of, get_as, keys_toml, post_json_as, sse_events};

/// `fast` is priced ($1 / $2 per million tokens); `mystery` is not, and no
/// price book knows it. A cost budget on every principal; the router has a
/// budget too, so it must know every expert's price to consider it.
fn config() -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\n{keys}\n\
         [[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"fast\"\nprice = {{ input = 1.0, output = 2.0 }}\n\n\
         [[experts]]\nid = \"mystery\"\nprovider = \"scripted\"\nmodel = \"mystery\"\n\n\
         [router]\nbudget_usd = 100.0\n\n\
         [[security.budgets]]\nscope = \"principal\"\nperiod = \"day\"\ncost_usd = 10.0\n",
        keys = keys_toml()
    )
}

async fn run_to_the_end(url: &str, model: &str) -> Value {
    let (status, run) = post_json_as(url, "/v1/runs", KEY, &json!({"model": model, "input": "Say hello."})).await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap();
    // The events stream ends when the run does.
    let text = client()
        .get(format!("{url}/v1/runs/{id}/events"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<Value> = sse_events(&text)
        .into_iter()
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .collect();
    events.into_iter().last().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_expert_costs_the_same_in_the_run_the_metrics_and_the_routers_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config(), dir.path()).await;

    let done = run_to_the_end(&s.url, "fast").await;
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(done["status"], "answered", "{done}");
    let usage: Usage = serde_json::from_value(done["usage"].clone()).unwrap();
    assert!(usage.output_tokens > 0, "{done}");
    let run_cost = done["cost_usd"].as_f64().unwrap();

    // The price book the collector uses prices `fast` at the configured price.
    let book = s.gateway.metrics.price_book();
    let price = book.price("scripted", "fast").unwrap();
    assert_eq!((price.input, price.output), (1.0, 2.0));
    let expected = price.cost(&usage);
    assert!(expected > 0.0);
    assert!(
        (run_cost - expected).abs() < 1e-12,
        "run {run_cost} vs price {expected}"
    );

    let (status, m) = get_as(&s.url, "/v1/metrics", KEY).await;
    assert_eq!(status, 200, "{m}");
    let metrics_cost = m["cost"]["total_usd"].as_f64().unwrap();
    assert!(
        (metrics_cost - run_cost).abs() < 1e-12,
        "metrics {metrics_cost} vs run {run_cost}: {m}"
    );
    assert_eq!(m["cost"]["unpriced_calls"], 0, "{m}");

    // The router reads the same price: the explanation shows it, and what
    // this usage costs at it is what the run and the metrics charged.
    let req = ChatRequest::new("auto", vec![Message::user("Say hello.")]).with_max_tokens(100);
    let d = s.gateway.router.explain(&req);
    let fast = d.candidates.iter().find(|c| c.expert == "fast").unwrap();
    assert_eq!(fast.price, Some(price), "{d}");
    assert!((fast.price.unwrap().cost(&usage) - run_cost).abs() < 1e-12, "{d}");
    assert!(fast.estimated_cost_usd.is_some_and(|c| c > 0.0), "{d}");
    // Unpriced is not $0: under the router's budget `mystery` is left out.
    assert!(d.candidates.iter().all(|c| c.expert != "mystery"), "{d}");
    let why = d.excluded.iter().find(|x| x.expert == "mystery").unwrap();
    assert_eq!(why.constraint, "unpriced", "{d}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpriced_expert_under_a_cost_budget_is_refused_saying_it_has_no_price() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config(), dir.path()).await;
    let chat = |model: &str| {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50});
        let url = s.url.clone();
        async move { post_json_as(&url, "/v1/chat/completions", KEY, &body).await }
    };
    let (status, body) = chat("mystery").await;
    assert!((400..500).contains(&status), "{status} {body}");
    let message = error_of(&body)["message"].as_str().unwrap();
    assert!(message.contains("has no price"), "{body}");
    assert!(message.contains("mystery"), "{body}");

    // The priced expert passes the same budget.
    let (status, body) = chat("fast").await;
    assert_eq!(status, 200, "{body}");
    s.stop().await;
}

/// A route has no price of its own: the budget reserves at the price of the
/// expert the router calls, so `auto` under a cost budget answers, and is
/// refused once that expert's estimate no longer fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routed_request_under_a_cost_budget_is_charged_at_the_price_of_the_expert_called() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config(), dir.path()).await;
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50});
    let r = client()
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-toolplane-expert"], "fast");
    let answer: Value = r.json().await.unwrap();
    assert!(answer["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{answer}");
    s.stop().await;

    // A budget smaller than one call's estimate at `fast`'s price: refused
    // as a spent budget (429), not as an unpriced route.
    let tiny = config().replace("cost_usd = 10.0", "cost_usd = 0.000001");
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&tiny, dir.path()).await;
    let (status, body) = post_json_as(&s.url, "/v1/chat/completions", KEY, &body).await;
    assert_eq!(status, 429, "{body}");
    let message = error_of(&body)["message"].as_str().unwrap();
    assert!(!message.contains("has no price"), "{body}");
    s.stop().await;
}
