//! The OpenAPI document is generated from the code; this snapshot makes every change to it
//! visible in review.

#[test]
fn openapi_document_snapshot() {
    let doc = gridsafe_web::api::openapi();
    let json = serde_json::to_value(&doc).expect("serialises");
    assert_eq!(json["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", json);
}

#[test]
fn every_api_route_documents_its_operation() {
    let doc = serde_json::to_value(gridsafe_web::api::openapi()).expect("serialises");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/api/v1/openapi.json") && paths.contains_key("/readyz"));
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
            assert!(op["summary"].is_string() || op["description"].is_string(), "{method} {path} is undocumented");
        }
    }
}
