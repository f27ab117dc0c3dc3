//! The sim's TLS: a CA made at start, and a server certificate it signs for 127.0.0.1 and
//! localhost. The CA goes into the kubeconfig, so kubectl and kube-rs verify the server as
//! they would a real one (and send the bearer token, which kubectl withholds over plain http).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::TlsError;

pub struct Tls {
    /// PEM of the CA certificate, for the kubeconfig.
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

/// The certificates of a state directory, made on its first start and kept, so that a restarted
/// sim is the same server to clients that kept the kubeconfig.
pub fn load_or_generate(state_dir: Option<&std::path::Path>) -> Result<Tls, TlsError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some(dir) = state_dir else {
        return generate().map(|(t, _, _)| t);
    };
    let path = dir.join("tls.json");
    if let Ok(bytes) = std::fs::read(&path) {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|source| TlsError::InvalidFile {
                path: path.clone(),
                source,
            })?;
        let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let cert = b64.decode(field("cert_der")).map_err(TlsError::Base64)?;
        let key = b64.decode(field("key_der")).map_err(TlsError::Base64)?;
        return build(field("ca_pem"), cert, key);
    }
    let (tls, cert, key) = generate()?;
    let doc = serde_json::json!({"ca_pem": tls.ca_pem, "cert_der": b64.encode(&cert), "key_der": b64.encode(&key)});
    crate::fsutil::write_atomic(&path, doc.to_string().as_bytes())
        .map_err(|source| TlsError::Write { path, source })?;
    Ok(tls)
}

fn build(ca_pem: String, cert_der: Vec<u8>, key_der: Vec<u8>) -> Result<Tls, TlsError> {
    let chain = vec![CertificateDer::from(cert_der)];
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocols)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(TlsError::Certificate)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem,
        server_config: Arc::new(config),
    })
}

/// A new CA and server certificate; also returns the server certificate and key as DER.
fn generate() -> Result<(Tls, Vec<u8>, Vec<u8>), TlsError> {
    let err = TlsError::Generate;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fleetctl-sim-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "fleetctl-sim");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(err)?;
    let cert = params.signed_by(&key, &issuer).map_err(err)?;

    let cert_der = cert.der().to_vec();
    let key_der = key.serialize_der();
    let tls = build(ca_cert.pem(), cert_der.clone(), key_der.clone())?;
    Ok((tls, cert_der, key_der))
}
