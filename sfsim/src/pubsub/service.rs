//! The `eventbus.v1.PubSub` gRPC service: `GetTopic`, `GetSchema` and `Subscribe` (in
//! `subscribe`), authenticated per call by the `accesstoken`, `instanceurl` and `tenantid`
//! metadata against the simulator's sessions. Publishing and managed subscriptions are not
//! simulated (`UNIMPLEMENTED`).

use rand::Rng as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status, Streaming};

use super::proto::pub_sub_server::PubSub;
use super::proto::{
    FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse, PublishRequest,
    PublishResponse, SchemaInfo, SchemaRequest, TopicInfo, TopicRequest,
};
use super::topic::Topic;
use crate::state::AppState;

/// Error code Salesforce puts in the trailers of a refused authentication.
pub const AUTH_ERROR: &str = "sfdc.platform.eventbus.grpc.service.auth.error";
/// Error code of a replay id that is unknown or past retention.
pub const REPLAY_ID_CORRUPTED: &str =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";
/// Error code of an unknown topic (unverified: the code Salesforce uses was not found).
pub const TOPIC_NOT_FOUND: &str = "sfdc.platform.eventbus.grpc.service.topic.not.found";

/// The service over the simulator's state.
#[derive(Debug, Clone)]
pub struct PubSubService {
    state: AppState,
}

impl PubSubService {
    /// A service answering from `state`.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// A status carrying Salesforce's `error-code` metadata (sent in the trailers).
pub fn status_with_code(code: Code, message: &str, error_code: &'static str) -> Status {
    let mut metadata = MetadataMap::new();
    metadata.insert("error-code", MetadataValue::from_static(error_code));
    Status::with_metadata(code, message, metadata)
}

/// A fresh `rpc_id` for a call.
pub fn rpc_id() -> String {
    let value: u128 = rand::rng().random();
    let hex = format!("{value:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Checks the call's session metadata as Salesforce does.
pub fn authenticate(state: &AppState, metadata: &MetadataMap) -> Result<(), Status> {
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let token = text("accesstoken");
    let tenant = text("tenantid");
    let valid = !token.is_empty()
        && !text("instanceurl").is_empty()
        && tenant.get(..15) == state.org_id.get(..15)
        && state.sessions.touch(token).is_some();
    if valid {
        Ok(())
    } else {
        Err(status_with_code(
            Code::Unauthenticated,
            "The session is invalid or the tenant id does not match the org.",
            AUTH_ERROR,
        ))
    }
}

fn topic_not_found(name: &str) -> Status {
    status_with_code(
        Code::NotFound,
        &format!("Topic {name} not found or not available to this user."),
        TOPIC_NOT_FOUND,
    )
}

type Responses<T> = ReceiverStream<Result<T, Status>>;

#[tonic::async_trait]
impl PubSub for PubSubService {
    type SubscribeStream = Responses<FetchResponse>;
    type PublishStreamStream = Responses<PublishResponse>;
    type ManagedSubscribeStream = Responses<ManagedFetchResponse>;

    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        authenticate(&self.state, request.metadata())?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let subscription = super::subscribe::Subscription::new(self.state.clone(), tx);
        let inbound = request.into_inner();
        self.state.tasks.spawn(subscription.run(inbound));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        authenticate(&self.state, request.metadata())?;
        let id = &request.get_ref().schema_id;
        let schema = self
            .state
            .event_schemas
            .by_id(id)
            .ok_or_else(|| Status::new(Code::NotFound, format!("Schema {id} not found.")))?;
        Ok(Response::new(SchemaInfo {
            schema_json: schema.json.clone(),
            schema_id: schema.schema_id.clone(),
            rpc_id: rpc_id(),
        }))
    }

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        authenticate(&self.state, request.metadata())?;
        let name = &request.get_ref().topic_name;
        let topic = Topic::parse(name, &self.state.config.pubsub.cdc_objects)
            .ok_or_else(|| topic_not_found(name))?;
        let schema_id = match &topic {
            Topic::Entity(entity) => self
                .state
                .event_schemas
                .for_entity(entity)
                .map(|schema| schema.schema_id.clone())
                .unwrap_or_default(),
            // Events on the multi-object channel name their own schema.
            Topic::All => String::new(),
        };
        Ok(Response::new(TopicInfo {
            topic_name: name.clone(),
            tenant_guid: self.state.org_id.clone(),
            can_publish: false,
            can_subscribe: true,
            schema_id,
            rpc_id: rpc_id(),
        }))
    }

    async fn publish(
        &self,
        _request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        Err(Status::unimplemented("sfsim does not simulate publishing."))
    }

    async fn publish_stream(
        &self,
        _request: Request<Streaming<PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        Err(Status::unimplemented("sfsim does not simulate publishing."))
    }

    async fn managed_subscribe(
        &self,
        _request: Request<Streaming<ManagedFetchRequest>>,
    ) -> Result<Response<Self::ManagedSubscribeStream>, Status> {
        Err(Status::unimplemented(
            "sfsim does not simulate managed subscriptions.",
        ))
    }
}
