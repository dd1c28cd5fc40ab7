/**
 * Originals above this are read into a buffer of their own, dropped after the image: the pool keeps
 * only what a typical photo needs, so a rare huge original does not stay resident.
 */
export const POOLED_INPUT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Buffers for originals, handed out per image and given back when its resize has finished, so a worker
 * reads each original into memory it already has instead of allocating ~1 MB per image. Every fresh
 * Buffer of that size is external memory to V8, and external memory is what sets off most of the
 * worker's full garbage collections (docs/PERFORMANCE.md). The pool holds at most one buffer per image
 * the worker may hold at once (lanes × 2 with the prefetch: resize-slice.ts), each grown to the largest
 * original it has held, up to POOLED_INPUT_MAX_BYTES.
 */
export class InputBuffers {
  private readonly free: Buffer[] = [];
  /** The memory this pool allocated: only that is ever taken back. */
  private readonly own = new WeakSet<ArrayBufferLike>();

  constructor(private readonly capacity: number) {}

  /** A buffer of exactly `bytes` bytes (a view of a pooled one when it fits), with unset contents. */
  take(bytes: number): Buffer {
    if (bytes > POOLED_INPUT_MAX_BYTES) return Buffer.allocUnsafeSlow(bytes);
    const at = this.free.findIndex((b) => b.length >= bytes);
    const found = at >= 0 ? this.free.splice(at, 1)[0]! : this.free.pop();
    const backing = found && found.length >= bytes ? found : this.allocate(grow(bytes));
    return backing.subarray(0, bytes);
  }

  /**
   * Gives a buffer from take() back once nothing reads it any more (its resize has settled). A buffer
   * whose memory was detached (transferred to another thread) or that was not pooled is let go.
   */
  give(view: Buffer): void {
    const memory = view.buffer;
    if (!this.own.has(memory) || memory.byteLength === 0 || this.free.length >= this.capacity) return;
    if (this.free.some((b) => b.buffer === memory)) return;
    this.free.push(Buffer.from(memory, 0, memory.byteLength));
  }

  private allocate(bytes: number): Buffer {
    // Not Buffer.allocUnsafe: small sizes would come from Node's shared slab, which must not be reused.
    const buffer = Buffer.allocUnsafeSlow(bytes);
    this.own.add(buffer.buffer);
    return buffer;
  }
}

// A little headroom, so originals a few KB apart share one size instead of each growing the buffer.
const grow = (bytes: number) => Math.min(POOLED_INPUT_MAX_BYTES, Math.ceil((bytes * 1.25) / 65_536) * 65_536);
