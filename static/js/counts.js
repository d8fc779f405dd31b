// Keeps the counts on a page live: polls the counts API (revalidating with its ETag),
// pauses while the tab is hidden, and leaves the server-rendered numbers if anything fails.
(function () {
  "use strict";
  var root = document.querySelector("[data-counts-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-counts-url");
  var seconds = Number(root.getAttribute("data-poll-seconds")) || 15;
  var format = new Intl.NumberFormat("en-GB");

  function set(selector, value) {
    document.querySelectorAll(selector).forEach(function (el) {
      if (el.tagName === "PROGRESS") {
        el.value = Math.min(value, el.max);
        el.textContent = Math.floor((100 * value) / el.max) + "%";
      } else {
        var text = format.format(value);
        if (el.textContent !== text) el.textContent = text;
      }
    });
  }

  function apply(data) {
    set('[data-count="total"]', data.total);
    set('[data-paper="total"]', data.paper || 0);
    data.sectors.forEach(function (s) {
      set('[data-count="sector"][data-slug="' + s.slug + '"]', s.count);
      if (s.goal) {
        // The goal is the current step of the sector's ladder: once reached, the next one.
        document.querySelectorAll('[data-progress-sector="' + s.slug + '"]').forEach(function (el) { el.max = s.goal; });
        set('[data-goal-sector="' + s.slug + '"]', s.goal);
      }
      set('[data-progress-sector="' + s.slug + '"]', s.count);
      set('[data-paper="sector"][data-slug="' + s.slug + '"]', s.paper || 0);
    });
    data.organisations.forEach(function (o) {
      set('[data-count="org"][data-slug="' + o.slug + '"]', o.count);
      set('[data-paper="org"][data-slug="' + o.slug + '"]', o.paper || 0);
    });
  }

  function poll() {
    if (document.hidden) return;
    fetch(url, { cache: "no-cache", credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline or API down: keep the last numbers */ });
  }

  setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", poll);
})();
