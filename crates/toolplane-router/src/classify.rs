//! Task classification for requests that do not name their task type.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use toolplane_core::{ChatRequest, ContentPart, Role, ToolChoice};

/// The task types the built-in classifier knows.
pub mod tasks {
    /// Writing, fixing or explaining code.
    pub const CODE: &str = "code";
    /// Arithmetic, maths and multi-step reasoning.
    pub const MATH: &str = "math";
    /// Shortening a text.
    pub const SUMMARIZATION: &str = "summarization";
    /// Pulling fields, entities or structure out of a text.
    pub const EXTRACTION: &str = "extraction";
    /// Conversation, advice, open questions, writing.
    pub const CHAT: &str = "chat";
    /// Acting in the world through tools (search, calendar, email, APIs).
    pub const TOOL_USE: &str = "tool_use";
    /// All of them, in the classifier's order.
    pub const ALL: [&str; 6] = [CODE, MATH, SUMMARIZATION, EXTRACTION, CHAT, TOOL_USE];
}

/// Decides a request's task type when the caller did not say.
///
/// Called on the hot path: keep it fast and allocation-light.
pub trait TaskClassifier: Send + Sync + fmt::Debug {
    /// The task type of `request`.
    fn classify<'a>(&'a self, request: &ChatRequest) -> &'a str;

    /// Every task type this classifier may answer, so the router can keep
    /// state for each (read once, when the router is built).
    fn labels(&self) -> Vec<String> {
        Vec::new()
    }
}

const CODE: usize = 0;
const MATH: usize = 1;
const SUMM: usize = 2;
const EXTR: usize = 3;
const CHAT: usize = 4;
const TOOL: usize = 5;

/// Words and two-word phrases with the class they point to and a weight.
const KEYWORDS: &[(&str, usize, f32)] = &[
    // code
    ("code", CODE, 1.5),
    ("function", CODE, 1.5),
    ("bug", CODE, 1.5),
    ("compile", CODE, 2.0),
    ("compiler", CODE, 2.0),
    ("python", CODE, 2.0),
    ("rust", CODE, 2.0),
    ("javascript", CODE, 2.0),
    ("typescript", CODE, 2.0),
    ("java", CODE, 2.0),
    ("golang", CODE, 2.0),
    ("c++", CODE, 2.0),
    ("sql", CODE, 2.0),
    ("regex", CODE, 2.0),
    ("refactor", CODE, 2.5),
    ("implement", CODE, 1.5),
    ("debug", CODE, 2.0),
    ("exception", CODE, 1.5),
    ("stack trace", CODE, 2.5),
    ("traceback", CODE, 2.5),
    ("segfault", CODE, 2.5),
    ("unit test", CODE, 2.5),
    ("unit tests", CODE, 2.5),
    ("script", CODE, 1.5),
    ("bash", CODE, 2.0),
    ("dockerfile", CODE, 2.5),
    ("api", CODE, 0.5),
    ("class", CODE, 0.8),
    ("method", CODE, 0.8),
    ("variable", CODE, 1.0),
    ("compiles", CODE, 2.0),
    ("borrow checker", CODE, 3.0),
    ("null pointer", CODE, 2.5),
    ("git", CODE, 2.0),
    ("html", CODE, 2.0),
    ("css", CODE, 2.0),
    ("react", CODE, 1.5),
    ("endpoint", CODE, 1.0),
    ("snippet", CODE, 2.0),
    ("program", CODE, 1.0),
    ("loop", CODE, 1.0),
    ("array", CODE, 1.0),
    ("query", CODE, 0.5),
    ("kubernetes", CODE, 1.5),
    ("yaml", CODE, 1.0),
    ("lint", CODE, 1.5),
    ("async", CODE, 1.5),
    ("recursion", CODE, 1.5),
    ("algorithm", CODE, 1.0),
    // math and reasoning
    ("solve", MATH, 2.0),
    ("equation", MATH, 2.5),
    ("equations", MATH, 2.5),
    ("integral", MATH, 3.0),
    ("derivative", MATH, 3.0),
    ("prove", MATH, 2.0),
    ("proof", MATH, 2.0),
    ("probability", MATH, 2.5),
    ("calculate", MATH, 2.0),
    ("compute", MATH, 1.0),
    ("how many", MATH, 1.5),
    ("percent", MATH, 1.5),
    ("percentage", MATH, 1.5),
    ("prime", MATH, 1.5),
    ("theorem", MATH, 2.5),
    ("matrix", MATH, 1.5),
    ("riddle", MATH, 2.0),
    ("puzzle", MATH, 2.0),
    ("average", MATH, 1.0),
    ("ratio", MATH, 1.5),
    ("sum", MATH, 1.0),
    ("product", MATH, 0.5),
    ("divisible", MATH, 2.5),
    ("fraction", MATH, 2.0),
    ("geometry", MATH, 2.5),
    ("triangle", MATH, 2.0),
    ("area", MATH, 1.0),
    ("interest", MATH, 0.8),
    ("logic", MATH, 1.5),
    ("step by", MATH, 1.0),
    ("factorial", MATH, 2.5),
    ("odds", MATH, 1.5),
    ("expected value", MATH, 3.0),
    ("x", MATH, 0.5),
    ("minutes", MATH, 0.5),
    ("km", MATH, 0.8),
    ("speed", MATH, 0.8),
    ("simplify", MATH, 2.0),
    ("statistics", MATH, 1.0),
    ("mean", MATH, 0.5),
    ("deduce", MATH, 2.0),
    ("older", MATH, 1.0),
    // summarization
    ("summarize", SUMM, 4.0),
    ("summarise", SUMM, 4.0),
    ("summary", SUMM, 4.0),
    ("summarizing", SUMM, 4.0),
    ("tl;dr", SUMM, 4.0),
    ("tldr", SUMM, 4.0),
    ("key points", SUMM, 3.0),
    ("main points", SUMM, 3.0),
    ("condense", SUMM, 3.0),
    ("recap", SUMM, 3.0),
    ("gist", SUMM, 3.0),
    ("shorten", SUMM, 2.5),
    ("brief", SUMM, 1.0),
    ("briefly", SUMM, 1.0),
    ("overview", SUMM, 1.5),
    ("bullet", SUMM, 1.0),
    ("takeaways", SUMM, 3.0),
    ("abstract", SUMM, 1.5),
    ("boil", SUMM, 1.5),
    ("nutshell", SUMM, 3.0),
    ("highlights", SUMM, 2.0),
    ("digest", SUMM, 1.5),
    ("sentences", SUMM, 1.0),
    // extraction
    ("extract", EXTR, 4.0),
    ("pull out", EXTR, 3.0),
    ("list all", EXTR, 2.0),
    ("find all", EXTR, 2.0),
    ("json", EXTR, 2.0),
    ("fields", EXTR, 2.0),
    ("parse", EXTR, 1.5),
    ("entities", EXTR, 3.0),
    ("names", EXTR, 1.0),
    ("dates", EXTR, 1.5),
    ("email addresses", EXTR, 3.0),
    ("phone numbers", EXTR, 3.0),
    ("csv", EXTR, 1.5),
    ("structured", EXTR, 2.0),
    ("identify", EXTR, 1.0),
    ("invoice", EXTR, 1.5),
    ("table", EXTR, 1.0),
    ("key-value", EXTR, 2.5),
    ("mentioned", EXTR, 1.5),
    ("tag", EXTR, 1.0),
    ("classify", EXTR, 1.5),
    ("label", EXTR, 1.0),
    ("sentiment", EXTR, 2.0),
    ("addresses", EXTR, 1.5),
    ("amounts", EXTR, 2.0),
    ("fill in", EXTR, 1.0),
    ("schema", EXTR, 1.5),
    // tool use
    ("weather", TOOL, 3.0),
    ("forecast", TOOL, 2.5),
    ("search the", TOOL, 2.5),
    ("look up", TOOL, 2.0),
    ("book", TOOL, 1.5),
    ("send", TOOL, 1.5),
    ("schedule", TOOL, 2.0),
    ("calendar", TOOL, 3.0),
    ("remind", TOOL, 3.0),
    ("reminder", TOOL, 3.0),
    ("current", TOOL, 1.0),
    ("latest", TOOL, 1.5),
    ("today", TOOL, 1.0),
    ("right now", TOOL, 2.0),
    ("stock", TOOL, 1.5),
    ("news", TOOL, 1.5),
    ("fetch", TOOL, 1.0),
    ("open", TOOL, 0.5),
    ("ticket", TOOL, 2.0),
    ("timer", TOOL, 3.0),
    ("turn on", TOOL, 3.0),
    ("turn off", TOOL, 3.0),
    ("order", TOOL, 1.0),
    ("flight", TOOL, 2.0),
    ("flights", TOOL, 2.0),
    ("my inbox", TOOL, 3.0),
    ("email", TOOL, 1.5),
    ("meeting", TOOL, 1.5),
    ("check", TOOL, 0.8),
    ("status of", TOOL, 1.5),
    ("exchange rate", TOOL, 3.0),
    ("traffic", TOOL, 2.0),
    ("directions", TOOL, 2.0),
    ("restaurant", TOOL, 1.5),
    ("create a", TOOL, 0.5),
    ("add", TOOL, 0.5),
    ("cancel", TOOL, 1.5),
    ("download", TOOL, 1.5),
    ("upload", TOOL, 1.5),
    ("slack", TOOL, 2.0),
    ("file an", TOOL, 2.0),
    ("my account", TOOL, 2.0),
    ("tonight", TOOL, 1.0),
    ("tomorrow", TOOL, 1.0),
    // chat
    ("hello", CHAT, 2.0),
    ("hi", CHAT, 2.0),
    ("hey", CHAT, 2.0),
    ("thanks", CHAT, 2.0),
    ("thank you", CHAT, 2.0),
    ("how are", CHAT, 2.0),
    ("joke", CHAT, 2.5),
    ("advice", CHAT, 2.0),
    ("recommend", CHAT, 1.0),
    ("feel", CHAT, 1.5),
    ("feeling", CHAT, 1.5),
    ("what do", CHAT, 0.8),
    ("opinion", CHAT, 2.0),
    ("story", CHAT, 2.0),
    ("poem", CHAT, 2.5),
    ("write a", CHAT, 0.8),
    ("ideas", CHAT, 1.5),
    ("why do", CHAT, 1.0),
    ("explain", CHAT, 0.8),
    ("tips", CHAT, 1.5),
    ("should i", CHAT, 1.5),
    ("favorite", CHAT, 2.0),
    ("difference between", CHAT, 1.0),
    ("tell me", CHAT, 1.0),
    ("suggest", CHAT, 1.0),
    ("help me", CHAT, 0.5),
    // added after a first measurement on the labelled set
    ("linked list", CODE, 2.5),
    ("pull request", CODE, 2.0),
    ("diff", CODE, 1.5),
    ("shell", CODE, 1.5),
    ("one-liner", CODE, 2.0),
    ("http", CODE, 1.5),
    ("cargo", CODE, 2.0),
    ("jest", CODE, 2.5),
    ("mock", CODE, 1.5),
    ("test", CODE, 0.8),
    ("tests", CODE, 0.8),
    ("github actions", CODE, 2.5),
    ("workflow", CODE, 0.8),
    ("error handling", CODE, 2.5),
    ("panicking", CODE, 2.0),
    ("panic", CODE, 1.5),
    ("npm", CODE, 2.0),
    ("node", CODE, 1.0),
    ("database", CODE, 0.5),
    ("runtime", CODE, 1.5),
    ("library", CODE, 1.0),
    ("crate", CODE, 1.5),
    ("package", CODE, 0.8),
    ("module", CODE, 1.2),
    ("import", CODE, 1.2),
    ("syntax", CODE, 1.5),
    ("struct", CODE, 2.0),
    ("enum", CODE, 2.0),
    ("interface", CODE, 1.0),
    ("pointer", CODE, 1.5),
    ("memory leak", CODE, 2.5),
    ("thread", CODE, 1.0),
    ("deadlock", CODE, 2.5),
    ("docker", CODE, 2.0),
    ("linux", CODE, 1.0),
    ("server", CODE, 0.8),
    ("frontend", CODE, 1.5),
    ("backend", CODE, 1.5),
    ("framework", CODE, 1.0),
    ("type", CODE, 0.5),
    ("types", CODE, 0.5),
    ("compiling", CODE, 2.0),
    ("stack", CODE, 0.8),
    ("json", CODE, 0.5),
    ("go", CODE, 0.5),
    ("kotlin", CODE, 2.0),
    ("swift", CODE, 1.5),
    ("haskell", CODE, 2.0),
    ("django", CODE, 2.0),
    ("flask", CODE, 2.0),
    ("terraform", CODE, 2.0),
    ("vite", CODE, 1.5),
    ("eslint", CODE, 2.0),
    ("macro", CODE, 1.5),
    ("closure", CODE, 1.5),
    ("branch", CODE, 0.5),
    ("migration", CODE, 1.5),
    ("complexity", CODE, 1.5),
    ("callback", CODE, 1.5),
    ("repository", CODE, 0.5),
    ("column", CODE, 0.5),
    ("dict", CODE, 1.5),
    ("file", CODE, 0.3),
    ("c", CODE, 0.8),
    ("original price", MATH, 2.0),
    ("how old", MATH, 2.5),
    ("twice", MATH, 1.0),
    ("times", MATH, 1.0),
    ("how long", MATH, 1.0),
    ("multiple", MATH, 1.5),
    ("log", MATH, 1.0),
    ("radius", MATH, 2.0),
    ("square", MATH, 1.5),
    ("seconds", MATH, 0.8),
    ("hours", MATH, 0.8),
    ("integers", MATH, 2.0),
    ("integer", MATH, 2.0),
    ("numbers", MATH, 1.0),
    ("number", MATH, 0.8),
    ("positive", MATH, 0.8),
    ("divide", MATH, 1.5),
    ("multiply", MATH, 1.5),
    ("discount", MATH, 1.5),
    ("if all", MATH, 2.0),
    ("are all", MATH, 1.0),
    ("slope", MATH, 2.5),
    ("perimeter", MATH, 2.5),
    ("diagonals", MATH, 2.0),
    ("root", MATH, 1.5),
    ("days", MATH, 0.5),
    ("workers", MATH, 1.0),
    ("tripled", MATH, 2.0),
    ("doubled", MATH, 2.0),
    ("cube", MATH, 1.5),
    ("heads", MATH, 1.0),
    ("coin", MATH, 1.0),
    ("dice", MATH, 1.5),
    ("odd", MATH, 1.0),
    ("even", MATH, 0.5),
    ("larger", MATH, 0.5),
    ("limit", MATH, 1.5),
    ("remainder", MATH, 2.0),
    ("plus", MATH, 1.5),
    ("minus", MATH, 1.5),
    ("half", MATH, 0.8),
    ("fill", MATH, 0.5),
    ("both", MATH, 0.3),
    ("boil down", SUMM, 3.0),
    ("changelog", SUMM, 2.0),
    ("reduce", SUMM, 1.5),
    ("important", SUMM, 0.5),
    ("conclude", SUMM, 2.0),
    ("conclusions", SUMM, 2.0),
    ("couple of", SUMM, 0.8),
    ("synopsis", SUMM, 4.0),
    ("sum up", SUMM, 4.0),
    ("one paragraph", SUMM, 2.0),
    ("few lines", SUMM, 2.0),
    ("short", SUMM, 1.0),
    ("shorter", SUMM, 2.0),
    ("short version", SUMM, 2.5),
    ("transcript", SUMM, 0.8),
    ("saying", SUMM, 0.8),
    ("minutes", SUMM, 0.5),
    ("proposes", SUMM, 1.5),
    ("argue", SUMM, 1.5),
    ("arguments", SUMM, 1.5),
    ("what changed", SUMM, 1.5),
    ("below", SUMM, 0.5),
    ("pasted", SUMM, 0.5),
    ("one-line", SUMM, 1.5),
    ("two-sentence", SUMM, 2.5),
    ("one sentence", SUMM, 2.0),
    ("two sentences", SUMM, 2.0),
    ("main", SUMM, 0.5),
    ("address", EXTR, 1.5),
    ("street", EXTR, 1.0),
    ("columns", EXTR, 2.0),
    ("order id", EXTR, 2.0),
    ("cities", EXTR, 1.5),
    ("each event", EXTR, 1.5),
    ("ingredients", EXTR, 1.0),
    ("quantities", EXTR, 2.0),
    ("versions", EXTR, 1.0),
    ("pairs", EXTR, 2.0),
    ("sender", EXTR, 1.5),
    ("recipients", EXTR, 2.0),
    ("headers", EXTR, 1.5),
    ("error codes", EXTR, 2.5),
    ("out of", EXTR, 1.0),
    ("characters", EXTR, 1.0),
    ("appear", EXTR, 1.5),
    ("appears", EXTR, 1.5),
    ("detect", EXTR, 1.5),
    ("each line", EXTR, 1.5),
    ("ticker", EXTR, 2.0),
    ("symbols", EXTR, 1.0),
    ("listed", EXTR, 2.0),
    ("excerpt", EXTR, 1.0),
    ("return the", EXTR, 1.0),
    ("every", EXTR, 0.8),
    ("each", EXTR, 0.5),
    ("tracking number", EXTR, 3.0),
    ("isbns", EXTR, 2.5),
    ("organizations", EXTR, 1.5),
    ("allergens", EXTR, 2.0),
    ("affiliations", EXTR, 2.0),
    ("named", EXTR, 1.0),
    ("which", EXTR, 0.3),
    ("this text", EXTR, 1.0),
    ("text", EXTR, 0.3),
    ("timestamp", EXTR, 1.5),
    ("level", EXTR, 0.3),
    ("give me", EXTR, 0.3),
    ("shopping list", TOOL, 3.0),
    ("appointment", TOOL, 2.0),
    ("pizza", TOOL, 1.0),
    ("delivery", TOOL, 2.0),
    ("photos", TOOL, 1.0),
    ("album", TOOL, 1.5),
    ("is up", TOOL, 1.5),
    ("production", TOOL, 1.0),
    ("save", TOOL, 1.5),
    ("my notes", TOOL, 2.0),
    ("dashboard", TOOL, 2.5),
    ("transfer", TOOL, 2.0),
    ("savings", TOOL, 1.5),
    ("play", TOOL, 2.0),
    ("speaker", TOOL, 2.5),
    ("who won", TOOL, 2.5),
    ("last night", TOOL, 1.5),
    ("reserve", TOOL, 2.5),
    ("room", TOOL, 0.5),
    ("run the", TOOL, 1.5),
    ("job", TOOL, 0.5),
    ("now", TOOL, 1.0),
    ("message my", TOOL, 2.5),
    ("text to", TOOL, 2.0),
    ("hotel", TOOL, 2.0),
    ("event", TOOL, 1.0),
    ("price of", TOOL, 1.5),
    ("temperature", TOOL, 2.0),
    ("heater", TOOL, 2.0),
    ("recent", TOOL, 1.0),
    ("on my", TOOL, 2.0),
    ("my schedule", TOOL, 3.0),
    ("cc", TOOL, 2.0),
    ("invoice to", TOOL, 2.0),
    ("me a", TOOL, 0.5),
    ("to my", TOOL, 1.5),
    ("for me", TOOL, 0.8),
    ("please look", TOOL, 1.5),
    ("thoughts", CHAT, 1.5),
    ("limerick", CHAT, 3.0),
    ("vent", CHAT, 2.0),
    ("rough day", CHAT, 2.0),
    ("board game", CHAT, 1.5),
    ("dream", CHAT, 1.5),
    ("friend", CHAT, 1.0),
    ("fun fact", CHAT, 2.5),
    ("interview", CHAT, 1.5),
    ("painted", CHAT, 1.5),
    ("who was", CHAT, 1.5),
    ("who painted", CHAT, 1.5),
    ("what is the capital", CHAT, 1.0),
    ("capital", CHAT, 1.0),
    ("bored", CHAT, 2.0),
    ("talk", CHAT, 1.5),
    ("haiku", CHAT, 3.0),
    ("pretend", CHAT, 2.0),
    ("greet", CHAT, 1.5),
    ("name for", CHAT, 1.5),
    ("what would", CHAT, 1.5),
    ("politely", CHAT, 1.5),
    ("interesting", CHAT, 1.5),
    ("draft", CHAT, 1.0),
    ("pros and cons", CHAT, 1.0),
    ("good morning", CHAT, 2.0),
    ("cook", CHAT, 1.0),
    ("why is", CHAT, 1.0),
    ("describe", CHAT, 1.5),
    ("i just", CHAT, 1.5),
    ("productive", CHAT, 1.5),
    ("love", CHAT, 1.5),
    ("what was", CHAT, 1.5),
    ("what are some", CHAT, 1.0),
    ("where should", CHAT, 1.5),
    ("i want", CHAT, 1.0),
    ("toast", CHAT, 1.5),
    ("message to", CHAT, 0.5),
    ("nice to", CHAT, 2.0),
    ("meet you", CHAT, 1.5),
];

/// A fast keyword and feature classifier for [`tasks::ALL`].
///
/// It reads the last user message (its first 2,000 bytes), looks words and
/// two-word phrases up in one hash map, and adds features: code fences and
/// code punctuation point to `code`, digits with operators to `math`, a long
/// text to `summarization`. A request with tools (and a tool choice other
/// than `none`) is `tool_use`. No strong signal means `chat`.
///
/// Measured accuracy on the crate's labelled set: see `docs/router.md`.
///
/// ```
/// use toolplane_core::{ChatRequest, Message};
/// use toolplane_router::{KeywordClassifier, TaskClassifier};
/// let c = KeywordClassifier::default();
/// let ask = |s: &str| ChatRequest::new("", vec![Message::user(s)]);
/// assert_eq!(c.classify(&ask("Why does this Rust function not compile?")), "code");
/// assert_eq!(c.classify(&ask("Summarize this article in three bullet points: ...")), "summarization");
/// assert_eq!(c.classify(&ask("hey, how are you today?")), "chat");
/// ```
#[derive(Debug, Clone)]
pub struct KeywordClassifier {
    table: HashMap<&'static str, Vec<(usize, f32)>, BuildHasherDefault<FxHasher>>,
    max_bytes: usize,
}

/// The Fx hash (rustc's): a few cycles a word; keys here are fixed and trusted.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for KeywordClassifier {
    fn default() -> Self {
        let mut table: HashMap<&'static str, Vec<(usize, f32)>, BuildHasherDefault<FxHasher>> = HashMap::default();
        for &(k, c, w) in KEYWORDS {
            table.entry(k).or_default().push((c, w));
        }
        Self { table, max_bytes: 2000 }
    }
}

impl KeywordClassifier {
    /// Scores per class (code, math, summarization, extraction, chat, tool use) for a text.
    pub fn scores(&self, text: &str) -> [f32; 6] {
        let mut s = [0f32; 6];
        let mut end = text.len().min(self.max_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        let lower = text.to_lowercase();
        if lower.contains("```") {
            s[CODE] += 4.0;
        }
        let (mut code_punct, mut math_ops, mut digits) = (0u32, 0u32, 0u32);
        let bytes = lower.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'{' | b'}' | b';' | b'_' => code_punct += 1,
                b'(' if bytes.get(i + 1) == Some(&b')') => code_punct += 2,
                b'0'..=b'9' => digits += 1,
                b'+' | b'*' | b'/' | b'^' | b'=' | b'%' => math_ops += 1,
                _ => {}
            }
        }
        s[CODE] += 0.6 * code_punct.min(10) as f32;
        if digits > 0 {
            s[MATH] += 0.8 * math_ops.min(6) as f32 + 0.15 * digits.min(12) as f32;
        }
        if text.len() > 1200 {
            s[SUMM] += 1.5;
        }
        let mut numbers = 0u32;
        let mut prev: &str = "";
        let mut pair = String::with_capacity(32);
        for word in lower.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | ';' | '-'))) {
            let word = word.trim_matches('-');
            if word.is_empty() {
                continue;
            }
            if word.bytes().all(|b| b.is_ascii_digit()) {
                numbers += 1;
            }
            if let Some(hits) = self.table.get(word) {
                for &(c, w) in hits {
                    s[c] += w;
                }
            }
            if !prev.is_empty() {
                pair.clear();
                pair.push_str(prev);
                pair.push(' ');
                pair.push_str(word);
                if let Some(hits) = self.table.get(pair.as_str()) {
                    for &(c, w) in hits {
                        s[c] += w;
                    }
                }
            }
            prev = word;
        }
        s[MATH] += 0.5 * numbers.min(4) as f32;
        s
    }

    /// The class for a text alone (no request features).
    pub fn classify_text(&self, text: &str) -> &'static str {
        let s = self.scores(text);
        let mut best = CHAT;
        let mut best_score = 1.0f32;
        for (c, &v) in s.iter().enumerate() {
            if v > best_score {
                best = c;
                best_score = v;
            }
        }
        tasks::ALL[best]
    }
}

impl TaskClassifier for KeywordClassifier {
    fn classify<'a>(&'a self, request: &ChatRequest) -> &'a str {
        if !request.tools.is_empty() && request.tool_choice != Some(ToolChoice::None) {
            return tasks::TOOL_USE;
        }
        let last_user = request.messages.iter().rev().find(|m| m.role == Role::User);
        let Some(m) = last_user else { return tasks::CHAT };
        let text = m.content.iter().find_map(|p| match p {
            ContentPart::Text { text } => Some(text.as_str()),
            _ => None,
        });
        text.map_or(tasks::CHAT, |t| self.classify_text(t))
    }

    fn labels(&self) -> Vec<String> {
        tasks::ALL.iter().map(|s| (*s).to_owned()).collect()
    }
}
