/**
 * The methods each route path answers: a request for a path that exists, with a
 * method it does not answer, is told so (405, with `Allow`) rather than that nothing
 * is there (404).
 */

/** A route path as fastify declares it (`/v1/jobs/:id`, `/v1/files/*`) as a pattern of request paths. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    // The router takes an empty parameter too (`/v1/jobs//cancel`).
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Route paths and the methods they answer, as routes are declared. */
export class RouteMethods {
  private readonly routes = new Map<string, { readonly pattern: RegExp; readonly methods: Set<string> }>();

  /** Records that `url` answers `methods`. */
  add(url: string, methods: string | readonly string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const method of typeof methods === 'string' ? [methods] : methods) route.methods.add(method.toUpperCase());
  }

  /**
   * The methods some route answers for request target `target` (origin or absolute
   * form, with or without a query), sorted; none when no route has its path.
   */
  allowed(target: string): string[] {
    const path = new URL(target, 'http://localhost').pathname;
    const methods = new Set<string>();
    for (const { pattern, methods: answered } of this.routes.values()) {
      if (pattern.test(path)) for (const method of answered) methods.add(method);
    }
    return [...methods].sort();
  }
}
