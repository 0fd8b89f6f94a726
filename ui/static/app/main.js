// The borrower's app (mobile-first): sign-in by phone and OTP, then hash routes with a bottom navigation. Each
// screen is its own module under ./screens, loaded when first opened; it exports a default component taking
// {params, query, brand, navigate}. The brand is the one in the address (`/app?brand=demo`, see lib.brandCode).
import { html, render, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { setSession } from "/ui/shared/api.js";
import { matchRoute, navigate, useLazyModule } from "/ui/shared/router.js";
import { brandCode, call, me } from "./lib.js";

// path pattern -> screen module and title; `nav` puts it in the bottom navigation (in this order) with its icon,
// under its `short` title if it has one
export const ROUTES = [
  { path: "/", screen: "home", title: "Home", nav: "⌂" },
  { path: "/apply", screen: "apply", title: "Apply", nav: "+" },
  { path: "/profile", screen: "profile", title: "Your details", nav: "☺", short: "Profile" },
  { path: "/loan/:loanId/kfs", screen: "kfs", title: "Key Fact Statement" },
  { path: "/loan/:loanId/sign", screen: "sign", title: "Sign the agreement" },
  { path: "/loan/:loanId/pay", screen: "pay", title: "Pay" },
  { path: "/loan/:loanId/documents", screen: "documents", title: "Documents" },
  { path: "/loan/:loanId", screen: "loan", title: "Your loan" },
  { path: "/loan", screen: "loan", title: "Your loan", nav: "₹", short: "Loan" },
  { path: "/pay", screen: "pay", title: "Pay", nav: "⇄" },
  { path: "/documents", screen: "documents", title: "Documents", nav: "▤" },
];

/** The current hash route: {path, params, query, route}. */
export function currentRoute() {
  return matchRoute(ROUTES, "/");
}

export { navigate };

function Screen({ route, brand }) {
  const { Component, error } = useLazyModule(`/ui/app/screens/${route.route.screen}.js`);
  if (error) return html`<p class="error" role="alert">This screen could not be loaded: ${error}</p>`;
  if (!Component) return html`<p class="muted">Loading…</p>`;
  return html`<${Component} key=${route.path} params=${route.params} query=${route.query} brand=${brand}
    navigate=${navigate} />`;
}

function Layout({ brand, onSignOut }) {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      window.scrollTo(0, 0);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.title = `${route.route ? route.route.title : "Not found"} · ${brand ? brand.name : "Your loan"}`;
  }, [route.path, brand]);
  const signOut = async () => {
    const session = me();
    try {
      await call("POST", "/api/v1/web/auth/logout", { refreshToken: session && session.refreshToken });
    } catch (_) {
      // signed out on this device either way
    } finally {
      setSession("customer", null);
      navigate("/");
      onSignOut();
    }
  };
  const navRoute = route.route && (route.route.nav ? route.route : ROUTES.find((r) => r.nav && r.screen === route.route.screen));
  return html`<div class="app-shell">
    <header class="app-bar">
      <strong class="brand-name">${brand ? brand.name : "Your loan"}</strong>
      <button class="secondary small" onClick=${signOut}>Sign out</button>
    </header>
    <main class="app-main" id="main">
      ${route.route ? html`<${Screen} route=${route} brand=${brand} />` : html`<p>Screen not found. <a href="#/">Home</a></p>`}
    </main>
    <nav class="bottom-nav" aria-label="Main">
      ${ROUTES.filter((r) => r.nav).map(
        (r) => html`<a href=${"#" + r.path} aria-current=${navRoute === r ? "page" : undefined}>
          <span class="icon" aria-hidden="true">${r.nav}</span><span>${r.short || r.title}</span></a>`
      )}
    </nav>
  </div>`;
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(me()));
  const [brand, setBrand] = useState(null);
  const [SignIn, setSignIn] = useState(null);
  const code = brandCode();
  useEffect(() => {
    const onSignedOut = () => setSignedIn(false);
    window.addEventListener("los:signed-out", onSignedOut);
    call("GET", "/api/v1/web/brands")
      .then((brands) => {
        const found = brands.find((b) => b.code === code || b.id === code);
        // the brand's colour (setting brandColour), once the brands list carries it
        if (found && /^#[0-9a-fA-F]{6}$/.test(found.brandColour || "")) {
          document.documentElement.style.setProperty("--brand", found.brandColour);
        }
        setBrand(found || { code, name: "Your loan", products: [], missing: true });
      })
      .catch(() => setBrand({ code, name: "Your loan", products: [], missing: true }));
    return () => window.removeEventListener("los:signed-out", onSignedOut);
  }, []);
  useEffect(() => {
    if (!signedIn && !SignIn) import("./screens/register.js").then((m) => setSignIn(() => m.SignIn));
  }, [signedIn]);
  if (!signedIn) {
    if (!SignIn) return html`<main class="app-main"><p class="muted">Loading…</p></main>`;
    // after signing in, the screen the address asked for (a link from an SMS), else home
    return html`<${SignIn} brand=${brand} code=${code} onSignedIn=${() => {
      setSignedIn(true);
      if (!currentRoute().route) navigate("/");
    }} />`;
  }
  return html`<${Layout} brand=${brand} onSignOut=${() => setSignedIn(false)} />`;
}

const root = document.getElementById("root");
root.textContent = ""; // the shell's "Loading…" goes: Preact adds to what the element holds
render(html`<${App} />`, root);
