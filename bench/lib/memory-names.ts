// Names of bench/memory-child.ts's pseudo-subjects, which bench/memory.ts asks for by name and
// reports beside the libraries.

/** Keys and values held in a plain array: the payload every cache must retain. */
export const PAYLOAD = 'payload only';
/**
 * The default policy at its largest: pinned to ARC mode and given twice as many other keys, then
 * cleared, before the measured ones, so its ghost history (src/engine/ghosts.ts) is allocated at its
 * full size.
 */
export const GHOSTED = 'Larder tinylfu, ghosts full';
