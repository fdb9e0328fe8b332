import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // The package's own name resolves to the source, as tsconfig.json's paths do for tsc and tsx, so code
  // written as a user would (demo/seeds, examples) runs under the tests against the same modules.
  resolve: {
    alias: [
      { find: /^larder-cache$/, replacement: src('index.ts') },
      { find: /^larder-cache\/(.+)$/, replacement: src('entries/$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
