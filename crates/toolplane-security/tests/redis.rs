//! The Redis backends against a real redis-server.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use toolplane_core::*;
use toolplane_security::audit::MemorySink;
use toolplane_security::limits::{
    Amount, Budget, BudgetInterceptor, BudgetRule, LimitError, LocalBudget, LocalRateLimiter, Period, RateKey,
    RateLimit, RateQuota, RedisBudget, RedisRateLimiter, ReserveOutcome, Settlement,
};

fn prefix(test: &str) -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("tp-test:{test}:{n}")
}

const KEY: RateKey<'static> = RateKey {
    principal: Some("alice"),
    tool: Some("search"),
    provider: None,
};

#[tokio::test]
async fn two_instances_share_one_rate_limit() {
    let Some(url) = toolplane_testkit::redis_url() else {
        return;
    };
    let p = prefix("rl");
    let a = RedisRateLimiter::new(&url, &p, RateQuota::per_minute(3)).unwrap();
    let b = RedisRateLimiter::new(&url, &p, RateQuota::per_minute(3)).unwrap();
    a.check(&KEY, 1).await.unwrap();
    b.check(&KEY, 1).await.unwrap();
    a.check(&KEY, 1).await.unwrap();
    let err = b.check(&KEY, 1).await.unwrap_err();
    match &err {
        LimitError::RateLimited { retry_after, key } => {
            assert!(
                *retry_after > Duration::ZERO && *retry_after <= Duration::from_secs(20),
                "{err}"
            );
            assert_eq!(key, "principal=alice|tool=search");
        }
        other => panic!("{other}"),
    }
    let err = a.check(&KEY, 4).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

/// Answers after 20 ms with 10 input and 1,000 output tokens.
#[derive(Debug)]
struct Fixed;

#[async_trait]
impl ChatProvider for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }
    async fn chat(&self, req: &ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(
            ChatResponse::new("fixed", &req.model, Message::assistant("ok"), StopReason::EndTurn).with_usage(Usage {
                input_tokens: 10,
                output_tokens: 1000,
                ..Usage::default()
            }),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_calls_on_two_instances_admit_at_most_ten() {
    let Some(url) = toolplane_testkit::redis_url() else {
        return;
    };
    let p = prefix("tpm");
    let rules = vec![BudgetRule::tokens_per_principal(Period::Minute, 10_000)];
    let mk = || {
        let budget = Arc::new(RedisBudget::new(&url, &p, rules.clone()).unwrap());
        Arc::new(InterceptedProvider::new(
            Arc::new(Fixed),
            vec![Arc::new(BudgetInterceptor::new(budget))],
        ))
    };
    let (one, two) = (mk(), mk());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let prov = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            let req = ChatRequest::new("m", vec![Message::user("hi")]).with_max_tokens(1000);
            prov.chat(
                &req,
                &CallContext::new(format!("r{i}")).with_principal(Principal::new("alice")),
            )
            .await
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(e) => {
                assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded, "{e}");
                assert!(e.retry_after().is_some(), "{e}");
            }
        }
    }
    assert!((1..=10).contains(&admitted), "admitted {admitted}");
}

#[tokio::test]
async fn redis_budgets_are_idempotent_and_use_calendar_windows() {
    let Some(url) = toolplane_testkit::redis_url() else {
        return;
    };
    let p = prefix("idem");
    let b = RedisBudget::new(
        &url,
        &p,
        vec![
            BudgetRule::tokens_per_principal(Period::Month, 1000),
            BudgetRule::cost_per_team(Period::Day, 500),
        ],
    )
    .unwrap();
    let a = Amount {
        tokens: 600,
        cost_micros: 100,
    };
    assert_eq!(
        b.reserve("x1", "bob", Some("t"), a).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        b.reserve("x1", "bob", Some("t"), a).await.unwrap(),
        ReserveOutcome::AlreadyReserved
    );
    let err = b.reserve("x2", "bob", Some("t"), a).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("token budget of principal:bob per month exhausted: 600 used"),
        "{err}"
    );
    let actual = Amount {
        tokens: 100,
        cost_micros: 50,
    };
    assert_eq!(b.settle("x1", actual).await.unwrap(), Settlement::Done);
    assert_eq!(b.settle("x1", actual).await.unwrap(), Settlement::AlreadyFinished);
    assert_eq!(b.release("x1").await.unwrap(), Settlement::AlreadyFinished);
    assert_eq!(
        b.reserve("x2", "bob", Some("t"), a).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(b.release("x2").await.unwrap(), Settlement::Done);
    let err = b
        .reserve(
            "x3",
            "bob",
            Some("t"),
            Amount {
                tokens: 10,
                cost_micros: 501,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, LimitError::RequestTooLarge { .. }), "{err}");

    // The month bucket is named by the same calendar window as in Rust.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let time: (String, String) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
    let (month, _) = Period::Month.window(time.0.parse().unwrap());
    let key = format!("{p}:b:principal:bob:month:{month}");
    let used: Option<u64> = redis::cmd("HGET")
        .arg(&key)
        .arg("t")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(used, Some(100), "bucket {key}");
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(port: u16) -> Option<Server> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Server { child, port });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn redis_killed_mid_test_fails_closed_or_falls_back_and_is_audited() {
    let Some(mut server) = Server::start(free_port())
        .or_else(|| toolplane_testkit::missing("the redis-server binary", "cannot start redis-server on a free port"))
    else {
        return;
    };
    let url = format!("redis://127.0.0.1:{}/", server.port);
    let audit = Arc::new(MemorySink::new());
    let p = prefix("kill");
    let closed = RedisRateLimiter::new(&url, &p, RateQuota::per_minute(100))
        .unwrap()
        .with_audit(audit.clone());
    let local = Arc::new(LocalRateLimiter::new(RateQuota::per_minute(2), 1000).unwrap());
    let fallback = RedisRateLimiter::new(&url, &p, RateQuota::per_minute(100))
        .unwrap()
        .with_local_fallback(local)
        .with_audit(audit.clone());
    let local_budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Hour,
        1000,
    )]));
    let budget = RedisBudget::new(&url, &p, vec![BudgetRule::tokens_per_principal(Period::Hour, 5000)])
        .unwrap()
        .with_local_fallback(local_budget.clone())
        .with_audit(audit.clone());
    let amount = Amount {
        tokens: 400,
        cost_micros: 0,
    };
    closed.check(&KEY, 1).await.unwrap();
    fallback.check(&KEY, 1).await.unwrap();
    budget.reserve("before", "alice", None, amount).await.unwrap();

    server.kill();

    let err = closed.check(&KEY, 1).await.unwrap_err();
    assert!(matches!(err, LimitError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("fail closed"), "{err}");
    assert!(closed.is_down());
    // The fallback applies the conservative local limit (2 per minute).
    fallback.check(&KEY, 1).await.unwrap();
    fallback.check(&KEY, 1).await.unwrap();
    assert!(matches!(
        fallback.check(&KEY, 1).await,
        Err(LimitError::RateLimited { .. })
    ));
    // Budgets reserve locally while down and settle where they reserved.
    assert_eq!(
        budget.reserve("during", "alice", None, amount).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(local_budget.used(0, "alice", None).unwrap().tokens, 400);
    budget
        .settle(
            "during",
            Amount {
                tokens: 50,
                cost_micros: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(local_budget.used(0, "alice", None).unwrap().tokens, 50);
    // A reservation made in Redis cannot be settled while it is down: a clear error.
    let err = budget.settle("before", amount).await.unwrap_err();
    assert!(matches!(err, LimitError::Unavailable(_)), "{err}");

    let down: Vec<_> = audit
        .records()
        .into_iter()
        .filter(|r| r.event == "limit_backend" && r.status == "down")
        .collect();
    assert_eq!(down.len(), 3, "one record per backend going down: {down:?}");
    let policies: Vec<String> = down
        .iter()
        .map(|r| r.detail.as_ref().unwrap()["policy"].to_string())
        .collect();
    assert!(policies.contains(&"\"fail_closed\"".to_string()) && policies.contains(&"\"local_fallback\"".to_string()));

    // Redis comes back on the same port: the shared limit applies again.
    let _server = Server::start(server.port).expect("restart redis-server");
    let mut ok = false;
    for _ in 0..50 {
        if closed.check(&KEY, 1).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the limiter reconnects");
    assert!(!closed.is_down());
    assert!(
        audit
            .records()
            .iter()
            .any(|r| r.event == "limit_backend" && r.status == "up")
    );
}

#[tokio::test]
async fn two_redis_instances_sharing_a_request_id_cannot_bypass_the_budget() {
    let Some(url) = toolplane_testkit::redis_url() else {
        return;
    };
    let p = prefix("shared-id");
    let rules = vec![BudgetRule::tokens_per_principal(Period::Hour, 1500)];
    // Two processes (or one after a restart): separate budgets and interceptors on one Redis.
    let mk = || {
        let budget = Arc::new(RedisBudget::new(&url, &p, rules.clone()).unwrap());
        InterceptedProvider::new(Arc::new(Fixed), vec![Arc::new(BudgetInterceptor::new(budget))])
    };
    let (one, two) = (mk(), mk());
    let same = || CallContext::new("shared-request").with_principal(Principal::new("zed"));
    let req = ChatRequest::new("m", vec![Message::user("hi")]).with_max_tokens(1000);
    one.chat(&req, &same()).await.unwrap();
    // Before: the second instance's id was `shared-request#0` as well, Redis
    // answered "already finished" and the call passed without reserving.
    let e = two.chat(&req, &same()).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded, "{e}");
    assert!(e.message().contains("principal:zed"), "{e}");
    let e = mk().chat(&req, &same()).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded, "after a restart: {e}");
}
