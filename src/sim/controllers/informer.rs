//! One watch of every pod, shared by the controllers the way client-go's shared informers are
//! shared inside kube-controller-manager: the pods are decoded once, kept once (without
//! `managedFields`, which no controller reads) and handed to every consumer as the same
//! `Arc<Pod>`.
//!
//! - [`Pods::state`]: the current pods, like a reflector store.
//! - [`Pods::subscribe`]: every watch event from now on, after a replay of the current state as
//!   `Init`, `InitApply`…, `InitDone` (as a handler added to a running informer gets its adds).
//! - [`Pods::notify_on_change`]: a [`Notify`] poked after every event, for controllers that
//!   recompute from the state.
//!
//! With 10,000 pods, one shared cache instead of one per controller is the difference between
//! one copy of each pod and six.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::{Notify, mpsc, watch};

use super::Ctx;

/// A watch event of the shared pod watch.
pub type PodEvent = watcher::Event<Arc<Pod>>;

type Key = (String, String);

fn key(p: &Pod) -> Key {
    (
        p.metadata.namespace.clone().unwrap_or_default(),
        p.metadata.name.clone().unwrap_or_default(),
    )
}

#[derive(Default)]
struct Inner {
    objects: HashMap<Key, Arc<Pod>>,
    /// A (re-)list in progress: its pods so far, swapped in at `InitDone`.
    listing: Option<HashMap<Key, Arc<Pod>>>,
    subscribers: Vec<mpsc::UnboundedSender<PodEvent>>,
    notifies: Vec<Arc<Notify>>,
}

/// Whether a cache has had its first complete listing. Controllers act only after it, as
/// kube-controller-manager waits for its informers (`WaitForCacheSync`): before it a cache may
/// miss most objects, and acting on it would create them again. Clones share one signal.
#[derive(Clone, Debug)]
pub struct Synced(Arc<watch::Sender<bool>>);

impl Default for Synced {
    fn default() -> Self {
        Synced(Arc::new(watch::channel(false).0))
    }
}

impl Synced {
    /// The first listing has ended (later relists keep it set).
    pub fn mark(&self) {
        self.0.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once [`Synced::mark`] has been called.
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// The shared pod cache and its subscribers.
#[derive(Default)]
pub struct Pods {
    inner: Mutex<Inner>,
    ready: Synced,
}

impl Pods {
    pub fn new() -> Arc<Self> {
        Arc::new(Pods::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every pod of the last complete list and the changes since.
    pub fn state(&self) -> Vec<Arc<Pod>> {
        self.lock().objects.values().cloned().collect()
    }

    /// The pod `namespace/name`, if cached.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Pod>> {
        self.lock()
            .objects
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Resolves once the first list is complete.
    pub async fn wait_until_ready(&self) {
        self.ready.wait().await
    }

    /// Every event from now on, after the current state replayed as a list.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<PodEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        let replay = match (&inner.listing, self.ready.is_set()) {
            // A list is under way: what it has so far; the rest of it comes live.
            (Some(l), _) => Some(l),
            (None, true) => Some(&inner.objects),
            // Nothing listed yet: the first list comes live.
            (None, false) => None,
        };
        if let Some(pods) = replay {
            let _ = tx.send(watcher::Event::Init);
            for p in pods.values() {
                let _ = tx.send(watcher::Event::InitApply(p.clone()));
            }
            if inner.listing.is_none() {
                let _ = tx.send(watcher::Event::InitDone);
            }
        }
        inner.subscribers.push(tx);
        rx
    }

    /// `notify` is poked (`notify_one`) after every event.
    pub fn notify_on_change(&self, notify: Arc<Notify>) {
        self.lock().notifies.push(notify);
    }

    /// Applies one event of the watch and passes it on.
    pub fn apply(&self, ev: watcher::Event<Pod>) {
        let ev: PodEvent = match ev {
            watcher::Event::Init => watcher::Event::Init,
            watcher::Event::InitDone => watcher::Event::InitDone,
            watcher::Event::InitApply(p) => watcher::Event::InitApply(Arc::new(slim(p))),
            watcher::Event::Apply(p) => watcher::Event::Apply(Arc::new(slim(p))),
            watcher::Event::Delete(p) => watcher::Event::Delete(Arc::new(slim(p))),
        };
        let mut inner = self.lock();
        let mut done = false;
        match &ev {
            watcher::Event::Init => inner.listing = Some(HashMap::new()),
            watcher::Event::InitApply(p) => {
                if let Some(l) = inner.listing.as_mut() {
                    l.insert(key(p), p.clone());
                }
            }
            watcher::Event::InitDone => {
                if let Some(l) = inner.listing.take() {
                    inner.objects = l;
                }
                done = true;
            }
            watcher::Event::Apply(p) => {
                inner.objects.insert(key(p), p.clone());
            }
            watcher::Event::Delete(p) => {
                inner.objects.remove(&key(p));
            }
        }
        inner.subscribers.retain(|s| s.send(ev.clone()).is_ok());
        for n in &inner.notifies {
            n.notify_one();
        }
        drop(inner);
        if done {
            self.ready.mark();
        }
    }
}

/// The pod as the controllers keep it.
fn slim(mut p: Pod) -> Pod {
    p.metadata.managed_fields = None;
    p
}

/// Runs the shared watch until the sim stops (re-listing after errors, with back-off).
pub async fn run(ctx: Ctx) {
    let stream = watcher(
        Api::<Pod>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff();
    let mut stream = std::pin::pin!(stream);
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(ev) => ctx.pods.apply(ev),
            Err(e) => tracing::debug!(error = %e, "pod_watch_error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, rv: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "a", "resourceVersion": rv,
                         "managedFields": [{"manager": "m", "operation": "Update"}]}
        }))
        .unwrap()
    }

    fn names(evs: &mut mpsc::UnboundedReceiver<PodEvent>) -> Vec<String> {
        let mut out = vec![];
        while let Ok(ev) = evs.try_recv() {
            out.push(match ev {
                watcher::Event::Init => "init".into(),
                watcher::Event::InitApply(p) => {
                    format!("list {}", p.metadata.name.as_ref().unwrap())
                }
                watcher::Event::InitDone => "done".into(),
                watcher::Event::Apply(p) => format!("apply {}", p.metadata.name.as_ref().unwrap()),
                watcher::Event::Delete(p) => {
                    format!("delete {}", p.metadata.name.as_ref().unwrap())
                }
            });
        }
        out
    }

    #[test]
    fn late_subscribers_get_the_state_replayed_then_live_events() {
        let pods = Pods::default();
        let mut early = pods.subscribe();
        pods.apply(watcher::Event::Init);
        pods.apply(watcher::Event::InitApply(pod("p1", "1")));
        // Joins in the middle of the first list: what it has so far, the rest live.
        let mut middle = pods.subscribe();
        pods.apply(watcher::Event::InitApply(pod("p2", "2")));
        pods.apply(watcher::Event::InitDone);
        assert!(pods.ready.is_set());
        pods.apply(watcher::Event::Apply(pod("p3", "3")));
        pods.apply(watcher::Event::Delete(pod("p1", "4")));
        let mut late = pods.subscribe();
        assert_eq!(
            names(&mut early),
            [
                "init",
                "list p1",
                "list p2",
                "done",
                "apply p3",
                "delete p1"
            ]
        );
        assert_eq!(
            names(&mut middle),
            [
                "init",
                "list p1",
                "list p2",
                "done",
                "apply p3",
                "delete p1"
            ]
        );
        let mut got = names(&mut late);
        got[1..3].sort();
        assert_eq!(got, ["init", "list p2", "list p3", "done"]);
        let mut state: Vec<String> = pods
            .state()
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        state.sort();
        assert_eq!(state, ["p2", "p3"]);
        assert!(
            pods.get("a", "p2")
                .unwrap()
                .metadata
                .managed_fields
                .is_none(),
            "managedFields are not kept"
        );
    }

    #[test]
    fn a_relist_swaps_the_state_at_its_end() {
        let pods = Pods::default();
        pods.apply(watcher::Event::Init);
        pods.apply(watcher::Event::InitApply(pod("old", "1")));
        pods.apply(watcher::Event::InitDone);
        pods.apply(watcher::Event::Init);
        pods.apply(watcher::Event::InitApply(pod("new", "5")));
        assert!(pods.get("a", "old").is_some(), "kept until the list ends");
        pods.apply(watcher::Event::InitDone);
        assert!(pods.get("a", "old").is_none());
        assert!(pods.get("a", "new").is_some());
    }

    #[test]
    fn change_notifies_are_poked_per_event() {
        let pods = Pods::default();
        let n = Arc::new(Notify::new());
        pods.notify_on_change(n.clone());
        pods.apply(watcher::Event::Apply(pod("p", "1")));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), n.notified())
                .await
                .expect("poked");
        });
    }
}
