//! Microsoft Graph (Entra ID) responses, as Graph returns them: a collection
//! `{"@odata.context": ".../$metadata#users", "value": [...]}` (each `@odata.nextLink` page a
//! file of its own) or a single entity carrying its own `@odata.context` (`.../$entity`).
//!
//! The context names the entity set, which becomes the type (`microsoft.graph/users`). It does
//! not name the tenant, so the file's path does: the folder after a folder named `entra`
//! (`snapshot/entra/<tenant-id>/users.json`). The tenant is the resource's scope.

use super::build;
use super::records::ODATA_CONTEXT;
use crate::model::{Cloud, Resource, ResourceRef};
use serde_json::{Map, Value};

/// The prefix of every Graph resource type.
pub const TYPE_PREFIX: &str = "microsoft.graph/";

/// Whether a record is a Microsoft Graph entity or response (it carries an OData context URL).
pub fn is_graph(rec: &Value) -> bool {
    rec.get(ODATA_CONTEXT).and_then(Value::as_str).is_some_and(|c| c.contains("$metadata#"))
}

/// Whether a resource type is a Graph (tenant-level) one.
pub fn is_graph_type(rtype: &str) -> bool {
    rtype.starts_with(TYPE_PREFIX)
}

/// The tenant a file names: the path component after the last `entra` folder, itself a folder.
pub fn tenant_of(file: &str) -> Option<&str> {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    let at = parts.iter().rposition(|p| p.eq_ignore_ascii_case("entra") || p.ends_with(":entra"))?;
    // the tenant must be a folder, not the file itself
    parts.get(at + 1).filter(|t| !t.is_empty() && at + 2 < parts.len()).copied()
}

/// The entity set a context URL names, as written (`identity/conditionalAccess/policies`):
/// the fragment after `$metadata#`, without `$select`/`$expand` parentheses or `/$entity`.
fn entity_set(context: &str) -> Option<String> {
    let fragment = context.split_once("$metadata#")?.1;
    let fragment = fragment.strip_prefix("Collection(").map(|f| f.trim_end_matches(')')).unwrap_or(fragment);
    let mut out = String::with_capacity(fragment.len());
    let mut depth = 0usize;
    for ch in fragment.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    let out = out.trim_end_matches("/$entity").trim_matches('/');
    let out = out.strip_prefix("microsoft.graph.").unwrap_or(out);
    (!out.is_empty()).then(|| out.to_string())
}

/// The entity set a record's context names.
fn set_of(rec: &Value) -> Option<String> {
    rec.get(ODATA_CONTEXT).and_then(Value::as_str).and_then(entity_set)
}

/// The resource type of a Graph record (as [`normalize`] gives it).
pub fn type_of(rec: &Value) -> Option<String> {
    set_of(rec).map(|set| format!("{TYPE_PREFIX}{}", set.to_ascii_lowercase()))
}

/// The resource id of a single-entity record read from `file` (None for a whole collection, or
/// when the file names no tenant: [`normalize`] reports that).
pub fn identity(rec: &Value, file: &str) -> Option<String> {
    if rec.get("value").is_some_and(Value::is_array) {
        return None;
    }
    let id = rec.get("id").and_then(Value::as_str).filter(|s| !s.is_empty())?;
    Some(format!("/tenants/{}/{}/{id}", tenant_of(file)?, set_of(rec)?))
}

/// Normalize one Graph record read from `file`: an entity, or a whole collection response
/// (its `value` elements), into resources of the file's tenant.
pub fn normalize(rec: Value, file: &str) -> Result<Vec<Resource>, String> {
    let set = set_of(&rec).unwrap_or_default();
    let tenant = tenant_of(file).ok_or_else(|| {
        format!(
            "a Microsoft Graph response ({set}) names no tenant: put it in a folder entra/<tenant-id>/ (see docs/checks.md, Microsoft Graph)"
        )
    })?;
    normalize_in(rec, tenant)
}

/// Normalize one Graph record of `tenant` (see [`normalize`]).
pub fn normalize_in(rec: Value, tenant: &str) -> Result<Vec<Resource>, String> {
    let context = rec.get(ODATA_CONTEXT).and_then(Value::as_str).unwrap_or_default();
    let set = entity_set(context).ok_or_else(|| {
        format!(
            "a Microsoft Graph response whose @odata.context names no entity set: {}",
            crate::sanitize::clean(context)
        )
    })?;
    match rec {
        Value::Object(mut o) if matches!(o.get("value"), Some(Value::Array(_))) => match o.remove("value") {
            Some(Value::Array(items)) => items.into_iter().map(|e| entity(e, &set, tenant)).collect(),
            _ => Ok(Vec::new()),
        },
        other => entity(other, &set, tenant).map(|r| vec![r]),
    }
}

/// One entity of `set` in `tenant`.
fn entity(v: Value, set: &str, tenant: &str) -> Result<Resource, String> {
    let Value::Object(o) = v else { return Err(format!("a {set} element is not an object")) };
    let id = match o.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(format!("a Microsoft Graph {set} entity without an id")),
    };
    let name = ["displayName", "userPrincipalName", "userDisplayName"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .unwrap_or(&id)
        .to_string();
    // `@odata.type` stays: it tells derived types apart (an ipNamedLocation from a countryNamedLocation)
    let properties: Map<String, Value> = o.into_iter().filter(|(k, _)| k != ODATA_CONTEXT).collect();
    let meta = ResourceRef {
        id: format!("/tenants/{tenant}/{set}/{id}"),
        name,
        rtype: format!("{TYPE_PREFIX}{}", set.to_ascii_lowercase()),
        cloud: Cloud::Azure,
        scope: tenant.to_string(),
        region: "global".into(),
    };
    Ok(build(meta, String::new(), Map::new(), Value::Object(properties), Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn the_context_names_the_type_and_the_folder_the_tenant() {
        for (ctx, set) in [
            ("https://graph.microsoft.com/v1.0/$metadata#users", "users"),
            ("https://graph.microsoft.com/v1.0/$metadata#users(id,userType)", "users"),
            (
                "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
                "reports/authenticationMethods/userRegistrationDetails",
            ),
            (
                "https://graph.microsoft.com/v1.0/$metadata#policies/authorizationPolicy/$entity",
                "policies/authorizationPolicy",
            ),
            (
                "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())",
                "roleManagement/directory/roleAssignments",
            ),
            ("https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.groupSetting)", "groupSetting"),
        ] {
            assert_eq!(entity_set(ctx).as_deref(), Some(set), "{ctx}");
        }
        assert_eq!(entity_set("https://graph.microsoft.com/v1.0/$metadata#"), None);
        assert_eq!(tenant_of(&format!("/snap/entra/{T}/users.json")), Some(T));
        assert_eq!(tenant_of(&format!("demo:azure/graph/entra/{T}/page-2/users.json")), Some(T));
        assert_eq!(tenant_of("/snap/entra/users.json"), None, "the file is not a tenant folder");
        assert_eq!(tenant_of("/snap/users.json"), None);
    }

    #[test]
    fn a_collection_becomes_resources_of_the_tenant() {
        let page = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "value": [{"id": "u1", "displayName": "Ada", "userType": "Guest", "@odata.type": "#microsoft.graph.user"}]
        });
        let rs = normalize(page, &format!("x/entra/{T}/users.json")).unwrap();
        assert_eq!(rs.len(), 1);
        let r = &rs[0];
        assert_eq!(r.meta.id, format!("/tenants/{T}/users/u1"));
        assert_eq!(
            (r.meta.rtype.as_str(), r.meta.scope.as_str(), r.meta.name.as_str()),
            ("microsoft.graph/users", T, "Ada")
        );
        assert_eq!(
            r.doc["properties"],
            json!({"id": "u1", "displayName": "Ada", "userType": "Guest", "@odata.type": "#microsoft.graph.user"})
        );
    }

    #[test]
    fn no_tenant_folder_or_no_id_is_an_error_naming_what_is_missing() {
        let e = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "id": "u1"});
        let err = normalize(e, "/tmp/users.json").unwrap_err();
        assert!(err.contains("names no tenant") && err.contains("entra/<tenant-id>/"), "{err}");
        let e =
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "displayName": "x"});
        let err = normalize(e, &format!("entra/{T}/u.json")).unwrap_err();
        assert!(err.contains("without an id"), "{err}");
    }
}
