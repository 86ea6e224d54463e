//! Webhooks: which events another system may hear of, where they go, and when a failed delivery
//! is tried again. The sending itself (HTTP, signatures, the words of a 企业微信 message) is the
//! binary's; this module decides what is acceptable and what comes next.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What a subscription can ask to hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// The cross-audit opened findings in the unit (one event per run and unit, the findings listed).
    #[serde(rename = "finding.opened")]
    FindingOpened,
    /// A hazard passed its rectification deadline and was escalated (督办) to a unit above.
    #[serde(rename = "hazard.escalated")]
    HazardEscalated,
    /// A ticket step was refused by the safety rules (the reasons listed).
    #[serde(rename = "ticket.step_refused")]
    TicketStepRefused,
    /// A person's qualification, a contractor's licence or agreement ran out without renewal.
    #[serde(rename = "qualification.expired")]
    QualificationExpired,
    /// A customer's periodic inspection passed its due day undone.
    #[serde(rename = "inspection.overdue")]
    InspectionOverdue,
    /// A monthly supervision report was issued (its SHA-256 given).
    #[serde(rename = "report.issued")]
    ReportIssued,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::FindingOpened,
        EventKind::HazardEscalated,
        EventKind::TicketStepRefused,
        EventKind::QualificationExpired,
        EventKind::InspectionOverdue,
        EventKind::ReportIssued,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventKind::FindingOpened => "finding.opened",
            EventKind::HazardEscalated => "hazard.escalated",
            EventKind::TicketStepRefused => "ticket.step_refused",
            EventKind::QualificationExpired => "qualification.expired",
            EventKind::InspectionOverdue => "inspection.overdue",
            EventKind::ReportIssued => "report.issued",
        }
    }

    pub fn parse(code: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The event an audited action announces, if any: the outbox row is written with the audit
    /// event, in the same transaction.
    pub fn of_action(action: &str) -> Option<EventKind> {
        match action {
            "hazard.escalated" => Some(EventKind::HazardEscalated),
            "ticket.step_refused" => Some(EventKind::TicketStepRefused),
            "quality_report.issued" => Some(EventKind::ReportIssued),
            _ => None,
        }
    }
}

/// The body a subscription receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// GridSafe's JSON envelope, signed (HMAC-SHA256).
    Json,
    /// A 企业微信 group robot's text message (`{"msgtype":"text",…}`), the words in Chinese.
    Wecom,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Wecom => "wecom",
        }
    }

    pub fn parse(code: &str) -> Option<Format> {
        match code {
            "json" => Some(Format::Json),
            "wecom" => Some(Format::Wecom),
            _ => None,
        }
    }
}

/// Longest subscription name and URL accepted.
pub const NAME_MAX: usize = 60;
pub const URL_MAX: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A delivery address, read strictly: `http` or `https`, a host, an optional port, a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    /// A name or an address (an IPv6 address without its brackets).
    pub host: String,
    pub port: u16,
    /// The path and query, at least `/`.
    pub path: String,
}

/// Why an address was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Empty or longer than [`URL_MAX`].
    Length,
    /// Not `http://` or `https://`.
    Scheme,
    /// A user name or password in the address (`user:pass@`): secrets do not go in addresses.
    Credentials,
    /// No host, or characters a host cannot have.
    Host,
    /// A port that is not a number from 1 to 65535.
    Port,
    /// Spaces or control characters.
    Characters,
    /// The machine itself or a link-local address (cloud metadata), refused unless the
    /// deployment allows it.
    Local,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, UrlProblem> {
        if url.is_empty() || url.len() > URL_MAX {
            return Err(UrlProblem::Length);
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlProblem::Characters);
        }
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (Scheme::Http, rest)
        } else {
            return Err(UrlProblem::Scheme);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(UrlProblem::Credentials);
        }
        let default_port = if scheme == Scheme::Https { 443 } else { 80 };
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let (address, after) = inner.split_once(']').ok_or(UrlProblem::Host)?;
            if address.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UrlProblem::Host);
            }
            (address, after.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(UrlProblem::Port),
            },
        };
        let plain = host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if host.is_empty() || host.len() > 253 || (!plain && host.parse::<IpAddr>().is_err()) {
            return Err(UrlProblem::Host);
        }
        let tail = tail.split('#').next().unwrap_or("");
        let path = if tail.starts_with('/') { tail.to_owned() } else { format!("/{tail}") };
        Ok(Target { scheme, host: host.to_ascii_lowercase(), port, path })
    }

    /// Whether this is a 企业微信 group robot's address.
    pub fn is_wecom(&self) -> bool {
        self.scheme == Scheme::Https && self.host == "qyapi.weixin.qq.com"
    }

    /// The `Host` header.
    pub fn authority(&self) -> String {
        let default = if self.scheme == Scheme::Https { 443 } else { 80 };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == default { host } else { format!("{host}:{}", self.port) }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Whether a delivery may go to `address`: never to the machine itself, an unspecified or a
/// link-local address (where cloud metadata answers) unless `allow_local`. A company's own
/// private ranges are allowed: that is where its receivers live.
pub fn address_allowed(address: IpAddr, allow_local: bool) -> bool {
    if allow_local {
        return true;
    }
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match address {
        IpAddr::V4(a) => !(a.is_loopback() || a.is_unspecified() || a.is_link_local() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_loopback() || a.is_unspecified() || (a.segments()[0] & 0xffc0) == 0xfe80),
    }
}

/// When a failed delivery is tried again: after the `failed`-th failed attempt, wait the
/// `failed`-th entry of `minutes`; `None` once every entry is used (the delivery has failed and
/// waits for a redelivery by hand).
pub fn retry_after(failed: u32, minutes: &[u32]) -> Option<chrono::Duration> {
    let index = usize::try_from(failed).ok()?.checked_sub(1)?;
    minutes.get(index).map(|m| chrono::Duration::minutes(i64::from(*m)))
}

/// The default wait after each failed attempt, in minutes: 1, 5, 15 minutes, 1, 3, 6, 12 hours
/// (eight attempts in about 22 hours). This system's choice [INF].
pub const DEFAULT_RETRY_MINUTES: [u32; 7] = [1, 5, 15, 60, 180, 360, 720];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_read_strictly() {
        let t = Target::parse("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc").expect("valid");
        assert_eq!((t.scheme, t.host.as_str(), t.port), (Scheme::Https, "qyapi.weixin.qq.com", 443));
        assert_eq!(t.path, "/cgi-bin/webhook/send?key=abc");
        assert!(t.is_wecom());
        let t = Target::parse("HTTP://Receiver.example:8080").expect("valid");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("receiver.example", 8080, "/"));
        assert_eq!(t.authority(), "receiver.example:8080");
        let t = Target::parse("http://[::1]:9/x#frag").expect("valid");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str(), t.authority()), ("::1", 9, "/x", "[::1]:9".into()));
        for (url, problem) in [
            ("", UrlProblem::Length),
            ("ftp://a/", UrlProblem::Scheme),
            ("file:///etc/passwd", UrlProblem::Scheme),
            ("http://user:pw@host/", UrlProblem::Credentials),
            ("http:///path", UrlProblem::Host),
            ("http://ho_st/", UrlProblem::Host),
            ("http://host:0/", UrlProblem::Port),
            ("http://host:99999/", UrlProblem::Port),
            ("http://host:+80/", UrlProblem::Port),
            ("http://host/a b", UrlProblem::Characters),
            ("http://[zz]/", UrlProblem::Host),
        ] {
            assert_eq!(Target::parse(url), Err(problem), "{url}");
        }
        assert_eq!(Target::parse(&format!("http://h/{}", "a".repeat(URL_MAX))), Err(UrlProblem::Length));
    }

    #[test]
    fn the_machine_itself_and_link_local_addresses_are_refused_unless_allowed() {
        for refused in ["127.0.0.1", "0.0.0.0", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fe80::1"] {
            let a: IpAddr = refused.parse().expect("valid");
            assert!(!address_allowed(a, false), "{refused}");
            assert!(address_allowed(a, true), "{refused}");
        }
        for allowed in ["10.1.2.3", "192.168.0.10", "101.91.40.21", "2408:8000::1"] {
            assert!(address_allowed(allowed.parse().expect("valid"), false), "{allowed}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let m = DEFAULT_RETRY_MINUTES;
        assert_eq!(retry_after(0, &m), None);
        assert_eq!(retry_after(1, &m), Some(chrono::Duration::minutes(1)));
        assert_eq!(retry_after(2, &m), Some(chrono::Duration::minutes(5)));
        assert_eq!(retry_after(7, &m), Some(chrono::Duration::hours(12)));
        assert_eq!(retry_after(8, &m), None);
        assert_eq!(retry_after(1, &[]), None);
    }

    #[test]
    fn event_codes_and_actions() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.code()), Some(k));
            assert_eq!(serde_json::to_value(k).expect("valid"), serde_json::json!(k.code()));
        }
        assert_eq!(EventKind::of_action("quality_report.issued"), Some(EventKind::ReportIssued));
        assert_eq!(EventKind::of_action("ticket.created"), None);
    }

    proptest! {
        #[test]
        fn reading_any_address_never_panics(url in "\\PC{0,80}") {
            if let Ok(t) = Target::parse(&url) {
                prop_assert!(t.path.starts_with('/'));
                prop_assert!(t.port > 0);
            }
        }

        #[test]
        fn any_http_address_with_a_plain_host_is_read_back(host in "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,5}){0,2}",
                                                          port in 1u16.., path in "(/[a-zA-Z0-9_.=?&-]{0,10}){0,3}") {
            let t = Target::parse(&format!("http://{host}:{port}{path}")).expect("valid");
            prop_assert_eq!(t.host, host);
            prop_assert_eq!(t.port, port);
            let expected = if path.is_empty() { "/".to_owned() } else { path };
            prop_assert_eq!(t.path, expected);
        }
    }
}
