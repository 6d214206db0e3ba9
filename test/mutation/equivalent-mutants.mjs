// A Stryker ignorer that excludes the equivalent mutants listed in stryker.config.mjs (`equivalentMutants`), so
// the list and the reason for each live in one reviewed place. An entry names a file, the exact text of one line
// in it (trimmed) and one mutator; it excludes that mutator's mutants of the code that starts on that line, as a
// `// Stryker disable next-line <mutator>: <why>` comment there would. An entry that matches no line, or more
// than one, is an error: a stale exclusion must not silently hide a different mutant.
import { relative } from 'node:path';
import { commonTokens, declareFactoryPlugin, PluginKind } from '@stryker-mutator/api/plugin';

function equivalentMutantsIgnorer(options) {
  const entries = options.equivalentMutants ?? [];
  return {
    shouldIgnore(path) {
      if (path.node.type !== 'Program') return undefined;
      const file = path.hub.file;
      const name = relative(process.cwd(), file.opts.filename);
      const lines = file.code.split('\n').map((line) => line.trim());
      for (const { file: entryFile, line: text, mutator, why } of entries) {
        if (entryFile !== name) continue;
        const found = lines.flatMap((line, i) => (line === text ? [i + 1] : []));
        if (found.length !== 1)
          throw new Error(`equivalentMutants: "${text}" is on ${found.length} lines of ${name}, not exactly one`);
        const node = outermostNodeStartingOn(path.node, found[0]);
        node.leadingComments = [
          ...(node.leadingComments ?? []),
          { type: 'CommentLine', value: ` Stryker disable next-line ${mutator}: equivalent: ${why}`, loc: node.loc },
        ];
      }
      return undefined;
    },
  };
}
equivalentMutantsIgnorer.inject = [commonTokens.options];

/** Pre-order, so the first node found is the outermost one; Stryker reads its directives on entering it. */
function outermostNodeStartingOn(node, line) {
  if (node.loc?.start.line === line) return node;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'loc' || key.endsWith('Comments')) continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child.type === 'string') {
        const found = outermostNodeStartingOn(child, line);
        if (found) return found;
      }
    }
  }
  return undefined;
}

export const strykerPlugins = [declareFactoryPlugin(PluginKind.Ignore, 'equivalent-mutants', equivalentMutantsIgnorer)];

export const strykerValidationSchema = {
  properties: {
    equivalentMutants: {
      description: 'Equivalent mutants, each excluded with the reason no test can kill it.',
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'line', 'mutator', 'why'],
        additionalProperties: false,
        properties: {
          file: { type: 'string' },
          line: { type: 'string' },
          mutator: { type: 'string' },
          why: { type: 'string' },
        },
      },
    },
  },
};
