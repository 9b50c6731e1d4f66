use super::*;
use crate::sources::detect::{self, Input};
use crate::sources::records::Item;

/// A built record as skimming gives it: the kept keys' values, the others' presence.
fn skimmed(mut r: Record) -> Record {
    if let Some(Value::Object(o)) = r.value.as_mut() {
        for (k, v) in o.iter_mut() {
            if !KEEP.contains(&k.as_str()) {
                *v = Value::Null;
            }
        }
    }
    r
}

fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Records that build, and records that do not (each way serde_json fails), in every part of
/// a record.
fn cases() -> Vec<String> {
    let long = "x".repeat(100);
    let mut out: Vec<String> = [
        r#"{"arn":"arn:1","resourceType":"AWS::S3::Bucket","configuration":{"a":[1,2,{"b":null}]},"tags":{}}"#,
        r#"{"id":"/subscriptions/s/x","type":"a.b/c","properties":{"k":"v"},"id":"/subscriptions/s/y"}"#,
        r#"{"\u0069d":"/subscriptions/s/é","type":"a.b/c","properties":"\ud83d\ude00"}"#,
        r#"{"name":"//x/y","asset_type":"t","resource":{"data":{"n":1.5e3}},"iam_policy":{}}"#,
        r#"{"id":"x","properties":{"n":1e999}}"#,
        r#"{"id":"x","properties":"\ud800"}"#,
        r#"{"id":"x","properties":{"a":tru}}"#,
        r#"{"id":"x","properties":{"a":1,}}"#,
        r#"{"id":"x","properties":{"a":"\q"}}"#,
        r#"{"id":"x","properties":{"a":1} "#,
        r#"{"id":"x"} 1"#,
        r#"[1,"a",{"id":"x"}]"#,
        r#""a string""#,
        "3",
        "{}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push(format!(r#"{{"id":"{long}","type":"{long}","properties":{{"{long}":"{long}"}}}}"#));
    out.push(format!(r#"{{"properties":[{}],"id":"x"}}"#, vec!["1"; 100].join(",")));
    out.push(format!(r#"{{"id":"x","properties":{}}}"#, nested(130, "1")));
    for d in [120, 124, 125, 126, 127] {
        out.push(format!(r#"{{"id":"x","properties":{},"type":"{}"}}"#, nested(d, "{}"), nested(d, "")));
        out.push(format!(r#"{{"id":{}}}"#, nested(d, "1")));
    }
    out
}

#[test]
fn a_skimmed_record_is_the_built_one_less_what_is_not_kept_and_fails_where_it_fails() {
    let tight = Limits { max_string_bytes: 40, max_record_bytes: 1000, ..Limits::default() };
    for json in cases() {
        for limits in [Limits::default(), tight] {
            for depth in 0..=2 {
                let built = full(json.as_bytes(), limits, depth).map(skimmed);
                let skim = skim(json.as_bytes(), limits, depth);
                assert_eq!(skim, built, "{json} at depth {depth} within {limits:?}");
            }
        }
    }
    let bad = b"{\"id\":\"x\",\"properties\":\"\xff\"}";
    assert!(skim(bad, Limits::default(), 1).is_err() && full(bad, Limits::default(), 1).is_err());
}

/// Records handed on as text and built give what building them in the document gives, and
/// the document stops where it stopped (the nesting limit counts from the document's start).
#[test]
fn records_as_text_build_as_they_would_in_their_document() {
    let both = |doc: &str| {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let input = Input::Bytes(doc.as_bytes());
        let ra = detect::stream(&input, Limits::default(), &mut |r| {
            a.push(r);
            Ok(())
        });
        let rb = detect::stream_items(&input, Limits::default(), &mut |item| {
            let r = match item {
                Item::Record(r) => r,
                Item::Raw { json, context, depth } => {
                    let mut r = full(json, Limits::default(), depth)?;
                    super::super::records::give_context(&mut r, context);
                    r
                }
            };
            b.push(r);
            Ok(())
        });
        assert_eq!(a, b, "{doc}");
        assert_eq!(ra.is_ok(), rb.is_ok(), "{doc}: {ra:?} {rb:?}");
    };
    for d in [124, 125, 126, 127] {
        let deep = format!(r#"{{"id":"x","p":{}}}"#, nested(d, "1"));
        both(&format!(r#"[{{"id":"a"}},{deep},{{"id":"b"}}]"#));
        both(&format!(r#"{{"count":3,"data":[{{"id":"a"}},{deep},{{"id":"b"}}]}}"#));
        both(&format!("{{\"id\":\"a\"}}\n{deep}\n{{\"id\":\"b\"}}\n"));
    }
    both(
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"u1"},{"id":"u2","@odata.context":"own"}]}"#,
    );
    both(r#"{"id":"single","type":"a.b/c"}"#);
    both(r#"[{"id":"a"},{"id":"b",]"#);
}
