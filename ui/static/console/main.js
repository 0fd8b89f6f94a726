// The staff console's shell: sign-in, the layout (brand, navigation, notifications bell, sign out) and the hash
// router. Each page is its own module under ./pages, loaded when first opened; it exports a default component
// taking {params, query, me, brandId, navigate}.
import { html, render, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { api, explain, getSession, setSession } from "/ui/shared/api.js";

// path pattern -> page module and title; `nav` puts it in the side navigation (in this order)
export const ROUTES = [
  { path: "/dashboard", page: "dashboard", title: "Dashboard", nav: true },
  { path: "/queues/:queue", page: "queues", title: "Queues" },
  { path: "/queues", page: "queues", title: "Queues", nav: true },
  { path: "/loans/:loanId", page: "loan", title: "Loan" },
  { path: "/payments/approval", page: "payments", title: "Payment approval", nav: true },
  { path: "/collections", page: "collections", title: "Collections", nav: true },
  { path: "/customers/:userId", page: "customer", title: "Customer" },
  { path: "/customers", page: "customers", title: "Customers", nav: true },
  { path: "/search", page: "search", title: "Search" },
  { path: "/reports", page: "reports", title: "Reports", nav: true },
  { path: "/leads", page: "leads", title: "Leads", nav: true },
  { path: "/reminders", page: "reminders", title: "Reminders", nav: true },
  { path: "/settings/:section", page: "settings", title: "Settings" },
  { path: "/settings", page: "settings", title: "Settings", nav: true },
  { path: "/users", page: "users", title: "Users and keys", nav: true },
  { path: "/audit", page: "audit", title: "Audit log", nav: true },
  { path: "/notifications", page: "notifications", title: "Notifications" },
];

/** The current hash route: {path, params, query, route}. */
export function currentRoute() {
  const hash = location.hash.replace(/^#/, "") || "/dashboard";
  const [path, search] = hash.split("?");
  const query = Object.fromEntries(new URLSearchParams(search || ""));
  for (const route of ROUTES) {
    const names = [];
    const pattern = new RegExp(
      "^" + route.path.replace(/:(\w+)/g, (_, name) => (names.push(name), "([^/]+)")) + "/?$"
    );
    const match = path.match(pattern);
    if (match) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      return { path, params, query, route };
    }
  }
  return { path, params: {}, query, route: null };
}

export function navigate(path) {
  location.hash = "#" + path;
}

/** Staff API call in the active brand: `brandPath(me, "loans")` -> "/api/v1/partner/brand/<id>/loans". */
export function brandPath(brandId, rest) {
  return `/api/v1/partner/brand/${brandId}/${rest}`;
}

export const staffApi = (method, path, body, options) => api("staff", method, path, body, options);

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
  const [Component, setComponent] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setComponent(null);
    setError(null);
    import(`./pages/${route.route.page}.js`)
      .then((module) => live && setComponent(() => module.default))
      .catch((e) => live && setError(String(e)));
    return () => {
      live = false;
    };
  }, [route.route.page]);
  if (error) return html`<p class="error" role="alert">This page could not be loaded: ${error}</p>`;
  if (!Component) return html`<p class="muted">Loading…</p>`;
  return html`<${Component} params=${route.params} query=${route.query} me=${me} brandId=${me.brandId}
    navigate=${navigate} />`;
}

function Layout({ me, onSignOut, onSwitched }) {
  const [route, setRoute] = useState(currentRoute());
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    staffApi("GET", brandPath(me.brandId, "notifications?unread=true&limit=1"))
      .then((page) => setUnread(page.unreadCount))
      .catch(() => setUnread(0));
  }, [me.brandId, route.path]);
  useEffect(() => {
    document.title = `${route.route ? route.route.title : "Not found"} · Staff console`;
  }, [route.path]);
  const switchBrand = async (event) => {
    const answer = await staffApi("POST", "/api/v1/partner/auth/switch-brand", { brandId: event.target.value });
    setSession("staff", answer);
    onSwitched(answer);
  };
  const signOut = async () => {
    try {
      await staffApi("POST", "/api/v1/partner/auth/logout", {});
    } finally {
      setSession("staff", null);
      onSignOut();
    }
  };
  return html`<div class="shell">
    <header class="topbar">
      <strong class="brand-name">Staff console</strong>
      ${me.brands.length > 1 &&
      html`<label class="inline">Brand
        <select aria-label="Switch brand" value=${me.brandId} onChange=${switchBrand}>
          ${me.brands.map((b) => html`<option value=${b.brandId}>${b.brandId}</option>`)}
        </select></label>`}
      <a class="bell" href="#/notifications" aria-label=${`Notifications, ${unread} unread`}>
        🔔 <span class="badge">${unread}</span></a>
      <span class="who">${me.name} · ${me.role}</span>
      <button class="secondary" onClick=${signOut}>Sign out</button>
    </header>
    <nav class="sidenav" aria-label="Main">
      ${ROUTES.filter((r) => r.nav).map(
        (r) => html`<a href=${"#" + r.path} aria-current=${route.route === r ? "page" : undefined}>${r.title}</a>`
      )}
    </nav>
    <main class="content">
      ${route.route ? html`<${Page} route=${route} me=${me} />` : html`<p>Page not found.</p>`}
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

render(html`<${Console} />`, document.getElementById("root"));
