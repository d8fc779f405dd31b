{#- The script embed, served at /widget.js (app/widget/views.py) with one language's words (T),
    the card's stylesheet (CSS, from static/css/widget.css) and the poll interval in seconds (P).
    Jinja comments cost nothing on the wire; keep the code plain ES5-ish and small (<= 3 KB gzipped,
    tests/test_widget_script.py measures it).

    Usage: <script async src=".../widget.js" data-sector="education" data-org="neu"></script> draws a
    card right after the script; any element with data-care-dont-share becomes a card too. Options:
    data-sector, data-org, data-theme (light, dark), data-accent (#rrggbb), data-size (small, medium,
    large), data-source (credited on sign-ups), data-lang (placeholders; must match ?lang=).

    Every card lives in a shadow root whose :host rule resets inherited styles, so host CSS cannot
    reach in and ours cannot leak out. Cards share one poller per page (window.__careDontShare, also
    across several copies of this script): one request per distinct counts URL per poll, revalidated
    with the ETag (cache: "no-cache"), nothing while the tab is hidden. Requests carry no cookies and
    no referrer; nothing is stored. If the API is unreachable the card keeps its last number, or shows
    just the "Sign the pledge" link. -#}
(function (w, d) {
  "use strict";
  var T = {{ text }}, CSS = {{ css }}, P = {{ poll_seconds }}, L = {{ lang }};
  var me = d.currentScript;
  if (!me || !w.fetch || !w.Intl || !Intl.PluralRules || !d.head.attachShadow) return;
  var base = new URL(me.src).origin;
  var hub = w.__careDontShare || (w.__careDontShare = { feeds: {} });
  var num = new Intl.NumberFormat(T.locale), plural = new Intl.PluralRules(T.locale), sheet;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  } catch (e) {
    sheet = null;
  }

  function fill(s, v) {
    return s.replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; });
  }
  function form(forms, c) { return forms[c] || forms.other; }
  function add(tag, cls, parent) {
    var e = d.createElement(tag);
    e.className = cls;
    parent.appendChild(e);
    return e;
  }
  {#- WCAG relative luminance; the same 0.179 threshold as text_colour_on() in app/services/embed.py. #}
  function dark(hex) {
    var s = 0;
    [0.2126, 0.7152, 0.0722].forEach(function (k, i) {
      var c = parseInt(hex.substr(2 * i, 2), 16) / 255;
      s += k * (c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    });
    return s <= 0.179;
  }

  function get(f) {
    if (f.busy) return;
    f.busy = 1;
    fetch(f.url, { cache: "no-cache", credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        f.data = data;
        f.cards.forEach(function (draw) { draw(data); });
      })
      .catch(function () {})
      .then(function () { f.busy = 0; });
  }
  function tick() {
    if (!d.hidden) for (var url in hub.feeds) get(hub.feeds[url]);
  }
  function subscribe(url, draw) {
    var f = hub.feeds[url] || (hub.feeds[url] = { url: url, cards: [] });
    f.cards.push(draw);
    if (f.data) draw(f.data);
    else get(f);
    if (!hub.timer) {
      hub.timer = setInterval(tick, P * 1000);
      d.addEventListener("visibilitychange", tick);
    }
  }

  function card(host, o) {
    var sector = o.sector, org = o.org, accent = /^#?([0-9a-f]{6})$/i.exec(o.accent || "");
    var known = (!sector || T.sectors[sector]) && (!org || T.orgs[org]);
    var size = /^(small|large)$/.test(o.size) ? o.size : "medium";
    var source = /^[\w.-]{1,64}$/.test(o.source) ? o.source : "widget";
    var root = host.attachShadow({ mode: "open" });
    if (sheet) root.adoptedStyleSheets = [sheet];
    else add("style", "", root).textContent = CSS;
    var c = add("div", "cds cds--" + (o.theme == "dark" ? "dark" : "light") + " cds--" + size, root);
    c.lang = T.locale;
    if (accent) {
      c.style.setProperty("--accent", "#" + accent[1]);
      c.style.setProperty("--on-accent", dark(accent[1]) ? "#ffffff" : "#111111");
    }
    add("p", "cds-eyebrow", c).textContent = T.campaign;
    var line = add("p", "cds-count", c), n = add("span", "cds-n", line);
    line.appendChild(d.createTextNode(" "));
    var who = add("span", "cds-who", line), bar, goal;
    line.hidden = true;
    if (known && sector && !org) {
      bar = add("progress", "cds-bar", c);
      bar.setAttribute("aria-label", T.goal_label);
      goal = add("p", "cds-goal", c);
      bar.hidden = goal.hidden = true;
    }
    var a = add("a", "cds-sign", c), to = known && (sector || (org && (T.orgs[org].sector || "public")));
    a.textContent = T.sign;
    a.href = base + (to ? "/sign/" + to + "?" + (org ? "org=" + org + "&" : "") + "source=" + source : "/#sign");
    a.target = "_blank";
    a.rel = "noopener";
    if (!known) return;

    subscribe(base + "/api/v1/counts" + (sector && org ? "?sector=" + sector + "&org=" + org : ""), function (data) {
      var v = data.total, g, people;
      if (!sector != !org) {
        (sector ? data.sectors : data.organisations).forEach(function (x) {
          if (x.slug == (sector || org)) {
            v = x.count;
            g = x.goal;
          }
        });
      }
      var k = plural.select(v);
      people = org ? form(T.orgs[org], k) : sector ? form(T.sectors[sector], k) : form(T.total, k);
      if (sector && org) people = fill(T.in_area, { people: people, area: T.sectors[sector].area });
      n.textContent = num.format(v);
      who.textContent = fill(form(T.signed, k), { people: people });
      line.hidden = false;
      if (bar && g) {
        var pc = Math.min(100, Math.floor((100 * v) / g));
        bar.max = g;
        bar.value = Math.min(v, g);
        bar.textContent = pc + "%";
        goal.textContent = fill(T.goal, { percent: pc, goal: num.format(g) });
        bar.hidden = goal.hidden = false;
      }
    });
  }

  function mount(e) {
    if (e.__careDontShare) return;
    e.__careDontShare = 1;
    var host = e;
    if (e.tagName == "SCRIPT") {
      host = d.createElement("div");
      e.parentNode.insertBefore(host, e.nextSibling);
    }
    var o = {};
    ["sector", "org", "theme", "accent", "size", "source"].forEach(function (k) {
      o[k] = e.getAttribute("data-" + k);
    });
    try {
      card(host, o);
    } catch (err) {}
  }
  function scan() {
    d.querySelectorAll("[data-care-dont-share]").forEach(function (e) {
      if ((e.getAttribute("data-lang") || "en") == L) mount(e);
    });
  }
  if (me.hasAttribute("data-sector") || me.hasAttribute("data-org")) mount(me);
  scan();
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", scan);
})(window, document);
