//! Webhooks end to end: a receiver on this machine sees signed deliveries of what happened, a
//! retry after it failed, the retries run out, and a redelivery by hand; 企业微信 robots get text.

mod support;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use hmac::{KeyInit, Mac};
use serde_json::json;
use support::TestApp;

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A status and a body.
type Answer = (u16, &'static str);

/// A receiver on 127.0.0.1: records every request, answers each path from its queue of
/// (status, body), 200 `{"errcode":0}` when the queue is empty.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<HashMap<String, VecDeque<Answer>>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let r = receiver.clone();
        let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let r = r.clone();
            async move {
                let path = uri.path().to_owned();
                r.seen.lock().expect("lock").push(Seen { path: path.clone(), headers, body });
                let (status, text) = r
                    .answers
                    .lock()
                    .expect("lock")
                    .get_mut(&path)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or((200, r#"{"errcode":0}"#));
                (axum::http::StatusCode::from_u16(status).expect("status"), text)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
        (receiver, base)
    }

    fn answer(&self, path: &str, answers: &[Answer]) {
        self.answers.lock().expect("lock").entry(path.to_owned()).or_default().extend(answers.iter().copied());
    }

    fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().expect("lock").iter().filter(|s| s.path == path).cloned().collect()
    }
}

/// The signature as a receiver computes it, with an HMAC of its own (not GridSafe's).
fn expected_signature(secret: &str, seen: &Seen) -> String {
    let mut mac = hmac::Hmac::<sha2_next::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(seen.header("x-gridsafe-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&seen.body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn order(id: &str) -> serde_json::Value {
    json!({
        "order_id": id, "order_type": "换表", "customer_id": "C1", "org_unit": "孝南供电中心",
        "started_at": "2026-11-20 09:00", "finished_at": "2026-11-20 10:00", "workers": ["W1", "W2"],
    })
}

async fn deliver(app: &TestApp) -> gridsafe::webhooks::Sent {
    gridsafe::webhooks::deliver_due(app.app()).await.expect("deliver")
}

backend_tests! {
    async fn a_receiver_sees_a_signed_delivery_a_retry_after_failure_and_a_redelivery(app: TestApp) {
        // By default no subscription may point at the machine itself.
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let hook = json!({"unit_id": f.unit_a.get(), "name": "本机", "url": "http://127.0.0.1:9/hook", "format": "json", "events": ["finding.opened"]});
        let r = app.json(Method::POST, "/api/v1/webhooks", Some(hook), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("本机"), "{}", r.body);

        // This test's receiver is on this machine: allowed by setting, two retries at most.
        let app = TestApp::new_with(app.backend(), |s| {
            s.webhooks.allow_local = true;
            s.webhooks.retry_minutes = vec![1, 5];
        })
        .await
        .expect("database");
        let (receiver, base) = Receiver::start().await;
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let h = [("cookie", auditor.as_str())];
        let subscribe = |name: &str, unit: i64, url: String, format: &str, events: &[&str]| {
            json!({"unit_id": unit, "name": name, "url": url, "format": format, "events": events})
        };
        let r = app.json(Method::POST, "/api/v1/webhooks",
            Some(subscribe("稽查系统", f.unit_a.get(), format!("{base}/hook"), "json", &["finding.opened", "hazard.escalated"])), &h).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let created = r.json();
        let (json_id, secret) = (created["id"].as_i64().expect("id"), created["secret"].as_str().expect("secret").to_owned());
        assert_eq!(secret.len(), 64);
        let r = app.json(Method::POST, "/api/v1/webhooks",
            Some(subscribe("孝感安全群", f.unit_a.get(), format!("{base}/cgi-bin/webhook/send?key=robot-key"), "wecom", &["finding.opened"])), &h).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let wecom_id = r.json()["id"].as_i64().expect("id");
        assert_eq!(r.json()["url"].as_str(), Some(format!("{base}/cgi-bin/webhook/send?…").as_str()), "the robot's key is not shown");
        // Another city's events are not this auditor's to give away.
        let r = app.json(Method::POST, "/api/v1/webhooks",
            Some(subscribe("武汉", f.unit_b.get(), format!("{base}/b"), "json", &["finding.opened"])), &h).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let auditor_b = app.user("auditor_b", f.unit_b, &[("safety_auditor", f.unit_b)]).await;
        let cookie_b = app.session_for(auditor_b).await;
        let r = app.json(Method::POST, "/api/v1/webhooks",
            Some(subscribe("武汉", f.unit_b.get(), format!("{base}/b"), "json", &["finding.opened"])), &[("cookie", &cookie_b)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let secrets_in_trail: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE summary LIKE $1 OR summary LIKE '%robot-key%'")
            .bind(format!("%{secret}%")).fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(secrets_in_trail, 0, "neither the secret nor the robot's key is in the audit trail");

        // A ticketless meter replacement pushed by the marketing system: one finding, announced
        // to both of city A's subscriptions, not to city B's.
        receiver.answer("/hook", &[(500, "boom")]);
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(json!({"unit_id": f.unit_a1.get(), "orders": [order("P-1")]})), &h).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let sent = deliver(&app).await;
        assert_eq!((sent.delivered, sent.failed), (1, 1), "the robot took it, the JSON receiver answered 500");
        assert!(receiver.seen_at("/b").is_empty(), "city B hears nothing of city A");

        let robot = receiver.seen_at("/cgi-bin/webhook/send");
        assert_eq!(robot.len(), 1);
        let message: serde_json::Value = serde_json::from_slice(&robot[0].body).expect("json");
        assert_eq!(message["msgtype"], "text");
        let content = message["text"]["content"].as_str().expect("content");
        assert!(content.starts_with("【营销安全管控平台】孝南供电中心：交叉稽查发现 3 个新问题，请核实。\n· "), "{content}");

        let first = receiver.seen_at("/hook");
        assert_eq!(first.len(), 1);
        let seen = &first[0];
        assert_eq!(seen.header("x-gridsafe-event"), "finding.opened");
        assert_eq!(seen.header("x-gridsafe-signature"), expected_signature(&secret, seen), "signed with the subscription's secret");
        assert_eq!(seen.header("x-gridsafe-timestamp"), app.clock_now().as_utc().timestamp().to_string());
        // The body is exactly the documented `WebhookDelivery`.
        let body: gridsafe_web::webhooks::api::WebhookDelivery = serde_json::from_slice(&seen.body).expect("the documented shape");
        assert_eq!((body.event.as_str(), body.unit.as_deref(), body.attempt), ("finding.opened", Some("孝南供电中心"), 1));
        // The ticketless order, and its two workers without a safety exam on record.
        assert_eq!(body.data["count"], 3);
        let listed = body.data["findings"].as_array().expect("findings");
        assert!(listed.iter().any(|f| f["rule"] == "NO_TICKET" && f["entity_id"] == "P-1"), "{listed:?}");
        assert!(gridsafe_app::webhooks::verify(&secret, body_timestamp(seen), &seen.body, seen.header("x-gridsafe-signature"), app.clock_now(), 300));

        // The failure is on the log with the next try; nothing is sent before it is due.
        let log = app.json(Method::GET, &format!("/api/v1/webhooks/{json_id}"), None, &h).await.json();
        assert_eq!((log["last_state"].as_str(), log["last_status"].as_i64(), log["retrying"].as_i64()), (Some("pending"), Some(500), Some(1)), "{log}");
        assert_eq!(log["deliveries"][0]["last_error"].as_str(), Some("boom"));
        assert!(log["deliveries"][0]["next_at"].is_string(), "{log}");
        assert_eq!(deliver(&app).await, gridsafe::webhooks::Sent::default());

        // A minute later it is tried again, the same delivery, and taken.
        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(deliver(&app).await.delivered, 1);
        let again = receiver.seen_at("/hook");
        assert_eq!(again.len(), 2);
        assert_eq!(again[1].header("x-gridsafe-delivery"), seen.header("x-gridsafe-delivery"));
        assert_eq!(again[1].header("x-gridsafe-signature"), expected_signature(&secret, &again[1]));
        let body: gridsafe_web::webhooks::api::WebhookDelivery = serde_json::from_slice(&again[1].body).expect("shape");
        assert_eq!(body.attempt, 2);
        // An old signature does not pass for a new time (replay).
        assert!(!gridsafe_app::webhooks::verify(&secret, body_timestamp(&again[1]) + 1, &again[1].body, again[1].header("x-gridsafe-signature"), app.clock_now(), 300));
        assert!(!gridsafe_app::webhooks::verify(&secret, body_timestamp(seen), &seen.body, seen.header("x-gridsafe-signature"), gridsafe_domain::time::Timestamp::from_utc(app.clock_now().as_utc() + chrono::Duration::minutes(10)), 300));

        // Redelivery by hand: the same delivery once more, audited.
        let delivery = log["deliveries"][0]["id"].as_i64().expect("delivery");
        let r = app.json(Method::POST, &format!("/api/v1/webhooks/{json_id}/deliveries/{delivery}/redeliver"), None, &h).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(deliver(&app).await.delivered, 1);
        let third = receiver.seen_at("/hook");
        assert_eq!(third.len(), 3);
        assert_eq!(third[2].header("x-gridsafe-delivery"), delivery.to_string());
        assert!(app.audit_actions().await.iter().any(|a| a == "webhook.redelivered"));
        // Not another's delivery through one's own subscription.
        let r = app.json(Method::POST, &format!("/api/v1/webhooks/{wecom_id}/deliveries/{delivery}/redeliver"), None, &h).await;
        assert_eq!(r.status, 404);

        // The robot switched off hears nothing more; a receiver that keeps failing uses its
        // retries (1 and 5 minutes here) and the delivery is marked failed, on the page too.
        let r = app.json(Method::PUT, &format!("/api/v1/webhooks/{wecom_id}"), Some(json!({"events": ["finding.opened"], "enabled": false})), &h).await;
        assert_eq!(r.status, 204, "{}", r.body);
        receiver.answer("/hook", &[(503, "busy"), (503, "busy"), (503, "busy")]);
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(json!({"unit_id": f.unit_a1.get(), "orders": [order("P-2")]})), &h).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(deliver(&app).await.failed, 1);
        app.clock.advance(chrono::Duration::minutes(1));
        assert_eq!(deliver(&app).await.failed, 1);
        app.clock.advance(chrono::Duration::minutes(5));
        assert_eq!(deliver(&app).await.failed, 1);
        app.clock.advance(chrono::Duration::hours(1));
        assert_eq!(deliver(&app).await, gridsafe::webhooks::Sent::default(), "every retry used");
        assert_eq!(receiver.seen_at("/hook").len(), 6);
        assert_eq!(receiver.seen_at("/cgi-bin/webhook/send").len(), 1, "switched off");
        // Sessions lapse while hours pass; sign in again.
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let log = app.json(Method::GET, &format!("/api/v1/webhooks/{json_id}"), None, &[("cookie", &auditor)]).await.json();
        assert_eq!((log["failed"].as_i64(), log["deliveries"][0]["state"].as_str(), log["deliveries"][0]["attempts"].as_i64()), (Some(1), Some("failed"), Some(3)), "{log}");
        let page = app.get_with(&format!("/webhooks/{json_id}"), &[("cookie", &auditor)]).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("投递失败（重试已用完）") && page.body.contains("data-redeliver"), "{}", page.body);
        let list = app.get_with("/webhooks", &[("cookie", &auditor)]).await;
        assert!(list.body.contains("1 条投递失败") && !list.body.contains("robot-key"), "{}", list.body);
    }

    async fn announced_events_are_written_with_the_change_once(app: TestApp) {
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let inspector = app.session_for(f.user("inspector")).await;
        let r = app.json(Method::POST, "/api/v1/webhooks", Some(json!({"unit_id": f.unit_a.get(), "name": "督办", "url": "https://receiver.example/hook",
            "format": "wecom", "events": ["hazard.escalated"]})), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let events = |app: &TestApp| {
            let pool = app.state.db().pool().clone();
            async move {
                sqlx::query_scalar::<_, String>("SELECT e.payload FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.kind = 'hazard.escalated'")
                    .fetch_all(&pool).await.expect("events")
            }
        };
        // A grid-side hazard of county A1 planned for 2026-11-30: escalated the day after.
        app.person(f.unit_a1, "J1", &[]).await;
        let r = app.post_form("/hazards", &format!("unit_id={}&title=t&grade=general&responsibility=grid", f.unit_a1), &[("cookie", &inspector)]).await;
        let hazard: i64 = r.header("location").rsplit('/').next().and_then(|i| i.parse().ok()).expect("hazard id");
        let r = app.post_form(&format!("/hazards/{hazard}/steps"), "step=plan&deadline=2026-11-30&owner=J1&tasks=a", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        assert!(events(&app).await.is_empty(), "not yet due");
        app.clock.advance(chrono::Duration::days(5));
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        let written = events(&app).await;
        assert_eq!(written.len(), 1, "once, with the escalation: {written:?}");
        let data: serde_json::Value = serde_json::from_str(&written[0]).expect("json");
        assert_eq!((data["id"].as_str(), data["level"].as_i64(), data["to"].as_str()), (Some(hazard.to_string().as_str()), Some(1), Some("孝感供电公司")));
        // Its words for the team's group.
        let due = gridsafe_app::webhooks::claim(app.app()).await.expect("claim");
        assert_eq!(due.len(), 1);
        let text = gridsafe::webhooks::wecom_text(&due[0], gridsafe_messages::Lang::ZhCn);
        assert!(text.starts_with("【营销安全管控平台】孝南供电中心：隐患 ") && text.contains("逾期未整改（应于 2026-11-30 前完成），已督办至 孝感供电公司"), "{text}");
    }
}

fn body_timestamp(seen: &Seen) -> i64 {
    seen.header("x-gridsafe-timestamp").parse().expect("timestamp")
}

/// An `https` receiver on this machine with a certificate of the test CA: reached when the CA is
/// the deployment's `webhooks.ca_file`, refused (and logged as a TLS failure) when it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_is_reached_through_tls_checked_against_the_companys_own_ca() {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::{self, ServerConfig};
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(format!("{fixtures}/server.pem"))
        .expect("certificate")
        .collect::<Result<_, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(format!("{fixtures}/server.key")).expect("key");
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let seen = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let seen = seen.clone();
                    async move {
                        use http_body_util::BodyExt;
                        let body = request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                        seen.lock().expect("lock").push(body);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                            Bytes::from_static(b"ok"),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });

    for (ca_file, delivered) in [(format!("{fixtures}/ca.pem"), true), (String::new(), false)] {
        let app = TestApp::new_with(support::Backend::Sqlite, |s| {
            s.webhooks.allow_local = true;
            s.webhooks.ca_file = ca_file.clone();
        })
        .await
        .expect("sqlite");
        let f = app.fixture().await;
        let cap = support::operator().authorize::<gridsafe_domain::access::perm::WebhooksManage>().expect("op");
        let input = gridsafe_app::webhooks::SubscriptionInput {
            unit_id: f.unit_a,
            name: "内网接收".into(),
            url: format!("https://localhost:{port}/tls"),
            format: "json".into(),
            events: vec!["report.issued".into()],
        };
        let id =
            gridsafe_app::webhooks::create(app.app(), &cap, &support::meta(), input).await.expect("subscription").id;
        let mut tx = app.app().db().begin_write().await.expect("tx");
        let kind = gridsafe_domain::webhooks::EventKind::ReportIssued;
        gridsafe_app::webhooks::enqueue(&mut tx, kind, f.unit_a1, "tls", json!({"month": "2026-11"}), app.clock_now())
            .await
            .expect("event");
        tx.commit().await.expect("commit");
        let before = bodies.lock().expect("lock").len();
        let sent = deliver(&app).await;
        let (_, log) = gridsafe_app::webhooks::get(app.app(), &cap, id, 1).await.expect("log");
        if delivered {
            assert_eq!(sent.delivered, 1, "{log:?}");
            let got = bodies.lock().expect("lock");
            assert_eq!(got.len(), before + 1);
            let body: gridsafe_web::webhooks::api::WebhookDelivery =
                serde_json::from_slice(&got[before]).expect("shape");
            assert_eq!((body.event.as_str(), body.data["month"].as_str()), ("report.issued", Some("2026-11")));
        } else {
            assert_eq!(sent.failed, 1);
            assert_eq!(bodies.lock().expect("lock").len(), before, "nothing sent to an unknown certificate");
            assert!(log[0].last_error.as_deref().is_some_and(|e| e.starts_with("TLS")), "{log:?}");
        }
    }
}
