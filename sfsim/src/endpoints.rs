//! Names of the API endpoints, used for call counts, per-endpoint fault rules and write
//! history. They are stable strings: tests and fault configurations refer to them.

use axum::http::Method;

/// The endpoint name of a request, from its method and path.
pub fn classify(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["services", "oauth2", "token"] => "oauth.token",
        ["services", "oauth2", "revoke"] => "oauth.revoke",
        ["services", "oauth2", "userinfo"] => "oauth.userinfo",
        ["services", "data"] => "versions",
        ["services", "data", _version, rest @ ..] => classify_versioned(method, rest),
        _ => "other",
    }
}

fn classify_versioned(method: &Method, rest: &[&str]) -> &'static str {
    let get = method == Method::GET;
    let patch = method == Method::PATCH;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    match rest {
        [] => "resources",
        ["limits"] => "limits",
        ["sobjects"] => "sobjects.describe_global",
        ["sobjects", _] if post => "sobject.create",
        ["sobjects", _] | ["sobjects", _, "describe"] => "sobject.describe",
        ["sobjects", _, _] if get => "sobject.get",
        ["sobjects", _, _] if patch => "sobject.update",
        ["sobjects", _, _] if delete => "sobject.delete",
        ["sobjects", _, _, _] if get => "sobject.get_by_external_id",
        ["sobjects", _, _, _] if patch => "sobject.upsert",
        ["sobjects", _, _, _] if delete => "sobject.delete_by_external_id",
        ["composite"] if post => "composite",
        ["composite", "sobjects"] if post => "collections.create",
        ["composite", "sobjects"] if patch => "collections.update",
        ["composite", "sobjects"] if delete => "collections.delete",
        ["composite", "sobjects", _, _] if patch => "collections.upsert",
        ["query"] => "query",
        ["queryAll"] => "query_all",
        ["query" | "queryAll", _] => "query.more",
        ["jobs", "ingest"] if post => "bulk.create_job",
        ["jobs", "ingest"] => "bulk.list_jobs",
        ["jobs", "ingest", _] if get => "bulk.job_info",
        ["jobs", "ingest", _] if patch => "bulk.set_state",
        ["jobs", "ingest", _] if delete => "bulk.delete_job",
        ["jobs", "ingest", _, "batches"] => "bulk.upload",
        ["jobs", "ingest", _, "successfulResults"] => "bulk.successful_results",
        ["jobs", "ingest", _, "failedResults"] => "bulk.failed_results",
        ["jobs", "ingest", _, "unprocessedrecords" | "unprocessedRecords"] => {
            "bulk.unprocessed_records"
        }
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let upsert = "/services/data/v62.0/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_1";
        assert_eq!(classify(&Method::PATCH, upsert), "sobject.upsert");
        let collections = "/services/data/v62.0/composite/sobjects/X__c/Ext__c";
        assert_eq!(classify(&Method::PATCH, collections), "collections.upsert");
        let delete = "/services/data/v62.0/composite/sobjects";
        assert_eq!(classify(&Method::DELETE, delete), "collections.delete");
        assert_eq!(classify(&Method::GET, "/services/data/"), "versions");
        let userinfo = "/services/oauth2/userinfo";
        assert_eq!(classify(&Method::GET, userinfo), "oauth.userinfo");
    }
}
