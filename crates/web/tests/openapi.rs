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

/// The document names each schema by its type's bare name, and a second type of the same name
/// silently replaces the first (a hazard record once replaced the ticket's hazard point). Every
/// type that derives `ToSchema` has a name of its own.
#[test]
fn every_schema_type_has_a_name_of_its_own() {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                let mut deriving = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("#[derive(") && line.contains("ToSchema") {
                        deriving = true;
                    } else if deriving && !line.starts_with("#[") {
                        let name = line
                            .trim_start_matches("pub ")
                            .trim_start_matches("struct ")
                            .trim_start_matches("enum ")
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        out.push((name, path.display().to_string()));
                        deriving = false;
                    }
                }
            }
        }
    }
    let mut names = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
    assert!(names.len() > 20, "the scan found the schema types: {names:?}");
    names.sort();
    let twice: Vec<_> = names.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| (&w[0], &w[1])).collect();
    assert!(twice.is_empty(), "schema names used twice: {twice:?}");
}
