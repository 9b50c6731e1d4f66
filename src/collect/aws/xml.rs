//! The XML answers of AWS's query protocol (IAM, STS, SNS, CloudWatch, EC2) read into a tree,
//! then into the JSON the AWS CLI prints for them: lists are the `member` (EC2: `item`) children,
//! maps the `entry` key/value pairs, and scalars strings, except the booleans and the fields a
//! data set names as numbers (the models' types; the CLI prints those as JSON numbers).

use quick_xml::events::Event;
use serde_json::{Map, Value};

/// One element: its local name, its text, its children in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The element's local name.
    pub name: String,
    /// Its text (entities resolved), trimmed.
    pub text: String,
    /// Child elements.
    pub children: Vec<Node>,
}

/// Deepest nesting read (answers are a few levels deep; a deeper one is malformed).
const MAX_DEPTH: usize = 64;

impl Node {
    /// Parse a whole document; the root element is returned.
    pub fn parse(bytes: &[u8]) -> Result<Node, String> {
        let mut reader = quick_xml::Reader::from_reader(bytes);
        let mut stack: Vec<Node> = vec![Node::default()];
        let mut buf = Vec::new();
        loop {
            let at = reader.buffer_position();
            let ev = reader.read_event_into(&mut buf).map_err(|e| format!("malformed XML at byte {at}: {e}"))?;
            match ev {
                Event::Start(e) => {
                    if stack.len() > MAX_DEPTH {
                        return Err(format!("XML nested deeper than {MAX_DEPTH} at byte {at}"));
                    }
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    stack.push(Node { name, ..Node::default() });
                }
                Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    if let Some(top) = stack.last_mut() {
                        top.children.push(Node { name, ..Node::default() });
                    }
                }
                Event::End(_) => {
                    let mut done = stack.pop().ok_or_else(|| format!("unbalanced XML at byte {at}"))?;
                    done.text = done.text.trim().to_string();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Err(format!("unbalanced XML at byte {at}")),
                    }
                }
                Event::Text(t) => {
                    let s = t.decode().map_err(|e| format!("XML text at byte {at}: {e}"))?;
                    push_text(&mut stack, &s);
                }
                Event::CData(t) => {
                    let s = t.decode().map_err(|e| format!("XML text at byte {at}: {e}"))?;
                    push_text(&mut stack, &s);
                }
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().map_err(|e| format!("XML at byte {at}: {e}"))? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.decode().map_err(|e| format!("XML at byte {at}: {e}"))?;
                            match name.as_ref() {
                                "amp" => "&",
                                "lt" => "<",
                                "gt" => ">",
                                "quot" => "\"",
                                "apos" => "'",
                                other => return Err(format!("unknown XML entity &{other}; at byte {at}")),
                            }
                            .to_string()
                        }
                    };
                    push_text(&mut stack, &c);
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        let mut root = match (stack.pop(), stack.is_empty()) {
            (Some(r), true) => r,
            _ => return Err("XML ends inside an element".into()),
        };
        match root.children.len() {
            1 => Ok(root.children.remove(0)),
            n => Err(format!("expected one root element, found {n}")),
        }
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text at a path of child names.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let mut n = self;
        for p in path {
            n = n.child(p)?;
        }
        Some(n.text.as_str())
    }

    /// This element as the CLI's JSON; `numbers` names the fields printed as numbers,
    /// `lists` the fields that are lists even when empty.
    pub fn to_json(&self, numbers: &[&str], lists: &[&str]) -> Value {
        self.value(&self.name, numbers, lists)
    }

    fn value(&self, name: &str, numbers: &[&str], lists: &[&str]) -> Value {
        let is_list = lists.contains(&name);
        if self.children.is_empty() {
            if is_list {
                return Value::Array(Vec::new());
            }
            return scalar(&self.text, numbers.contains(&name));
        }
        if self.children.iter().all(|c| c.name == "member" || c.name == "item") {
            return Value::Array(self.children.iter().map(|c| c.value(name, numbers, lists)).collect());
        }
        if self.children.iter().all(|c| c.name == "entry") {
            let mut m = Map::new();
            for e in &self.children {
                if let (Some(k), Some(v)) = (e.child("key"), e.child("value")) {
                    m.insert(k.text.clone(), v.value(&k.text, numbers, lists));
                }
            }
            return Value::Object(m);
        }
        let mut m = Map::new();
        for c in &self.children {
            let key = cli_key(&c.name);
            m.insert(key.clone(), c.value(&key, numbers, lists));
        }
        Value::Object(m)
    }
}

fn push_text(stack: &mut [Node], s: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(s);
    }
}

/// EC2 spells its elements in camelCase where the CLI prints PascalCase.
fn cli_key(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) if f.is_ascii_lowercase() => f.to_ascii_uppercase().to_string() + c.as_str(),
        _ => name.to_string(),
    }
}

fn scalar(text: &str, number: bool) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if number {
        if let Ok(i) = text.parse::<i64>() {
            return Value::from(i);
        }
        if let Some(n) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_answers_read_as_the_cli_prints_them() {
        let xml = br#"<?xml version="1.0"?>
<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountSummaryResult><SummaryMap>
    <entry><key>AccountMFAEnabled</key><value>1</value></entry>
    <entry><key>Users</key><value>27</value></entry>
  </SummaryMap></GetAccountSummaryResult>
  <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
</GetAccountSummaryResponse>"#;
        let n = Node::parse(xml).unwrap();
        let map = n.child("GetAccountSummaryResult").unwrap().child("SummaryMap").unwrap();
        assert_eq!(
            map.to_json(&["AccountMFAEnabled", "Users"], &[]),
            serde_json::json!({"AccountMFAEnabled": 1, "Users": 27})
        );
        let ec2 = br#"<R><ebsEncryptionByDefault>true</ebsEncryptionByDefault><alarmActions><member>a&amp;b</member></alarmActions><empty/></R>"#;
        let v = Node::parse(ec2).unwrap().to_json(&[], &["Empty"]);
        assert_eq!(v, serde_json::json!({"EbsEncryptionByDefault": true, "AlarmActions": ["a&b"], "Empty": []}));
        assert!(Node::parse(b"<a><b></a>").is_err());
        assert!(Node::parse(b"{\"not\": \"xml\"}").is_err());
    }
}
