import type { Principal } from '../domain/principal';

/**
 * Verifies a bearer credential that is not an API key (a JWT access token: security/jwt/). The
 * authentication middleware hands it every such credential; with none configured they are refused.
 */
export interface BearerTokenVerifier {
  /**
   * The principal the token stands for, or undefined when it is not acceptable for any reason
   * (signature, algorithm, issuer, audience, expiry, revocation, unknown or disabled subject): the
   * middleware answers every one of them the same way. Throws only when a dependency it needs is
   * down (a DependencyUnavailableError, answered 503).
   */
  verify(token: string): Promise<Principal | undefined>;
}
