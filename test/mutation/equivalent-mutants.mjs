// A Stryker ignorer that excludes the equivalent mutants listed in stryker.config.mjs (`equivalentMutants`), so
// the list and the reason for each live in one reviewed place. An entry names a file, the exact text of one line
// in it (trimmed) and one mutator; it excludes that mutator's mutants of the code that starts on that line, as a
// `// Stryker disable next-line <mutator>: <why>` comment there would. Where that line also holds a mutant of the
// same mutator that tests do kill, the entry adds `code`: the exact source text of the one expression on that line
// whose own mutants of that mutator are equivalent; only those are excluded (a `Stryker disable <mutator>` on the
// expression, restored on its first sub-expression, so neither its other mutators nor its parts are touched). An
// entry that matches no line (or expression), or more than one, is an error: a stale exclusion must not silently
// hide a different mutant.
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
      for (const { file: entryFile, line: text, mutator, why, code } of entries) {
        if (entryFile !== name) continue;
        const found = lines.flatMap((line, i) => (line === text ? [i + 1] : []));
        if (found.length !== 1)
          throw new Error(`equivalentMutants: "${text}" is on ${found.length} lines of ${name}, not exactly one`);
        // A block comment: one inside an expression must not comment out the rest of its line.
        const directive = (scope, node) => {
          const value = ` Stryker ${scope} ${mutator}${scope.startsWith('disable') ? `: equivalent: ${why}` : ''} `;
          node.leadingComments = [...(node.leadingComments ?? []), { type: 'CommentBlock', value, loc: node.loc }];
        };
        if (code === undefined) {
          directive('disable next-line', outermostNodeStartingOn(path.node, found[0]));
          continue;
        }
        const targets = [];
        path.traverse({
          enter(p) {
            if (p.node.loc?.start.line === found[0] && file.code.slice(p.node.start, p.node.end) === code)
              targets.push(p);
          },
        });
        if (targets.length !== 1)
          throw new Error(`equivalentMutants: "${code}" is ${targets.length} expressions on "${text}" in ${name}`);
        let firstPart;
        targets[0].traverse({
          enter(p) {
            firstPart ??= p.node;
            p.stop();
          },
        });
        if (!firstPart) throw new Error(`equivalentMutants: "${code}" in ${name} has no sub-expression to restore on`);
        directive('disable', targets[0].node);
        directive('restore', firstPart);
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
          code: { type: 'string' },
        },
      },
    },
  },
};
