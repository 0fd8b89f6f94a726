// The staff console's shell: sign-in, the layout (the brand's logo and colour, navigation, notifications bell,
// brand switch, sign out) and the hash router. Each page is its own module under ./pages, loaded when first opened;
// it exports a default component taking {params, query, me, brandId, navigate}.
//
// Events on window: `los:signed-out` (the API ended the session), `los:notifications-changed` (a page read or
// dismissed notifications: the bell counts again).
import { html, render, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { api, explain, getSession, setSession } from "/ui/shared/api.js";
import { matchRoute, navigate, useLazyModule } from "/ui/shared/router.js";

// path pattern -> page module and title; `nav` puts it in the side navigation (in this order)
export const ROUTES = [
  { path: "/dashboard", page: "dashboard", title: "Dashboard", nav: true, perms: ["dashboard.view"] },
  { path: "/queues/:queue", page: "queues", title: "Queues" },
  {
    path: "/queues",
    page: "queues",
    title: "Queues",
    nav: true,
    perms: ["queue.credit_executive", "queue.sanction_manager", "queue.sanction_head", "queue.loans_ops",
      "queue.unallocated", "collections.pre", "collections.view"],
  },
  { path: "/loans/:loanId/partner-disbursal", page: "partner-disbursals", title: "Partner disbursal" },
  { path: "/loans/:loanId", page: "loan", title: "Loan" },
  { path: "/partner-disbursals", page: "partner-disbursals", title: "Partner disbursals", nav: true, perms: ["queue.loans_ops"] },
  { path: "/payments/approval", page: "payments", title: "Payment approval", nav: true, perms: ["queue.loans_ops", "collections.view"] },
  { path: "/collections", page: "collections", title: "Collections", nav: true, perms: ["collections.view", "collections.pre"] },
  { path: "/collectors/:staffId", page: "collector", title: "Collector profile" },
  { path: "/collectors", page: "collector", title: "Collector profile", nav: true, perms: ["collections.pre", "collections.manage"] },
  { path: "/customers/:userId", page: "customer", title: "Customer" },
  { path: "/customers", page: "customers", title: "Customers", nav: true, perms: ["customers.view"] },
  { path: "/search", page: "search", title: "Search" },
  { path: "/reports", page: "reports", title: "Reports", nav: true, perms: ["reports.view"] },
  { path: "/leads", page: "leads", title: "Leads", nav: true, perms: ["customers.view"] },
  { path: "/reminders", page: "reminders", title: "Reminders", nav: true, perms: ["customers.view", "loans.comment"] },
  { path: "/settings/:section", page: "settings", title: "Settings" },
  { path: "/settings", page: "settings", title: "Settings", nav: true, perms: ["settings.view"] },
  { path: "/users", page: "users", title: "Users and keys", nav: true, perms: ["staff.view"] },
  { path: "/audit", page: "audit", title: "Audit log", nav: true, perms: ["audit.view"] },
  { path: "/notifications", page: "notifications", title: "Notifications" },
];

/** Whether `me` may see a route in the navigation (a route without `perms` is for everyone). */
export function allowed(route, me) {
  return !route.perms || route.perms.some((p) => (me.permissions || []).includes(p));
}

/** The current hash route: {path, params, query, route}. */
export function currentRoute() {
  return matchRoute(ROUTES, "/dashboard");
}

export { navigate };

/** Staff API call in the active brand: `brandPath(me, "loans")` -> "/api/v1/partner/brand/<id>/loans". */
export function brandPath(brandId, rest) {
  return `/api/v1/partner/brand/${brandId}/${rest}`;
}

export const staffApi = (method, path, body, options) => api("staff", method, path, body, options);

const DEFAULT_BRAND = { colour: null, logoUrl: null, name: null };

/** The brand's look from its settings (`settings/brand`: config, else effective, `brandColour` and `logoUrl`). A role
 * that cannot read the settings keeps the default look, silently. */
async function brandLook(me) {
  if (!(me.permissions || []).includes("settings.view")) return DEFAULT_BRAND;
  try {
    const settings = await staffApi("GET", brandPath(me.brandId, "settings/brand"));
    const pick = (key) => (settings.config && settings.config[key]) || (settings.effective && settings.effective[key]) || null;
    return { colour: pick("brandColour"), logoUrl: pick("logoUrl"), name: settings.name || null };
  } catch (_) {
    return DEFAULT_BRAND;
  }
}

/** Apply a brand colour (#rrggbb) as --brand, with a readable ink on it; null restores the default. */
export function applyBrandColour(colour) {
  const root = document.documentElement.style;
  if (!colour || !/^#[0-9a-fA-F]{6}$/.test(colour)) {
    root.removeProperty("--brand");
    root.removeProperty("--brand-ink");
    return;
  }
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  const light = 0.299 * r + 0.587 * g + 0.114 * b > 160;
  root.setProperty("--brand", colour);
  root.setProperty("--brand-ink", light ? "#111827" : "#ffffff");
}

function SignIn({ onSignedIn }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api("staff", "POST", "/api/v1/partner/auth/login", { email, password }, { noRefresh: true });
      setSession("staff", answer);
      onSignedIn(answer);
    } catch (e) {
      // 423 (locked) and 429 (too many attempts) carry the API's own words: when to try again
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin card">
    <h1>Staff sign-in</h1>
    <form onSubmit=${submit}>
      <label for="email">E-mail</label>
      <input id="email" type="email" autocomplete="username" required value=${email}
        onInput=${(e) => setEmail(e.target.value)} />
      <label for="password">Password</label>
      <input id="password" type="password" autocomplete="current-password" required value=${password}
        onInput=${(e) => setPassword(e.target.value)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <p><button type="submit" disabled=${busy}>Sign in</button></p>
    </form>
  </main>`;
}

function Page({ route, me }) {
  const { Component, error } = useLazyModule(`/ui/console/pages/${route.route.page}.js`);
  if (error) return html`<p class="error" role="alert">This page could not be loaded: ${error}</p>`;
  if (!Component) return html`<p class="muted">Loading…</p>`;
  return html`<${Component} key=${route.path} params=${route.params} query=${route.query} me=${me} brandId=${me.brandId}
    navigate=${navigate} />`;
}

function Bell({ me, path }) {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    let live = true;
    const count = () =>
      staffApi("GET", brandPath(me.brandId, "notifications?unread=true&limit=1"))
        .then((page) => live && setUnread(page.unreadCount))
        .catch(() => live && setUnread(0));
    count();
    const timer = setInterval(count, 60_000);
    window.addEventListener("los:notifications-changed", count);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener("los:notifications-changed", count);
    };
  }, [me.brandId, path]);
  return html`<a class="bell" href="#/notifications" aria-label=${`Notifications, ${unread} unread`}>
    <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"
      stroke-linecap="round" stroke-linejoin="round"><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
      <path d="M13.7 21a2 2 0 0 1-3.4 0" /></svg> <span class=${unread ? "badge unread" : "badge"}>${unread}</span></a>`;
}

function Layout({ me, onSignOut, onSwitched }) {
  const [route, setRoute] = useState(currentRoute());
  const [look, setLook] = useState(DEFAULT_BRAND);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    let live = true;
    brandLook(me).then((found) => {
      if (!live) return;
      setLook(found);
      applyBrandColour(found.colour);
    });
    return () => {
      live = false;
      applyBrandColour(null);
    };
  }, [me.brandId]);
  useEffect(() => {
    document.title = `${route.route ? route.route.title : "Not found"} · Staff console`;
  }, [route.path]);
  const switchBrand = async (event) => {
    setProblem(null);
    try {
      const answer = await staffApi("POST", "/api/v1/partner/auth/switch-brand", { brandId: event.target.value });
      setSession("staff", answer);
      onSwitched(answer);
    } catch (e) {
      setProblem(`The brand could not be switched: ${explain(e)}`);
    }
  };
  const signOut = async () => {
    try {
      await staffApi("POST", "/api/v1/partner/auth/logout", {});
    } catch (_) {
      // signed out here whatever the server says
    } finally {
      setSession("staff", null);
      onSignOut();
    }
  };
  return html`<div class="shell">
    <header class="topbar">
      ${look.logoUrl && html`<img class="brand-logo" src=${look.logoUrl} alt="" />`}
      <strong class="brand-name">${look.name ? `${look.name} · ` : ""}Staff console</strong>
      ${me.brands.length > 1 &&
      html`<label class="inline">Brand
        <select aria-label="Switch brand" value=${me.brandId} onChange=${switchBrand}>
          ${me.brands.map((b) => html`<option value=${b.brandId}>${b.brandId.slice(0, 8)} · ${b.role}</option>`)}
        </select></label>`}
      <form role="search" class="inline topbar-search" onSubmit=${(e) => {
        e.preventDefault();
        const q = e.target.q.value.trim();
        if (q) navigate(`/search?q=${encodeURIComponent(q)}`);
      }}>
        <label for="topbar-q" class="sr-only">Search customers and loans</label>
        <input id="topbar-q" name="q" type="search" placeholder="Name, phone, PAN, loan id…" />
      </form>
      <${Bell} me=${me} path=${route.path} />
      <span class="who">${me.name} · ${me.role}</span>
      <button class="secondary" onClick=${signOut}>Sign out</button>
    </header>
    <nav class="sidenav" aria-label="Main">
      ${ROUTES.filter((r) => r.nav && allowed(r, me)).map(
        (r) => html`<a href=${"#" + r.path} aria-current=${route.route && route.route.page === r.page ? "page" : undefined}>${r.title}</a>`
      )}
    </nav>
    <main class="content">
      ${problem && html`<p class="error" role="alert">${problem}</p>`}
      ${route.route ? html`<${Page} key=${route.route.page} route=${route} me=${me} />` : html`<p>Page not found.</p>`}
    </main>
  </div>`;
}

function Console() {
  const [me, setMe] = useState(getSession("staff") ? getSession("staff").user : null);
  useEffect(() => {
    const onSignedOut = () => setMe(null);
    window.addEventListener("los:signed-out", onSignedOut);
    return () => window.removeEventListener("los:signed-out", onSignedOut);
  }, []);
  if (!me) return html`<${SignIn} onSignedIn=${(answer) => setMe(answer.user)} />`;
  return html`<${Layout} key=${me.brandId} me=${me} onSignOut=${() => setMe(null)}
    onSwitched=${(answer) => setMe(answer.user)} />`;
}

const root = document.getElementById("root");
root.textContent = ""; // the "Loading the console…" placeholder
render(html`<${Console} />`, root);
