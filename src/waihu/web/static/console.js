// Progressive enhancement for the console: live panels refreshed on server-sent events,
// timers counting up in the current state and wrap-up countdowns. The pages work without it.
(function () {
  "use strict";
  function tick() {
    document.querySelectorAll(".timer").forEach(function (el) {
      var n = parseInt(el.dataset.elapsed || "0", 10) + 1;
      el.dataset.elapsed = String(n);
      el.textContent = String(n);
    });
    document.querySelectorAll(".countdown").forEach(function (el) {
      var n = Math.max(0, parseInt(el.dataset.left || "0", 10) - 1);
      el.dataset.left = String(n);
      el.textContent = String(n);
    });
  }
  setInterval(tick, 1000);

  var panel = document.getElementById("panel");
  if (!panel || !panel.dataset.live || !window.EventSource) { return; }
  var pending = false, busy = false;
  function refresh() {
    if (busy) { pending = true; return; }
    var active = document.activeElement;
    if (active && panel.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) {
      pending = true; return;  // do not wipe what the user is typing
    }
    busy = true;
    fetch(panel.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { panel.innerHTML = html; }
        document.body.dataset.updated = String(Date.now());
      })
      .finally(function () {
        busy = false;
        if (pending) { pending = false; setTimeout(refresh, 200); }
      });
  }
  panel.addEventListener("focusout", function () { if (pending) { pending = false; refresh(); } });
  var es = new EventSource("/events");
  ["agent", "campaign", "call", "alert"].forEach(function (kind) { es.addEventListener(kind, refresh); });
  es.onopen = function () { document.body.dataset.live = "on"; };
})();
