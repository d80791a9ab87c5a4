// jose 6 is published as an ES module only, and this service compiles to CommonJS (module node16),
// where TypeScript refuses a static import of an ES module. A dynamic import() stays a real
// import() in the output, which Node resolves for a CommonJS caller; it is loaded once and shared.

export type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
export type JWK = import('jose', { with: { 'resolution-mode': 'import' } }).JWK;
export type JoseCryptoKey = import('jose', { with: { 'resolution-mode': 'import' } }).CryptoKey;

let loading: Promise<Jose> | undefined;

export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}
