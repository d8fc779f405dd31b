{#- The script embed, served at /widget.js (app/widget/views.py) with one language's words (T),
    the card's stylesheet (CSS, from static/css/widget.css) and the poll interval in seconds (P).
    Jinja comments cost nothing on the wire, and the view strips indentation. Keep the code plain
    (ES2020, no build step) and small: at most 3 KB gzipped, which tests/test_widget.py checks. To
    stay within it, names inside are short; this comment says what they mean.

    Usage: <script async src=".../widget.js" data-sector="education" data-org="neu"></script> draws a
    card right after the script; any element with data-care-dont-share becomes a card too. Options:
    data-sector, data-org, or data-region (a nation or region on its own, e.g. wales: its figure from
    /api/v1/regions, or "Fewer than 10" where the disclosure rule hides it), data-theme (light, dark),
    data-accent (#rrggbb), data-size (small, medium, large), data-source (credited on sign-ups),
    data-paper (add: paper tallies are added into the number; either way, when there are any, the
    card says "N online and M on paper"), data-verified (show: "including N verified ... workers",
    those who confirmed a work email address; not for a region), data-lang (placeholders; must match
    ?lang=).

    Every card lives in a shadow root whose :host rule resets inherited styles, so host CSS cannot
    reach in and ours cannot leak out. Cards share one poller per page (window.__careDontShare, also
    across several copies of this script): one request per distinct API URL per poll, revalidated
    with the ETag (cache: "no-cache"), nothing while the tab is hidden. Requests carry no cookies and
    no referrer; nothing is stored. If the API is unreachable the card keeps its last number, or shows
    just the "Sign the pledge" link.

    Names: hub the page's shared state, feeds by URL ({url, cards: [draw functions], data, busy});
    get(feed) fetches one; tick() polls them all. add(tag, class, parent, text) makes an element;
    fill(template, values) fills {placeholders}; say(element, text) shows the text, or hides the
    element when there is none; form(forms, n) is the plural form of a phrase for n. -#}
((w, d) => {
  "use strict";
  const T = {{ text }}, CSS = {{ css }}, P = {{ poll_seconds }}, L = {{ lang }}, me = d.currentScript;
  if (!me || !d.head.attachShadow || !w.Intl?.PluralRules) return;
  const base = new URL(me.src).origin, hub = w.__careDontShare || (w.__careDontShare = { feeds: {} });
  const num = new Intl.NumberFormat(T.locale).format, plural = new Intl.PluralRules(T.locale);
  const sheet = d.adoptedStyleSheets && new CSSStyleSheet();
  sheet && sheet.replaceSync(CSS);
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));
  const form = (forms, n) => forms[n == null ? "other" : plural.select(n)] || forms.other;
  const add = (tag, cls, parent, text) => {
    const e = parent.appendChild(d.createElement(tag));
    e.className = cls;
    e.textContent = text || "";
    return e;
  };
  const say = (e, text) => {
    e.hidden = !text;
    e.textContent = text || "";
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
    const { sector, org, region } = o, accent = /^#?([0-9a-f]{6})$/i.exec(o.accent);
    const has = (map, key) => !key || map.hasOwnProperty(key);
    {#- A region stands alone; a sector or union must be in T. #}
    const known = has(T.sectors, sector) && has(T.orgs, org) && !(region && (sector || org));
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
    const who = add("span", "cds-who", line), verified = add("p", "cds-goal cds-verified", c);
    let bar, goal;
    if (known && sector && !org) {
      bar = add("progress", "cds-bar", c);
      bar.setAttribute("aria-label", T.goal_label);
      goal = add("p", "cds-goal", c);
      bar.hidden = goal.hidden = true;
    }
    const paper = add("p", "cds-goal cds-paper", c);
    line.hidden = verified.hidden = paper.hidden = true;
    const a = add("a", "cds-sign", c, T.sign);
    const source = /^[\w.-]{1,64}$/.test(o.source || "") ? o.source : "widget";
    Object.assign(a, {
      href: base + (to ? `/sign/${to}?${org ? `org=${org}&` : ""}source=${source}` : "/#sign"),
      target: "_blank",
      rel: "noopener",
    });
    if (!known) return;

    const url = base + (region ? "/api/v1/regions" : `/api/v1/counts${sector && org ? `?sector=${sector}&org=${org}` : ""}`);
    const f = hub.feeds[url] || (hub.feeds[url] = { url, cards: [] });
    {#- x: the card's entry (count, goal, paper, verified) in the answer: a region's, the sector's or the
        union's from the shared unnarrowed document, or the top level's for both or neither. #}
    const draw = (data) => {
      const slug = region || (!sector != !org && (sector || org));
      const x = slug
        ? (region ? data.regions : sector ? data.sectors : data.organisations).find((e) => e.slug == slug)
        : { count: data.total, paper: data.paper, verified: data.verified_total };
      if (!x) return;
      const { count, goal: g, paper: p, verified: v } = x, shown = o.paper == "add" && p ? count + p : count;
      let people = form(org ? T.orgs[org] : sector ? T.sectors[sector] : T.total, shown);
      if (region || (sector && org)) people = fill(T.in_area, { people, area: region ? x.name : T.sectors[sector].area });
      n.textContent = shown == null ? T.fewer : num(shown);
      who.textContent = fill(form(T.signed, shown), { people });
      line.hidden = false;
      say(paper, p && fill(T.paper, { n: num(count), p: num(p) }));
      say(verified, o.verified == "show" && v && fill(T.verified, { v: num(v), people: form(sector ? T.sectors[sector] : T.verified_people, v) }));
      if (g) {
        bar.max = g;
        bar.value = Math.min(shown, g);
        say(goal, fill(T.goal, { percent: Math.min(100, Math.floor((100 * shown) / g)), goal: num(g) }));
        bar.hidden = false;
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
  const { sector, org, region } = me.dataset;
  if (sector || org || region) mount(me);
  scan();
  d.addEventListener("DOMContentLoaded", scan);
})(window, document);
