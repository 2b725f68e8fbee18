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

/** The path of a request target: its origin form without the query, or an absolute form's path. */
function pathOf(target: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      return new URL(target).pathname;
    } catch {
      // Not a URL after all: taken as it is below.
    }
  }
  return target.split('?')[0] ?? target;
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
    const path = pathOf(target);
    const methods = new Set<string>();
    for (const { pattern, methods: answered } of this.routes.values()) {
      if (pattern.test(path)) for (const method of answered) methods.add(method);
    }
    return [...methods].sort();
  }
}
