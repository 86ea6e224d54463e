//! A browsable reference of the JSON API, drawn from the OpenAPI document at start: every
//! operation by area with its parameters, request body and answers, and every schema with its
//! fields. Served from the binary, no network and no script of anyone else's.

use std::sync::LazyLock;

use askama::Template;
use axum::response::Response;
use serde_json::Value;

use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};

/// One parameter, field or answer line.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub parameters: Vec<Field>,
    /// The request body's type, when it has one.
    pub body: Option<String>,
    /// (status, type or description).
    pub responses: Vec<(String, String)>,
    /// Public: no token needed.
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct Area {
    pub name: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub name: String,
    pub description: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub title: String,
    pub version: String,
    pub areas: Vec<Area>,
    pub schemas: Vec<Schema>,
}

/// A schema's type in a few words: `FaultOut`, `[FaultOut]`, `string (≤ 100)`, `integer`…
fn kind(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(any) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        let parts: Vec<String> =
            any.iter().filter(|s| s.get("type").and_then(Value::as_str) != Some("null")).map(kind).collect();
        return parts.join(" | ");
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().map(kind).collect::<Vec<_>>().join(" + ");
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" | ")
        }
        _ => "any".to_owned(),
    };
    if ty == "array" {
        return format!("[{}]", schema.get("items").map(kind).unwrap_or_default());
    }
    let mut out = ty;
    if let Some(f) = schema.get("format").and_then(Value::as_str) {
        out.push_str(&format!(" ({f})"));
    }
    if let Some(n) = schema.get("maxLength").and_then(Value::as_u64) {
        out.push_str(&format!(" ≤ {n}"));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().filter_map(Value::as_str).map(str::to_owned).collect();
        out.push_str(&format!(": {}", values.join(", ")));
    }
    out
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The reference drawn from an OpenAPI document.
pub fn reference(doc: &Value) -> Reference {
    let mut areas: Vec<Area> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Area { name: text(t, "name"), description: text(t, "description"), operations: Vec::new() })
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("system").to_owned();
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Field {
                    name: format!("{} ({})", text(p, "name"), text(p, "in")),
                    kind: kind(&p["schema"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: text(p, "description"),
                })
                .collect();
            let body =
                op["requestBody"]["content"].as_object().and_then(|c| c.values().next()).map(|c| kind(&c["schema"]));
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    let what = r["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| kind(&c["schema"]))
                        .filter(|k| k != "any")
                        .unwrap_or_else(|| text(r, "description"));
                    (status.clone(), what)
                })
                .collect();
            let operation = Operation {
                anchor: format!("{method}-{}", path.replace(['/', '{', '}'], "-")),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(op, "summary"),
                parameters,
                body,
                responses,
                public: op.get("security").is_none(),
            };
            match areas.iter_mut().find(|a| a.name == tag) {
                Some(a) => a.operations.push(operation),
                None => areas.push(Area { name: tag, description: String::new(), operations: vec![operation] }),
            }
        }
    }
    areas.retain(|a| !a.operations.is_empty());
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> =
                s["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            Schema {
                name: name.clone(),
                description: text(s, "description"),
                fields: s["properties"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(f, p)| Field {
                        name: f.clone(),
                        kind: kind(p),
                        required: required.contains(&f.as_str()),
                        description: text(p, "description"),
                    })
                    .collect(),
            }
        })
        .collect();
    Reference { title: text(&doc["info"], "title"), version: text(&doc["info"], "version"), areas, schemas }
}

static REFERENCE: LazyLock<Reference> =
    LazyLock::new(|| reference(&serde_json::to_value(super::openapi()).unwrap_or_default()));

#[derive(Template)]
#[template(path = "api/reference.html")]
struct ReferencePage {
    chrome: Chrome,
    r: &'static Reference,
}

/// `/help/api`: the reference, for anyone signed in.
pub async fn page(ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    Ok(render(&ReferencePage { chrome: Chrome::for_user(ctx, &auth.user), r: &REFERENCE }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_schema_of_the_document_is_in_the_reference() {
        let doc = serde_json::to_value(super::super::openapi()).expect("document");
        let r = reference(&doc);
        let operations: usize =
            doc["paths"].as_object().expect("paths").values().map(|p| p.as_object().map_or(0, |o| o.len())).sum();
        assert_eq!(r.areas.iter().map(|a| a.operations.len()).sum::<usize>(), operations);
        assert_eq!(r.schemas.len(), doc["components"]["schemas"].as_object().expect("schemas").len());
        let faults = r.areas.iter().find(|a| a.name == "faults").expect("faults");
        let create = faults.operations.iter().find(|o| o.method == "POST" && o.path == "/api/v1/faults").expect("op");
        assert_eq!(create.body.as_deref(), Some("FaultIn"));
        assert!(create.responses.iter().any(|(s, k)| s == "201" && k == "FaultOut"), "{:?}", create.responses);
        assert!(!create.public);
        let list = faults.operations.iter().find(|o| o.method == "GET" && o.path == "/api/v1/faults").expect("op");
        assert!(
            list.parameters.iter().any(|p| p.name == "q (query)" && p.kind == "string ≤ 100"),
            "{:?}",
            list.parameters
        );
        assert!(list.responses.iter().any(|(s, k)| s == "200" && k == "[FaultOut]"));
        let input = r.schemas.iter().find(|s| s.name == "FaultIn").expect("schema");
        assert!(input.fields.iter().any(|f| f.name == "unit_id" && f.required));
        assert!(input.fields.iter().any(|f| f.name == "module" && !f.required));
    }
}
