{#- The script embed, served at /widget.js (app/widget/views.py) with one language's words (T),
    the card's stylesheet (CSS, from static/css/widget.css) and the poll interval in seconds (P).
    Jinja comments cost nothing on the wire, and the view strips indentation. Keep the code plain
    (ES2020, no build step) and small: at most 3 KB gzipped, which tests/test_widget.py checks.

    Usage: <script async src=".../widget.js" data-sector="education" data-org="neu"></script> draws a
    card right after the script; any element with data-care-dont-share becomes a card too. Options:
    data-sector, data-org, data-theme (light, dark), data-accent (#rrggbb), data-size (small, medium,
    large), data-source (credited on sign-ups), data-lang (placeholders; must match ?lang=), data-paper
    (add: paper tallies are added into the number. The "N online and M on paper" line is on the
    iframe and the badge only: it does not fit the script's 3 KB.)

    Every card lives in a shadow root whose :host rule resets inherited styles, so host CSS cannot
    reach in and ours cannot leak out. Cards share one poller per page (window.__careDontShare, also
    across several copies of this script): one request per distinct counts URL per poll, revalidated
    with the ETag (cache: "no-cache"), nothing while the tab is hidden. Requests carry no cookies and
    no referrer; nothing is stored. If the API is unreachable the card keeps its last number, or shows
    just the "Sign the pledge" link. -#}
((w, d) => {
  "use strict";
  const T = {{ text }}, CSS = {{ css }}, P = {{ poll_seconds }}, L = {{ lang }}, me = d.currentScript;
  if (!me || !d.head.attachShadow || !w.Intl?.PluralRules) return;
  const base = new URL(me.src).origin, hub = w.__careDontShare || (w.__careDontShare = { feeds: {} });
  const num = new Intl.NumberFormat(T.locale).format, plural = new Intl.PluralRules(T.locale);
  const sheet = d.adoptedStyleSheets && new CSSStyleSheet();
  sheet && sheet.replaceSync(CSS);
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));
  const add = (tag, cls, parent, text) => {
    const e = parent.appendChild(d.createElement(tag));
    e.className = cls;
    if (text) e.textContent = text;
    return e;
  };
  {#- Is this colour dark enough for white text? WCAG luminance, as text_colour_on() in app/services/card_layout.py. #}
  const dark = (hex) => [0.2126, 0.7152, 0.0722].reduce((s, k, i) => {
    const c = parseInt(hex.substr(2 * i, 2), 16) / 255;
    return s + k * (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  }, 0) <= 0.179;
  const get = (f) => {
    if (f.busy) return;
    f.busy = 1;
    fetch(f.url, { cache: "no-cache", credentials: "omit", referrerPolicy: "no-referrer" })
      .then((r) => r.ok && r.json())
      .then((data) => data && f.cards.forEach((draw) => draw((f.data = data))))
      .catch(() => {})
      .finally(() => (f.busy = 0));
  };
  const tick = () => {
    if (!d.hidden) for (const url in hub.feeds) get(hub.feeds[url]);
  };

  const card = (host, o) => {
    const { sector, org } = o, accent = /^#?([0-9a-f]{6})$/i.exec(o.accent);
    const known = (!sector || T.sectors.hasOwnProperty(sector)) && (!org || T.orgs.hasOwnProperty(org));
    const to = known && (sector || (org && (T.orgs[org].sector || "public")));
    const root = host.attachShadow({ mode: "open" });
    if (sheet) root.adoptedStyleSheets = [sheet];
    else add("style", "", root, CSS);
    const size = /^(small|large)$/.test(o.size) ? o.size : "medium";
    const c = add("div", `cds cds--${o.theme == "dark" ? "dark" : "light"} cds--${size}`, root);
    c.lang = T.locale;
    if (accent) c.style.cssText = `--accent:#${accent[1]};--on-accent:${dark(accent[1]) ? "#fff" : "#111"}`;
    add("p", "cds-eyebrow", c, T.campaign);
    const line = add("p", "cds-count", c), n = add("span", "cds-n", line);
    line.append(" ");
    const who = add("span", "cds-who", line);
    line.hidden = true;
    let bar, goal;
    if (known && sector && !org) {
      bar = add("progress", "cds-bar", c);
      bar.setAttribute("aria-label", T.goal_label);
      goal = add("p", "cds-goal", c);
      bar.hidden = goal.hidden = true;
    }
    const a = add("a", "cds-sign", c, T.sign);
    const source = /^[\w.-]{1,64}$/.test(o.source || "") ? o.source : "widget";
    Object.assign(a, {
      href: base + (to ? `/sign/${to}?${org ? `org=${org}&` : ""}source=${source}` : "/#sign"),
      target: "_blank",
      rel: "noopener",
    });
    if (!known) return;

    const url = `${base}/api/v1/counts${sector && org ? `?sector=${sector}&org=${org}` : ""}`;
    const f = hub.feeds[url] || (hub.feeds[url] = { url, cards: [] });
    {#- One of sector or org: read it from the shared unnarrowed document; both or neither: the total. #}
    const draw = (data) => {
      let v = data.total, g, p = data.paper;
      if (!sector != !org) {
        for (const x of sector ? data.sectors : data.organisations) if (x.slug == (sector || org)) (v = x.count), (g = x.goal), (p = x.paper);
      }
      if (o.paper == "add") v += p;
      const k = plural.select(v), forms = org ? T.orgs[org] : sector ? T.sectors[sector] : T.total;
      let people = forms[k] || forms.other;
      if (sector && org) people = fill(T.in_area, { people, area: T.sectors[sector].area });
      n.textContent = num(v);
      who.textContent = fill(T.signed[k] || T.signed.other, { people });
      line.hidden = false;
      if (g) {
        const percent = Math.min(100, Math.floor((100 * v) / g));
        bar.max = g;
        bar.value = Math.min(v, g);
        goal.textContent = fill(T.goal, { percent, goal: num(g) });
        bar.hidden = goal.hidden = false;
      }
    };
    f.cards.push(draw);
    if (f.data) draw(f.data);
    else get(f);
    if (!hub.timer) {
      hub.timer = setInterval(tick, P * 1000);
      d.addEventListener("visibilitychange", tick);
    }
  };

  const mount = (e) => {
    if (e.__careDontShare) return;
    e.__careDontShare = 1;
    let host = e;
    if (e.tagName == "SCRIPT") e.after((host = d.createElement("div")));
    try {
      card(host, e.dataset);
    } catch (err) {}
  };
  const scan = () => {
    for (const e of d.querySelectorAll("[data-care-dont-share]")) if ((e.dataset.lang || "en") == L) mount(e);
  };
  if (me.dataset.sector || me.dataset.org) mount(me);
  scan();
  d.addEventListener("DOMContentLoaded", scan);
})(window, document);
