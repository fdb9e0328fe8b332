// The dashboard page as served (no browser needed): one self-contained document whose CSP admits
// exactly its inlined script and style.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildPage, dashboardAsset } from '../../src/http/dashboard/index.js';

const hash = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;

describe('dashboard page', () => {
  it('is served for the page paths only', () => {
    expect(dashboardAsset('')?.contentType).toMatch(/^text\/html/);
    expect(dashboardAsset('/')).toBe(dashboardAsset(''));
    expect(dashboardAsset('app.js')).toBeUndefined();
    expect(dashboardAsset('../../package.json')).toBeUndefined();
  });

  it('pins its inline script and style with CSP hashes and loads nothing from elsewhere', () => {
    const html = String(dashboardAsset('')!.body);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    expect(csp).toContain(`script-src '${hash(script)}'`);
    expect(csp).toContain(`style-src '${hash(style)}'`);
    expect(csp).toContain("default-src 'none'");
    expect(script).toContain('function drawLineChart');
    expect(script).toContain('X-API-Key');
    // The SVG namespace is a name, not an address: it is the one URL the page may contain.
    const addresses = html.replaceAll("'http://www.w3.org/2000/svg'", "'<svg namespace>'");
    expect(addresses).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//);
    // Data is written with textContent; the page's code never assigns markup.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('takes replacement patterns in sources literally and refuses a closing tag', () => {
    const template = '<meta content="%CSP%"><style>%STYLE%</style><script>\n%SCRIPT%\n</script>';
    const scripts = {
      'chart.js': "'$&'",
      'format.js': '',
      'report.js': '',
      'trend.js': '',
      'render.js': '',
      'app.js': '',
    };
    const page = buildPage({ 'page.html': template, 'style.css': 'a{}', ...scripts });
    expect(String(page.body)).toContain("<script>'$&'\n");
    expect(() =>
      buildPage({ 'page.html': template, 'style.css': '', ...scripts, 'chart.js': '"</script>"' }),
    ).toThrow(/must not contain/);
  });
});
