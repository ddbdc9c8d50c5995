//! The `--mix` of event kinds: relative weights parsed into shares that sum to 1.

/// Shares of each event kind, summing to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// New payments.
    pub payments: f64,
    /// Customer updates.
    pub customers: f64,
    /// Subscription status changes.
    pub subscriptions: f64,
}

/// Parses `payments=2,customers=1,subscriptions=1` into shares.
pub(super) fn parse_mix(text: &str) -> Result<Mix, String> {
    let (mut payments, mut customers, mut subscriptions) = (0.0, 0.0, 0.0);
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: expected kind=weight"))?;
        let weight: f64 = weight
            .parse()
            .map_err(|_| format!("{part:?}: the weight is not a number"))?;
        if weight < 0.0 {
            return Err(format!("{part:?}: weights are not negative"));
        }
        match kind {
            "payments" => payments = weight,
            "customers" => customers = weight,
            "subscriptions" => subscriptions = weight,
            other => {
                return Err(format!(
                    "{other:?}: kinds are payments, customers, subscriptions"
                ))
            }
        }
    }
    let total = payments + customers + subscriptions;
    if total <= 0.0 {
        return Err("the weights add up to nothing".into());
    }
    Ok(Mix {
        payments: payments / total,
        customers: customers / total,
        subscriptions: subscriptions / total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_are_weights() {
        let mix = parse_mix("payments=2,customers=1,subscriptions=1").unwrap();
        assert_eq!(
            (mix.payments, mix.customers, mix.subscriptions),
            (0.5, 0.25, 0.25)
        );
        assert_eq!(parse_mix("customers=1").unwrap().customers, 1.0);
        assert!(parse_mix("refunds=1").is_err());
        assert!(parse_mix("payments=0").is_err());
    }
}
