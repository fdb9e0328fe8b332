// The key type every layer shares: a cache key is a string or a finite number. It lives at the floor
// of the layer order so that logging and tracing can name keys without knowing the engine.

/** A cache key: a string, or a finite number (`1` and `'1'` are different keys). */
export type CacheKey = string | number;
