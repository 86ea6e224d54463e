//! The webhooks' sender: takes the deliveries due from the outbox (`app::webhooks::claim`),
//! writes each body (GridSafe's JSON envelope, or a 企业微信 robot's text message), signs it, posts
//! it, and records what came of it. Runs beside the scheduler; tests call [`deliver_due`] with
//! the clock where they want it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use gridsafe_app::App;
use gridsafe_app::webhooks::{self, Due, Outcome};
use gridsafe_domain::webhooks::{Format, Scheme, Target, address_allowed};
use gridsafe_messages::{Arg, Lang};
use serde_json::Value;

/// How much of a receiver's answer is read (a 企业微信 robot's `errcode`, a few words of an error).
const ANSWER_MAX: usize = 4096;
/// How much of it an error keeps in the delivery log.
const ERROR_CHARS: usize = 200;

/// What one look at the outbox sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub delivered: usize,
    pub failed: usize,
}

/// Sends every delivery due now (up to `webhooks.batch`, `webhooks.concurrency` at a time).
pub async fn deliver_due(app: &App) -> Result<Sent, gridsafe_app::AppError> {
    let due = webhooks::claim(app).await?;
    let cfg = app.webhooks_config().clone();
    let gate = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1) as usize));
    let mut running = tokio::task::JoinSet::new();
    for d in due {
        let (app, gate) = (app.clone(), gate.clone());
        let timeout = Duration::from_secs(u64::from(cfg.timeout_seconds));
        let reach = Reach { allow_local: cfg.allow_local, ca_file: cfg.ca_file.clone() };
        running.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let outcome = send(&d, app.now().as_utc().timestamp(), timeout, &reach).await;
            let delivered = matches!(outcome, Outcome::Delivered { .. });
            if let Outcome::Failed { status, error } = &outcome {
                tracing::warn!(
                    delivery = d.id,
                    subscription = d.subscription_id,
                    ?status,
                    error,
                    "webhook delivery failed"
                );
            }
            webhooks::record(&app, &d, &outcome).await.map(|()| delivered)
        });
    }
    let mut sent = Sent::default();
    while let Some(done) = running.join_next().await {
        match done {
            Ok(Ok(true)) => sent.delivered += 1,
            Ok(Ok(false)) => sent.failed += 1,
            Ok(Err(error)) => return Err(error),
            Err(join) => return Err(gridsafe_app::AppError::internal(format!("webhook sender: {join}"))),
        }
    }
    Ok(sent)
}

/// The sender's loop: a look at the outbox every `webhooks.poll_seconds`.
pub async fn worker(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(u64::from(app.webhooks_config().poll_seconds.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = deliver_due(&app).await {
            tracing::error!(%error, "webhook sender");
        }
    }
}

/// The JSON envelope every `json` subscription receives (documented in the OpenAPI document as
/// `WebhookDelivery`).
pub fn envelope(d: &Due) -> Value {
    serde_json::json!({
        "id": d.event_id,
        "delivery": d.id,
        "event": d.kind,
        "occurred_at": d.occurred_at.as_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "unit": d.unit_name,
        "attempt": d.attempts + 1,
        "data": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
    })
}

/// The body of a delivery in its subscription's format.
pub fn body(d: &Due) -> Vec<u8> {
    let value = match Format::parse(&d.format) {
        Some(Format::Wecom) => {
            serde_json::json!({ "msgtype": "text", "text": { "content": wecom_text(d, Lang::ZhCn) } })
        }
        _ => envelope(d),
    };
    value.to_string().into_bytes()
}

/// A 企业微信 text message: what happened, where, in words a team reads on a phone.
pub fn wecom_text(d: &Due, lang: Lang) -> String {
    let data: Value = serde_json::from_str(&d.payload).unwrap_or(Value::Null);
    let text =
        |key: &str| data.get(key).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_default();
    let number = |key: &str| data.get(key).and_then(Value::as_i64).unwrap_or(0);
    let unit = d.unit_name.clone().unwrap_or_default();
    let args: Vec<(&'static str, Arg)> = match d.kind.as_str() {
        "finding.opened" => {
            let first: Vec<String> = data
                .get("findings")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter().take(5).filter_map(|f| f.get("detail")?.as_str().map(|s| format!("· {s}"))).collect()
                })
                .unwrap_or_default();
            vec![("count", number("count").into()), ("list", first.join("\n").into())]
        }
        "hazard.escalated" => vec![
            ("number", text("number").into()),
            ("due", text("due").into()),
            ("to", text("to").into()),
            ("level", number("level").into()),
        ],
        "ticket.step_refused" => {
            let step = text("step");
            let step_key = format!("ticket-step-{step}");
            let step = if lang.knows(&step_key) { lang.t(&step_key) } else { step };
            let reasons = data.get("rules").and_then(Value::as_array).map_or(0, Vec::len) as i64;
            vec![("number", text("number").into()), ("step", step.into()), ("reasons", reasons.into())]
        }
        "qualification.expired" => vec![
            ("subject", text("subject").into()),
            ("what", data.get("title").and_then(Value::as_str).map_or_else(|| text("detail"), str::to_owned).into()),
            ("until", text("valid_to").into()),
        ],
        "inspection.overdue" => vec![
            ("name", text("name").into()),
            ("account", text("account_no").into()),
            ("due", text("due").into()),
            ("days", number("days_overdue").into()),
        ],
        "report.issued" => vec![("month", text("month").into()), ("version", number("version").into())],
        _ => Vec::new(),
    };
    let key = format!("webhook-text-{}", d.kind.replace(['.', '_'], "-"));
    let head = lang.t_args("webhook-text-head", &[("unit", unit.into())]);
    format!("{head}{}", lang.t_args(&key, &args))
}

/// Where deliveries may go: the machine itself only when allowed; `https` receivers checked
/// against Mozilla's roots and the company's own CA file.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub allow_local: bool,
    pub ca_file: String,
}

/// Sends one delivery and says what came of it.
pub async fn send(d: &Due, timestamp: i64, timeout: Duration, reach: &Reach) -> Outcome {
    let target = match Target::parse(&d.url) {
        Ok(t) => t,
        Err(problem) => return Outcome::Failed { status: None, error: format!("address not usable: {problem:?}") },
    };
    let body = body(d);
    let headers = [
        ("x-gridsafe-event", d.kind.clone()),
        ("x-gridsafe-delivery", d.id.to_string()),
        ("x-gridsafe-timestamp", timestamp.to_string()),
        ("x-gridsafe-signature", webhooks::signature(&d.secret, timestamp, &body)),
    ];
    let answer = match tokio::time::timeout(timeout, post(&target, &headers, body, reach)).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => return Outcome::Failed { status: None, error },
        Err(_) => return Outcome::Failed { status: None, error: format!("no answer within {} s", timeout.as_secs()) },
    };
    let (status, text) = answer;
    if !(200..300).contains(&status) {
        return Outcome::Failed { status: Some(status), error: clipped(&text) };
    }
    // A 企业微信 robot answers 200 with its own error code: 0 is delivered.
    if Format::parse(&d.format) == Some(Format::Wecom) {
        let code = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("errcode").and_then(Value::as_i64));
        if code != Some(0) {
            return Outcome::Failed { status: Some(status), error: clipped(&text) };
        }
    }
    Outcome::Delivered { status }
}

fn clipped(text: &str) -> String {
    match text.char_indices().nth(ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Posts `body` to `target`: the name resolved, an address refused when it is the machine
/// itself or link-local (unless allowed), HTTP/1.1, at most [`ANSWER_MAX`] bytes of the answer read.
async fn post(
    target: &Target,
    headers: &[(&str, String)],
    body: Vec<u8>,
    reach: &Reach,
) -> Result<(u16, String), String> {
    let addresses = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("{} not found: {e}", target.host))?;
    let address = addresses
        .into_iter()
        .find(|a| address_allowed(a.ip(), reach.allow_local))
        .ok_or_else(|| format!("{} resolves only to addresses deliveries may not go to", target.host))?;
    let stream = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("cannot connect: {e}"))?;
    match target.scheme {
        Scheme::Http => exchange(hyper_util::rt::TokioIo::new(stream), target, headers, body).await,
        Scheme::Https => {
            let tls =
                crate::tls::connect(stream, &target.host, &reach.ca_file).await.map_err(|e| format!("TLS: {e}"))?;
            exchange(hyper_util::rt::TokioIo::new(tls), target, headers, body).await
        }
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange<I>(io: I, target: &Target, headers: &[(&str, String)], body: Vec<u8>) -> Result<(u16, String), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    use http_body_util::BodyExt;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("HTTP handshake: {e}"))?;
    // The connection is driven beside the request and ends with it, answered or timed out: a
    // receiver that never answers leaves no task behind.
    let _connection = AbortOnDrop(tokio::spawn(connection));
    let mut request = hyper::Request::post(target.path.as_str())
        .header(hyper::header::HOST, target.authority())
        .header(hyper::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(hyper::header::USER_AGENT, concat!("GridSafe-Webhook/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(http_body_util::Full::new(Bytes::from(body))).map_err(|e| format!("request: {e}"))?;
    let response = sender.send_request(request).await.map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let answer = http_body_util::Limited::new(response.into_body(), ANSWER_MAX)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Ok((status, String::from_utf8_lossy(&answer).into_owned()))
}
