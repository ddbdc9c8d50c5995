//! Writing a batch's results back to Salesforce in one round trip: the records to update
//! (grouped by sObject) and the customer links to upsert become sObject Collections
//! subrequests of one Composite request (`allOrNone` false, in order), which Salesforce counts
//! as one API call. A batch too large for one request's limits (25 subrequests, 5 of them
//! Collections, 200 records each) takes more. Planning is pure; [`send`] does the I/O.

use std::collections::{BTreeMap, HashMap};

use salesforce_client::{
    composite::{CompositeRequest, Subrequest},
    SalesforceClient, SalesforceError, COLLECTION_LIMIT,
};
use serde_json::{json, Map, Value};

use super::{actions::WriteBack, rules::OutboundRules};
use crate::store::Failure;

/// One planned subrequest and, per record in it, the change (its index) that asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The subrequest.
    pub subrequest: Subrequest,
    /// The owner of each record, in request order.
    pub owners: Vec<usize>,
}

/// A record update asked by a change: (the change's index, the record id, the fields).
type Update = (usize, String, Map<String, Value>);

/// The subrequests for `writes` (each with the index of the change that asked).
pub fn plan(writes: Vec<(usize, WriteBack)>, rules: &OutboundRules) -> Vec<Planned> {
    let mut updates: BTreeMap<String, Vec<Update>> = BTreeMap::new();
    let mut links = Vec::new();
    for (owner, write) in writes {
        match write {
            WriteBack::Update {
                sobject,
                id,
                fields,
            } => updates
                .entry(sobject)
                .or_default()
                .push((owner, id, fields)),
            WriteBack::LinkCustomer {
                customer_id,
                contact_id,
            } => {
                let record = &rules.contacts.customer_record;
                let mut fields = Map::new();
                fields.insert(record.external_id_field.clone(), json!(customer_id));
                fields.insert(record.contact_field.clone(), json!(contact_id));
                links.push((owner, fields));
            }
        }
    }
    let mut planned = Vec::new();
    for (sobject, records) in updates {
        for chunk in records.chunks(COLLECTION_LIMIT) {
            let records: Vec<(String, Map<String, Value>)> = chunk
                .iter()
                .map(|(_, id, fields)| (id.clone(), fields.clone()))
                .collect();
            planned.push(Planned {
                subrequest: Subrequest::update_collection(
                    format!("update{}", planned.len()),
                    &sobject,
                    &records,
                ),
                owners: chunk.iter().map(|(owner, _, _)| *owner).collect(),
            });
        }
    }
    let record = &rules.contacts.customer_record;
    for chunk in links.chunks(COLLECTION_LIMIT) {
        let records: Vec<Map<String, Value>> =
            chunk.iter().map(|(_, fields)| fields.clone()).collect();
        planned.push(Planned {
            subrequest: Subrequest::upsert_collection(
                format!("link{}", planned.len()),
                &record.sobject,
                &record.external_id_field,
                &records,
            ),
            owners: chunk.iter().map(|(owner, _)| *owner).collect(),
        });
    }
    planned
}

/// Packs planned subrequests into as few Composite requests as the limits allow.
pub fn pack(planned: Vec<Planned>) -> Vec<(CompositeRequest, Vec<Vec<usize>>)> {
    let mut requests: Vec<(CompositeRequest, Vec<Vec<usize>>)> = Vec::new();
    for item in planned {
        let fits = requests
            .last()
            .is_some_and(|(request, _)| request.has_room_for(&item.subrequest));
        if !fits {
            requests.push((CompositeRequest::in_order(), Vec::new()));
        }
        if let Some((request, owners)) = requests.last_mut() {
            request.push(item.subrequest);
            owners.push(item.owners);
        }
    }
    requests
}

/// Sends the write-backs; answers the failure of each change (by index) whose write-back
/// failed. A change absent from the answer had every record written.
pub async fn send(
    client: &SalesforceClient,
    writes: Vec<(usize, WriteBack)>,
    rules: &OutboundRules,
) -> HashMap<usize, Failure> {
    let mut failures: HashMap<usize, Failure> = HashMap::new();
    for (request, owners) in pack(plan(writes, rules)) {
        match client.composite(&request).await {
            Ok(responses) => {
                for (response, owners) in responses.iter().zip(&owners) {
                    record_outcomes(
                        response.record_outcomes(owners.len()),
                        owners,
                        &mut failures,
                    );
                }
            }
            Err(error) => {
                for owner in owners.iter().flatten() {
                    failures
                        .entry(*owner)
                        .or_insert_with(|| Failure::from(&error));
                }
            }
        }
    }
    failures
}

/// Failures of one Collections subrequest, by the change each record belongs to.
fn record_outcomes(
    outcomes: Result<Vec<salesforce_client::RecordOutcome>, SalesforceError>,
    owners: &[usize],
    failures: &mut HashMap<usize, Failure>,
) {
    match outcomes {
        Ok(outcomes) => {
            for (owner, outcome) in owners.iter().zip(outcomes) {
                if let Some(error) = outcome.errors.first() {
                    let class = outcome
                        .failure_class()
                        .unwrap_or(salesforce_client::FailureClass::Retryable);
                    failures.entry(*owner).or_insert_with(|| {
                        Failure::new(class, &error.code, "the write-back was refused")
                    });
                }
            }
        }
        Err(error) => {
            for owner in owners {
                failures
                    .entry(*owner)
                    .or_insert_with(|| Failure::from(&error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(sobject: &str, id: &str) -> WriteBack {
        WriteBack::Update {
            sobject: sobject.into(),
            id: id.into(),
            fields: Map::new(),
        }
    }

    #[test]
    fn a_batch_is_one_request_with_a_subrequest_per_object() {
        let rules = OutboundRules::default();
        let writes = vec![
            (0, update("Contact", "003A")),
            (
                0,
                WriteBack::LinkCustomer {
                    customer_id: "cus_1".into(),
                    contact_id: "003A".into(),
                },
            ),
            (1, update("Stripe_Subscription__c", "a02B")),
            (2, update("Contact", "003C")),
        ];
        let planned = plan(writes, &rules);
        assert_eq!(planned.len(), 3);
        assert_eq!(planned[0].owners, [0, 2], "both Contacts in one subrequest");
        assert_eq!(planned[1].owners, [1]);
        assert_eq!(
            planned[2].subrequest.path,
            "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c"
        );
        let requests = pack(planned);
        assert_eq!(requests.len(), 1, "one round trip");
        assert_eq!(requests[0].1, [vec![0, 2], vec![1], vec![0]]);
    }

    #[test]
    fn more_than_five_collections_take_a_second_request() {
        let rules = OutboundRules::default();
        let writes: Vec<(usize, WriteBack)> = (0..(COLLECTION_LIMIT * 6))
            .map(|n| (n, update("Contact", &format!("003{n}"))))
            .collect();
        let requests = pack(plan(writes, &rules));
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].0.subrequests.len(), 5);
        assert_eq!(requests[1].0.subrequests.len(), 1);
    }
}
