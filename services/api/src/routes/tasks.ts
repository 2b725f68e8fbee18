/**
 * `GET /v1/tasks`: the task catalogue.
 */
import type { ApiInstance, AppContext } from '../app-context.js';
import { jsonResponse, TaskListSchema } from '../schemas.js';

/** Declares the catalogue route. */
export function registerTaskRoutes(app: ApiInstance, ctx: AppContext): void {
  const tasks = [...ctx.catalogue.describe()];
  app.get(
    '/v1/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'List the tasks',
        description: 'Every task jobs can use, with the JSON Schema of its positional arguments.',
        response: { 200: jsonResponse(TaskListSchema, 'The catalogue.') },
      },
    },
    () => ({ tasks }),
  );
}
