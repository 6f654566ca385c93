//! Which operations become tools: include and exclude by tag, method, path glob and operationId.

use serde::{Deserialize, Serialize};

use crate::binding::HttpMethod;

/// Operation filters. An operation is kept when every non-empty include list
/// has a match (lists are alternatives: any entry matches) and no exclude
/// list matches. Paths and operationIds match globs: `*` is any run of
/// characters except `/`, `**` any run including `/`, `?` one character.
///
/// ```
/// use toolplane_openapi::{Filters, HttpMethod};
/// let f = Filters { include_paths: vec!["/repos/*/*/issues**".into()], exclude_methods: vec![HttpMethod::Delete], ..Default::default() };
/// assert!(f.matches(HttpMethod::Get, "/repos/{owner}/{repo}/issues/{n}", Some("issues/get"), &[]));
/// assert!(!f.matches(HttpMethod::Delete, "/repos/{owner}/{repo}/issues", None, &[]));
/// assert!(!f.matches(HttpMethod::Get, "/user", None, &[]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Keep operations having one of these tags.
    pub include_tags: Vec<String>,
    /// Drop operations having one of these tags.
    pub exclude_tags: Vec<String>,
    /// Keep these methods.
    pub include_methods: Vec<HttpMethod>,
    /// Drop these methods.
    pub exclude_methods: Vec<HttpMethod>,
    /// Keep paths matching one of these globs.
    pub include_paths: Vec<String>,
    /// Drop paths matching one of these globs.
    pub exclude_paths: Vec<String>,
    /// Keep operationIds matching one of these globs (operations without one never match).
    pub include_operation_ids: Vec<String>,
    /// Drop operationIds matching one of these globs.
    pub exclude_operation_ids: Vec<String>,
}

impl Filters {
    /// Adds one command-line style rule: `tag:NAME`, `method:GET`, `path:GLOB`
    /// or `op:GLOB` (operationId), to the include lists or the exclude lists.
    ///
    /// ```
    /// use toolplane_openapi::Filters;
    /// let mut f = Filters::default();
    /// f.add_rule(true, "tag:issues").unwrap();
    /// f.add_rule(false, "method:delete").unwrap();
    /// f.add_rule(true, "path:/repos/**").unwrap();
    /// assert_eq!(f.include_tags, ["issues"]);
    /// assert!(f.add_rule(true, "colour:red").unwrap_err().contains("tag:"));
    /// ```
    pub fn add_rule(&mut self, include: bool, rule: &str) -> Result<(), String> {
        let (kind, value) = rule
            .split_once(':')
            .ok_or_else(|| format!("filter `{rule}`: expected tag:NAME, method:METHOD, path:GLOB or op:GLOB"))?;
        let value = value.to_string();
        match (kind, include) {
            ("tag", true) => self.include_tags.push(value),
            ("tag", false) => self.exclude_tags.push(value),
            ("method", _) => {
                let m = HttpMethod::parse(&value).ok_or_else(|| format!("filter `{rule}`: unknown method"))?;
                if include {
                    self.include_methods.push(m);
                } else {
                    self.exclude_methods.push(m);
                }
            }
            ("path", true) => self.include_paths.push(value),
            ("path", false) => self.exclude_paths.push(value),
            ("op" | "operationId", true) => self.include_operation_ids.push(value),
            ("op" | "operationId", false) => self.exclude_operation_ids.push(value),
            _ => {
                return Err(format!(
                    "filter `{rule}`: expected tag:NAME, method:METHOD, path:GLOB or op:GLOB"
                ));
            }
        }
        Ok(())
    }

    /// True when the operation is kept.
    pub fn matches(&self, method: HttpMethod, path: &str, operation_id: Option<&str>, tags: &[String]) -> bool {
        let tag_in = |list: &[String]| tags.iter().any(|t| list.iter().any(|l| l == t));
        let glob_in = |list: &[String], s: &str| list.iter().any(|g| glob_match(g, s));
        let id_in = |list: &[String]| operation_id.is_some_and(|id| glob_in(list, id));
        (self.include_tags.is_empty() || tag_in(&self.include_tags))
            && (self.include_methods.is_empty() || self.include_methods.contains(&method))
            && (self.include_paths.is_empty() || glob_in(&self.include_paths, path))
            && (self.include_operation_ids.is_empty() || id_in(&self.include_operation_ids))
            && !tag_in(&self.exclude_tags)
            && !self.exclude_methods.contains(&method)
            && !glob_in(&self.exclude_paths, path)
            && !id_in(&self.exclude_operation_ids)
    }
}

impl Filters {
    /// Each rule that matches none of `ops` (method, path, operationId, tags),
    /// as the command-line flag that sets it (`--include-path '/x/**'`): a
    /// filter that can never match is almost always a typo.
    pub(crate) fn unmatched(&self, ops: &[(HttpMethod, &str, Option<&str>, &[String])]) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |field: &str, flag: &str, list: &[String], hit: &dyn Fn(&str) -> bool| {
            for rule in list.iter().filter(|r| !hit(r)) {
                out.push(format!("{field} `{rule}` (--{flag})"));
            }
        };
        let tag = |t: &str| ops.iter().any(|o| o.3.iter().any(|x| x == t));
        let path = |g: &str| ops.iter().any(|o| glob_match(g, o.1));
        let id = |g: &str| ops.iter().any(|o| o.2.is_some_and(|i| glob_match(g, i)));
        check("include_tags", "include-tag", &self.include_tags, &tag);
        check("exclude_tags", "exclude-tag", &self.exclude_tags, &tag);
        check("include_paths", "include-path", &self.include_paths, &path);
        check("exclude_paths", "exclude-path", &self.exclude_paths, &path);
        check("include_operation_ids", "include-op", &self.include_operation_ids, &id);
        check("exclude_operation_ids", "exclude-op", &self.exclude_operation_ids, &id);
        let methods = [
            ("include_methods", "include-method", &self.include_methods),
            ("exclude_methods", "exclude-method", &self.exclude_methods),
        ];
        for (field, flag, list) in methods {
            for m in list.iter().filter(|m| !ops.iter().any(|o| o.0 == **m)) {
                out.push(format!("{field} `{m}` (--{flag})"));
            }
        }
        out
    }
}

/// Glob matching: `*` any run without `/`, `**` any run, `?` one character other than `/`.
///
/// ```
/// use toolplane_openapi::glob_match;
/// assert!(glob_match("/pets/*", "/pets/{id}"));
/// assert!(!glob_match("/pets/*", "/pets/{id}/toys"));
/// assert!(glob_match("/pets/**", "/pets/{id}/toys"));
/// assert!(glob_match("issues/*", "issues/create"));
/// ```
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // memo[i][j]: pattern from i matches text from j; iterative DP, no recursion.
    let (n, m) = (p.len(), t.len());
    let mut dp = vec![vec![false; m + 1]; n + 1];
    dp[n][m] = true;
    for i in (0..n).rev() {
        let double = p[i] == '*' && p.get(i + 1) == Some(&'*');
        for j in (0..=m).rev() {
            dp[i][j] = match p[i] {
                '*' if double => dp[i + 2][j] || (j < m && dp[i][j + 1]),
                '*' if i > 0 && p[i - 1] == '*' => dp[i + 1][j],
                '*' => dp[i + 1][j] || (j < m && t[j] != '/' && dp[i][j + 1]),
                '?' => j < m && t[j] != '/' && dp[i + 1][j + 1],
                c => j < m && t[j] == c && dp[i + 1][j + 1],
            };
        }
    }
    dp[0][0]
}
