//! Cloud Asset API `assets.list` over one parent (a project, folder or organization) for one
//! content type, paged with `pageToken`. Each page is written as it comes, one asset per line
//! as the API returned it (CAI NDJSON: the GCP source reads the API's camelCase spelling as
//! well as the export's snake_case).

use super::api::{Api, advance, page_items};
use super::plan::ContentType;
use crate::collect::error::ApiError;
use crate::collect::snapshot::slug;
use crate::collect::state::State;
use std::collections::BTreeSet;

/// What one listing asks.
pub struct Listing<'a> {
    /// The manifest scope it counts towards.
    pub scope: &'a str,
    /// `projects/X`, `folders/N` or `organizations/N`.
    pub parent: &'a str,
    /// The content type.
    pub content: ContentType,
    /// The `assetTypes` filter.
    pub types: &'a BTreeSet<String>,
    /// Assets per page (1..=1000).
    pub page_size: u32,
}

/// The first page's URL (`readTime` omitted: now).
pub fn url(api_base: &url::Url, l: &Listing) -> Result<url::Url, String> {
    let mut u = api_base.join(&format!("v1/{}/assets", l.parent)).map_err(|e| format!("{}: {e}", l.parent))?;
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("contentType", l.content.api_name());
        for t in l.types {
            q.append_pair("assetTypes", t);
        }
        q.append_pair("pageSize", &l.page_size.clamp(1, 1000).to_string());
    }
    Ok(u)
}

/// List every page into the snapshot; an error makes the data set partial (a 403 names the
/// missing permission) and stops this listing only.
pub async fn list(api: &Api, state: &State, base: &url::Url, l: &Listing<'_>) {
    let dataset = l.content.dataset();
    state.in_flight(&dataset);
    state.count(l.scope, &dataset, 0, 0);
    if let Err(e) = pages(api, state, base, l, &dataset).await {
        if e == ApiError::Cancelled {
            return;
        }
        let permission = e.missing_permission(l.content.permission());
        state.fail(l.scope, &dataset, e.part_error(), permission);
    }
}

async fn pages(api: &Api, state: &State, base: &url::Url, l: &Listing<'_>, dataset: &str) -> Result<(), ApiError> {
    let first = url(base, l).map_err(|detail| ApiError::Malformed { request: String::new(), detail })?;
    let folder = format!("gcp/assets/{}/{}", slug(l.parent), slug(l.content.api_name()));
    let mut token: Option<String> = None;
    let mut n = 0u64;
    loop {
        if state.cancelled() {
            return Err(ApiError::Cancelled);
        }
        let mut u = first.clone();
        if let Some(t) = &token {
            u.query_pairs_mut().append_pair("pageToken", t);
        }
        let request = format!("GET {u}");
        let mut page = api.get(u).await?;
        let (assets, next) = page_items(&mut page, "assets", &request)?;
        n += 1;
        if !assets.is_empty() {
            let mut out = Vec::with_capacity(assets.len() * 512);
            for a in &assets {
                serde_json::to_writer(&mut out, a)
                    .map_err(|e| ApiError::Malformed { request: request.clone(), detail: e.to_string() })?;
                out.push(b'\n');
            }
            state.write(&format!("{folder}/page{n:05}.ndjson"), &out);
        }
        state.count(l.scope, dataset, assets.len() as u64, 1);
        state.add_rows(assets.len() as u64);
        if !advance(&mut token, next, &request)? {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_parent_content_and_types() {
        let types: BTreeSet<String> =
            ["compute.googleapis.com/Instance".to_string(), "storage.googleapis.com/Bucket".into()].into();
        let l = Listing {
            scope: "projects/p",
            parent: "folders/12",
            content: ContentType::IamPolicy,
            types: &types,
            page_size: 5000,
        };
        let u = url(&url::Url::parse("http://127.0.0.1:1/").unwrap(), &l).unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1/v1/folders/12/assets?contentType=IAM_POLICY&assetTypes=compute.googleapis.com%2FInstance&assetTypes=storage.googleapis.com%2FBucket&pageSize=1000"
        );
    }
}
