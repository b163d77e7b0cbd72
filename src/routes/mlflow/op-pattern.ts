/**
 * Operation ids as roles name them (`roles[].operations`): an id of the table (`runs.logMetric`)
 * or a family wildcard (`runs.*`). The one place an operation id given as text is matched.
 */
export function opMatches(pattern: string, op: string): boolean {
  return pattern === op || (pattern.endsWith('.*') && op.startsWith(pattern.slice(0, -1)));
}
