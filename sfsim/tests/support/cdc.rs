//! A Pub/Sub API client for the tests: the tonic client generated from the same vendored
//! `.proto`, over TLS trusting the simulator's generated certificate, with Salesforce's
//! auth metadata; Avro decoding with the schema from `GetSchema` and bitmap decoding from
//! that schema's JSON (not from sfsim's own tables).
#![allow(dead_code, reason = "not every test uses every helper")]

use std::time::Duration;

use apache_avro::types::Value as Avro;
use serde_json::{json, Value};
use sfsim::pubsub::proto::pub_sub_client::PubSubClient;
use sfsim::pubsub::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ReplayPreset, SchemaRequest,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Status, Streaming};

use crate::support::Org;

/// How long a test waits for a stream message before failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Session metadata of Pub/Sub calls.
#[derive(Clone)]
pub struct Auth {
    pub token: String,
    pub instance_url: String,
    pub tenant_id: String,
}

/// A connected client plus the auth it sends.
pub struct Cdc {
    pub client: PubSubClient<Channel>,
    pub auth: Auth,
}

/// Connects over TLS and reads the tenant id from `/services/oauth2/userinfo`.
pub async fn connect(org: &Org) -> Cdc {
    let pem = org.sim.pubsub_cert_pem().expect("Pub/Sub is served");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pem))
        .domain_name("localhost");
    let url = org.sim.pubsub_url().expect("Pub/Sub is served");
    let channel = Channel::from_shared(url)
        .expect("valid URL")
        .tls_config(tls)
        .expect("TLS config")
        .connect()
        .await
        .expect("TLS connection");
    let info = org
        .client
        .get(org.url("/services/oauth2/userinfo"))
        .bearer_auth(&org.token)
        .send()
        .await
        .expect("userinfo answers");
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.expect("userinfo JSON");
    Cdc {
        client: PubSubClient::new(channel),
        auth: Auth {
            token: org.token.clone(),
            instance_url: org.sim.base_url().to_string(),
            tenant_id: info["organization_id"]
                .as_str()
                .expect("org id")
                .to_string(),
        },
    }
}

/// A request with the `accesstoken`, `instanceurl` and `tenantid` metadata.
pub fn authed<T>(auth: &Auth, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    for (key, value) in [
        ("accesstoken", &auth.token),
        ("instanceurl", &auth.instance_url),
        ("tenantid", &auth.tenant_id),
    ] {
        metadata.insert(key, value.parse().expect("ASCII metadata"));
    }
    request
}

/// The first `FetchRequest` of a stream.
pub fn fetch(topic: &str, preset: ReplayPreset, replay_id: Vec<u8>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: topic.to_string(),
        replay_preset: preset as i32,
        replay_id,
        num_requested: n,
        auth_refresh: String::new(),
    }
}

/// An open Subscribe stream.
pub struct Sub {
    pub requests: mpsc::Sender<FetchRequest>,
    pub responses: Streaming<FetchResponse>,
}

impl Cdc {
    /// Opens a Subscribe stream with `first` (errors of the call itself are returned).
    pub async fn open(&mut self, first: FetchRequest) -> Result<Sub, Status> {
        let (requests, rx) = mpsc::channel(16);
        requests.send(first).await.expect("queue the first request");
        let response = self
            .client
            .subscribe(authed(&self.auth, ReceiverStream::new(rx)))
            .await?;
        Ok(Sub {
            requests,
            responses: response.into_inner(),
        })
    }

    /// Opens a stream and waits for its first response (a keep-alive when idle), so the
    /// subscription is known to be live before the test writes.
    pub async fn live(&mut self, first: FetchRequest) -> Sub {
        let mut sub = self.open(first).await.expect("subscribe");
        let first = sub.next().await.expect("first response");
        assert!(first.events.is_empty(), "expected an idle stream");
        sub
    }

    /// `GetSchema`, parsed.
    pub async fn schema(&mut self, schema_id: &str) -> (apache_avro::Schema, Value) {
        let request = SchemaRequest {
            schema_id: schema_id.to_string(),
        };
        let info = self
            .client
            .get_schema(authed(&self.auth, request))
            .await
            .expect("GetSchema")
            .into_inner();
        let schema = apache_avro::Schema::parse_str(&info.schema_json).expect("Avro schema");
        (
            schema,
            serde_json::from_str(&info.schema_json).expect("JSON"),
        )
    }

    /// Decodes an event's payload with its schema into JSON, bitmaps expanded to names.
    pub async fn decode(&mut self, event: &ConsumerEvent) -> Value {
        let producer = event.event.as_ref().expect("an event");
        let (schema, schema_json) = self.schema(&producer.schema_id).await;
        let value = apache_avro::from_avro_datum(&schema, &mut producer.payload.as_slice(), None)
            .expect("Avro payload");
        let mut decoded = to_json(value);
        for bitmap in ["changedFields", "nulledFields", "diffFields"] {
            let encoded = decoded["ChangeEventHeader"][bitmap].clone();
            decoded["ChangeEventHeader"][format!("{bitmap}Names")] =
                json!(expand(&schema_json, &encoded));
        }
        decoded
    }
}

impl Sub {
    /// The next response, failing the test after `PATIENCE`.
    pub async fn next(&mut self) -> Result<FetchResponse, Status> {
        tokio::time::timeout(PATIENCE, self.responses.message())
            .await
            .expect("a response in time")
            .and_then(|message| message.ok_or_else(|| Status::aborted("stream ended")))
    }

    /// Collects exactly `n` events (keep-alives skipped), failing after `PATIENCE`.
    pub async fn events(&mut self, n: usize) -> Vec<ConsumerEvent> {
        let mut events = Vec::new();
        while events.len() < n {
            let response = self.next().await.expect("a response");
            events.extend(response.events);
        }
        assert_eq!(events.len(), n, "more events than expected");
        events
    }

    /// Asks for `n` more events.
    pub async fn request(&self, n: i32) {
        let more = FetchRequest {
            num_requested: n,
            ..FetchRequest::default()
        };
        self.requests.send(more).await.expect("stream open");
    }
}

/// Avro to JSON for assertions (unions unwrapped, enums as symbols).
pub fn to_json(value: Avro) -> Value {
    match value {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => json!(b),
        Avro::Int(i) => json!(i),
        Avro::Long(l) => json!(l),
        Avro::Double(d) => json!(d),
        Avro::String(s) | Avro::Enum(_, s) => json!(s),
        Avro::Union(_, inner) => to_json(*inner),
        Avro::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Avro::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, to_json(value)))
                .collect(),
        ),
        other => panic!("unexpected Avro value {other:?}"),
    }
}

/// Field names of a bitmap list, read against the schema JSON as a client would.
pub fn expand(schema_json: &Value, encoded: &Value) -> Vec<String> {
    let fields = schema_json["fields"].as_array().expect("fields");
    let top: Vec<String> = fields
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_string())
        .collect();
    let nested = |position: usize| {
        let kind = &fields.get(position)?["type"][1];
        let parts = kind["fields"].as_array()?;
        Some(
            parts
                .iter()
                .map(|f| f["name"].as_str().unwrap_or("").to_string())
                .collect(),
        )
    };
    let encoded: Vec<String> = serde_json::from_value(encoded.clone()).expect("strings");
    sfsim::pubsub::bitmap::decode(&encoded, &top, nested).expect("decodable bitmaps")
}
