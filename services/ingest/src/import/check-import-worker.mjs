// Worker-thread entry of `kaudit import`'s line-check pool (see import-line-checker.ts). Plain JavaScript so it
// loads in any worker, whatever loader flags the parent ran with. Built (dist/, the image) it imports the compiled
// module next to it; from a checkout it registers tsx itself to import the TypeScript one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./check-import-lines.js', import.meta.url);
let checkImportLines;
if (existsSync(fileURLToPath(compiled))) {
  ({ checkImportLines } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ checkImportLines } = await import('./check-import-lines.ts'));
}

export default checkImportLines;
