//! Fix commands: a check's CLI template filled in for one resource, safe to paste into a shell.

use crate::model::ResourceRef;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How to fix a failing resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Remediation {
    /// Plain-language fix.
    pub text: String,
    /// CLI template with `{name}`-style placeholders.
    pub cli: Option<String>,
}

/// A value a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{name}`.
    Name,
    /// `{id}`.
    Id,
    /// `{scope}`, `{subscription}`, `{account}`, `{project}`.
    Scope,
    /// `{region}`.
    Region,
    /// `{resource_group}`.
    ResourceGroup,
    /// `{type}`.
    Type,
    /// `{short_id}`: the last segment of the id (`sg-0abc` of an EC2 ARN).
    ShortId,
}

impl Placeholder {
    fn parse(key: &str) -> Option<Placeholder> {
        Some(match key {
            "name" => Placeholder::Name,
            "id" => Placeholder::Id,
            "scope" | "subscription" | "account" | "project" => Placeholder::Scope,
            "region" => Placeholder::Region,
            "resource_group" => Placeholder::ResourceGroup,
            "type" => Placeholder::Type,
            "short_id" => Placeholder::ShortId,
            _ => return None,
        })
    }

    /// The field of a normalized resource document that holds this value.
    fn doc_field(self) -> &'static str {
        match self {
            Placeholder::Name => "name",
            Placeholder::Id => "id",
            Placeholder::Scope => "scope",
            Placeholder::Region => "region",
            Placeholder::ResourceGroup => "resource_group",
            Placeholder::Type => "type",
            Placeholder::ShortId => "id",
        }
    }
}

/// Where the template text being copied stands in POSIX shell quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Bare,
    Single,
    Double,
}

impl Remediation {
    /// The CLI template filled from a normalized resource document (`name`, `id`, `scope`,
    /// `region`, `resource_group`, `type`; `{subscription}`/`{account}`/`{project}` name the
    /// scope). See [`Remediation::fill_with`] for the guarantees.
    pub fn fill(&self, doc: &serde_json::Value) -> Option<String> {
        self.fill_with(|p| {
            let v = doc.get(p.doc_field()).and_then(|v| v.as_str()).unwrap_or_default();
            if p == Placeholder::ShortId { short_id(v).into() } else { v.into() }
        })
    }

    /// The CLI template filled from a finding's resource; `resource_group` is the document's
    /// when known, else read from an ARM id.
    pub fn fill_for(&self, r: &ResourceRef, resource_group: Option<&str>) -> Option<String> {
        self.fill_with(|p| match p {
            Placeholder::Name => r.name.as_str().into(),
            Placeholder::Id => r.id.as_str().into(),
            Placeholder::Scope => r.scope.as_str().into(),
            Placeholder::Region => r.region.as_str().into(),
            Placeholder::Type => r.rtype.as_str().into(),
            Placeholder::ShortId => short_id(&r.id).into(),
            Placeholder::ResourceGroup => {
                resource_group.map(Cow::Borrowed).unwrap_or_else(|| arm_segment(&r.id, "resourceGroups").into())
            }
        })
    }

    /// The fix command for a finding's resource, with its stored document when there is one:
    /// the one string the console copies with `y` and `posture findings --format json` prints.
    pub fn command_for(&self, r: &ResourceRef, doc: Option<&serde_json::Value>) -> Option<String> {
        let group = doc.and_then(|d| d.get("resource_group")).and_then(|v| v.as_str()).filter(|g| !g.is_empty());
        self.fill_for(r, group)
    }

    /// Refuse a template whose words a value could change: command substitution re-parses
    /// what it contains, so a quoted value inside `$(...)` or backticks is no longer one word.
    pub fn validate(&self) -> Result<(), String> {
        match self.cli.as_deref() {
            Some(t) if t.contains("$(") || t.contains('`') => Err(
                "remediation.cli must not use command substitution ($(...) or backticks): a value inside it would be parsed again; use {short_id} or spell the value out".into(),
            ),
            _ => Ok(()),
        }
    }

    /// Whether the template names a placeholder that only the resource document holds.
    pub fn needs_document(&self) -> bool {
        self.cli.as_deref().is_some_and(|t| t.contains("{resource_group}"))
    }

    /// Fill the template in one left-to-right pass, so a value is never expanded again (a name
    /// that reads `{resource_group}` stays that text). Each value is cleaned of control
    /// characters and quoted for a POSIX shell by `shlex`; inside a quoted part of the template
    /// the quote is closed around the value and reopened, so the value stays one word whatever
    /// it holds. Unknown `{...}` text is kept as written.
    pub fn fill_with<'v>(&self, value: impl Fn(Placeholder) -> Cow<'v, str>) -> Option<String> {
        let template = self.cli.as_ref()?;
        let mut out = String::with_capacity(template.len() + 32);
        let mut quoting = Quoting::Bare;
        let mut rest = template.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '{'
                && let Some(end) = rest.find('}')
                && let Some(p) = Placeholder::parse(&rest[1..end])
            {
                push_value(&mut out, quoting, &value(p));
                rest = &rest[end + 1..];
                continue;
            }
            if quoting == Quoting::Bare
                && c == '<'
                && let Some(hint) = user_hint(rest)
            {
                // `<sns-topic-arn>` asks the user for a value; bare, a shell would read it as
                // redirections and truncate a file, so it is pasted as a literal word.
                out.push('\'');
                out.push_str(hint);
                out.push('\'');
                rest = &rest[hint.len()..];
                continue;
            }
            let mut len = c.len_utf8();
            match (quoting, c) {
                (Quoting::Bare, '\'') => quoting = Quoting::Single,
                (Quoting::Bare, '"') => quoting = Quoting::Double,
                (Quoting::Single, '\'') | (Quoting::Double, '"') => quoting = Quoting::Bare,
                // An escaped character is copied with its backslash and changes nothing.
                (Quoting::Bare | Quoting::Double, '\\') => len += rest[1..].chars().next().map_or(0, char::len_utf8),
                _ => {}
            }
            out.push_str(&rest[..len]);
            rest = &rest[len..];
        }
        Some(out)
    }
}

/// Append `value` as one shell word at a point of the template quoted as `quoting`.
fn push_value(out: &mut String, quoting: Quoting, value: &str) {
    let clean = crate::sanitize::clean(value);
    // Control characters (NUL included) were replaced above, so quoting cannot fail; an empty
    // word is kept as `''` so arguments never shift.
    let quoted = shlex::try_quote(&clean).unwrap_or(Cow::Borrowed("''"));
    if matches!(quoted, Cow::Borrowed(_)) && !clean.is_empty() {
        // Nothing in it is special to the shell, quoted or not.
        out.push_str(&clean);
        return;
    }
    let close = match quoting {
        Quoting::Bare => "",
        Quoting::Single => "'",
        Quoting::Double => "\"",
    };
    out.push_str(close);
    out.push_str(&quoted);
    out.push_str(close);
}

/// The last segment of an id: after the last `/`, else after the last `:`.
fn short_id(id: &str) -> &str {
    id.rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && id.contains('/'))
        .unwrap_or_else(|| id.rsplit(':').next().unwrap_or(id))
}

/// The `<what-to-type>` hint at the start of `s`, brackets included.
fn user_hint(s: &str) -> Option<&str> {
    let end = s.find('>')?;
    let inner = &s[1..end];
    let ok = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c));
    ok.then(|| &s[..=end])
}

/// The value after `key` in an ARM id path (`/subscriptions/{x}/resourceGroups/{y}/...`).
fn arm_segment(id: &str, key: &str) -> String {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next().unwrap_or_default().to_string();
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rem(cli: &str) -> Remediation {
        Remediation { text: String::new(), cli: Some(cli.into()) }
    }

    #[test]
    fn fills_and_quotes() {
        let r = rem("az x -n {name} -g {resource_group} --sub {subscription}");
        let doc = json!({"name": "st1", "resource_group": "rg one", "scope": "s-1"});
        assert_eq!(r.fill(&doc).unwrap(), "az x -n st1 -g 'rg one' --sub s-1");
        let evil = json!({"name": "x'; rm -rf ~; echo '\u{1b}[2J", "resource_group": "", "scope": ""});
        let out = r.fill(&evil).unwrap();
        assert!(!out.contains('\u{1b}'));
        assert!(out.ends_with("-g '' --sub ''"), "{out}");
    }

    #[test]
    fn a_value_is_never_expanded_again() {
        let r = rem("az storage account update -n {name} -g {resource_group}");
        let doc = json!({"name": "{resource_group}", "resource_group": "x; touch pwned; #"});
        let out = r.fill(&doc).unwrap();
        assert_eq!(out, "az storage account update -n '{resource_group}' -g 'x; touch pwned; #'");
    }

    #[test]
    fn inside_template_quotes_the_quote_is_closed_around_the_value() {
        let r = rem("az rest --url 'https://m.azure.com{id}?api=1' --q \"[?n=='{name}']\"");
        let safe = json!({"id": "/subscriptions/s/x", "name": "vm1"});
        assert_eq!(
            r.fill(&safe).unwrap(),
            "az rest --url 'https://m.azure.com/subscriptions/s/x?api=1' --q \"[?n=='vm1']\""
        );
        let evil = json!({"id": "/a'b $(id)", "name": "\"; id; \""});
        let out = r.fill(&evil).unwrap();
        assert_eq!(
            shell_words(&out),
            ["rest", "--url", "https://m.azure.com/a'b $(id)?api=1", "--q", "[?n=='\"; id; \"']"],
            "{out}"
        );
    }

    /// The words bash passes to `az` for `cmd` (bash is on every machine posture builds on).
    fn shell_words(cmd: &str) -> Vec<String> {
        let script = format!("az() {{ printf '%s\\0' \"$@\"; }}; {cmd}");
        let out = std::process::Command::new("bash").arg("-c").arg(script).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_terminator('\0').map(str::to_string).collect()
    }

    #[test]
    fn user_hints_are_pasted_as_words_not_redirections() {
        let r = rem("aws x --arn <sns-topic-arn> --y {name} > out.json 'keep <code>'");
        let out = r.fill(&json!({"name": "n"})).unwrap();
        assert_eq!(out, "aws x --arn '<sns-topic-arn>' --y n > out.json 'keep <code>'");
    }

    #[test]
    fn short_ids_and_substitution_is_refused() {
        let r = rem("aws ec2 x --group-id {short_id}");
        let doc = json!({"id": "arn:aws:ec2:us-east-1:1:security-group/sg-0abc"});
        assert_eq!(r.fill(&doc).unwrap(), "aws ec2 x --group-id sg-0abc");
        assert_eq!(short_id("arn:aws:s3:::bucket"), "bucket");
        assert!(r.validate().is_ok());
        assert!(rem("aws x --id $(basename {id})").validate().is_err());
        assert!(rem("aws x --id `basename {id}`").validate().is_err());
    }

    #[test]
    fn unknown_braces_and_escapes_are_kept() {
        let r = rem("x --body '{\"a\":{b}}' \\' {name}");
        assert_eq!(r.fill(&json!({"name": "n"})).unwrap(), "x --body '{\"a\":{b}}' \\' n");
    }

    #[test]
    fn fills_from_a_finding_resource() {
        let r = rem("az x -n {name} -g {resource_group} --type {type} --region {region}");
        let res = ResourceRef {
            id: "/subscriptions/s/resourceGroups/rg-1/providers/p/x/vm".into(),
            name: "vm".into(),
            rtype: "p/x".into(),
            cloud: crate::model::Cloud::Azure,
            scope: "s".into(),
            region: "westeurope".into(),
        };
        assert_eq!(r.fill_for(&res, None).unwrap(), "az x -n vm -g rg-1 --type p/x --region westeurope");
        assert_eq!(
            r.fill_for(&res, Some("from doc")).unwrap(),
            "az x -n vm -g 'from doc' --type p/x --region westeurope"
        );
        assert!(r.needs_document());
    }
}
