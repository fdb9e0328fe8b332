// Records keyed by names the caller chose (cache names): a plain `record[name] = value` with the name
// "__proto__" would replace the record's prototype instead of adding a key, so those go through here.

/** Sets `record[name]` as an own, enumerable property, whatever `name` is ("__proto__" included). */
export function putOwn<T>(record: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
}
