//! An in-memory `tracing` layer for span tests: every span with its fields,
//! parent and whether it closed, and every event with its fields and span.
//!
//! ```
//! use toolplane_testkit::spans::Collector;
//! let (spans, _guard) = Collector::install();
//! tracing::info_span!("chat", gen_ai.operation.name = "chat").in_scope(|| {
//!     tracing::event!(tracing::Level::INFO, toolplane.retry.attempt = 1, "toolplane.retry");
//! });
//! let chat = spans.span_named("chat");
//! assert_eq!(chat.get("gen_ai.operation.name"), Some("chat"));
//! assert_eq!(spans.events_of(chat.index)[0].message(), Some("toolplane.retry"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// A span as collected.
#[derive(Debug, Clone)]
pub struct SpanRec {
    /// Its position in [`Collector::spans`].
    pub index: usize,
    /// The static span name (`chat`, `execute_tool`, ...).
    pub name: &'static str,
    /// The target (`toolplane::provider`, ...).
    pub target: &'static str,
    /// Every field recorded, as text (`Debug` for non-strings).
    pub fields: BTreeMap<String, String>,
    /// The parent's index.
    pub parent: Option<usize>,
    /// True once the span closed.
    pub closed: bool,
}

impl SpanRec {
    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// An event as collected.
#[derive(Debug, Clone)]
pub struct EventRec {
    /// The span it happened in.
    pub span: Option<usize>,
    /// Every field, `message` included.
    pub fields: BTreeMap<String, String>,
}

impl EventRec {
    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// The event's message (toolplane's event name).
    pub fn message(&self) -> Option<&str> {
        self.get("message")
    }
}

#[derive(Debug, Default)]
struct Store {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
}

/// The layer; clone it to read what it collected.
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Store>>);

struct Index(usize);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

static SERIAL: Mutex<()> = Mutex::new(());

/// The lock [`Collector::install`] holds: take it in a span test that runs
/// without a collector (say, to check that calls behave the same with no
/// subscriber), so that it does not run while another test's is installed.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds the thread's subscriber and the lock that runs span tests one at a
/// time (callsite interest is global: two subscribers at once would race).
#[allow(missing_debug_implementations)]
pub struct Installed {
    _default: tracing::subscriber::DefaultGuard,
    _serial: MutexGuard<'static, ()>,
}

impl Collector {
    /// A collector set as this thread's subscriber until the guard drops.
    /// Use a current-thread runtime, so every span is created on this thread.
    pub fn install() -> (Self, Installed) {
        let serial = serial();
        let c = Collector::default();
        let default = tracing::subscriber::set_default(Registry::default().with(c.clone()));
        (
            c,
            Installed {
                _default: default,
                _serial: serial,
            },
        )
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every span so far, in creation order.
    pub fn spans(&self) -> Vec<SpanRec> {
        self.store().spans.clone()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<EventRec> {
        self.store().events.clone()
    }

    /// The spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<SpanRec> {
        self.spans().into_iter().filter(|s| s.name == name).collect()
    }

    /// The one span named `name`; panics when there is not exactly one.
    pub fn span_named(&self, name: &str) -> SpanRec {
        let found = self.spans_named(name);
        assert_eq!(found.len(), 1, "expected one `{name}` span: {:#?}", self.spans());
        found.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    /// The children of span `parent`.
    pub fn children(&self, parent: usize) -> Vec<SpanRec> {
        self.spans().into_iter().filter(|s| s.parent == Some(parent)).collect()
    }

    /// The events that happened in span `span`.
    pub fn events_of(&self, span: usize) -> Vec<EventRec> {
        self.events().into_iter().filter(|e| e.span == Some(span)).collect()
    }

    /// The events whose message is `message`.
    pub fn events_named(&self, message: &str) -> Vec<EventRec> {
        self.events()
            .into_iter()
            .filter(|e| e.message() == Some(message))
            .collect()
    }

    /// Everything recorded, spans and events, as one text (to search for
    /// what must never be there).
    pub fn all_text(&self) -> String {
        let store = self.store();
        format!("{:?}{:?}", store.spans, store.events)
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collector {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span.parent().and_then(|p| p.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut store = self.store();
        let index = store.spans.len();
        store.spans.push(SpanRec {
            index,
            name: attrs.metadata().name(),
            target: attrs.metadata().target(),
            fields,
            parent,
            closed: false,
        });
        span.extensions_mut().insert(Index(index));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(index) = ctx.span(id).and_then(|s| s.extensions().get::<Index>().map(|i| i.0)) else {
            return;
        };
        values.record(&mut Fields(&mut self.store().spans[index].fields));
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let span = ctx
            .event_span(event)
            .and_then(|s| s.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.store().events.push(EventRec { span, fields });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(index) = ctx.span(&id).and_then(|s| s.extensions().get::<Index>().map(|i| i.0)) else {
            return;
        };
        self.store().spans[index].closed = true;
    }
}
