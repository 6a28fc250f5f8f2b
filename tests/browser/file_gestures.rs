//! What a person does with files, in the page: paste them into the composer, drag them
//! over the chat and drop them, wait for their uploads; and the test files themselves,
//! made in the page (a PDF any page can make again byte for byte, PNGs drawn on a canvas).

use serde_json::{json, Value};

use super::web::Window;

/// Test files made in the page: a PDF whose bytes any page can make again (to compare a
/// download with), and PNG "screenshots" drawn on a canvas.
const MAKE_FILES: &str = r##"
window.testFiles = {
  pdfBytes(size) {
    const head = new TextEncoder().encode("%PDF-1.4\n% Kanect test file\n");
    const bytes = new Uint8Array(size);
    bytes.set(head);
    let x = 2024;
    for (let i = head.length; i < size; i += 1) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    return bytes;
  },
  pdf(name, size) {
    return new File([this.pdfBytes(size)], name, { type: "application/pdf" });
  },
  png(name, width, height, accent, title = "Q3 dashboard") {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext("2d");
    g.fillStyle = "#f8fafc";
    g.fillRect(0, 0, width, height);
    g.fillStyle = accent;
    g.fillRect(0, 0, width, height * 0.12);
    g.fillStyle = "#ffffff";
    g.font = `bold ${Math.round(height * 0.05)}px sans-serif`;
    g.fillText(title, width * 0.04, height * 0.08);
    const bars = [0.55, 0.8, 0.42, 0.9, 0.65, 0.75];
    bars.forEach((h, i) => {
      g.fillStyle = i % 2 ? accent : "#94a3b8";
      const w = (width * 0.8) / bars.length;
      g.fillRect(width * 0.08 + i * w + w * 0.15, height * (0.92 - h * 0.7), w * 0.7, height * h * 0.7);
    });
    return new Promise((resolve) => canvas.toBlob((blob) => resolve(new File([blob], name, { type: "image/png" })), "image/png"));
  },
  /** Files from descriptions: {png: name, width, height, accent, title}, {pdf: name, size}, {empty: name}. */
  make(specs) {
    return Promise.all(specs.map((s) => {
      if (s.png) return this.png(s.png, s.width, s.height, s.accent || "#4f46e5", s.title);
      if (s.pdf) return this.pdf(s.pdf, s.size);
      return new File([], s.empty, { type: "text/plain" });
    }));
  },
};
return true;
"##;

/// Watches the upload list and remembers whether a progress bar was ever in it.
pub const WATCH_PROGRESS: &str = r#"
window.sawProgress = false;
const list = document.getElementById("upload-list");
new MutationObserver(() => {
  if (list.querySelector("li[data-status=uploading] progress")) window.sawProgress = true;
}).observe(list, { childList: true, subtree: true });
return true;
"#;

/// Drags the files `arguments[1]` describes (see `testFiles.make`) over the messages, with
/// the events `arguments[0]` names (dragenter, dragover, drop).
const DRAG: &str = r#"
const [types, specs] = arguments;
const files = await window.testFiles.make(specs);
const data = new DataTransfer();
for (const file of files) data.items.add(file);
const zone = document.getElementById("message-scroller");
for (const type of types) {
  zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
}
return true;
"#;

impl Window {
    pub async fn make_test_files(&self) {
        self.js(MAKE_FILES, vec![]).await;
    }

    /// Pastes the files `specs` describes (see `testFiles.make`) into the composer.
    pub async fn paste_files(&self, specs: Value) {
        let script = r#"
const files = await window.testFiles.make(arguments[0]);
const data = new DataTransfer();
for (const file of files) data.items.add(file);
const input = document.getElementById("composer-input");
input.focus();
input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
return true;
"#;
        self.js(&wrap_async(script), vec![specs]).await;
    }

    pub async fn drag_files(&self, steps: &[&str], specs: Value) {
        self.js(&wrap_async(DRAG), vec![json!(steps), specs]).await;
    }

    /// Waits until `n` finished uploads wait above the composer.
    pub async fn wait_uploaded(&self, n: usize) {
        self.wait_js(
            &format!("{n} finished uploads"),
            "return document.querySelectorAll('#upload-list li[data-status=done]').length === arguments[0] \
                 && !document.querySelector('#upload-list li[data-status=uploading]')",
            vec![json!(n)],
        )
        .await;
    }

    /// The attributes of the thumbnails in the newest message with attachments.
    pub async fn thumbnails(&self) -> Value {
        self.js(
            "const lists = document.querySelectorAll('#message-list [data-attachments]'); \
             const last = lists[lists.length - 1]; \
             return [...last.querySelectorAll('[data-thumbnail] img')].map((img) => ({ \
               alt: img.alt, width: img.getAttribute('width'), height: img.getAttribute('height'), \
               loaded: img.complete && img.naturalWidth > 0, natural: img.naturalWidth }))",
            vec![],
        )
        .await
    }
}

/// A script body that may `await`, run as a promise WebDriver waits for.
pub fn wrap_async(body: &str) -> String {
    format!("return (async () => {{ {body} }})();")
}
