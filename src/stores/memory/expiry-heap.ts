/** One deadline in the heap. A session's node is replaced, not updated, when its deadline moves. */
export interface HeapNode {
  readonly id: string;
  readonly expiresAt: number;
  readonly seq: number;
}

/** A binary min-heap of deadlines; ties go to the older node. */
export class ExpiryHeap {
  #nodes: HeapNode[] = [];

  get size(): number {
    return this.#nodes.length;
  }

  peek(): HeapNode | undefined {
    return this.#nodes[0];
  }

  push(node: HeapNode): void {
    this.#nodes.push(node);
    this.#siftUp(this.#nodes.length - 1);
  }

  pop(): HeapNode | undefined {
    const nodes = this.#nodes;
    const top = nodes[0];
    const last = nodes.pop();
    if (top !== undefined && last !== undefined && nodes.length > 0) {
      nodes[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  rebuild(nodes: HeapNode[]): void {
    this.#nodes = nodes;
    for (let index = (nodes.length >> 1) - 1; index >= 0; index--) this.#siftDown(index);
  }

  #siftUp(index: number): void {
    const nodes = this.#nodes;
    const node = nodes[index];
    if (node === undefined) return;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = nodes[parentIndex];
      if (parent === undefined || !precedes(node, parent)) break;
      nodes[index] = parent;
      index = parentIndex;
    }
    nodes[index] = node;
  }

  #siftDown(index: number): void {
    const nodes = this.#nodes;
    const node = nodes[index];
    if (node === undefined) return;
    for (;;) {
      let childIndex = 2 * index + 1;
      let child = nodes[childIndex];
      if (child === undefined) break;
      const right = nodes[childIndex + 1];
      if (right !== undefined && precedes(right, child)) {
        childIndex++;
        child = right;
      }
      if (!precedes(child, node)) break;
      nodes[index] = child;
      index = childIndex;
    }
    nodes[index] = node;
  }
}

function precedes(a: HeapNode, b: HeapNode): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq);
}
