// What JSON input may hold: a bounded depth, and no NUL character (Postgres text and jsonb cannot store U+0000).
/**
 * Deep enough for any metadata a person writes (Auth0's own examples nest two or three levels), and
 * far below what overflows the stack of the recursive code that later handles the value
 * (JSON.stringify, Prisma's and pg's serialisers): a 50,000-level value overflowed it.
 */
export const JSON_MAX_DEPTH = 32;

export interface UnstorableJson {
  problem: string;
  /** Where in the value: keys and list indexes from its root. */
  path: Array<string | number>;
}

interface Visit {
  value: unknown;
  depth: number;
  key?: string | number;
  parent?: Visit;
}

/**
 * The first thing in `value` that must not go further: a string or key with a NUL, or an object or
 * list nested deeper than `maxDepth` (the root object is level 1). Walks with its own stack, never
 * recursion, so no value can overflow it; a refused value is not walked past its limit.
 */
export function findUnstorableJson(value: unknown, maxDepth = JSON_MAX_DEPTH): UnstorableJson | undefined {
  const stack: Visit[] = [{ value, depth: 0 }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { value: current, depth } = visit;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { problem: NUL_PROBLEM, path: pathOf(visit) };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > maxDepth) return { problem: `nests deeper than ${maxDepth} levels`, path: pathOf(visit) };
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index += 1) stack.push({ value: current[index], depth: depth + 1, key: index, parent: visit });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      if (key.includes('\u0000')) return { problem: NUL_PROBLEM, path: [...pathOf(visit), key] };
      stack.push({ value: item, depth: depth + 1, key, parent: visit });
    }
  }
  return undefined;
}

export const NUL_PROBLEM = 'must not contain a NUL character (U+0000), which Postgres cannot store';

function pathOf(visit: Visit): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return path;
}
