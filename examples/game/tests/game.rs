//! GameLive through the in-process harness and the real component (`cargo xtask build game`):
//! the hook's `pushEvent`s get replies, and the server's `push_event`s carry moves, coins,
//! the score and the end of the game.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use livewasm_test::{LiveView, TestHost};
use serde_json::{Value, json};

async fn live() -> (LiveView, String) {
    TestHost::new(&["game"])
        .expect("game component")
        .live("/game")
        .await
        .unwrap()
}

fn events(view: &mut LiveView, name: &str) -> Vec<Value> {
    view.take_push_events()
        .into_iter()
        .filter(|(event, _)| event == name)
        .map(|(_, payload)| payload)
        .collect()
}

/// Moves the player to `(x, y)` one step at a time (x first), as the arrow keys would.
fn walk(view: &mut LiveView, from: (i64, i64), to: (i64, i64)) {
    let (mut x, mut y) = from;
    while (x, y) != to {
        if x != to.0 {
            x += (to.0 - x).signum();
        } else {
            y += (to.1 - y).signum();
        }
        view.render_hook("player_move", json!({"x": x, "y": y}))
            .unwrap();
        assert_eq!(
            view.last_reply(),
            Some(&json!({"ok": true, "x": x, "y": y}))
        );
    }
}

#[tokio::test]
async fn ready_replies_with_the_whole_state() {
    let (mut view, html) = live().await;
    assert!(html.contains("phx-hook=\"Game\""), "{html}");
    view.render_hook("ready", json!({})).unwrap();
    assert_eq!(
        view.last_reply(),
        Some(&json!({
            "players": {"you": {"x": 0, "y": 0}, "bot": {"x": 9, "y": 9}},
            "coin": {"x": 3, "y": 0},
            "score": 0,
            "over": null,
        }))
    );
}

#[tokio::test]
async fn moves_push_positions_coins_score_and_game_over() {
    let (mut view, _) = live().await;
    let html = view
        .render_hook("player_move", json!({"x": 1, "y": 0}))
        .unwrap();
    assert!(html.contains("You are at 1,0"), "{html}");
    let moved = events(&mut view, "player-moved");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["player_id"], "you");
    assert_eq!(
        (moved[0]["x"].clone(), moved[0]["y"].clone()),
        (json!(1), json!(0))
    );
    assert!(moved[0]["timestamp"].as_u64().unwrap() > 1_600_000_000_000);

    // A far click moves one step towards it; off the board or standing still is refused.
    view.render_hook("player_move", json!({"x": 1, "y": 0}))
        .unwrap();
    assert_eq!(view.last_reply(), Some(&json!({"ok": false})));
    view.render_hook("player_move", json!({"x": -1, "y": 0}))
        .unwrap();
    assert_eq!(view.last_reply(), Some(&json!({"ok": false})));
    view.take_push_events();

    walk(&mut view, (1, 0), (3, 0));
    let pushed = view.take_push_events();
    let names: Vec<&str> = pushed.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["player-moved", "player-moved", "score", "coin"]);
    assert_eq!(pushed[2].1, json!({"score": 1}));
    assert_eq!(pushed[3].1, json!({"x": 3, "y": 3}));
    assert!(view.render().contains("Score: 1"));

    walk(&mut view, (3, 0), (3, 3));
    walk(&mut view, (3, 3), (0, 3));
    let over = events(&mut view, "game-over");
    assert_eq!(over, [json!({"winner": "you", "score": 3})]);
    let html = view.render();
    assert!(html.contains("Game Over! Winner: you"), "{html}");
    assert!(html.contains("Score: 3"), "{html}");
    // After the game, moves are refused; restart resets and re-announces.
    view.render_hook("player_move", json!({"x": 1, "y": 3}))
        .unwrap();
    assert_eq!(view.last_reply(), Some(&json!({"ok": false})));
    let html = view.element("#restart", None).render_click().unwrap();
    assert!(html.contains("Score: 0"), "{html}");
    assert!(!html.contains("Game Over"), "{html}");
    let pushed = view.take_push_events();
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert_eq!(pushed[0].0, "new-game");
    assert_eq!(pushed[0].1["players"]["you"], json!({"x": 0, "y": 0}));
    assert_eq!(pushed[0].1["score"], json!(0));
    assert_eq!(pushed[0].1["over"], json!(null));
}

#[tokio::test]
async fn the_bot_moves_on_its_timer_through_handle_info() {
    let (mut view, _) = live().await;
    view.advance(Duration::from_millis(500)).unwrap();
    let moved = events(&mut view, "player-moved");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0]["player_id"], "bot");
    assert_eq!(
        (moved[0]["x"].clone(), moved[0]["y"].clone()),
        (json!(8), json!(9))
    );
    // `advance` counts from now: the next tick is due 1 s after the join.
    view.advance(Duration::from_millis(1000)).unwrap();
    let moved = events(&mut view, "player-moved");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0]["x"], json!(7));
}
