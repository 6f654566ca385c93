#![allow(clippy::unwrap_used, clippy::panic)]
//! Each auth scheme against a local server, the OAuth2 token cache, and
//! secrets kept out of errors and Debug output.
#![cfg(feature = "http")]

mod http_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine as _;
use http_support::*;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolErrorKind};
use toolplane_openapi::ConvertedTool;
use toolplane_openapi::binding::{ApiKeyLocation, HttpMethod, SchemeUse, SecurityRequirement, SecurityScheme};
use toolplane_openapi::http::{
    ClientAuthMethod, ClientCredentials, Credential, HttpConfig, HttpRuntime, HttpTool, Secret,
};

const SECRET: &str = "s3cr3t-VALUE-987";

fn secured(scheme_name: &str, scheme: SecurityScheme) -> ConvertedTool {
    with_security(
        tool("op", HttpMethod::Get, "/op", vec![]),
        vec![SecurityRequirement {
            schemes: vec![SchemeUse {
                name: scheme_name.into(),
                scheme,
                scopes: vec!["read".into()],
            }],
        }],
    )
}

async fn call(t: ConvertedTool, cfg: HttpConfig) -> Value {
    let tool = HttpTool::new(t, HttpRuntime::new(cfg).unwrap()).unwrap();
    let out = tool.call(&json!({}), &CallContext::new("t")).await.unwrap();
    assert_eq!(out.content["status"], 200, "{}", out.content);
    out.content["body"].clone()
}

#[tokio::test]
async fn api_keys_in_header_query_and_cookie() {
    let addr = echo_server().await;
    let base = HttpConfig::new().with_base_url(format!("http://{addr}"));
    let key = |location| SecurityScheme::ApiKey {
        location,
        name: "X-Api-Key".into(),
    };
    let got = call(
        secured("k", key(ApiKeyLocation::Header)),
        base.clone().with_secret("k", Secret::new(SECRET)),
    )
    .await;
    assert_eq!(got["headers"]["x-api-key"], SECRET);
    let got = call(
        secured("k", key(ApiKeyLocation::Query)),
        base.clone().with_secret("k", Secret::new("a b&c")),
    )
    .await;
    assert_eq!(got["query"], "X-Api-Key=a%20b%26c");
    let got = call(
        secured("k", key(ApiKeyLocation::Cookie)),
        base.with_secret("k", Secret::new(SECRET)),
    )
    .await;
    assert_eq!(got["headers"]["cookie"], format!("X-Api-Key={SECRET}"));
}

#[tokio::test]
async fn bearer_and_basic() {
    let addr = echo_server().await;
    let base = HttpConfig::new().with_base_url(format!("http://{addr}"));
    let got = call(
        secured("b", SecurityScheme::HttpBearer { bearer_format: None }),
        base.clone().with_secret("b", Secret::new(SECRET)),
    )
    .await;
    assert_eq!(got["headers"]["authorization"], format!("Bearer {SECRET}"));
    let got = call(
        secured("basic", SecurityScheme::HttpBasic),
        base.clone().with_basic("basic", "alice", Secret::new("pw:1")),
    )
    .await;
    let want = base64::engine::general_purpose::STANDARD.encode("alice:pw:1");
    assert_eq!(got["headers"]["authorization"], format!("Basic {want}"));
    // An operation without security uses the default credential.
    let got = call(
        tool("open", HttpMethod::Get, "/open", vec![]),
        base.with_default_credential(Credential::bearer(Secret::new("dflt"))),
    )
    .await;
    assert_eq!(got["headers"]["authorization"], "Bearer dflt");
}

#[tokio::test]
async fn alternatives_pick_the_configured_one_or_fail_clearly() {
    let addr = echo_server().await;
    let t = with_security(
        tool("op", HttpMethod::Get, "/op", vec![]),
        vec![
            SecurityRequirement {
                schemes: vec![SchemeUse {
                    name: "oauth".into(),
                    scheme: SecurityScheme::Other {
                        declared: "oauth2:authorizationCode".into(),
                    },
                    scopes: vec![],
                }],
            },
            SecurityRequirement {
                schemes: vec![SchemeUse {
                    name: "key".into(),
                    scheme: SecurityScheme::ApiKey {
                        location: ApiKeyLocation::Header,
                        name: "X-K".into(),
                    },
                    scopes: vec![],
                }],
            },
        ],
    );
    let base = HttpConfig::new().with_base_url(format!("http://{addr}"));
    let got = call(t.clone(), base.clone().with_secret("key", Secret::new("kk"))).await;
    assert_eq!(got["headers"]["x-k"], "kk");
    let tool = HttpTool::new(t, HttpRuntime::new(base).unwrap()).unwrap();
    let e = tool.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::PermissionDenied);
    assert!(
        e.message().contains("oauth") && e.message().contains("key"),
        "{}",
        e.message()
    );
}

#[derive(Clone, Default)]
struct TokenServer {
    fetches: Arc<AtomicUsize>,
    expires_in: Option<u64>,
    revoke_first: bool,
}

async fn token_endpoint(State(s): State<TokenServer>, headers: HeaderMap, body: String) -> impl IntoResponse {
    let n = s.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("client-1:{SECRET}"))
    );
    let post_ok = body.contains("client_id=client-1") && body.contains("client_secret=");
    if !(basic == want || post_ok) || !body.contains("grant_type=client_credentials") {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"}))).into_response();
    }
    let mut answer = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "scope": body});
    if let Some(e) = s.expires_in {
        answer["expires_in"] = json!(e);
    }
    axum::Json(answer).into_response()
}

async fn api(State(s): State<TokenServer>, headers: HeaderMap) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if s.revoke_first && auth == "Bearer tok-1" {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "token revoked"})),
        )
            .into_response();
    }
    axum::Json(json!({"auth": auth})).into_response()
}

async fn oauth_server(s: TokenServer) -> std::net::SocketAddr {
    serve(
        Router::new()
            .route("/oauth/token", post(token_endpoint))
            .fallback(api)
            .with_state(s),
    )
    .await
}

fn oauth_tool() -> ConvertedTool {
    secured(
        "cc",
        SecurityScheme::Oauth2ClientCredentials {
            token_url: "/oauth/token".into(),
            scopes: BTreeMap::from([("read".into(), "Read".into())]),
        },
    )
}

#[tokio::test]
async fn oauth2_client_credentials_token_is_cached_until_expiry() {
    let s = TokenServer {
        expires_in: Some(3600),
        ..Default::default()
    };
    let addr = oauth_server(s.clone()).await;
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{addr}"))
        .with_client_credentials("cc", "client-1", Secret::new(SECRET));
    let rt = HttpRuntime::new(cfg).unwrap();
    let a = HttpTool::new(oauth_tool(), rt.clone()).unwrap();
    let b = HttpTool::new(oauth_tool(), rt).unwrap();
    for t in [&a, &b, &a] {
        let out = t.call(&json!({}), &CallContext::new("t")).await.unwrap();
        assert_eq!(out.content["body"]["auth"], "Bearer tok-1");
    }
    assert_eq!(
        s.fetches.load(Ordering::SeqCst),
        1,
        "one token for three calls of two tools"
    );

    // A token that expires at once is fetched again on every call.
    let s = TokenServer {
        expires_in: Some(0),
        ..Default::default()
    };
    let addr = oauth_server(s.clone()).await;
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{addr}"))
        .with_client_credentials("cc", "client-1", Secret::new(SECRET));
    let t = HttpTool::new(oauth_tool(), HttpRuntime::new(cfg).unwrap()).unwrap();
    t.call(&json!({}), &CallContext::new("t")).await.unwrap();
    let out = t.call(&json!({}), &CallContext::new("t")).await.unwrap();
    assert_eq!(out.content["body"]["auth"], "Bearer tok-2");
    assert_eq!(s.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn oauth2_revoked_token_is_refetched_once() {
    let s = TokenServer {
        revoke_first: true,
        ..Default::default()
    };
    let addr = oauth_server(s.clone()).await;
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{addr}"))
        .with_client_credentials("cc", "client-1", Secret::new(SECRET));
    let t = HttpTool::new(oauth_tool(), HttpRuntime::new(cfg).unwrap()).unwrap();
    let out = t.call(&json!({}), &CallContext::new("t")).await.unwrap();
    assert_eq!(out.content["body"]["auth"], "Bearer tok-2");
    assert_eq!(s.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn oauth2_flow_directly_with_post_auth_and_a_refusal() {
    let s = TokenServer::default();
    let addr = oauth_server(s.clone()).await;
    let client = reqwest::Client::new();
    let flow = ClientCredentials::new(format!("http://{addr}/oauth/token"), "client-1", Secret::new(SECRET))
        .with_scopes(["read", "write"])
        .with_auth_method(ClientAuthMethod::Post);
    assert_eq!(flow.token(&client).await.unwrap().expose(), "tok-1");
    assert_eq!(flow.token(&client).await.unwrap().expose(), "tok-1");
    assert_eq!(flow.fetch_count(), 1);
    let wrong = ClientCredentials::new(format!("http://{addr}/oauth/token"), "client-1", Secret::new("wrong"));
    let e = wrong.token(&client).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("401") && text.contains("invalid_client"), "{text}");
    assert!(!format!("{text}{e:?}{flow:?}").contains(SECRET));
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_debug() {
    // Unreachable host, key in the query string.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let t = secured(
        "k",
        SecurityScheme::ApiKey {
            location: ApiKeyLocation::Query,
            name: "key".into(),
        },
    );
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{dead}"))
        .with_secret("k", Secret::new(SECRET))
        .with_default_credential(Credential::basic("u", Secret::new(SECRET)));
    let rt = HttpRuntime::new(cfg.clone()).unwrap();
    let tool = HttpTool::new(t.clone(), rt.clone()).unwrap();
    let e = tool.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    let all = format!("{e} {e:?} {} {tool:?} {rt:?} {cfg:?}", e.to_model_text());
    assert!(!all.contains(SECRET), "{all}");
    assert!(!serde_json::to_string(tool.spec()).unwrap().contains(SECRET));

    // A refused redirect with the key in the query string.
    let other = echo_server().await;
    let target = format!("http://{other}/x");
    let r = Router::new().fallback(move || {
        let target = target.clone();
        async move { (StatusCode::FOUND, [("location", target)]).into_response() }
    });
    let addr = serve(r).await;
    let tool = HttpTool::new(
        t,
        HttpRuntime::new(cfg.with_base_url(format!("http://{addr}"))).unwrap(),
    )
    .unwrap();
    let e = tool.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::PermissionDenied);
    assert!(!format!("{e} {e:?}").contains(SECRET));

    // OAuth2 token endpoint down.
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{dead}"))
        .with_client_credentials("cc", "client-1", Secret::new(SECRET));
    let tool = HttpTool::new(oauth_tool(), HttpRuntime::new(cfg).unwrap()).unwrap();
    let e = tool.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::Upstream);
    assert!(e.message().contains("token endpoint"), "{}", e.message());
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

#[tokio::test]
async fn optional_auth_and_reserved_header_params() {
    let addr = echo_server().await;
    let key = SchemeUse {
        name: "key".into(),
        scheme: SecurityScheme::ApiKey {
            location: ApiKeyLocation::Header,
            name: "X-K".into(),
        },
        scopes: vec![],
    };
    // `security: [{}, {key: []}]`: anonymous allowed, but a configured key is preferred.
    let mut t = tool(
        "op",
        HttpMethod::Get,
        "/op",
        vec![param(
            "Authorization",
            toolplane_openapi::binding::ParamLocation::Header,
            toolplane_openapi::binding::ParamStyle::Simple,
            false,
        )],
    );
    t.binding.security = vec![
        SecurityRequirement { schemes: vec![] },
        SecurityRequirement { schemes: vec![key] },
    ];
    let base = HttpConfig::new().with_base_url(format!("http://{addr}"));
    let got = call(t.clone(), base.clone().with_secret("key", Secret::new("kk"))).await;
    assert_eq!(got["headers"]["x-k"], "kk");
    // Without configuration the call goes out anonymously; a model-supplied
    // Authorization parameter is ignored, as OpenAPI specifies.
    let tool = HttpTool::new(t, HttpRuntime::new(base).unwrap()).unwrap();
    let out = tool
        .call(&json!({"Authorization": "Bearer forged"}), &CallContext::new("t"))
        .await
        .unwrap();
    assert!(
        out.content["body"]["headers"].get("authorization").is_none(),
        "{}",
        out.content
    );
    assert!(out.content["body"]["headers"].get("x-k").is_none());
}

#[tokio::test]
async fn a_hanging_token_endpoint_times_out() {
    let r = Router::new().route(
        "/oauth/token",
        post(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            "late"
        }),
    );
    let addr = serve(r).await;
    let cfg = HttpConfig::new()
        .with_base_url(format!("http://{addr}"))
        .with_client_credentials("cc", "client-1", Secret::new(SECRET))
        .with_timeout(std::time::Duration::from_millis(200));
    let tool = HttpTool::new(oauth_tool(), HttpRuntime::new(cfg).unwrap()).unwrap();
    let e = tool.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::Timeout);
    assert!(e.message().contains("token endpoint"), "{}", e.message());
}
