// Creates a local Redis Cluster of three masters (no replicas) for tests: three cluster-enabled
// redis-servers in temp dirs, joined with `redis-cli --cluster create`, ready once every node
// reports cluster_state:ok.
import { RedisServer, redisCli } from './redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running three-master cluster. */
export interface RedisClusterHandle {
  nodes: RedisServer[];
  /** Startup nodes for ioredis. */
  startupNodes: Array<{ host: string; port: number }>;
  destroy(): Promise<void>;
}

/** Starts three masters and joins them into a cluster. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await RedisServer.start({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const info = await redisCli(['-p', String(node.port), 'cluster', 'info']);
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ok: ${info}`);
        await sleep(100);
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw error;
  }
  return {
    nodes,
    startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    destroy: async () => {
      await Promise.all(nodes.map((node) => node.destroy()));
    },
  };
}
