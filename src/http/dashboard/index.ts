// The dashboard's assets, served by the admin API at `<prefix>/dashboard`: one self-contained page with
// style.css and the scripts inlined, pinned by a Content-Security-Policy of their hashes (a header, with
// frame-ancestors 'none', and a <meta>), so no other script can run in it and no site can frame it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A static asset of the dashboard. */
export interface DashboardAsset {
  body: string | Buffer;
  contentType: string;
  /** The Content-Security-Policy to send as an HTTP header with it. */
  csp: string;
}

/** Directives only an HTTP header can carry (a `<meta>` CSP ignores them): no framing, so no clickjacking. */
const HEADER_ONLY = "frame-ancestors 'none'";

// The page's scripts, in the order they are inlined: each defines one namespace the later ones use.
const SCRIPTS = ['chart.js', 'format.js', 'report.js', 'trend.js', 'render.js', 'app.js'] as const;
const SOURCES = ['page.html', 'style.css', ...SCRIPTS] as const;

let page: DashboardAsset | undefined;

/** Looks up a dashboard asset by its path below `<prefix>/dashboard/` (`''` = the page). */
export function dashboardAsset(path: string): DashboardAsset | undefined {
  if (path !== '' && path !== '/' && path !== 'index.html') return undefined;
  page ??= loadPage();
  return page;
}

function loadPage(): DashboardAsset {
  const dir = sourceDir();
  if (dir === undefined) {
    // Answer a page that says what is wrong rather than fail the admin request (paths stay private).
    return {
      body: '<!doctype html><title>Larder dashboard</title><p>The dashboard files are missing from this larder install; reinstall the package.</p>',
      contentType: 'text/html; charset=utf-8',
      csp: `default-src 'none'; ${HEADER_ONLY}`,
    };
  }
  const sources = Object.fromEntries(SOURCES.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  return buildPage(sources as Record<(typeof SOURCES)[number], string>);
}

/**
 * Inlines the sources into the page template and computes the CSP that admits exactly them: stricter
 * than `default-src 'self'`, since nothing but these hashed inline blocks may run or style the page.
 */
export function buildPage(sources: Record<(typeof SOURCES)[number], string>): DashboardAsset {
  const style = sources['style.css'];
  const script = SCRIPTS.map((name) => sources[name]).join('\n');
  // Inlined text must not be able to close its own element early.
  if (/<\/style/i.test(style) || /<\/script/i.test(script)) {
    throw new Error('dashboard sources must not contain </style> or </script>');
  }
  const csp = [
    "default-src 'none'",
    `script-src '${sha256(script)}'`,
    `style-src '${sha256(style)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const html = sources['page.html']
    .replace('%CSP%', () => csp)
    // Replaced with functions so `$&`-style sequences in the sources are taken literally.
    .replace(/<style>\s*%STYLE%\s*<\/style>/, () => `<style>${style}</style>`)
    .replace(/<script>\s*%SCRIPT%\s*<\/script>/, () => `<script>${script}</script>`);
  return { body: html, contentType: 'text/html; charset=utf-8', csp: `${csp}; ${HEADER_ONLY}` };
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/**
 * Finds the folder holding the page sources: beside this module when run from `src/`; from the
 * bundled build (`dist/`), a copied `dist/dashboard/` or the package's `src/http/dashboard/`
 * (published with the package, see package.json "files").
 */
function sourceDir(): string | undefined {
  // __dirname exists in the CommonJS build; import.meta.url in ESM (and under tsx).
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const candidates = [here, join(here, 'dashboard'), join(here, '..', 'src', 'http', 'dashboard')];
  return candidates.find((dir) => existsSync(join(dir, 'page.html')));
}
