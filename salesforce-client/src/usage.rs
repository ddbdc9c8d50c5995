//! The org's daily API usage, as reported in `Sforce-Limit-Info: api-usage=used/max` on
//! every REST response (docs/salesforce-api.md §2.5). The client records it in its
//! [`crate::UsageStore`] so that every instance throttles on the freshest figure.

/// Used and allowed API requests in Salesforce's rolling 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    /// Requests counted so far.
    pub used: u64,
    /// The org's allocation.
    pub max: u64,
}

impl ApiUsage {
    /// Parses the header value, e.g. `api-usage=25/5000; per-app-api-usage=17/250(appName=x)`.
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header
            .split(';')
            .map(str::trim)
            .find_map(|part| part.strip_prefix("api-usage="))?;
        let (used, max) = rest.split_once('/')?;
        Some(Self {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        })
    }

    /// Share of the allocation used, 0.0 to 1.0 (and beyond when over).
    pub fn fraction(&self) -> f64 {
        if self.max == 0 {
            return 1.0;
        }
        self.used as f64 / self.max as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            ApiUsage::parse("api-usage=10018/100000"),
            Some(ApiUsage {
                used: 10018,
                max: 100000
            })
        );
        assert_eq!(
            ApiUsage::parse(
                "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)"
            ),
            Some(ApiUsage {
                used: 25,
                max: 5000
            })
        );
        assert_eq!(ApiUsage::parse("per-app-api-usage=17/250(appName=x)"), None);
        assert_eq!(ApiUsage::parse("api-usage=x/5"), None);
        assert!((ApiUsage { used: 50, max: 200 }.fraction() - 0.25).abs() < f64::EPSILON);
    }
}
