//! The reconciliation's report: a table for a terminal (field names, never values: they
//! may be personal data), or JSON with the values for a script.

use std::fmt::Write;

use serde::Serialize;

use super::compare::Finding;

/// One object kind's result.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectReport {
    /// `customers`, `subscriptions`, `prices`.
    pub object: &'static str,
    /// The sObject compared.
    pub sobject: String,
    /// Objects Stripe listed (that the mapping writes a record for).
    pub in_stripe: usize,
    /// Records Salesforce answered.
    pub in_salesforce: usize,
    /// What differs.
    pub findings: Vec<Finding>,
    /// Repair events enqueued (`--repair`).
    pub repairs_enqueued: usize,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Per object kind, in the order asked.
    pub objects: Vec<ObjectReport>,
}

impl Report {
    /// Findings of every kind together: non-zero makes the command exit 1.
    pub fn differences(&self) -> usize {
        self.objects.iter().map(|o| o.findings.len()).sum()
    }

    /// The report as printed.
    pub fn render(&self, json: bool) -> String {
        if json {
            let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
            text.push('\n');
            return text;
        }
        let mut out = String::new();
        for object in &self.objects {
            let _ = writeln!(
                out,
                "{}: {} in Stripe, {} {} records in Salesforce, {} differences{}",
                object.object,
                object.in_stripe,
                object.in_salesforce,
                object.sobject,
                object.findings.len(),
                if object.repairs_enqueued > 0 {
                    format!(", {} repair events enqueued", object.repairs_enqueued)
                } else {
                    String::new()
                }
            );
            for finding in &object.findings {
                let line = match finding {
                    Finding::MissingInSalesforce { key } => format!("  missing    {key}"),
                    Finding::Different { key, fields } => {
                        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                        format!("  different  {key}  {}", names.join(", "))
                    }
                    Finding::UnknownToStripe { key } => {
                        format!("  unknown    {key}  (not listed by Stripe)")
                    }
                };
                let _ = writeln!(out, "{line}");
            }
        }
        let total = self.differences();
        let _ = writeln!(
            out,
            "{}",
            if total == 0 {
                "OK: Salesforce matches Stripe".to_owned()
            } else {
                format!("DIFFERENT: {total} differences")
            }
        );
        out
    }
}
