//! Request parameters as Stripe's libraries send them: form encoding with bracket notation
//! (`metadata[k]=v`, `expand[]=x`, `items[0][price]=p`, brackets possibly percent-encoded),
//! in the body of POSTs and the query string of GETs. Parsed by `serde_qs` into typed
//! parameter structs that deny unknown fields, as Stripe does.

use serde::de::DeserializeOwned;

use crate::error::StripeError;

/// Parses form-encoded parameters into `T`; an unknown parameter is Stripe's 400
/// `parameter_unknown`, any other problem a 400 `invalid_request_error`.
pub fn parse<T: DeserializeOwned>(input: &[u8]) -> Result<T, StripeError> {
    serde_qs::Config::new()
        .max_depth(5)
        .use_form_encoding(true)
        .deserialize_bytes(input)
        .map_err(|error| rejection(&error.to_string()))
}

/// Maps a deserialisation message to Stripe's error.
fn rejection(message: &str) -> StripeError {
    if let Some(rest) = message.split("unknown field `").nth(1) {
        let param = rest.split('`').next().unwrap_or(rest);
        return StripeError::invalid(
            Some("parameter_unknown"),
            format!("Received unknown parameter: {param}"),
            Some(param),
        );
    }
    if let Some(rest) = message.split("missing field `").nth(1) {
        let param = rest.split('`').next().unwrap_or(rest);
        return StripeError::missing_param(param);
    }
    StripeError::invalid(None, format!("Invalid parameters: {message}"), None)
}

/// Stripe's "empty string unsets" rule for optional text: `""` becomes `None`.
pub fn blank_to_none(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        email: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
        #[serde(default)]
        expand: Vec<String>,
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Deserialize)]
    struct Item {
        price: String,
    }

    #[test]
    fn brackets_plain_and_percent_encoded() {
        let params: Params = parse(
            b"email=a%40b.c&metadata[k]=v+w&metadata%5Bx%5D=y&expand[]=one&expand%5B%5D=two&items[0][price]=p1&items[1][price]=p2",
        )
        .expect("parses");
        assert_eq!(params.email.as_deref(), Some("a@b.c"));
        let metadata = params.metadata.expect("metadata");
        assert_eq!(metadata["k"], "v w");
        assert_eq!(metadata["x"], "y");
        assert_eq!(params.expand, ["one", "two"]);
        let prices: Vec<&str> = params
            .items
            .iter()
            .flatten()
            .map(|i| i.price.as_str())
            .collect();
        assert_eq!(prices, ["p1", "p2"]);
    }

    #[test]
    fn unknown_parameter_is_named() {
        let error = parse::<Params>(b"emial=x").expect_err("unknown");
        assert_eq!(error.code, Some("parameter_unknown"));
        assert_eq!(error.param.as_deref(), Some("emial"));
    }
}
