//! Google's error bodies (`google.rpc.Status`, as the Gemini API sends them):
//! `{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED",
//! "details": [{"@type": ".../google.rpc.RetryInfo", "retryDelay": "30s"}, ...]}}`.
//! The error mapper reads `status` as the vendor code; this module reads the
//! details it needs: the retry delay and the reason of an `ErrorInfo`.

use std::time::Duration;

use serde_json::Value;
use toolplane_core::ProviderErrorKind;

/// The kind a Google canonical status names.
pub(crate) fn kind_for_status_name(status: &str) -> Option<ProviderErrorKind> {
    use ProviderErrorKind as K;
    Some(match status {
        "RESOURCE_EXHAUSTED" => K::RateLimited,
        "UNAVAILABLE" => K::Overloaded,
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => K::InvalidRequest,
        "PERMISSION_DENIED" => K::PermissionDenied,
        "UNAUTHENTICATED" => K::Authentication,
        "NOT_FOUND" => K::NotFound,
        "DEADLINE_EXCEEDED" => K::Timeout,
        "CANCELLED" => K::Cancelled,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => K::Server,
        _ => return None,
    })
}

fn details(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("error")
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The `retryDelay` of a `RetryInfo` detail (a protobuf duration such as
/// `"30s"` or `"1.5s"`).
pub(crate) fn retry_delay(body: &Value) -> Option<Duration> {
    details(body).find_map(|d| {
        let text = d.get("retryDelay")?.as_str()?;
        let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
    })
}

/// A kind an `ErrorInfo` reason makes more precise than the status: Google
/// answers a wrong key with 400 `INVALID_ARGUMENT`, reason `API_KEY_INVALID`.
pub(crate) fn reason_kind(body: &Value) -> Option<ProviderErrorKind> {
    details(body).find_map(|d| match d.get("reason")?.as_str()? {
        "API_KEY_INVALID" | "API_KEY_EXPIRED" | "ACCESS_TOKEN_EXPIRED" => Some(ProviderErrorKind::Authentication),
        "API_KEY_SERVICE_BLOCKED" | "SERVICE_DISABLED" | "BILLING_DISABLED" => {
            Some(ProviderErrorKind::PermissionDenied)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_delay_reads_protobuf_durations() {
        let body = |d: &str| {
            json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": d}
            ]}})
        };
        assert_eq!(retry_delay(&body("30s")), Some(Duration::from_secs(30)));
        assert_eq!(retry_delay(&body("1.5s")), Some(Duration::from_millis(1500)));
        assert_eq!(retry_delay(&body("soon")), None);
        assert_eq!(retry_delay(&body("-3s")), None);
        assert_eq!(retry_delay(&json!({"error": "x"})), None);
    }
}
