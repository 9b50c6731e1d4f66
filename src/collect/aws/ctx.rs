//! One account being collected: its credentials, where its files go, and how a data set's
//! pages, rows and errors are recorded in the manifest.

use super::api::{Api, CallError};
use super::credential::Credentials;
use super::plan::DataSet;
use crate::collect::manifest::PartError;
use crate::collect::state::State;
use serde_json::Value;
use std::sync::Arc;

/// Most pages read of one data set (a token that never ends is a malformed answer).
pub const MAX_PAGES: u64 = 100_000;

/// The snapshot folder of the AWS files.
pub const AWS_DIR: &str = "aws";

/// One account's collection.
#[derive(Clone)]
pub struct Ctx {
    /// Signed calls.
    pub api: Api,
    /// The shared state.
    pub state: Arc<State>,
    /// The account's credentials (assumed, or the caller's own).
    pub creds: Credentials,
    /// The 12-digit account id (the manifest's scope).
    pub account: String,
    /// The region global services are asked from.
    pub home: String,
    /// Polls of the credential report before giving up, and the pause between them.
    pub report_polls: (u32, std::time::Duration),
}

impl Ctx {
    /// The manifest's name of `ds` in `region` (`None`: global).
    pub fn key(region: Option<&str>, name: &str) -> String {
        match region {
            Some(r) => format!("{r}/{name}"),
            None => name.to_string(),
        }
    }

    /// Write page `n` of `name` (`aws/<account>[/<region>]/<name>-<n>.json`), counting `rows`.
    pub fn write(&self, region: Option<&str>, name: &str, n: u64, value: &Value, rows: u64) {
        self.write_as(region, name, &format!("{name}-{n:05}.json"), value, rows);
    }

    /// Write `value` as `file` in the data set's folder, counted as a page of `name` with `rows`
    /// (for an output that names its subject only by its file name).
    pub fn write_as(&self, region: Option<&str>, name: &str, file: &str, value: &Value, rows: u64) {
        let dir = match region {
            Some(r) => format!("{AWS_DIR}/{}/{}", self.account, crate::collect::snapshot::slug(r)),
            None => format!("{AWS_DIR}/{}", self.account),
        };
        match serde_json::to_vec_pretty(value) {
            Ok(bytes) => self.state.write(&format!("{dir}/{file}"), &bytes),
            Err(e) => {
                self.state.fail(&self.account, &Ctx::key(region, name), part_error("", None, e.to_string()), None)
            }
        }
        self.state.count(&self.account, &Ctx::key(region, name), rows, 1);
        self.state.add_rows(rows);
    }

    /// Make sure the data set is in the manifest (a data set with nothing to write is complete).
    pub fn touch(&self, region: Option<&str>, name: &str) {
        self.state.count(&self.account, &Ctx::key(region, name), 0, 0);
    }

    /// `name` failed with `e`: partial, with the permission when it was refused.
    pub fn fail(&self, region: Option<&str>, name: &str, permission: &str, e: &CallError) {
        let perm = e.denied().then(|| permission.to_string());
        let err = part_error(&e.request(), e.status(), self.api.client.redact(&e.to_string()));
        self.state.fail(&self.account, &Ctx::key(region, name), err, perm);
    }

    /// A page that is not what the operation returns.
    pub fn malformed(&self, region: Option<&str>, ds: DataSet, request: &str, detail: &str) {
        let e = CallError::Malformed { request: request.to_string(), detail: detail.to_string() };
        self.fail(region, ds.name(), ds.permission(), &e);
    }
}

/// A manifest error.
pub fn part_error(request: &str, status: Option<u16>, message: String) -> PartError {
    PartError { request: request.to_string(), status, message: crate::sanitize::clean(&message).into_owned() }
}

/// The next page token of a JSON answer, refusing one that repeats the last.
pub fn next_token(v: &Value, key: &str, last: Option<&str>) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if Some(s.as_str()) == last => Err(format!("{key} repeats the previous page's")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} is not a string")),
    }
}
