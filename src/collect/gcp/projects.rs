//! The projects a credential can see: Cloud Resource Manager v3 `projects.search`, paged with
//! `pageToken`. Only ACTIVE projects are collected (those pending deletion hold nothing to fix).

use super::api::{Api, advance, page_items};
use crate::collect::error::ApiError;
use crate::collect::state::State;
use serde_json::Value;

/// The manifest scope that records the search itself.
pub const SEARCH_SCOPE: &str = "projects.search";

/// A project found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// `projects/<number>`.
    pub name: String,
    /// The project id, for display.
    pub id: Option<String>,
}

/// Every ACTIVE project visible; a failure is recorded and ends the search with what it had.
pub async fn search(api: &Api, state: &State, base: &url::Url) -> Vec<Project> {
    state.in_flight("projects");
    let mut out = Vec::new();
    if let Err(e) = pages(api, state, base, &mut out).await
        && e != ApiError::Cancelled
    {
        let permission = e.missing_permission("resourcemanager.projects.get");
        state.fail(SEARCH_SCOPE, "projects", e.part_error(), permission);
    }
    out
}

async fn pages(api: &Api, state: &State, base: &url::Url, out: &mut Vec<Project>) -> Result<(), ApiError> {
    let first = base
        .join("v3/projects:search")
        .map_err(|e| ApiError::Malformed { request: String::new(), detail: e.to_string() })?;
    let mut token: Option<String> = None;
    loop {
        let mut u = first.clone();
        u.query_pairs_mut().append_pair("pageSize", "500");
        if let Some(t) = &token {
            u.query_pairs_mut().append_pair("pageToken", t);
        }
        let request = format!("GET {u}");
        let mut page = api.get(u).await?;
        let (projects, next) = page_items(&mut page, "projects", &request)?;
        state.count(SEARCH_SCOPE, "projects", projects.len() as u64, 1);
        let s = |p: &Value, k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        for p in &projects {
            let active = s(p, "state").is_none_or(|st| st == "ACTIVE");
            match s(p, "name").filter(|n| n.starts_with("projects/") && n.len() > "projects/".len()) {
                Some(name) if active => out.push(Project {
                    name: crate::sanitize::clean(&name).into_owned(),
                    id: s(p, "projectId").map(|i| crate::sanitize::clean(&i).into_owned()),
                }),
                Some(_) => {}
                None => return Err(ApiError::Malformed { request, detail: "a project without a name".into() }),
            }
        }
        if !advance(&mut token, next, &request)? {
            return Ok(());
        }
    }
}
