import type { Logger } from "./logger";
import { errorText } from "./logger";

const utf8 = new TextEncoder();

/**
 * A response body pulled from an async source one piece at a time: nothing is read ahead of the
 * client, so an export of any size holds one page in memory. `first` is the source's first piece,
 * read before the response is built so that a failure there is still an ordinary error answer. A
 * failure later can only cut the body short: it is logged, and the client sees an aborted
 * transfer rather than a truncated file that looks whole.
 */
export function pullStream(
  first: string,
  rest: AsyncIterator<string>,
  logger: Logger,
  what: string,
): ReadableStream<Uint8Array> {
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(utf8.encode(first));
        return;
      }
      try {
        const next = await rest.next();
        if (next.done) controller.close();
        else controller.enqueue(utf8.encode(next.value));
      } catch (err) {
        logger.error(`${what} stopped mid-stream`, { error: errorText(err) });
        controller.error(err);
      }
    },
    async cancel() {
      await rest.return?.();
    },
  });
}

/** Reads an async iterator's first piece (the header and first page) before streaming the rest. */
export async function streamFrom(
  pieces: AsyncIterable<string>,
  logger: Logger,
  what: string,
): Promise<ReadableStream<Uint8Array>> {
  const it = pieces[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return pullStream("", it, logger, what);
  return pullStream(first.value, it, logger, what);
}
