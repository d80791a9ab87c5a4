import assert from 'node:assert/strict';
import type { RunningService } from '../../../src/service';
import { apiClient } from '../../support/http-client';
import { startTestService } from '../../support/test-service';

// The token endpoints in the real service: authn's middleware authenticates the API key exchange
// and accepts the access tokens (through the JwtVerifier); the refresh endpoint is public.

describe('JWT in the service', function () {
  this.timeout(60_000);
  let service: RunningService;

  before(async () => {
    service = await startTestService();
  });
  after(async () => {
    await service?.close();
  });

  it('exchanges the API key for tokens that authenticate /v1, refreshes without a credential, and revokes', async () => {
    const api = apiClient(service.url);
    const issued = await api.request('POST', '/v1/auth/token');
    assert.equal(issued.status, 200, issued.text);
    const { accessToken, refreshToken } = issued.body as {
      accessToken: string;
      refreshToken: string;
    };
    const asJwt = apiClient(service.url, { apiKey: accessToken });
    assert.equal((await asJwt.request('GET', '/v1/collections')).status, 200);

    const anonymous = apiClient(service.url, { apiKey: null });
    const refreshed = await anonymous.request('POST', '/v1/auth/refresh', { refreshToken });
    assert.equal(refreshed.status, 200, refreshed.text);
    const next = refreshed.body as { accessToken: string };
    assert.equal(
      (await anonymous.request('POST', '/v1/auth/refresh', { refreshToken })).status,
      401,
    );
    // Reuse revoked the family: the new access token is denied too.
    assert.equal(
      (await apiClient(service.url, { apiKey: next.accessToken }).request('GET', '/v1/collections'))
        .status,
      401,
    );

    const other = (await api.request('POST', '/v1/auth/token')).body as { accessToken: string };
    const asOther = apiClient(service.url, { apiKey: other.accessToken });
    assert.equal((await asOther.request('POST', '/v1/auth/revoke', {})).status, 204);
    assert.equal((await asOther.request('GET', '/v1/collections')).status, 401);

    const jwks = await anonymous.request('GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.equal((jwks.body as { keys: unknown[] }).keys.length, 1);
    assert.equal((await anonymous.request('POST', '/v1/auth/token')).status, 401);
  });
});
