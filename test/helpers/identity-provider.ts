import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { inject } from "vitest";

export type ProviderAlgorithm = "RS256" | "ES256" | "EdDSA" | "RS384";

interface ProviderKey {
  kid: string;
  alg: ProviderAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * An identity provider for the tests: key pairs generated here, their public halves published on
 * the JWKS test server (test/setup/jwks-server.ts) under a set of its own, tokens signed with them.
 */
export class TestIdentityProvider {
  readonly jwksUrl: string;
  private readonly control: string;
  private keys: ProviderKey[] = [];
  private withdrawn = new Set<string>();

  constructor(name = crypto.randomUUID()) {
    const base = inject("identityProviderUrl");
    this.jwksUrl = `${base}/jwks/${name}`;
    this.control = `${base}/control/${name}`;
  }

  /**
   * A new key pair: published at once, or with the next `publish()` (`publish: false`), or never
   * (`unlisted`: someone else's key).
   */
  async addKey(alg: ProviderAlgorithm, opts: { publish?: boolean; unlisted?: boolean } = {}): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    this.keys.push({ kid, alg, privateKey, publicJwk });
    if (opts.unlisted) this.withdrawn.add(kid);
    else if (opts.publish !== false) await this.publish();
    return kid;
  }

  /** Withdraws a key from the published set (it can still sign, as a leaked key would). */
  withdraw(kid: string): Promise<void> {
    this.withdrawn.add(kid);
    return this.update({ keys: this.published() });
  }

  private published(): JWK[] {
    return this.keys.filter((k) => !this.withdrawn.has(k.kid)).map((k) => k.publicJwk);
  }

  /** Publishes every key added and not withdrawn. */
  publish(): Promise<void> {
    return this.update({ keys: this.published(), down: false, garbled: false });
  }

  down(): Promise<void> {
    return this.update({ down: true });
  }

  garble(): Promise<void> {
    return this.update({ garbled: true });
  }

  /** How many times the service (or anyone) fetched the JWKS. */
  async fetches(): Promise<number> {
    return ((await (await fetch(this.control)).json()) as { fetches: number }).fetches;
  }

  /**
   * A token signed with key `kid` (header `kid` and `alg` as given unless overridden). Each token
   * carries a fresh `jti`, so no two are equal and none is served from the verified-token cache.
   */
  async sign(
    kid: string,
    claims: Record<string, unknown>,
    opts: { expiresIn?: number; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`no key ${kid}`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: "idp-user-1", jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: key.alg, kid, typ: "JWT", ...opts.header })
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expiresIn ?? 3600))
      .sign(key.privateKey);
  }

  private async update(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(this.control, { method: "PUT", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`JWKS test server: ${res.status}`);
    await res.body?.cancel();
  }
}
