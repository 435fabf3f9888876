export class WebhookVerificationError extends Error {}
export function sign(secret: string, id: string, timestamp: number | string, body: string): Promise<string>;
export function verify(
  secret: string,
  headers: Headers | Record<string, string | string[] | undefined>,
  body: string,
  options?: { now?: number; toleranceSeconds?: number },
): Promise<unknown>;
