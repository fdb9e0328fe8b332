// The dashboard page is sent with a Content-Security-Policy header that forbids framing and admits
// exactly its own inline script and style (so it still runs), X-Frame-Options: DENY and nosniff.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { listen, rawRequest, type TestServer } from '../helpers/server.js';

let admin: AdminHandler | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  admin?.close();
  await server?.close();
});

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('dashboard security headers', () => {
  it('sends CSP (frame-ancestors none, hashes of its own blocks), X-Frame-Options and nosniff', async () => {
    const cache = createCache({ name: 'api' });
    admin = createAdmin({ caches: { api: cache }, apiKey: 'k'.repeat(32), prefix: '/api/cache' });
    const handler = admin;
    server = await listen((req, res) => void handler(req, res));
    for (const method of ['GET', 'HEAD']) {
      const r = await rawRequest(`${server.url}/api/cache/dashboard`, {}, method);
      expect(r.status).toBe(200);
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(r.headers['content-security-policy']);
      const directives = csp.split(';').map((d) => d.trim());
      expect(directives).toContain("frame-ancestors 'none'");
      expect(directives).toContain("default-src 'none'");
      expect(directives).toContain("connect-src 'self'");
      if (method === 'HEAD') continue;
      // The page still works under it: its one inline script and style are the hashed ones.
      const script = /<script>([\s\S]*)<\/script>/.exec(r.text)![1]!;
      const style = /<style>([\s\S]*)<\/style>/.exec(r.text)![1]!;
      expect(directives).toContain(`script-src ${hash(script)}`);
      expect(directives).toContain(`style-src ${hash(style)}`);
      expect(r.text).not.toMatch(/<script[^>]*\ssrc=|\son[a-z]+=/i);
    }
    await cache.close();
  });
});
