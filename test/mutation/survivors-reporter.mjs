// A Stryker reporter that appends each surviving (or uncovered) mutant to a file as soon as it is known, so that the
// test gaps of a long run can be read, and closed, while it runs. The file is `survivorsFile` in stryker.config.mjs.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { commonTokens, declareFactoryPlugin, PluginKind } from '@stryker-mutator/api/plugin';

function survivorsReporter(options) {
  const file = options.survivorsFile;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  return {
    onMutantTested({ status, fileName, location, mutatorName, replacement }) {
      if (status !== 'Survived' && status !== 'NoCoverage') return;
      const at = `${fileName}:${location.start.line}:${location.start.column + 1}`;
      appendFileSync(file, `${status} ${at} ${mutatorName}: ${replacement?.replaceAll('\n', ' ').slice(0, 160)}\n`);
    },
  };
}
survivorsReporter.inject = [commonTokens.options];

export const strykerPlugins = [declareFactoryPlugin(PluginKind.Reporter, 'survivors', survivorsReporter)];

export const strykerValidationSchema = {
  properties: { survivorsFile: { description: 'Where the survivors reporter appends.', type: 'string' } },
};
