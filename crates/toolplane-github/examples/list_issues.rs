//! Lists open issues of a repository with the curated GitHub tools, following
//! `pagination.next_page` the way a model would.
//!
//! ```text
//! GITHUB_TOKEN=... cargo run -p toolplane-github --example list_issues -- owner/repo [max_pages]
//! ```
//! `GITHUB_API_URL` points it at GitHub Enterprise Server.

use serde_json::json;
use toolplane_core::CallContext;
use toolplane_github::{GithubConfig, github_tools};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let repo = args.next().ok_or("usage: list_issues OWNER/REPO [MAX_PAGES]")?;
    let (owner, name) = repo.split_once('/').ok_or("expected OWNER/REPO")?;
    let max_pages: u64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(3);

    let tools = github_tools(&GithubConfig::from_env().with_read_only(true))?;
    let list = tools
        .iter()
        .find(|t| t.spec().name == "github_issues_list")
        .ok_or("github_issues_list is missing")?;
    let ctx = CallContext::new("example");
    let mut page = 1;
    loop {
        let out = list
            .call(
                &json!({"owner": owner, "repo": name, "per_page": 50, "page": page}),
                &ctx,
            )
            .await?;
        if out.is_error {
            eprintln!("GitHub answered {}: {}", out.content["status"], out.content["body"]);
            break;
        }
        for issue in out.content["body"].as_array().into_iter().flatten() {
            println!("#{} {}", issue["number"], issue["title"].as_str().unwrap_or(""));
        }
        match out.content["pagination"]["next_page"].as_u64() {
            Some(next) if next <= max_pages => page = next,
            _ => break,
        }
    }
    Ok(())
}
