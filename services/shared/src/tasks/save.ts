import { z } from 'zod';
import { SaveOptionsSchema } from '../file-inputs/file-input-schemas.js';
import { stringifyJson } from '../json-codec.js';
import { defineTask } from './task-definition.js';

/** A value as text: one `key: value` line per entry of an object, one line per item of a list. */
export function valueAsText(value: unknown): string {
  const scalar = (v: unknown) => (typeof v === 'string' ? v : stringifyJson(v));
  if (Array.isArray(value)) return value.map((item) => `${scalar(item)}\n`).join('');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([key, v]) => `${key}: ${scalar(v)}\n`).join('');
  }
  return `${scalar(value)}\n`;
}

/** `save(value, {name, format})`: stores the value as a file and passes it on unchanged. */
export const saveTask = defineTask({
  name: 'save',
  description:
    'Stores its input as a file of the file store (`format`: `json`, or `text` for `key: value` lines) and returns the input unchanged.',
  cpuBound: false,
  args: z.tuple([z.unknown().describe('value'), SaveOptionsSchema.describe('options')]),
  run: async ([value, options], ctx) => {
    if (!ctx.files) throw new Error('save needs file access');
    const text = options.format === 'text' ? valueAsText(value) : `${stringifyJson(value)}\n`;
    const contentType = options.format === 'text' ? 'text/plain; charset=utf-8' : 'application/json';
    await ctx.files.write(options.name, text, contentType);
    return value;
  },
});
