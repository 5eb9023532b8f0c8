//! The test S3 server (moto, started by `.ci/s3`) and a fresh bucket per
//! test on it.
//!
//! Tests that need it call `s3_endpoint()` and return when it gives None
//! (no server: skipped with a notice, unless TRIBUTARY_REQUIRE_S3=1, which
//! turns that into a failure), then `fresh_bucket(&endpoint)`:
//!
//! ```ignore
//! let Some(endpoint) = s3_endpoint() else { return };
//! let bucket = fresh_bucket(&endpoint).await;
//! bucket.put("data/a.csv", b"id\n1\n").await;
//! // a connection to it: provider "s3", config bucket.config("data"),
//! // credentials bucket.credentials()
//! ```
//!
//! A bucket also offers `store(prefix)` (the `FileStore` opened directly),
//! `delete`, `put_folder_marker` (a console's empty folder) and
//! `make_public` (anonymous reads).
//!
//! `.ci/s3` makes moto check signatures, with one IAM user whose key it
//! exports (TRIBUTARY_TEST_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY, so eval its
//! whole output); against a moto started otherwise, any key ("test" /
//! "test") is accepted and `s3_checks_signatures()` is false.

use std::{
    collections::{BTreeMap, HashMap},
    sync::atomic::{AtomicU32, Ordering},
};

use object_store::{
    ClientOptions, ObjectStoreExt, PutPayload,
    aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential},
    client::{HttpConnector, HttpRequestBody, ReqwestConnector},
    path::Path,
};
use serde_json::{Map, Value, json};
use tributary::connectors::{Settings, files::FileStore, local_files::LocalFiles};

/// The test S3 server's endpoint (`http://127.0.0.1:PORT`), or None (skip).
pub fn s3_endpoint() -> Option<String> {
    match std::env::var("TRIBUTARY_TEST_S3_ENDPOINT") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("TRIBUTARY_REQUIRE_S3").is_ok_and(|v| v == "1") => {
            panic!("TRIBUTARY_TEST_S3_ENDPOINT is not set; run the suite with `bash .ci/test`")
        }
        _ => {
            eprintln!(
                "skipping the S3 test: TRIBUTARY_TEST_S3_ENDPOINT is not set (eval \"$(.ci/s3 start)\")"
            );
            None
        }
    }
}

/// The access key the test server accepts: (key id, secret).
pub fn s3_key() -> (String, String) {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        var("TRIBUTARY_TEST_S3_ACCESS_KEY_ID"),
        var("TRIBUTARY_TEST_S3_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => (id, secret),
        _ => ("test".into(), "test".into()),
    }
}

/// Whether the test server refuses a wrong secret (it was started by
/// `.ci/s3`, which switches moto's signature checks on).
pub fn s3_checks_signatures() -> bool {
    std::env::var("TRIBUTARY_TEST_S3_ACCESS_KEY_ID").is_ok_and(|v| !v.is_empty())
}

/// A bucket of its own on the test server.
pub struct TestBucket {
    pub name: String,
    pub endpoint: String,
    client: AmazonS3,
}

/// A new, empty bucket with a name no other test uses.
pub async fn fresh_bucket(endpoint: &str) -> TestBucket {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    create_bucket(endpoint, &name).await;
    let (id, secret) = s3_key();
    let client = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name(&name)
        .with_region("us-east-1")
        .with_access_key_id(id)
        .with_secret_access_key(secret)
        .build()
        .unwrap();
    TestBucket {
        name,
        endpoint: endpoint.to_string(),
        client,
    }
}

/// CreateBucket, as one signed PUT (object_store makes no buckets).
async fn create_bucket(endpoint: &str, name: &str) {
    signed_put(&format!("{endpoint}/{name}"), Vec::new()).await;
}

/// A PUT of `body` to `url`, signed with the test key.
async fn signed_put(url: &str, body: Vec<u8>) {
    let (key_id, secret_key) = s3_key();
    let credential = AwsCredential {
        key_id,
        secret_key,
        token: None,
    };
    let mut request = http::Request::builder()
        .method(http::Method::PUT)
        .uri(url)
        .body(HttpRequestBody::from(body))
        .unwrap();
    AwsAuthorizer::new(&credential, "s3", "us-east-1")
        .try_authorize(&mut request, None)
        .unwrap();
    let client = ReqwestConnector::default()
        .connect(&ClientOptions::new().with_allow_http(true))
        .unwrap();
    let response = client.execute(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().bytes().await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body);
    assert!(status.is_success(), "PUT {url}: {status} {body}");
}

impl TestBucket {
    /// Writes object `key` (the full key, prefix included).
    pub async fn put(&self, key: &str, bytes: &[u8]) {
        self.client
            .put(&Path::parse(key).unwrap(), PutPayload::from(bytes.to_vec()))
            .await
            .unwrap();
    }

    /// An empty object `folder/`: how a console makes an empty folder
    /// (object_store cannot write a key that ends in '/').
    pub async fn put_folder_marker(&self, folder: &str) {
        signed_put(
            &format!("{}/{}/{folder}/", self.endpoint, self.name),
            Vec::new(),
        )
        .await;
    }

    /// A bucket policy that lets anyone read every object (GetObject).
    pub async fn make_public(&self) {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{}/*", self.name),
            }]
        });
        signed_put(
            &format!("{}/{}?policy", self.endpoint, self.name),
            policy.to_string().into_bytes(),
        )
        .await;
    }

    /// Removes object `key`.
    pub async fn delete(&self, key: &str) {
        self.client
            .delete(&Path::parse(key).unwrap())
            .await
            .unwrap();
    }

    /// The config of an `s3` connection to this bucket under `prefix`
    /// ("" for the whole bucket), path-style at the test endpoint.
    pub fn config(&self, prefix: &str) -> Map<String, Value> {
        json!({
            "bucket": self.name,
            "region": "us-east-1",
            "endpoint_url": self.endpoint,
            "path_style": true,
            "prefix": prefix,
        })
        .as_object()
        .unwrap()
        .clone()
    }

    /// The credentials of an `s3` connection that may read this bucket.
    pub fn credentials(&self) -> HashMap<String, String> {
        let (id, secret) = s3_key();
        HashMap::from([
            ("access_key_id".to_string(), id),
            ("secret_access_key".to_string(), secret),
        ])
    }

    /// The store of an `s3` connection to this bucket under `prefix`,
    /// opened directly (no server).
    pub fn store(&self, prefix: &str) -> std::sync::Arc<dyn FileStore> {
        let credentials: BTreeMap<String, String> = self.credentials().into_iter().collect();
        tributary::connectors::files::s3::open(&Settings {
            provider: "s3",
            config: &self.config(prefix),
            credentials: &credentials,
            local_files: &LocalFiles::default(),
            context: None,
        })
        .unwrap_or_else(|e| panic!("open: {e}"))
    }
}
