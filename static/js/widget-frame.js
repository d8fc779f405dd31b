// The iframe card (/widget/...): keeps its number live by polling the counts API (revalidating
// with the ETag, paused while the tab is hidden) and posts the parent page its height, and nothing
// else, so a host that listens can fit the frame. WordPress listens for these very messages: it
// adds #?secret=... to the frame's address and sandboxes the frame, so there the "Sign the pledge"
// link asks WordPress to open it (a "link" message) because a sandboxed frame cannot.
(function () {
  "use strict";
  var card = document.querySelector("[data-counts-url]");
  if (!card || !window.fetch || !window.Intl || !Intl.PluralRules) return;
  var secret = (/[#&?]secret=([A-Za-z0-9]+)/.exec(location.hash) || [])[1];
  var lang = document.documentElement.lang;
  var number = new Intl.NumberFormat(lang), plural = new Intl.PluralRules(lang);
  var who = JSON.parse(card.getAttribute("data-who"));
  var goalText = card.getAttribute("data-goal-text");
  var addPaper = card.getAttribute("data-paper") === "add", paperText = card.getAttribute("data-paper-text");
  var paperLine = card.querySelector(".cds-paper");
  var verifiedLine = card.querySelector(".cds-verified");
  var verifiedForms = verifiedLine && JSON.parse(card.getAttribute("data-verified"));
  var seconds = Number(card.getAttribute("data-poll-seconds")) || 15;
  var link = card.querySelector(".cds-sign");
  var region = card.getAttribute("data-region"), fewer = card.getAttribute("data-fewer");

  function send(message, value) {
    if (window.parent === window) return;
    var data = { message: message, value: value };
    if (secret) data.secret = secret;
    window.parent.postMessage(data, "*");
  }

  function sendHeight() {
    send("height", Math.ceil(card.getBoundingClientRect().height));
  }

  function apply(data) {
    if (region) return applyRegion(data);
    var online = data.total, paper = data.paper || 0, bar = card.querySelector(".cds-bar");
    var count = addPaper ? online + paper : online;
    if (paperLine && paperText) {
      paperLine.hidden = !paper;
      paperLine.textContent = paper
        ? paperText.replace("{n}", number.format(online)).replace("{p}", number.format(paper))
        : "";
    }
    if (verifiedLine) {
      var verified = data.verified_total || 0;
      verifiedLine.hidden = !verified;
      verifiedLine.textContent = verified
        ? (verifiedForms[plural.select(verified)] || verifiedForms.other).replace("{v}", number.format(verified))
        : "";
    }
    card.querySelector(".cds-n").textContent = number.format(count);
    card.querySelector(".cds-who").textContent = who[plural.select(count)] || who.other;
    if (bar && goalText && data.sectors.length && data.sectors[0].goal) {
      var goal = data.sectors[0].goal, percent = Math.min(100, Math.floor((100 * count) / goal));
      bar.max = goal;
      bar.value = Math.min(count, goal);
      bar.textContent = percent + "%";
      card.querySelector(".cds-bar + .cds-goal").textContent = goalText
        .replace("{percent}", percent)
        .replace("{goal}", number.format(goal));
    }
  }

  // A region's card reads /api/v1/regions, where a figure hidden by the disclosure rule is null.
  function applyRegion(data) {
    var found = data.regions.filter(function (r) { return r.slug === region; })[0];
    if (!found) return;
    card.querySelector(".cds-n").textContent = found.count === null ? fewer : number.format(found.count);
    card.querySelector(".cds-who").textContent = found.count === null ? who.other : who[plural.select(found.count)] || who.other;
  }

  function poll() {
    if (document.hidden) return;
    fetch(card.getAttribute("data-counts-url"), { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline or API down: keep the last number */ });
  }

  if (secret) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      send("link", link.href);
    });
  }
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.message === "ready") sendHeight();
  });
  if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(card);
  sendHeight();
  setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", poll);
})();
