// Where the bus finds Redis. The private server is a unix socket, written as
// `unix:///abs/path.sock` (ioredis does not parse that form, so we do);
// `redis://` and `rediss://` URLs (REDIS_URL) pass through to ioredis.

export type RedisTarget = { path: string } | { url: string };

export function parseRedisUrl(url: string): RedisTarget {
  if (url.startsWith('unix://')) {
    const p = url.slice('unix://'.length);
    if (!p.startsWith('/')) throw new Error(`redis url '${url}': unix socket path must be absolute`);
    return { path: p };
  }
  if (url.startsWith('/')) return { path: url };
  if (/^rediss?:\/\//.test(url)) return { url };
  throw new Error(`redis url '${url}': expected unix:///path, redis:// or rediss://`);
}

export const unixUrl = (socketPath: string) => `unix://${socketPath}`;
