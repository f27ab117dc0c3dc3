//! Exchanges and their bindings: which queues a routing key reaches. Pure.

use amq_protocol::types::FieldTable;

/// The exchange types the broker implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Direct,
    Fanout,
    Topic,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "direct" => Some(Kind::Direct),
            "fanout" => Some(Kind::Fanout),
            "topic" => Some(Kind::Topic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Fanout => "fanout",
            Kind::Topic => "topic",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub queue: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Exchange {
    pub name: String,
    pub kind: Kind,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
    pub bindings: Vec<Binding>,
}

impl Exchange {
    pub fn new(name: &str, kind: Kind, durable: bool) -> Self {
        Self {
            name: name.to_string(),
            kind,
            durable,
            auto_delete: false,
            internal: false,
            arguments: FieldTable::default(),
            bindings: Vec::new(),
        }
    }

    /// Adds a binding; binding twice is one binding.
    pub fn bind(&mut self, queue: &str, key: &str) {
        let b = Binding {
            queue: queue.to_string(),
            key: key.to_string(),
        };
        if !self.bindings.contains(&b) {
            self.bindings.push(b);
        }
    }

    pub fn unbind(&mut self, queue: &str, key: &str) {
        self.bindings
            .retain(|b| !(b.queue == queue && b.key == key));
    }

    /// Drops every binding to `queue` (it was deleted).
    pub fn forget_queue(&mut self, queue: &str) {
        self.bindings.retain(|b| b.queue != queue);
    }

    /// The queues `routing_key` reaches, each once, in binding order.
    pub fn route(&self, routing_key: &str, out: &mut Vec<String>) {
        for b in &self.bindings {
            let hit = match self.kind {
                Kind::Direct => b.key == routing_key,
                Kind::Fanout => true,
                Kind::Topic => topic_matches(&b.key, routing_key),
            };
            if hit && !out.contains(&b.queue) {
                out.push(b.queue.clone());
            }
        }
    }
}

/// Whether a topic binding pattern matches a routing key: words split at `.`, `*` is exactly one
/// word, `#` zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match p.split_first() {
            None => k.is_empty(),
            Some((&"#", rest)) => (0..=k.len()).any(|i| go(rest, &k[i..])),
            Some((&w, rest)) => match k.split_first() {
                Some((&kw, krest)) => (w == "*" || w == kw) && go(rest, krest),
                None => false,
            },
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = if key.is_empty() {
        Vec::new()
    } else {
        key.split('.').collect()
    };
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_kind() {
        let mut d = Exchange::new("d", Kind::Direct, false);
        d.bind("a", "k");
        d.bind("b", "other");
        d.bind("a", "k");
        let mut out = Vec::new();
        d.route("k", &mut out);
        assert_eq!(out, vec!["a"]);
        let mut f = Exchange::new("f", Kind::Fanout, false);
        f.bind("a", "");
        f.bind("b", "x");
        let mut out = Vec::new();
        f.route("anything", &mut out);
        assert_eq!(out, vec!["a", "b"]);
        f.forget_queue("a");
        assert_eq!(f.bindings.len(), 1);
    }

    #[test]
    fn topic_patterns() {
        assert!(topic_matches("a.*.c", "a.b.c"));
        assert!(!topic_matches("a.*.c", "a.c"));
        assert!(topic_matches("a.#", "a"));
        assert!(topic_matches("#", ""));
        assert!(topic_matches("#.c", "a.b.c"));
        assert!(!topic_matches("a.b", "a.b.c"));
    }
}
