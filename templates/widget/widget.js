{#- The script embed, served at /widget.js (app/widget/views.py) with one language's words (T, from
    script_words() in app/widget/text.py) and code (L), the card's stylesheet (CSS, from
    static/css/widget.css) and the poll interval in seconds (P).
    /cy/widget.js or /widget.js?lang=cy is the Welsh one: its button opens the Welsh form (root, "/cy",
    is written into the code only for a language other than the default), and its region cards say
    the place as Welsh does ("yng Nghymru"), from /cy/widget/places.json, which only such a card fetches
    (a default-language card names a region as /api/v1/regions does).
    Jinja comments cost nothing on the wire, and the view strips spare whitespace (rjsmin, which
    renames nothing). Keep the code plain (ES2021, no build step) and small: at most 3 KB gzipped in
    every language, which tests/test_widget.py checks. To stay within it, some names inside are short;
    the comments say what they mean.

    Usage: <script async src=".../widget.js" data-sector="education" data-org="neu"></script> draws a
    card right after the script; any element with data-care-dont-share becomes a card too. Options:
    data-sector, data-org, or data-region (a nation or region on its own, e.g. wales: its figure from
    /api/v1/regions, or "Fewer than 10" where the disclosure rule hides it), data-theme (light, dark),
    data-accent (#rrggbb), data-size (small, medium, large), data-source (credited on sign-ups),
    data-paper (add: paper tallies are added into the number; either way, when there are any, the
    card says "N online and M on paper"), data-verified (show: "including N verified ... workers",
    those who confirmed a work email address; not for a region), data-lang (the card's language, for
    placeholders: each copy of the script draws only those in its own; must match the script's).

    Every card lives in a shadow root whose :host rule resets inherited styles, so host CSS cannot
    reach in and ours cannot leak out. Cards share one poller per page (window.__careDontShare, also
    across several copies of this script): one request per distinct API URL per poll, revalidated
    with the ETag (cache: "no-cache"), nothing while the tab is hidden. Requests carry no cookies and
    no referrer (ask); nothing is stored. If the API is unreachable the card keeps its last number, or
    shows just the "Sign the pledge" link.

    Names: hub the page's shared state, feeds by URL ({url, cards: [draw functions], data, busy});
    get(feed) fetches one; tick() polls them all. add(tag, class, parent, text) makes an element;
    fill(template, values) fills {placeholders}; say(element, text) shows the text, or hides the
    element when there is none; form(forms, n) is the plural form of a phrase for n: its CLDR category
    (Intl.PluralRules) or, where the phrase lacks it (T leaves out forms that say what "other" does),
    "other"; "other" too for a hidden figure. -#}
((w, d) => {
  const T = {{ text }}, CSS = {{ css }}, P = {{ poll_seconds }}, L = {{ lang }}, me = d.currentScript;
  {#- Browsers that can parse this code (ES2021) all have shadow roots and Intl.PluralRules. #}
  if (!me) return;
  const base = new URL(me.src).origin,
    hub = w.__careDontShare ||= { feeds: {} },
    ask = { cache: "no-cache", credentials: "omit", referrerPolicy: "no-referrer" },
    num = new Intl.NumberFormat(T.locale).format,
    plural = new Intl.PluralRules(T.locale),
    sheet = d.adoptedStyleSheets && new CSSStyleSheet(),
    fill = (t, v) => t.replace(/\{(\w+)\}/g, (m, k) => k in v ? v[k] : m),
    form = (f, n, c = n == null ? "other" : plural.select(n)) => f[c] || f.other,
    say = (e, t) => {
      e.hidden = !t;
      e.textContent = t || "";
      return e;
    },
    add = (tag, c, e, t) => {
      e = e.appendChild(d.createElement(tag));
      e.className = c;
      return t == null ? e : say(e, t);
    },
    {#- Is this colour dark enough for white text? WCAG luminance, as text_colour_on() in app/services/card_layout.py. #}
    dark = h =>
      [.2126, .7152, .0722].reduce((s, k, i) => {
        const c = parseInt(h.substr(2 * i, 2), 16) / 255;
        return s + k * (c <= .03928 ? c / 12.92 : ((c + .055) / 1.055) ** 2.4);
      }, 0) <= .179,
    get = f => {
      if (f.busy) return;
      f.busy = 1;
      fetch(f.url, ask)
        .then(r => r.ok && r.json())
        .then(j => j && f.cards.forEach(draw => draw(f.data = j)))
        .catch(() => {})
        .finally(() => f.busy = 0);
    },
    {%- if places_url %}
    {#- This language's phrases for the regions (/cy/widget/places.json), fetched once per page (hub[L])
        by the first region card to draw; without them (the request failed) a card names its region as
        the API does. #}
    places = () => hub[L] ||= fetch(base + {{ places_url }}, ask).then(r => r.json()).catch(() => ({})),
    {%- endif %}
    tick = () => {
      if (!d.hidden) for (const url in hub.feeds) get(hub.feeds[url]);
    };
  sheet?.replaceSync(CSS);

  {#- One card, drawn in the element e. o: its options (the element's data-*); s, u, r: the sector, union
      (data-org) and region it counts; U: the union's entry in T.orgs (its sector, and its short name, org,
      where that is not the slug in capitals, or its own plural forms); x: data-accent's hex digits;
      k: whether the card counts something T knows; to: the sector its button signs up to; c: the card;
      l: the count line, with n, the number, and who, the words after it; vl, pl: the verified and paper
      lines; b, g: the goal's bar and words; a: the button. #}
  const card = (e, o) => {
    const { sector: s, org: u, region: r } = o,
      U = T.orgs[u],
      x = /^#?([0-9a-f]{6})$/i.exec(o.accent),
      {#- A region stands alone; a sector or union must be one in T (own entries: each has an area or a sector). #}
      k = (!s || T.sectors[s]?.area) && (!u || U?.sector) && !(r && (s || u)),
      to = k && (s || (u && U.sector)),
      source = /^[\w.-]{1,64}$/.test(o.source || "") ? o.source : "widget",
      root = e.attachShadow({ mode: "open" });
    if (sheet) root.adoptedStyleSheets = [sheet];
    else add("style", "", root, CSS);
    {#- An unknown or missing theme or size ("cds--undefined") matches no rule: the card stays light and medium. #}
    const c = add("div", `cds cds--${o.theme} cds--${o.size}`, root);
    c.lang = T.locale;
    {#- --a and --o: the stylesheet's --accent and --on-accent, renamed in the script (SCRIPT_CSS_PROPERTIES). #}
    if (x) c.style.cssText = `--a:#${x[1]};--o:${dark(x[1])?"#fff":"#111"}`;
    add("p", "cds-eyebrow", c, T.campaign);
    {#- The lines given "" start hidden; draw() shows those it has words for. #}
    const l = add("p", "cds-count", c, ""),
      n = add("span", "cds-n", l);
    l.append(" ");
    const who = add("span", "cds-who", l),
      vl = add("p", "cds-goal cds-verified", c, ""),
      b = add("progress", "cds-bar", c, ""),
      g = add("p", "cds-goal", c, ""),
      pl = add("p", "cds-goal cds-paper", c, ""),
      a = add("a", "cds-sign", c, T.sign);
    b.setAttribute("aria-label", T.goal_label);
    a.href = base + {% if root %}{{ root }} + {% endif %}(to ? `/sign/${to}?${u?`org=${u}&`:""}source=${source}` : "/#sign");
    a.target = "_blank"; {#- which implies rel=noopener in the browsers that run this script #}
    if (!k) return;

    const url = base + (r ? "/api/v1/regions" : `/api/v1/counts${s&&u?`?sector=${s}&org=${u}`:""}`),
      f = hub.feeds[url] ||= { url, cards: [] },
      slug = r || (!s != !u && (s || u)),
      {#- j: the API's answer. x: the card's entry in it (count, goal, paper, verified): the region's, or the
          sector's or union's in the shared unnarrowed document; for both or neither, the top level's.
          N: the big number, null for a region the disclosure rule hides; t: who they are. Async, for
          a region card waiting for places(); any other card draws at once. #}
      draw = async j => {
        const x = slug
          ? (r ? j.regions : s ? j.sectors : j.organisations).find(e => e.slug == slug)
          : { ...j, count: j.total, verified: j.verified_total };
        if (!x) return;
        const { count, goal: G, paper: p, verified: v } = x,
          N = o.paper == "add" && p ? count + p : count;
        let t = u
          ? fill(form(U.other ? U : T.members, N), { org: U.org || u.toUpperCase() })
          : form(s ? T.sectors[s] : T.total, N);
        if (r || (s && u)) t = fill(T.in_area, { people: t, area: r ? {% if places_url %}(await places())[r] || {% endif %}x.name : T.sectors[s].area });
        say(n, N == null ? T.fewer : num(N));
        say(who, fill(form(T.signed, N), { people: t }));
        l.hidden = false;
        say(pl, p && fill(T.paper, { n: num(count), p: num(p) }));
        say(vl, o.verified == "show" && v && fill(T.verified, { v: num(v), people: form(s ? T.sectors[s] : T.verified_people, v) }));
        if (G) {
          b.max = G;
          b.value = Math.min(N, G);
          b.hidden = false;
          say(g, fill(T.goal, { percent: Math.min(100, 100 * N / G | 0), goal: num(G) }));
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

  const mount = e => {
      if (e.__careDontShare) return;
      e.__careDontShare = 1;
      let h = e;
      if (e.tagName == "SCRIPT") e.after(h = d.createElement("div"));
      try {
        card(h, e.dataset);
      } catch {}
    },
    scan = () => {
      for (const e of d.querySelectorAll("[data-care-dont-share]")) if ((e.dataset.lang || {{ default_lang }}) == L) mount(e);
    },
    m = me.dataset;
  if (m.sector || m.org || m.region) mount(me);
  scan();
  d.addEventListener("DOMContentLoaded", scan);
})(window, document);
