// The hash router both front ends use: match `location.hash` against a route table, and load a route's module
// the first time it is opened.
import { useEffect, useState } from "/ui/vendor/preact-htm.js";

/** The current hash route among `routes` (each with a `path` pattern like "/loans/:loanId"), `fallback` for an
 * empty hash: {path, params, query, route} — route null when nothing matches. */
export function matchRoute(routes, fallback) {
  const hash = location.hash.replace(/^#/, "") || fallback;
  const [path, search] = hash.split("?");
  const query = Object.fromEntries(new URLSearchParams(search || ""));
  for (const route of routes) {
    const names = [];
    const pattern = new RegExp(
      "^" + route.path.replace(/:(\w+)/g, (_, name) => (names.push(name), "([^/]+)")) + "/?$"
    );
    const match = (path || fallback).match(pattern);
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

/** The default export of the module at `url` (absolute), loaded when `url` changes: {Component, error}. */
export function useLazyModule(url) {
  const [Component, setComponent] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setComponent(null);
    setError(null);
    import(url)
      .then((module) => live && setComponent(() => module.default))
      .catch((e) => live && setError(String(e)));
    return () => {
      live = false;
    };
  }, [url]);
  return { Component, error };
}
