//! The console with 10,000 agent pods, pure (no cluster): drawing the Fleets and the fleet
//! detail (pods table) screens at 200x50 into a test backend, and `update` folding a burst of
//! 10,000 pod deltas followed by the refresh that derives the sorted rows.
//!
//! `cargo bench --bench console -- --warm-up-time 1 --measurement-time 3`
//! Targets (the console issue): p50 under 2 ms a frame at 200x50 for 10,000 pods.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use fleetctl::fleet::delta::FleetDelta;
use fleetctl::fleet::objects::Object;
use fleetctl::tui::fixture;
use fleetctl::tui::msg::Msg;
use fleetctl::tui::update::update;
use fleetctl::tui::view::view;

const PODS: u32 = 10_000;

fn draw(c: &mut Criterion) {
    let mut g = c.benchmark_group("console_draw_10k_pods_200x50");
    let fleets = fixture::large(200, 50, PODS);
    let mut detail = fleets.clone();
    update(
        &mut detail,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    detail.refresh();
    assert_eq!(detail.pod_rows.len(), PODS as usize);
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("a test terminal");
    g.bench_function("fleets", |b| {
        b.iter(|| {
            term.draw(|f| view(black_box(&fleets), f)).expect("draws");
        })
    });
    g.bench_function("fleet_detail_pods", |b| {
        b.iter(|| {
            term.draw(|f| view(black_box(&detail), f)).expect("draws");
        })
    });
    g.finish();
}

fn fold(c: &mut Criterion) {
    let mut g = c.benchmark_group("console_update");
    let base = fixture::large(200, 50, PODS);
    let mut open = base.clone();
    update(
        &mut open,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    open.refresh();
    // Every pod changes once (restart count up), as a busy watch stream delivers it.
    let burst: Vec<FleetDelta> = (0..PODS)
        .map(|i| {
            let mut v = fixture::pod(
                &format!("ai-agent-batch-{i}-x{i:05}"),
                "ai-agent-batch",
                i,
                "running",
                60,
            );
            v["status"]["containerStatuses"][0]["restartCount"] = serde_json::json!(1);
            FleetDelta::Upsert(Object::from_json(&v).expect("a pod"))
        })
        .collect();
    g.throughput(Throughput::Elements(u64::from(PODS)));
    g.sample_size(10);
    g.bench_function("burst_of_10k_pod_deltas_then_refresh", |b| {
        b.iter_batched(
            || (open.clone(), burst.clone()),
            |(mut m, deltas)| {
                update(
                    &mut m,
                    Msg::Deltas {
                        deltas,
                        at: fixture::at(1),
                    },
                );
                m.refresh();
                black_box(m.pod_rows.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, draw, fold);
criterion_main!(benches);
