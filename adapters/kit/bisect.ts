/**
 * Sends a batch the vendor accepts or refuses as a whole. A vendor that refuses a whole request
 * for one bad item (a 400) would make every good item of it fail too, so a refused batch is sent
 * again as two halves, and so on, until the bad items stand alone: the good ones go through, and
 * each bad one is answered on its own with its refusal. Halves are sent one after the other.
 *
 * `send` answers the items of the batch it was given and resolves undefined, or resolves with the
 * refusal (having answered nothing); `refusedAlone` answers an item refused even on its own.
 */
export async function bisect<T, R>(
  items: readonly T[],
  send: (batch: readonly T[]) => Promise<R | undefined>,
  refusedAlone: (item: T, refusal: R) => void,
): Promise<void> {
  if (items.length === 0) return;
  const refusal = await send(items);
  if (refusal === undefined) return;
  if (items.length === 1) return refusedAlone(items[0], refusal);
  const half = Math.ceil(items.length / 2);
  await bisect(items.slice(0, half), send, refusedAlone);
  await bisect(items.slice(half), send, refusedAlone);
}
