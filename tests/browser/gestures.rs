//! What a person does to one message: find it by what it says, hover it (a mouse), press
//! it long (a finger), use its actions toolbar.

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, TouchActions};
use serde_json::{json, Value};

use super::web::Window;

impl Window {
    /// Waits for the message showing exactly `text` in the open chat; answers the CSS
    /// selector of its list item.
    pub async fn message_item(&self, text: &str) -> String {
        let script =
            "const body = [...document.querySelectorAll('#message-list [data-message-body]')] \
                      .find((b) => b.textContent === arguments[0]); \
                      return body ? body.closest('li[data-id]').dataset.id : null";
        let id = self
            .wait_js(&format!("message {text:?}"), script, vec![json!(text)])
            .await;
        format!(
            "#message-list li[data-id='{}']",
            id.as_str().unwrap_or_default()
        )
    }

    /// Moves the mouse over `css` (as a person pointing at it).
    pub async fn hover(&self, css: &str) {
        let element = self.wait_visible(css).await;
        let moves = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: Some(Duration::from_millis(50)),
            x: 0.0,
            y: 0.0,
        });
        self.perform_actions(moves)
            .await
            .unwrap_or_else(|e| panic!("hovering `{css}`: {e}"));
    }

    /// Presses `css` with a finger for `held`, then lifts it.
    pub async fn long_press(&self, css: &str, held: Duration) {
        let element = self.wait_visible(css).await;
        let press = TouchActions::new("finger".into())
            .then(PointerAction::MoveToElement {
                element,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down { button: 0 })
            .then(PointerAction::Pause { duration: held })
            .then(PointerAction::Up { button: 0 });
        self.perform_actions(press)
            .await
            .unwrap_or_else(|e| panic!("pressing `{css}`: {e}"));
    }

    /// Points at the message showing `text` and clicks `button` (a selector inside its
    /// toolbar, e.g. `[data-action=edit]` or `[data-quick='👍']`).
    pub async fn message_action(&self, text: &str, button: &str) {
        let item = self.message_item(text).await;
        self.hover(&format!("{item} [data-message-body]")).await;
        self.click(&format!("{item} [role=toolbar] {button}")).await;
    }

    /// Waits until no message's actions toolbar shows, not even fading out (before a
    /// screenshot: the pointer may have just left a message).
    pub async fn wait_toolbars_hidden(&self) {
        self.wait_js(
            "the message toolbars to fade out",
            "return [...document.querySelectorAll('#message-list [role=toolbar]')] \
             .every((t) => getComputedStyle(t).opacity === '0')",
            vec![],
        )
        .await;
    }

    /// Types `keys` into whatever has focus now.
    pub async fn send_keys_to_focus(&self, keys: &str) {
        let focused = self
            .active_element()
            .await
            .unwrap_or_else(|e| panic!("the focused element: {e}"));
        focused
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("typing {keys:?}: {e}"));
    }

    /// The bodies of the open chat's messages, oldest first, as shown.
    pub async fn message_texts(&self) -> Vec<String> {
        let texts = self
            .js(
                "return [...document.querySelectorAll('#message-list [data-message-body]')].map((b) => b.textContent)",
                vec![],
            )
            .await;
        texts
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits for the confirmation dialog asking `question`, then confirms.
    pub async fn confirm(&self, question: &str) {
        self.wait_text("#confirm-title", question).await;
        self.click("#confirm-ok").await;
        self.wait_hidden("#confirm-dialog").await;
    }
}
