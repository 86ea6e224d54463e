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

#[test]
fn path_parameters_are_in_the_path_and_queries_in_the_query() {
    let doc = serde_json::to_value(gridsafe_web::api::openapi()).expect("serialises");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(p["in"] == "path", in_path, "{method} {path}: parameter {name} is declared in {}", p["in"]);
            }
        }
    }
}
