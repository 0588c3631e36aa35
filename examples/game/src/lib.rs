//! GameLive from the seed's "Push Events to Client": the server pushes events to a client hook
//! that draws the board on a canvas.
//!
//! The hook (`hooks/game.js`, shipped with the app) sends the player's moves with
//! `pushEvent("player_move", {x, y})` and gets a reply; the server answers with `push_event`s:
//! `"player-moved"` (`{player_id, x, y, timestamp}`), `"coin"`, `"score"` and, when the player
//! reaches three coins, `"game-over"` (`{winner, score}`) with a flash; `"new-game"` carries
//! the whole state after a restart. A bot walks the
//! board's border on a timer; its moves reach `handle_info` and go out as `"player-moved"`.
//! On mount the hook asks for the whole state with `pushEvent("ready")` and draws the reply.

use livewasm_sdk::prelude::*;
use livewasm_sdk::time;
use serde::Deserialize;

/// Cells per side of the board.
pub const SIZE: i64 = 10;
/// Coins that win the game.
pub const WINNING_SCORE: u32 = 3;
/// Where the coins appear, in order.
const COINS: [(i64, i64); 5] = [(3, 0), (3, 3), (0, 3), (6, 6), (9, 0)];
/// The bot's timer message.
const TICK: &str = "bot_tick";

/// A cell of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Column, 0 at the left.
    pub x: i64,
    /// Row, 0 at the top.
    pub y: i64,
}

impl Pos {
    fn json(self) -> Value {
        json!({"x": self.x, "y": self.y})
    }

    fn on_board(self) -> bool {
        (0..SIZE).contains(&self.x) && (0..SIZE).contains(&self.y)
    }

    /// One step from `self` towards `to`, along the longer axis first.
    pub fn step_toward(self, to: Pos) -> Pos {
        let (dx, dy) = (to.x - self.x, to.y - self.y);
        if dx.abs() >= dy.abs() {
            Pos {
                x: self.x + dx.signum(),
                y: self.y,
            }
        } else {
            Pos {
                x: self.x,
                y: self.y + dy.signum(),
            }
        }
    }
}

/// The bot's cell after `step` steps around the board's border (clockwise from the bottom
/// right corner).
pub fn bot_position(step: u64) -> Pos {
    let side = (SIZE - 1) as u64;
    let i = (step % (4 * side)) as i64;
    let side = side as i64;
    let last = SIZE - 1;
    match i / side {
        0 => Pos {
            x: last - i,
            y: last,
        },
        1 => Pos {
            x: 0,
            y: last - (i - side),
        },
        2 => Pos {
            x: i - 2 * side,
            y: 0,
        },
        _ => Pos {
            x: last,
            y: i - 3 * side,
        },
    }
}

/// The game's assigns.
#[derive(Assigns, Default)]
pub struct GameLive {
    player: Pos,
    bot_step: u64,
    coin_index: usize,
    score: u32,
    winner: Option<String>,
}

/// `pushEvent("player_move", {x, y})`.
#[derive(Debug, Deserialize)]
struct Move {
    x: i64,
    y: i64,
}

fn coin(index: usize) -> Pos {
    let (x, y) = COINS[index % COINS.len()];
    Pos { x, y }
}

fn moved(socket: &mut Socket<GameLive>, player_id: &str, pos: Pos) {
    socket.push_event(
        "player-moved",
        json!({"player_id": player_id, "x": pos.x, "y": pos.y, "timestamp": time::now_ms()}),
    );
}

fn state(game: &GameLive) -> Value {
    json!({
        "players": {"you": game.player.json(), "bot": bot_position(game.bot_step).json()},
        "coin": coin(game.coin_index).json(),
        "score": game.score,
        "over": game.winner.as_ref().map(|w| json!({"winner": w, "score": game.score})),
    })
}

impl GameLive {
    fn player_move(socket: &mut Socket<Self>, value: &Value) -> Result {
        let Move { x, y } = value.parse()?;
        let target = Pos { x, y };
        let from = socket.assigns().player;
        if socket.assigns().winner.is_some() || !target.on_board() || target == from {
            socket.reply(json!({"ok": false}));
            return Ok(());
        }
        let to = from.step_toward(target);
        assign!(socket, player = to);
        socket.reply(json!({"ok": true, "x": to.x, "y": to.y}));
        moved(socket, "you", to);
        if to == coin(socket.assigns().coin_index) {
            let score = socket.assigns().score + 1;
            let next = socket.assigns().coin_index + 1;
            assign!(socket, score = score, coin_index = next);
            socket.push_event("score", json!({ "score": score }));
            if score >= WINNING_SCORE {
                assign!(socket, winner = Some("you".to_string()));
                socket.push_event("game-over", json!({"winner": "you", "score": score}));
                socket.put_flash("info", "Game Over! Winner: you");
            } else {
                socket.push_event("coin", coin(next).json());
            }
        }
        Ok(())
    }
}

impl LiveView for GameLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        if socket.connected() {
            timers::send_interval(500, TICK);
        }
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "ready" => {
                let state = state(socket.assigns());
                socket.reply(state);
            }
            "player_move" => Self::player_move(socket, value)?,
            "restart" => {
                assign!(
                    socket,
                    player = Pos::default(),
                    coin_index = 0,
                    score = 0,
                    winner = None
                );
                socket.clear_flash(None);
                let state = state(socket.assigns());
                socket.push_event("new-game", state);
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if message.as_str() == Some(TICK) && socket.assigns().winner.is_none() {
            let step = socket.assigns().bot_step + 1;
            assign!(socket, bot_step = step);
            moved(socket, "bot", bot_position(step));
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let info = assigns.flash().get("info").unwrap_or_default().to_string();
        html!(
            r#"
<div id="game-page">
  <h1>Coin chase</h1>
  <p id="flash-info" :if={!info.is_empty()} role="status">{info.as_str()}</p>
  <p>Arrow keys (or a click on the board) move the blue square; collect {WINNING_SCORE} coins.</p>
  <div id="board" phx-hook="Game" phx-update="ignore"></div>
  <p id="score">Score: {@score}</p>
  <p id="position">You are at {@player.x},{@player.y}</p>
  <button id="restart" phx-click="restart">Restart</button>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "game",
    routes: {
        "/game" => GameLive;
    },
    hooks: {
        "Game" => include_str!("../hooks/game.js");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_walks_the_border_and_steps_go_one_cell() {
        let start = bot_position(0);
        assert_eq!(start, Pos { x: 9, y: 9 });
        for step in 0..40 {
            let (a, b) = (bot_position(step), bot_position(step + 1));
            assert!(a.on_board());
            assert_eq!((a.x - b.x).abs() + (a.y - b.y).abs(), 1, "step {step}");
            assert!(a.x == 0 || a.y == 0 || a.x == 9 || a.y == 9);
        }
        assert_eq!(bot_position(36), start);
        let from = Pos { x: 0, y: 0 };
        assert_eq!(from.step_toward(Pos { x: 5, y: 1 }), Pos { x: 1, y: 0 });
        assert_eq!(from.step_toward(Pos { x: 0, y: 4 }), Pos { x: 0, y: 1 });
    }
}
