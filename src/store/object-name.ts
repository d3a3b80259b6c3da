/**
 * How an object is named in messages: a local path for a folder store (`/data/a.txt`), else its URL
 * (`s3://bucket/a.txt`).
 */
export function objectName(o: { store: string; key: string }): string {
  const url = new URL(o.store);
  const base = url.protocol === 'file:' ? decodeURIComponent(url.pathname) : o.store;
  return `${base.replace(/\/$/, '')}/${o.key}`;
}
