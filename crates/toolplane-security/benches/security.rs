//! Benchmarks: a permission check against 1,000 rules, a rate-limit check,
//! and audit appends with group-commit fsync, each with a baseline measured
//! in the same run.
//!
//! `cargo bench -p toolplane-security --bench security`

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use serde_json::json;
use toolplane_core::{Principal, ToolSpec};
use toolplane_security::audit::{AuditRecord, AuditSink, FileSink, FileSinkOptions};
use toolplane_security::limits::{LocalRateLimiter, RateKey, RateQuota};
use toolplane_security::policy::{Effect, Layer, Policy};
use toolplane_security::redact::Redact;

fn policy_text(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let _ = match i % 10 {
            0..=6 => write!(
                t,
                "[[rule]]\nid='exact-{i}'\neffect='allow'\ntools=['svc{}.op{i}']\nroles=['dev']\n",
                i % 50
            ),
            7 | 8 => write!(t, "[[rule]]\nid='ns-{i}'\neffect='ask'\ntools=['ns{i}.*']\n"),
            _ => write!(
                t,
                "[[rule]]\nid='args-{i}'\neffect='allow'\ntools=['files{i}.read']\n[[rule.args]]\npath='/path'\npath_under='/srv/data'\n"
            ),
        };
    }
    // The rules the benchmark call meets: an allow with constraints, a deny on a URL.
    t.push_str(
        "[[rule]]\nid='target'\neffect='allow'\ntools=['http.get']\n[[rule.args]]\npath='/url'\nurl_hosts=['api.github.com']\n\
         [[rule]]\nid='pay'\neffect='allow'\ntools=['pay.send']\n[[rule.args]]\npath='/currency'\none_of=['EUR','USD']\n[[rule.args]]\npath='/amount'\nmin=0\nmax=100\n\
         [[rule]]\nid='deny-meta'\neffect='deny'\ntools=['http.*']\n[[rule.args]]\npath='/url'\nurl_hosts=['169.254.169.254']\n",
    );
    t
}

fn permissions(c: &mut Criterion) {
    let mut g = c.benchmark_group("permission_check");
    let who = Principal::new("alice").with_role("dev");
    let spec = ToolSpec::new("http.get", "");
    let args = json!({"url": "https://api.github.com/repos/a/b"});
    let miss = ToolSpec::new("svc7.op999999", "");
    let pay = ToolSpec::new("pay.send", "");
    let pay_args = json!({"currency": "EUR", "amount": 12.5});
    for n in [3usize, 1000] {
        let text = policy_text(n.saturating_sub(3));
        let p = Policy::from_layers(&[(Layer::Project, "bench.toml", &text)]).expect("policy");
        assert_eq!(p.evaluate(Some(&who), &spec, &args).effect, Effect::Allow);
        g.bench_function(format!("{}_rules_allow_with_url_check", p.len()), |b| {
            b.iter(|| black_box(p.evaluate(Some(&who), black_box(&spec), black_box(&args))))
        });
        assert_eq!(p.evaluate(Some(&who), &pay, &pay_args).effect, Effect::Allow);
        g.bench_function(format!("{}_rules_allow_with_two_arg_checks", p.len()), |b| {
            b.iter(|| black_box(p.evaluate(Some(&who), black_box(&pay), black_box(&pay_args))))
        });
        g.bench_function(format!("{}_rules_default_deny", p.len()), |b| {
            b.iter(|| black_box(p.evaluate(Some(&who), black_box(&miss), black_box(&args))))
        });
    }
    g.finish();
}

fn rate_limits(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_limit_check");
    let quota = RateQuota {
        limit: 1_000_000_000,
        per: Duration::from_secs(1),
        burst: 1_000_000_000,
    };
    // Baseline: governor's direct (unkeyed) limiter, its fastest path.
    let direct = governor::RateLimiter::direct(
        governor::Quota::per_second(NonZeroU32::new(1_000_000_000).expect("nonzero"))
            .allow_burst(NonZeroU32::new(1_000_000_000).expect("nonzero")),
    );
    g.bench_function("baseline_governor_direct", |b| {
        b.iter(|| black_box(direct.check().is_ok()))
    });
    let limiter = LocalRateLimiter::new(quota, 1_000_000).expect("limiter");
    let key = RateKey {
        principal: Some("alice"),
        tool: Some("github.issues_list"),
        provider: None,
    };
    let hash = limiter.hash_key(&key);
    g.bench_function("keyed_sharded_by_hash", |b| {
        b.iter(|| black_box(limiter.check_hash(black_box(hash), 1).is_ok()))
    });
    g.bench_function("keyed_sharded_hashing_the_key", |b| {
        b.iter(|| black_box(limiter.check_now(black_box(&key), 1).is_ok()))
    });
    g.finish();
}

fn record(i: u64) -> AuditRecord {
    let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
    r.tool = Some("github.issues_list".into());
    r.arguments = json!({"owner": "toolplane", "repo": "toolplane", "state": "open", "page": i % 10});
    r.decision = Some("allow".into());
    r.explanation = Some("rule `read` (project layer, line 3) says allow".into());
    r.latency_us = 1234;
    r
}

fn audit(c: &mut Criterion) {
    const THREADS: u64 = 128;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-audit");
    let _ = std::fs::remove_dir_all(&root);
    let mut g = c.benchmark_group("audit_append");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(1));
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).expect("histogram")));
    let async_hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).expect("histogram")));
    // Baseline: one 4 KiB write + fdatasync on the same disk, the floor of any commit.
    std::fs::create_dir_all(&root).expect("bench dir");
    let mut raw = std::fs::File::create(root.join("raw")).expect("raw file");
    let mut raw_hist = Histogram::<u64>::new(3).expect("histogram");
    g.bench_function("baseline_raw_write_fdatasync", |b| {
        b.iter(|| {
            let t0 = Instant::now();
            raw.write_all(&[7u8; 4096]).expect("write");
            raw.sync_data().expect("fdatasync");
            let _ = raw_hist.record(t0.elapsed().as_micros() as u64);
        })
    });
    eprintln!(
        "raw write+fdatasync: p50 {} us, p99 {} us over {} syncs",
        raw_hist.value_at_quantile(0.5),
        raw_hist.value_at_quantile(0.99),
        raw_hist.len()
    );
    for (name, fsync) in [("baseline_no_fsync", false), ("group_commit_fsync", true)] {
        let dir = root.join(name);
        let sink = Arc::new(
            FileSink::open(
                &dir,
                FileSinkOptions {
                    fsync,
                    ..FileSinkOptions::default()
                },
            )
            .expect("sink"),
        );
        let h = hist.clone();
        g.bench_function(format!("{THREADS}_writers_{name}"), |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(THREADS);
                // Threads are spawned before the clock starts and wait at a
                // barrier; the clock stops when the last one has finished.
                let go = std::sync::Barrier::new(THREADS as usize + 1);
                let done = std::sync::Barrier::new(THREADS as usize + 1);
                let mut elapsed = Duration::ZERO;
                std::thread::scope(|s| {
                    for t in 0..THREADS {
                        let sink = sink.clone();
                        let h = h.clone();
                        let (go, done) = (&go, &done);
                        s.spawn(move || {
                            let mut local = Histogram::<u64>::new(3).expect("histogram");
                            go.wait();
                            for i in 0..per {
                                let t0 = Instant::now();
                                sink.append_blocking(record(t * per + i).redacted()).expect("append");
                                let _ = local.record(t0.elapsed().as_micros() as u64);
                            }
                            done.wait();
                            if fsync {
                                let _ = h.lock().map(|mut g| g.add(&local));
                            }
                        });
                    }
                    go.wait();
                    let start = Instant::now();
                    done.wait();
                    elapsed = start.elapsed();
                });
                elapsed.mul_f64(iters as f64 / (per * THREADS) as f64)
            })
        });
        if fsync {
            // The same with async callers: 1,024 tasks on a 2-thread runtime.
            const TASKS: u64 = 1024;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("runtime");
            let ah = async_hist.clone();
            g.bench_function(format!("{TASKS}_async_writers_{name}"), |b| {
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(TASKS);
                    // Tasks are spawned before the clock starts and wait at a barrier.
                    let go = Arc::new(tokio::sync::Barrier::new(TASKS as usize + 1));
                    rt.block_on(async {
                        let mut tasks = Vec::new();
                        for t in 0..TASKS {
                            let sink = sink.clone();
                            let ah = ah.clone();
                            let go = go.clone();
                            tasks.push(tokio::spawn(async move {
                                let mut local = Histogram::<u64>::new(3).expect("histogram");
                                go.wait().await;
                                for i in 0..per {
                                    let t0 = Instant::now();
                                    sink.append(record(t * per + i).redacted()).await.expect("append");
                                    let _ = local.record(t0.elapsed().as_micros() as u64);
                                }
                                let _ = ah.lock().map(|mut g| g.add(&local));
                            }));
                        }
                        go.wait().await;
                        let start = Instant::now();
                        for t in tasks {
                            let _ = t.await;
                        }
                        start.elapsed()
                    })
                    .mul_f64(iters as f64 / (per * TASKS) as f64)
                })
            });
        }
        sink.close();
    }
    g.finish();
    if let Ok(h) = hist.lock() {
        eprintln!(
            "audit group_commit_fsync commit latency: p50 {} us, p99 {} us, max {} us over {} appends",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.max(),
            h.len()
        );
    }
    if let Ok(h) = async_hist.lock() {
        eprintln!(
            "audit async group_commit_fsync commit latency: p50 {} us, p99 {} us, max {} us over {} appends",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.max(),
            h.len()
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, permissions, rate_limits, audit);
criterion_main!(benches);
