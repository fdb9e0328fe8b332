// Test helpers for Nest apps: a compiled testing module served on a loopback port.
// Vitest compiles with esbuild, which emits no decorator metadata: test classes name every
// constructor dependency with @Inject(token).
import 'reflect-metadata';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';

/** A Nest application listening on 127.0.0.1, its base URL, and what Nest logged as warnings or errors. */
export interface NestServer {
  app: INestApplication;
  url: string;
  problems: string[];
}

/** Compiles `metadata` into an app (Express platform), listening on an ephemeral loopback port. */
export async function serve(metadata: ModuleMetadata): Promise<NestServer> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const problems: string[] = [];
  const note = (...args: unknown[]) => void problems.push(args.map((a) => String(a)).join(' '));
  const logger: LoggerService = { log: () => undefined, error: note, warn: note, fatal: note };
  const app = moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return { app, url: `http://127.0.0.1:${port}`, problems };
}
