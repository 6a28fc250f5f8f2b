// Admin console behaviour: the changelist's bulk-action selection (like Django's
// actions.js). No dependencies, no inline code: runs under `default-src 'self'`.
// Without JavaScript the page still works: each row can be ticked and posted.

function initActions(form) {
  const toggle = document.getElementById("action-toggle");
  const counter = document.getElementById("action-counter");
  const acrossButton = document.getElementById("select-across");
  const clearButton = document.getElementById("select-clear");
  const acrossInput = form.querySelector('input[name="select_across"]');
  const boxes = Array.from(form.querySelectorAll("input.action-select"));
  if (boxes.length === 0) return;

  const parsedTotal = Number.parseInt(form.dataset.total ?? "", 10);
  const total = Number.isFinite(parsedTotal) ? Math.max(parsedTotal, boxes.length) : boxes.length;
  const fmt = new Intl.NumberFormat();
  let lastClicked = null;

  const selectedCount = () => boxes.reduce((n, box) => n + (box.checked ? 1 : 0), 0);
  const isAcross = () => acrossInput !== null && acrossInput.value === "1";

  function setAcross(on) {
    if (acrossInput) acrossInput.value = on ? "1" : "0";
  }

  function update() {
    const selected = selectedCount();
    const all = selected === boxes.length;
    // Selecting "across" only makes sense while every row on the page is ticked.
    if (!all && isAcross()) setAcross(false);

    if (toggle) {
      toggle.checked = all;
      toggle.indeterminate = selected > 0 && !all;
    }
    if (counter) {
      counter.textContent = isAcross()
        ? `All ${fmt.format(total)} selected`
        : `${fmt.format(selected)} of ${fmt.format(boxes.length)} selected`;
    }
    const more = total > boxes.length;
    if (acrossButton) acrossButton.hidden = !(all && more && !isAcross());
    if (clearButton) clearButton.hidden = !(all && more && isAcross());
  }

  function setAll(checked) {
    for (const box of boxes) box.checked = checked;
  }

  toggle?.addEventListener("change", () => {
    setAll(toggle.checked);
    setAcross(false);
    lastClicked = null;
    update();
  });

  // Shift-click ticks or unticks the whole range since the last clicked row.
  form.addEventListener("click", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains("action-select")) return;
    if (event.shiftKey && lastClicked && lastClicked !== box) {
      const a = boxes.indexOf(lastClicked);
      const b = boxes.indexOf(box);
      const [from, to] = a < b ? [a, b] : [b, a];
      for (let i = from; i <= to; i += 1) boxes[i].checked = box.checked;
    }
    lastClicked = box;
    update();
  });

  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.classList.contains("action-select")) update();
  });

  acrossButton?.addEventListener("click", () => {
    setAll(true);
    setAcross(true);
    update();
    clearButton?.focus();
  });

  clearButton?.addEventListener("click", () => {
    setAll(false);
    setAcross(false);
    update();
    toggle?.focus();
  });

  // Browsers restore ticked boxes on back/forward navigation; resync the counter.
  window.addEventListener("pageshow", update);
  update();
}

const changelist = document.getElementById("changelist-form");
if (changelist) initActions(changelist);

// The changelist's filters are a <details>, closed on a phone; on a wide screen its summary
// is hidden (input.css), so it must be open there, also where CSS cannot force it.
const filters = document.getElementById("changelist-filter");
if (filters instanceof HTMLDetailsElement) {
  const wide = window.matchMedia("(min-width: 1024px)");
  const follow = () => {
    if (wide.matches) filters.open = true;
  };
  wide.addEventListener("change", follow);
  follow();
}
