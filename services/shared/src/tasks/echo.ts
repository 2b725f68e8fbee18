import { z } from 'zod';
import { defineTask } from './task-definition.js';

/** `echo(...values)`: returns its argument(s) unchanged. */
export const echoTask = defineTask({
  name: 'echo',
  description: 'Returns its single argument unchanged, the list of its arguments when there are several, or null.',
  cpuBound: false,
  args: z.array(z.unknown()).describe('values'),
  run: (values) => {
    if (values.length === 0) return null;
    return values.length === 1 ? values[0] : values;
  },
});
