import assert from 'node:assert/strict';
import { ConfigError, exposesQueryDiagnostics, loadConfig } from '../../src/config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
}

describe('HTTP hardening settings', () => {
  it('refuses wildcard, loopback and plain-http origins in production', () => {
    for (const origin of [
      '*',
      'http://localhost:3000',
      'https://localhost',
      'https://127.0.0.1:8443',
      'https://[::1]',
      'https://app.localhost',
      'http://app.example.com',
    ]) {
      const found = problems({ NODE_ENV: 'production', CORS_ALLOWED_ORIGINS: origin });
      assert.equal(found.length, 1, `${origin}: ${found.join('; ')}`);
      assert.match(found[0], /^CORS_ALLOWED_ORIGINS: /);
    }
    const ok = loadConfig({
      NODE_ENV: 'production',
      CORS_ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com:8443',
    });
    assert.deepEqual(ok.CORS_ALLOWED_ORIGINS, [
      'https://app.example.com',
      'https://admin.example.com:8443',
    ]);
  });

  it('accepts wildcard and loopback origins outside production', () => {
    const c = loadConfig({ CORS_ALLOWED_ORIGINS: '*,http://localhost:3000' });
    assert.deepEqual(c.CORS_ALLOWED_ORIGINS, ['*', 'http://localhost:3000']);
  });

  it('refuses values that are not origins, since browsers compare origins exactly', () => {
    for (const origin of [
      'https://app.example.com/',
      'https://app.example.com/path',
      'app.example.com',
    ]) {
      assert.equal(problems({ CORS_ALLOWED_ORIGINS: origin }).length, 1, origin);
    }
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    assert.deepEqual(
      problems({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }),
      ['HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS'],
    );
  });

  it('keeps idle connections open longer than the ALB by default', () => {
    // The ALB's idle timeout is 60 s (infra sets no other): the server must not close first.
    assert.ok(loadConfig({}).HTTP_KEEP_ALIVE_TIMEOUT_MS > 60_000);
  });

  it('hides query diagnostics in production unless asked for', () => {
    assert.equal(exposesQueryDiagnostics(loadConfig({ NODE_ENV: 'production' })), false);
    assert.equal(exposesQueryDiagnostics(loadConfig({})), true);
    assert.equal(
      exposesQueryDiagnostics(
        loadConfig({ NODE_ENV: 'production', EXPOSE_QUERY_DIAGNOSTICS: 'true' }),
      ),
      true,
    );
  });
});
