// One image of a message full size, in a modal dialog (#lightbox in chat/home.html):
// Escape, the close button or a click beside the image closes it; the arrow keys, the
// side buttons or a swipe move between that message's images; on closing, focus goes
// back to the thumbnail of the image last shown.

import { byId, setText, show } from "./dom.js";
import { fitWithin } from "./file_info.js";

const SWIPE_PX = 50;

let dialog = null;
let image;
let gallery = [];
let at = 0;
let opener = null;

function setup() {
  dialog = byId("lightbox");
  image = byId("lightbox-image");
  byId("lightbox-close").addEventListener("click", () => dialog.close());
  byId("lightbox-prev").addEventListener("click", () => move(-1));
  byId("lightbox-next").addEventListener("click", () => move(1));
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      move(e.key === "ArrowLeft" ? -1 : 1);
    }
  });
  // A swipe sideways moves; it is no click on what it ended over.
  let start = null;
  let swiped = false;
  dialog.addEventListener("pointerdown", (e) => {
    start = e.pointerType === "mouse" ? null : { x: e.clientX, y: e.clientY };
    swiped = false;
  });
  dialog.addEventListener("pointerup", (e) => {
    if (!start) return;
    const dx = e.clientX - start.x;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(e.clientY - start.y)) {
      swiped = true;
      move(dx < 0 ? 1 : -1);
    }
    start = null;
  });
  // Beside the image is the dark backdrop: a click there closes.
  dialog.addEventListener("click", (e) => {
    if (swiped) {
      swiped = false;
      return;
    }
    if (!e.target.closest("img, button, a")) dialog.close();
  });
  dialog.addEventListener("close", () => {
    const shown = gallery[at];
    const thumb = shown && document.querySelector(`#message-list [data-thumbnail][data-attachment-id="${CSS.escape(String(shown.id))}"]`);
    const back = thumb || (opener && opener.isConnected ? opener : null);
    if (back) back.focus({ preventScroll: false });
    image.removeAttribute("src");
    gallery = [];
    opener = null;
  });
  window.addEventListener("resize", () => {
    if (dialog.open) fit();
  });
}

/** Shows `images[index]` (attachment objects), opened from the thumbnail `from`. */
export function openLightbox(images, index, from) {
  if (!dialog) setup();
  gallery = images.slice();
  at = index;
  opener = from || null;
  if (!dialog.open) dialog.showModal();
  render();
}

function move(step) {
  if (gallery.length < 2) return;
  at = (at + step + gallery.length) % gallery.length;
  render();
}

function render() {
  const a = gallery[at];
  if (!a) return;
  // The thumbnail is already loaded: it shows until the full image has come.
  image.src = a.thumbnail_url || a.url;
  image.src = a.url;
  image.alt = a.name;
  image.dataset.attachmentId = String(a.id);
  fit();
  setText(byId("lightbox-caption"), a.name);
  const download = byId("lightbox-download");
  download.href = a.url;
  download.setAttribute("download", a.name);
  const several = gallery.length > 1;
  setText(byId("lightbox-count"), several ? `${at + 1} of ${gallery.length}` : "");
  show(byId("lightbox-prev"), several);
  show(byId("lightbox-next"), several);
}

/** The image as large as the stage allows, never larger than it is. */
function fit() {
  const a = gallery[at];
  const stage = byId("lightbox-stage");
  const cs = getComputedStyle(stage);
  const room = {
    width: stage.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
    height: stage.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom),
  };
  const size = a && fitWithin(a.width, a.height, room.width, room.height);
  if (!size) return;
  image.width = size.width;
  image.height = size.height;
}
