//! TLS for the webhooks' sender: rustls (ring) trusting Mozilla's roots, compiled in, and a
//! company's own certificate authority when `webhooks.ca_file` names one (receivers inside the
//! company's network often carry certificates of their own CA).

use std::sync::{Arc, Mutex};

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// The client configuration of each `webhooks.ca_file` in use (one per deployment; tests start
/// several applications in one process).
static CONFIGS: Mutex<Vec<(String, Arc<ClientConfig>)>> = Mutex::new(Vec::new());

/// The client configuration for `ca_file`: Mozilla's roots and the certificates of `ca_file`
/// (PEM) if given, built once. Called at start, so that a file that cannot be read is an error
/// then, not at the first delivery.
pub fn configure(ca_file: &str) -> Result<Arc<ClientConfig>, String> {
    let mut configs = CONFIGS.lock().map_err(|_| "TLS configuration poisoned".to_owned())?;
    if let Some((_, c)) = configs.iter().find(|(file, _)| file == ca_file) {
        return Ok(c.clone());
    }
    let config = Arc::new(build(ca_file)?);
    configs.push((ca_file.to_owned(), config.clone()));
    Ok(config)
}

fn build(ca_file: &str) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if !ca_file.is_empty() {
        let certificates = CertificateDer::pem_file_iter(ca_file)
            .map_err(|e| format!("webhooks.ca_file {ca_file}: {e}"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("webhooks.ca_file {ca_file}: {e}"))?;
        if certificates.is_empty() {
            return Err(format!("webhooks.ca_file {ca_file}: no certificate in it"));
        }
        for c in certificates {
            roots.add(c).map_err(|e| format!("webhooks.ca_file {ca_file}: {e}"))?;
        }
    }
    Ok(ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Opens TLS on `stream` to `host`, its certificate checked against the roots of `ca_file`'s
/// configuration.
pub async fn connect(stream: TcpStream, host: &str, ca_file: &str) -> std::io::Result<TlsStream<TcpStream>> {
    let config = configure(ca_file).map_err(std::io::Error::other)?;
    let name =
        ServerName::try_from(host.to_owned()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    tokio_rustls::TlsConnector::from(config).connect(name, stream).await
}
