// Keeps the figures on the map and region pages live: polls the regions API (revalidating with
// its ETag), pauses while the tab is hidden, and leaves the server-rendered figures if anything
// fails. The API has already applied the disclosure rule: a null is shown as the element's
// data-hidden-text ("fewer than 10", in the page's language); numbers are formatted in it too.
(function () {
  "use strict";
  var root = document.querySelector("[data-regions-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-regions-url");
  var seconds = Number(root.getAttribute("data-poll-seconds")) || 15;
  var lang = document.documentElement.lang || "en-GB";
  var format = new Intl.NumberFormat(lang);
  var rate = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function show(key, value) {
    document.querySelectorAll('[data-place="' + key + '"]').forEach(function (el) {
      var text = value === null ? el.getAttribute("data-hidden-text") : format.format(value);
      if (el.textContent !== text) el.textContent = text;
    });
    document.querySelectorAll('[data-rate-of="' + key + '"]').forEach(function (el) {
      var population = Number(el.getAttribute("data-population"));
      el.textContent = value === null ? "–" : rate.format((value * 100000) / population);
    });
  }

  function apply(data) {
    show("not-given", data.not_given);
    data.regions.forEach(function (region) {
      show(region.slug, region.count);
      region.areas.forEach(function (area) { show(region.slug + "/" + area.code, area.count); });
    });
  }

  function poll() {
    if (document.hidden) return;
    fetch(url, { cache: "no-cache", credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline or API down: keep the last figures */ });
  }

  setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", poll);
})();
