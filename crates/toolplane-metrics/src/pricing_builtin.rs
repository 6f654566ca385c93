//! The built-in price list (USD per million tokens), checked on
//! [`BUILTIN_PRICES_CHECKED`](crate::BUILTIN_PRICES_CHECKED). Sources are
//! listed in `docs/metrics.md`. Standard tier, short-context rates; a cache
//! price left out is billed at the input price.

use crate::ModelPrice;

const fn p(input: f64, output: f64, cache_read: Option<f64>, cache_write: Option<f64>) -> ModelPrice {
    ModelPrice {
        input_per_token: input / 1e6,
        output_per_token: output / 1e6,
        cache_read_per_token: match cache_read {
            Some(v) => Some(v / 1e6),
            None => None,
        },
        cache_write_per_token: match cache_write {
            Some(v) => Some(v / 1e6),
            None => None,
        },
        cache_write_1h_per_token: None,
        reasoning_per_token: None,
    }
}

/// Anthropic: one-hour cache writes cost twice the input price.
const fn a(input: f64, output: f64, cache_read: f64, cache_write: f64) -> ModelPrice {
    let mut price = p(input, output, Some(cache_read), Some(cache_write));
    price.cache_write_1h_per_token = Some(2.0 * input / 1e6);
    price
}

/// `(provider, [(model, price)])`.
pub(crate) const BUILTIN: &[(&str, &[(&str, ModelPrice)])] = &[
    (
        "openai",
        &[
            ("gpt-6.2-astra", p(8.0, 40.0, Some(0.40), None)),
            ("gpt-6.2-sol", p(2.0, 10.0, Some(0.10), None)),
            ("gpt-6.1-sol", p(2.0, 10.0, Some(0.10), Some(2.50))),
            ("gpt-6.1-terra", p(1.0, 5.0, Some(0.05), Some(1.25))),
            ("gpt-6-astra", p(10.0, 50.0, Some(1.00), Some(12.50))),
            ("gpt-6-sol", p(2.0, 10.0, Some(0.20), Some(2.50))),
            ("gpt-6-luna", p(0.10, 0.50, Some(0.01), Some(0.125))),
            ("gpt-5.5", p(5.0, 30.0, Some(0.50), None)),
            ("gpt-5.4", p(2.50, 15.0, Some(0.25), None)),
            ("gpt-5.4-mini", p(0.75, 4.50, Some(0.075), None)),
            ("gpt-5.4-nano", p(0.20, 1.25, Some(0.02), None)),
            ("gpt-4.1", p(2.0, 8.0, Some(0.50), None)),
            ("gpt-4.1-mini", p(0.40, 1.60, Some(0.10), None)),
            ("gpt-4o", p(2.50, 10.0, Some(1.25), None)),
            ("gpt-4o-mini", p(0.15, 0.60, Some(0.075), None)),
        ],
    ),
    (
        "anthropic",
        &[
            ("claude-fable-5-1", a(10.0, 50.0, 0.25, 12.50)),
            ("claude-opus-5-5", a(4.0, 20.0, 0.20, 5.0)),
            ("claude-opus-5", a(5.0, 25.0, 0.50, 6.25)),
            ("claude-sonnet-5-5", a(2.0, 10.0, 0.10, 2.50)),
            ("claude-sonnet-5", a(2.0, 10.0, 0.20, 2.50)),
            ("claude-haiku-5-5", a(0.10, 0.50, 0.01, 0.125)),
            ("claude-opus-4-5", a(5.0, 25.0, 0.50, 6.25)),
            ("claude-sonnet-4-5", a(3.0, 15.0, 0.30, 3.75)),
            ("claude-haiku-4-5", a(1.0, 5.0, 0.10, 1.25)),
        ],
    ),
    (
        "mistral",
        &[
            ("mistral-large-latest", p(0.50, 1.50, Some(0.05), None)),
            ("mistral-large-2512", p(0.50, 1.50, Some(0.05), None)),
            ("mistral-medium-latest", p(1.50, 7.50, Some(0.15), None)),
            ("mistral-small-latest", p(0.15, 0.60, Some(0.015), None)),
            ("magistral-medium-latest", p(1.50, 7.50, Some(0.15), None)),
            ("codestral-latest", p(0.30, 0.90, Some(0.03), None)),
            ("devstral-latest", p(0.40, 2.0, Some(0.04), None)),
            ("ministral-8b-latest", p(0.15, 0.15, Some(0.015), None)),
        ],
    ),
    (
        "gemini",
        &[
            ("gemini-3.5-flash", p(1.50, 9.0, Some(0.15), None)),
            ("gemini-3.1-pro-preview", p(2.0, 12.0, Some(0.20), None)),
            ("gemini-3.1-flash-lite", p(0.25, 1.50, Some(0.025), None)),
            ("gemini-3-flash-preview", p(0.50, 3.0, Some(0.05), None)),
            ("gemini-2.5-pro", p(1.25, 10.0, Some(0.125), None)),
            ("gemini-2.5-flash", p(0.30, 2.50, Some(0.03), None)),
            ("gemini-2.5-flash-lite", p(0.10, 0.40, Some(0.01), None)),
        ],
    ),
    (
        "cohere",
        &[
            ("command-a-03-2025", p(2.50, 10.0, None, None)),
            ("command-r-plus-08-2024", p(2.50, 10.0, None, None)),
            ("command-r-08-2024", p(0.15, 0.60, None, None)),
            ("command-r7b-12-2024", p(0.0375, 0.15, None, None)),
        ],
    ),
];
